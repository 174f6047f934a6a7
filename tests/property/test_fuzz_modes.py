"""Fuzzing the raw Mode S readers: random and mutated input never crashes or hangs.

Seeds: the real Beast capture and frames of the real flight (../shared/data/real).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skypact.errors import ParseError, UnsupportedFormatError
from skypact.tracks.ingest.modes import (
    decode_frames,
    parse_avr,
    parse_beast,
    parse_text_frames,
)

REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "real"
BEAST = (REAL / "traffic" / "sample_dump1090.bin").read_bytes()[:1500]
CSV = (REAL / "rs1090" / "short_flights.csv").read_text()[:3000]

FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@st.composite
def mutated(draw, seed: bytes) -> bytes:
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if kind == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif kind == "cut":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif data:
            del data[at : at + draw(st.integers(1, 20))]
    return bytes(data)


def decode_all(batch) -> None:
    before = batch.problems.total
    table = decode_frames(batch)
    # every frame is a row or a counted problem: nothing is lost silently
    assert len(table) + batch.problems.total - before == len(batch.frames)


@FUZZ
@given(st.one_of(st.binary(max_size=400), mutated(BEAST)))
def test_beast_bytes_never_crash(data):
    batch = parse_beast(data, start_s=0.0)
    assert len(batch.frames) == len(batch.timestamps)
    decode_all(batch)
    with contextlib.suppress(ParseError):
        parse_beast(data, strict=True)


@FUZZ
@given(
    st.one_of(
        st.text(max_size=400), mutated(CSV.encode()).map(lambda b: b.decode("latin-1"))
    )
)
def test_frame_text_never_crashes(text):
    try:
        batch = parse_text_frames(text, source="<fuzz>")
    except UnsupportedFormatError:
        return
    decode_all(batch)


@FUZZ
@given(
    st.lists(
        st.one_of(
            st.from_regex(r"[*@][0-9A-Fa-f]{0,42};?", fullmatch=True),
            st.text(max_size=30),
        ),
        max_size=30,
    )
)
def test_avr_lines_never_crash(lines):
    batch = parse_avr("\n".join(lines), start_s=0.0)
    assert len(batch.frames) == len(batch.timestamps)
    decode_all(batch)


@pytest.mark.parametrize(
    ("frame", "rows"),
    [("8d" + "ff" * 13, 0), ("00" * 14, 1), ("ff" * 7, 0), ("5d" + "00" * 6, 1),
     ("10" + "00" * 6, 0)],
)  # fmt: skip
def test_corrupt_frames_are_rows_or_counted_problems(frame, rows):
    batch = parse_avr(f"*{frame};\n*{frame};", start_s=0.0)
    assert len(decode_frames(batch)) == 2 * rows
    if rows == 0:
        (reason,) = batch.problems.counts
        assert reason.startswith("frame cannot be decoded (DF ")
        assert batch.problems.counts[reason] == 2
        assert batch.problems.first_where[reason] == "line 1"
        with pytest.raises(ParseError, match="line 1: frame cannot be decoded"):
            decode_frames(parse_avr(f"*{frame};", start_s=0.0), strict=True)
