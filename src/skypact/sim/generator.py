"""Random traffic snapshots in the ``traffic`` column convention.

The benchmark snapshot of issue #2: aircraft uniform over a lat/lon box (or over the
whole globe, uniform by area), altitudes uniform in 10,000-40,000 ft, ground speeds in
250-550 kt, uniform random tracks, and a share of them climbing or descending at
500-3,000 ft/min.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["LEVANT", "Region", "random_snapshot"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Region:
    """A latitude/longitude box (degrees)."""

    lat_min_deg: float
    lat_max_deg: float
    lon_min_deg: float
    lon_max_deg: float


LEVANT = Region(lat_min_deg=32.3, lat_max_deg=37.3, lon_min_deg=35.7, lon_max_deg=42.4)
"""Syria and its neighbours: the benchmark region."""


def random_snapshot(
    n: int,
    *,
    seed: int,
    region: Region | None = LEVANT,
    parties: tuple[str, ...] = ("usa", "gbr", "fra", "rus", "syr"),
    climbing_share: float = 0.2,
) -> pd.DataFrame:
    """A snapshot of ``n`` aircraft; ``region=None`` spreads them over the globe."""
    rng = np.random.default_rng(seed)
    if region is None:
        lat = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, n)))
        lon = rng.uniform(-180.0, 180.0, n)
    else:
        lat = rng.uniform(region.lat_min_deg, region.lat_max_deg, n)
        lon = rng.uniform(region.lon_min_deg, region.lon_max_deg, n)
    vertical_rate = np.zeros(n)
    moving = rng.random(n) < climbing_share
    vertical_rate[moving] = rng.uniform(500.0, 3000.0, moving.sum()) * rng.choice(
        [-1.0, 1.0], moving.sum()
    )
    return pd.DataFrame(
        {
            "icao24": [f"{k:06x}" for k in rng.permutation(1 << 20)[:n]],
            "party": rng.choice(parties, n),
            "latitude": lat,
            "longitude": lon,
            "altitude": rng.uniform(10000.0, 40000.0, n),
            "groundspeed": rng.uniform(250.0, 550.0, n),
            "track": rng.uniform(0.0, 360.0, n),
            "vertical_rate": vertical_rate,
        }
    )
