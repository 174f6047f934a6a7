"""Random and malformed tables: a result or a SkyPactError, never anything else."""

from __future__ import annotations

import math

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

import skypact
from skypact.tracks.ingest.table import read_table

cells = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**12), 10**12),
    st.text(max_size=8),
    st.none(),
    st.booleans(),
    st.just(math.nan),
)
COLUMNS = [
    "icao24", "latitude", "longitude", "altitude", "groundspeed", "track",
    "vertical_rate", "party", "timestamp",
]  # fmt: skip


@given(
    rows=st.lists(
        st.lists(cells, min_size=len(COLUMNS), max_size=len(COLUMNS)), max_size=6
    ),
    drop=st.sets(st.sampled_from(COLUMNS), max_size=2),
)
def test_any_table_gives_a_result_or_a_domain_error(rows, drop):
    frame = pd.DataFrame(rows, columns=COLUMNS).drop(columns=sorted(drop))
    try:
        result = skypact.detect(frame)
    except skypact.SkyPactError:
        return
    assert tuple(result.columns) == skypact.CONFLICT_COLUMNS


@given(content=st.binary(max_size=300))
def test_any_file_gives_a_table_or_an_ingest_error(tmp_path_factory, content):
    path = tmp_path_factory.mktemp("fuzz") / "input.csv"
    path.write_bytes(content)
    try:
        table = read_table(path)
        skypact.detect(table)
    except skypact.SkyPactError:
        return


@given(text=st.text(max_size=300))
def test_any_text_file_gives_a_result_or_an_error(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("fuzz") / "input.csv"
    path.write_text(
        "icao24,latitude,longitude,altitude,groundspeed,track,vertical_rate\n" + text
    )
    try:
        skypact.detect(read_table(path))
    except skypact.SkyPactError:
        return
