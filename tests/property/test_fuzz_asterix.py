"""Random and mutated ASTERIX input: a result or the two ingest errors, never else.

The mutations start from the real recordings (bit flips, truncations, insertions), so
that the decoder is driven deep into pcap framing, data blocks and libasterix's record
parsing rather than stopped at the first byte.
"""

from __future__ import annotations

import functools
import importlib
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skypact.errors import ParseError, UnsupportedFormatError
from skypact.tracks.ingest.asterix import EXTRA_COLUMNS, decode_asterix
from skypact.tracks.ingest.base import REPORT_COLUMNS, Decoded

DATA = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real" / "asterix"
)
NAMES = (  # the largest first: hypothesis draws early elements most
    "cat_034_048.pcap",
    "asterix.pcap",
    "cat_062_065.pcap",
    "cat062cat065.raw",
    "cat_001_002.pcap",
    "cat048.raw",
)
SITE = (45.9, 16.0, 1000.0)
SECONDS_PER_DECODE = 2.0


@functools.cache
def recordings() -> dict[str, bytes]:
    missing = [name for name in NAMES if not (DATA / name).exists()]
    if missing:
        pytest.fail(f"real recordings missing from {DATA}: {missing}")
    return {name: (DATA / name).read_bytes() for name in NAMES}


@pytest.fixture(scope="module", autouse=True)
def _specifications_loaded():
    # libasterix's specifications load on the first decode: not a decode to time.
    importlib.import_module("asterix.generated")


def check(data: bytes, *, strict: bool) -> Decoded | None:
    """Decode; only the two ingest errors may escape, ParseError only with strict."""
    started = time.perf_counter()
    refused: ParseError | None = None
    try:
        decoded = decode_asterix(data, radar_site=SITE, strict=strict)
    except UnsupportedFormatError:
        return None
    except ParseError as exc:
        refused = exc
    finally:
        assert time.perf_counter() - started < SECONDS_PER_DECODE
    if refused is not None:
        assert strict, f"ParseError without strict: {refused}"
        assert refused.where
        return None
    table = decoded.table
    assert list(table.columns) == [*REPORT_COLUMNS, *EXTRA_COLUMNS]
    assert all(n > 0 for n in decoded.problems.counts.values())
    assert set(decoded.problems.counts) == set(decoded.problems.first_where)
    latitude = table["latitude"].dropna().to_numpy(dtype=np.float64)
    longitude = table["longitude"].dropna().to_numpy(dtype=np.float64)
    assert (np.abs(latitude) <= 90.0).all()
    assert (np.abs(longitude) <= 180.0).all()
    assert (
        table["source"]
        .isin(["asterix-cat021", "asterix-cat048", "asterix-cat062"])
        .all()
    )
    return decoded


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A real recording with a few bit flips, cuts, insertions and deletions.

    Places are uniform over the recording (hypothesis's own integers favour small
    values, which would gather every mutation where the format is told).
    """
    data = bytearray(recordings()[draw(st.sampled_from(NAMES))])
    rng = draw(st.randoms(use_true_random=False))
    for _ in range(draw(st.integers(1, 4))):
        kind = rng.choice(["flip", "flip", "flip", "cut", "insert", "delete"])
        at = rng.randrange(len(data)) if data else 0
        if kind == "flip" and data:
            data[at] ^= 1 << rng.randrange(8)
        elif kind == "cut":
            data = data[:at]
        elif kind == "insert":
            data[at:at] = rng.randbytes(rng.randint(1, 8))
        else:
            del data[at : at + rng.randint(1, 8)]
    return bytes(data)


def asterix_like(body: bytes, category: int) -> bytes:
    return bytes([category]) + (len(body) + 3).to_bytes(2, "big") + body


@settings(max_examples=150, deadline=None)
@given(data=st.binary(max_size=600), strict=st.booleans())
def test_random_bytes(data, strict):
    check(data, strict=strict)


@settings(max_examples=200, deadline=None)
@given(
    body=st.binary(max_size=300),
    category=st.sampled_from([21, 48, 62, 34, 65]),
    strict=st.booleans(),
)
def test_random_records_in_a_valid_data_block(body, category, strict):
    # A well-formed block header takes random records through libasterix's parser.
    decoded = check(asterix_like(body, category), strict=strict)
    if decoded is not None and category not in (21, 48, 62):
        assert decoded.table.empty


@settings(max_examples=200, deadline=None)
@given(data=mutated())
def test_mutated_recordings(data):
    check(data, strict=False)
    check(data, strict=True)


def test_unmutated_recordings_decode():
    # The starting points themselves: every one decodes without strict.
    for name, data in recordings().items():
        assert check(data, strict=False) is not None, name
