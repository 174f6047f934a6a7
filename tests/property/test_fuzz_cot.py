"""Random and mutated CoT input: a table, UnsupportedFormatError or (strict) ParseError.

Whatever the bytes, :func:`decode_cot` returns a :class:`Decoded` whose table has the
declared columns and whose rows plus problems never exceed what the input could hold,
or raises :class:`UnsupportedFormatError`; :class:`ParseError` only with ``strict``.
Nothing else may escape, and no input may take long.
"""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from skypact.errors import ParseError, UnsupportedFormatError
from skypact.tracks.ingest.base import REPORT_COLUMNS
from skypact.tracks.ingest.cot import (
    COT_EXTRA_COLUMNS,
    cot_event_tak,
    cot_event_xml,
    decode_cot,
)
from tests.factories import cot_row

ROW = cot_row(affiliation="hostile")
GROUND = (
    b'<event version="2.0" uid="G1" type="a-f-G-U-C" how="h-e" '
    b'time="2024-05-01T10:00:00Z" start="2024-05-01T10:00:00Z" '
    b'stale="2024-05-01T10:05:00Z"><point lat="1" lon="2" hae="9999999" ce="9999999" '
    b'le="9999999"/><detail><_flow-tags_ a="b"/></detail></event>'
)
VALID_XML = b"\n".join(
    [cot_event_xml(ROW), GROUND, cot_event_xml(ROW, xml_declaration=False)]
)
VALID_TAK = cot_event_tak(ROW) + cot_event_tak({**ROW, "icao24": "abcdef"})
SECONDS_PER_CALL = 2.0


def check(data: bytes, *, strict: bool) -> None:
    started = time.perf_counter()
    try:
        decoded = decode_cot(data, strict=strict)
    except UnsupportedFormatError:
        pass
    except ParseError:
        assert strict, "ParseError without strict"
    else:
        table = decoded.table
        assert list(table.columns) == [*REPORT_COLUMNS, *COT_EXTRA_COLUMNS]
        assert decoded.format in ("cot-xml", "tak-protobuf")
        assert len(table) + decoded.problems.total <= len(data)
        if strict:
            assert decoded.problems.total == 0
        assert table["latitude"].between(-90.0, 90.0).all()
        assert table["longitude"].between(-180.0, 180.0).all()
        assert table["uid"].map(lambda uid: isinstance(uid, str) and uid != "").all()
    assert time.perf_counter() - started < SECONDS_PER_CALL


@st.composite
def mutated(draw: st.DrawFn, valid: bytes) -> bytes:
    """The valid stream with a few bytes replaced, inserted or deleted, maybe cut."""
    data = bytearray(valid)
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["replace", "insert", "delete"]))
        byte = draw(
            st.one_of(
                st.integers(0, 255), st.sampled_from(list(b"<>/&\"'=-!?[]\xbf\x00"))
            )
        )
        if op == "insert":
            data.insert(at, byte)
        elif at < len(data):
            if op == "replace":
                data[at] = byte
            else:
                del data[at]
    if draw(st.booleans()):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


@settings(max_examples=150, deadline=None)
@given(
    data=st.one_of(
        st.binary(max_size=400),
        st.binary(max_size=400).map(lambda b: b"<" + b),
        st.binary(max_size=400).map(lambda b: b"\xbf" + b),
    ),
    strict=st.booleans(),
)
def test_random_bytes(data, strict):
    check(data, strict=strict)


@settings(max_examples=150, deadline=None)
@given(
    text=st.one_of(
        st.text(max_size=300),
        st.text(alphabet=st.sampled_from(list('<>/="?! -aeintvxAZ0129.:T&;#'))).map(
            lambda t: "<event " + t
        ),
    ),
    strict=st.booleans(),
)
def test_random_text(text, strict):
    check(text.encode("utf-8", "surrogatepass"), strict=strict)


@settings(max_examples=200, deadline=None)
@given(data=mutated(VALID_XML), strict=st.booleans())
def test_mutated_xml(data, strict):
    check(data, strict=strict)


@settings(max_examples=200, deadline=None)
@given(data=mutated(VALID_TAK), strict=st.booleans())
def test_mutated_tak(data, strict):
    check(data, strict=strict)


def test_the_unmutated_streams_are_read():
    xml = decode_cot(VALID_XML)
    assert (len(xml.table), xml.problems.total) == (2, 1)
    tak = decode_cot(VALID_TAK)
    assert (len(tak.table), tak.problems.total) == (2, 0)
