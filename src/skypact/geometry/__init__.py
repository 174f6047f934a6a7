"""Geometry on the WGS84 ellipsoid: frames, angles and closest-point-of-approach kernels.

Pure functions over numpy arrays; SI units (metres, seconds) with angles in degrees.
"""
