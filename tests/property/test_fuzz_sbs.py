"""SBS-1 / BaseStation reading under random and damaged input.

Whatever the content, :func:`decode_sbs` returns reports or raises
:class:`UnsupportedFormatError` (and, with ``strict``, :class:`ParseError`), quickly;
every line it does not turn into a report is in the ledger; a strict read refuses
exactly the first line a lenient read refuses. And a table written with
:func:`write_sbs` reads back within the written precision.
"""

from __future__ import annotations

import gzip
import io
import re
import time

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from skypact.errors import ParseError, UnsupportedFormatError
from skypact.tracks.ingest.base import REPORT_COLUMNS
from skypact.tracks.ingest.sbs import EXTRA_COLUMNS, decode_sbs, write_sbs

FAST_S = 5.0  # per decode of a few kB, even on a loaded machine
STAMP = "2024/05/01,10:00:00.125,2024/05/01,10:00:00.250"
VALID = [
    f"MSG,1,1,1,4CA2D6,1,{STAMP},RYR83LU ,,,,,,,,,,,0",
    f"MSG,2,1,1,400CB6,1,{STAMP},,,12.5,271.3,53.42137,-6.27001,,,,,,-1",
    f"MSG,3,1,1,4CA2D6,1,{STAMP},,37000,,,51.45735,-1.02826,,,0,0,0,0",
    f"MSG,4,1,1,4CA767,1,{STAMP},,,288.6,103.2,,,-832,,,,,",
    f"MSG,5,1,1,394A65,1,{STAMP},,10000,,,,,,,0,,0,0",
    f"MSG,6,1,1,4CA215,1,{STAMP},,33325,,,,,,0271,0,0,0,0",
    f"MSG,7,1,1,51106E,1,{STAMP},,3775,,,,,,,,,,0",
    f"MSG,8,1,1,405F4E,1,{STAMP},,,,,,,,,,,,0",
    f"SEL,,1,2286,4CA4E5,27215,{STAMP},RYR1427",
    f"STA,,5,179,400AE7,10103,{STAMP},RM",
]
# Characters a damaged line may gain: separators, signs, digits, letters, blanks,
# line breaks, and a few non-ASCII ones.
NOISE = st.sampled_from(list(",.-+:/~ 0123456789AaEeFfXx\t\r\n\x00é€\U0001f6eb"))


def check(text, *, strict=False):
    """Decode; hold the result to the contract. Returns it, or None if refused."""
    started = time.perf_counter()
    try:
        decoded = decode_sbs(text, strict=strict)
    except UnsupportedFormatError:
        return None
    except ParseError:
        assert strict, "ParseError without strict"
        return None
    finally:
        assert time.perf_counter() - started < FAST_S
    table = decoded.table
    assert list(table.columns) == [*REPORT_COLUMNS, *EXTRA_COLUMNS]
    assert table["icao24"].map(lambda v: re.fullmatch(r"~?[0-9a-f]{6}", v) is not None
                               ).all()  # fmt: skip
    assert table["timestamp"].notna().all()
    assert table["transmission_type"].between(1, 8).all()
    assert not (table["latitude"].abs() > 90).any()
    assert not (table["longitude"].abs() > 180).any()
    assert table["latitude"].isna().equals(table["longitude"].isna())
    for name in ("altitude", "groundspeed", "track", "vertical_rate"):
        assert not np.isinf(table[name]).any()
    squawks = table["squawk"].dropna()
    assert squawks.map(lambda v: re.fullmatch(r"[0-7]{4}", v) is not None).all()
    if isinstance(text, str):
        # every line is a report, a ledger entry or blank
        assert len(table) + decoded.problems.total <= text.count("\n") + 1
    return decoded


@settings(max_examples=60, deadline=None)
@given(text=st.text(max_size=400))
def test_random_text(text):
    check(text)
    check(text, strict=True)
    behind_a_report = f"{VALID[2]}\n{text}"  # past the format check: every line parsed
    assert check(behind_a_report) is not None
    check(behind_a_report, strict=True)


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=400))
def test_random_bytes(data):
    check(data)
    check(data, strict=True)
    check(gzip.compress(data))
    behind_a_report = VALID[2].encode() + b"\r\n" + data
    assert check(behind_a_report) is not None
    check(behind_a_report, strict=True)


