"""Simulation: synthetic traffic for demos, examples and benchmarks."""
