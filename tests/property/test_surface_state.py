"""The compiled surface-state pass equals the numpy frames it stands in for."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose

from skypact.detection.pairs import (
    density_from_mean,
    grid_frame,
    grid_frame_from_mean,
    surface_state,
    traffic_density_per_m2,
)
from skypact.geometry.frames import ground_velocity_ecef_mps, surface_ecef_m


def arrays(low, high):
    return hnp.arrays(
        np.float64,
        st.shared(st.integers(1, 50), key="n"),
        elements=st.floats(low, high, allow_nan=False),
    )


@given(
    lat=arrays(-90, 90), lon=arrays(-180, 180), gs=arrays(0, 1100), trk=arrays(0, 360)
)
def test_compiled_surface_state_equals_numpy_frames(lat, lon, gs, trk):
    pos, vel, unit_sum = surface_state(lat, lon, gs, trk)
    assert_allclose(pos, surface_ecef_m(lat, lon), rtol=0, atol=1e-6)
    assert_allclose(vel, ground_velocity_ecef_mps(lat, lon, gs, trk), rtol=0, atol=1e-9)
    n = len(lat)
    assert_allclose(grid_frame_from_mean(unit_sum / n), grid_frame(pos), atol=1e-9)
    assert_allclose(
        density_from_mean(n, unit_sum / n), traffic_density_per_m2(pos), rtol=1e-6
    )