@st.composite
def damaged_feeds(draw):
    lines = draw(st.lists(st.sampled_from(VALID), min_size=1, max_size=12))
    damaged = []
    for line in lines:
        how = draw(st.sampled_from(["keep", "keep", "insert", "delete", "replace",
                                    "field", "cut", "swap"]))  # fmt: skip
        at = draw(st.integers(0, len(line)))
        if how == "insert":
            line = line[:at] + draw(st.text(NOISE, min_size=1, max_size=3)) + line[at:]
        elif how == "delete":
            line = line[:at] + line[at + draw(st.integers(1, 4)) :]
        elif how == "replace" and at < len(line):
            line = line[:at] + draw(NOISE) + line[at + 1 :]
        elif how == "field":
            fields = line.split(",")
            k = draw(st.integers(0, len(fields) - 1))
            fields[k] = draw(st.text(NOISE, max_size=8) | st.text(max_size=8))
            line = ",".join(fields)
        elif how == "cut":
            line = line[:at]
        elif how == "swap":
            fields = line.split(",")
            i, j = draw(st.integers(0, len(fields) - 1)), draw(st.integers(0, 21))
            j = min(j, len(fields) - 1)
            fields[i], fields[j] = fields[j], fields[i]
            line = ",".join(fields)
        damaged.append(line)
    ending = draw(st.sampled_from(["\r\n", "\n"]))
    return ending.join(damaged) + draw(st.sampled_from(["", ending]))


@settings(max_examples=120, deadline=None)
@given(feed=damaged_feeds())
def test_damaged_lines_are_counted_and_strict_refuses_the_first(feed):
    lenient = check(feed)
    strict, refusal = None, None
    try:
        strict = decode_sbs(feed, strict=True)
    except UnsupportedFormatError:
        assert lenient is None
        return
    except ParseError as error:
        refusal = error
    assert lenient is not None
    refused = {
        reason: where
        for reason, where in lenient.problems.first_where.items()
        if not reason.endswith("(not a report)")
    }
    if refusal is None:
        assert not refused
        assert strict is not None
        pd.testing.assert_frame_equal(strict.table, lenient.table)
    else:
        assert refused, "strict refused a feed the lenient read found clean"
        first = min(refused.values(), key=lambda where: int(where.split()[1]))
        assert refusal.where == first


@settings(max_examples=30, deadline=None)
@given(
    feed=damaged_feeds(),
    cut=st.integers(1, 200),
)
def test_truncated_gzip_keeps_the_lines_before(feed, cut):
    data = gzip.compress(feed.encode())
    truncated = data[: max(len(data) - cut, 0)]
    result = check(truncated)
    if result is not None:
        assert len(result.table) <= feed.count("\n") + 1
    check(truncated, strict=True)


def numbers(low, high):
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


rows = st.fixed_dictionaries(
    {
        "t_ms": st.integers(0, 4 * 10**12),  # feeds carry milliseconds
        "icao24": st.sampled_from(["4ca2d6", "abcdef", "000001"]),
        "callsign": st.one_of(st.none(), st.sampled_from(["EZY12", "AFR1", "X"])),
        "latitude": st.one_of(st.none(), numbers(-90, 90)),
        "longitude": numbers(-180, 180),
        "altitude": st.one_of(st.none(), numbers(-2000, 60000)),
        "groundspeed": st.one_of(st.none(), numbers(0, 1500)),
        "track": st.one_of(st.none(), numbers(-720, 720)),
        "vertical_rate": st.one_of(st.none(), numbers(-9000, 9000)),
        "squawk": st.one_of(st.none(), st.sampled_from(["7700", "1000", "0040"])),
        "onground": st.one_of(st.none(), st.booleans()),
    }
)


@settings(max_examples=60, deadline=None)
@given(records=st.lists(rows, min_size=1, max_size=20))
def test_written_tables_read_back_within_the_written_precision(records):
    table = pd.DataFrame(records)
    table["longitude"] = table["longitude"].where(table["latitude"].notna())
    table["timestamp"] = pd.to_datetime(table.pop("t_ms"), unit="ms", utc=True)
    table["onground"] = table["onground"].astype("boolean")
    out = io.BytesIO()
    lines = write_sbs(table, out)
    if lines == 0:  # nothing a feed would carry: no line, and empty is not SBS
        assert out.getvalue() == b""
        assert (
            table[["latitude", "altitude", "callsign", "squawk"]].isna().all(axis=None)
        )
        return
    decoded = decode_sbs(out.getvalue(), strict=True)
    back = decoded.table
    assert len(back) == lines
    ordered = table.sort_values("timestamp", kind="stable").reset_index(drop=True)
    positions = back[back["transmission_type"].isin([2, 3])].reset_index(drop=True)
    placed = ordered[ordered["latitude"].notna()].reset_index(drop=True)
    assert len(positions) == len(placed)
    for name in ("latitude", "longitude"):
        expected = placed[name].to_numpy(dtype=np.float64)
        assert np.allclose(positions[name], expected, rtol=0, atol=0.5e-5 + 1e-9)
    altitude = placed["altitude"].to_numpy(dtype=np.float64)
    assert np.allclose(positions["altitude"], altitude, rtol=0, atol=0.5 + 1e-9,
                       equal_nan=True)  # fmt: skip
    stamps = placed["timestamp"].to_numpy()
    assert (positions["timestamp"].to_numpy() == stamps).all()
    assert set(back["icao24"]) <= set(table["icao24"])
