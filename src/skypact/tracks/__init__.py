"""Tracks: SkyPact's estimate of each aircraft, and the ingest of reports into them."""
