"""A report batch's ``sha256``: the SHA-256 of the canonical JSON of its stored rows.

:meth:`Repository.store_report_batch` writes that JSON with pydantic-core when it
writes the same bytes as :func:`skypact.audit.model.canonical_json` (see
``_rows_json``), and with canonical_json otherwise; these tests hold the two to
byte-for-byte equality, and the audited digest to the one
:meth:`Repository.report_batch_sha256` recomputes from the database with
canonical_json.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from typing import Any

import numpy as np
import pydantic_core
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skypact.audit.model import canonical_json
from skypact.storage.repository import _report_columns, _rows_json

T0_S = 1_700_000_000.0

AWKWARD_FLOATS = [
    0.0,
    -0.0,
    1e-7,
    -1e-7,
    1e-5,
    9.99e-5,
    1e-4,
    2.5e-4,
    0.1,
    1 / 3,
    -123.456,
    123456789.123,
    1e15,
    9007199254740993.0,
    1e16,
    -1.5e17,
    1e22,
    5e-324,
    2.2250738585072014e-308,
    sys.float_info.max,
    1.7e9 + 0.123,
]

AWKWARD_TEXTS = [
    "",
    " x ",
    "AF123",
    "ÉCLAIR",
    "Ω日本",
    "😀",
    "\u2028\u2029\x7f",
    '\x00\x1f"\\\n\t/',
]


def float_array(rows: list[tuple[Any, ...]]) -> np.ndarray:
    """The floats of the rows, NaN for None (what _rows_json is given)."""
    return np.array(
        [v for row in rows for v in row if isinstance(v, float)] or [0.0],
        dtype=np.float64,
    )


def rows_json(rows: list[tuple[Any, ...]]) -> bytes:
    return _rows_json(rows, [float_array(rows)])


def assert_same_bytes(got: bytes, expected: bytes) -> None:
    """``got == expected``, showing where they part (pytest's own diff of two long
    texts takes minutes)."""
    if got != expected:
        k = next(
            (i for i, (a, b) in enumerate(zip(got, expected, strict=False)) if a != b),
            min(len(got), len(expected)),
        )
        pytest.fail(
            f"the JSON differs at byte {k}: {got[max(k - 30, 0) : k + 30]!r} "
            f"!= {expected[max(k - 30, 0) : k + 30]!r}"
        )


class TestSameBytesAsCanonicalJson:
    @pytest.mark.parametrize("value", AWKWARD_FLOATS)
    def test_awkward_floats(self, value):
        rows = [("a00001", value, None, True), ("a00002", -value, "x", False)]
        assert_same_bytes(rows_json(rows), canonical_json(rows).encode())

    def test_a_row_of_every_kind(self):
        rows = [
            (text, value, None, k % 2 == 0, text[:1] or None)
            for k, (text, value) in enumerate(
                zip(AWKWARD_TEXTS * 3, AWKWARD_FLOATS, strict=False)
            )
        ]
        assert_same_bytes(rows_json(rows), canonical_json(rows).encode())

    def test_every_code_point(self):
        text = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)
        rows = [(text, 1.5, None), (text[::-1], 2.5, True)]
        assert_same_bytes(rows_json(rows), canonical_json(rows).encode())

    def test_random_doubles_of_every_magnitude(self):
        bits = np.random.default_rng(2024).integers(0, 2**64, 200_000, dtype=np.uint64)
        values = bits.view(np.float64)
        values = values[np.isfinite(values)]
        plain = (np.abs(values) >= 1e-4) | (values == 0.0)
        assert 0.3 < plain.mean() < 0.7  # both paths get their share
        for part in (values[plain], values[~plain]):
            for chunk in np.array_split(part, 10):
                rows = [(v,) for v in chunk.tolist()]
                assert_same_bytes(
                    _rows_json(rows, [chunk]), canonical_json(rows).encode()
                )

    def test_pydantic_core_writes_repr_at_and_above_1e_4(self):
        """The premise of the fast path: same bytes for every float it is used for
        (0, and finite magnitudes from 1e-4 up), across all exponents."""
        rng = np.random.default_rng(7)
        exponents = rng.uniform(-4.0, 308.0, 200_000)
        values = (10.0**exponents * rng.choice([-1.0, 1.0], exponents.size)).tolist()
        values += [0.0, -0.0, 1e-4, -1e-4, sys.float_info.max]
        assert_same_bytes(
            pydantic_core.to_json(values), canonical_json(values).encode()
        )

    def test_below_1e_4_canonical_json_writes_them(self):
        rows = [(1e-7,), (0.00001,), (None,)]
        text = rows_json(rows)
        assert text == b"[[1e-07],[1e-05],[null]]"
        assert text != pydantic_core.to_json(rows)

    def test_a_lone_surrogate_fails_as_before(self):
        rows = [("\ud800", 1.0)]
        with pytest.raises(UnicodeEncodeError):
            rows_json(rows)

    @pytest.mark.parametrize("value", [math.inf, -math.inf])
    def test_infinities_are_refused_as_before(self, value):
        with pytest.raises(ValueError, match="Out of range float"):
            _rows_json([(value,)], [np.array([value])])

    @settings(max_examples=300, deadline=None)
    @given(
        st.lists(
            st.tuples(
                st.text(
                    alphabet=st.characters(blacklist_categories=["Cs"]), max_size=8
                ),
                st.floats(allow_nan=False, allow_infinity=False),
                st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)),
                st.booleans(),
                st.one_of(st.none(), st.text(max_size=3)),
            ),
            max_size=20,
        )
    )
    def test_any_rows(self, rows):
        assert_same_bytes(rows_json(rows), canonical_json(rows).encode())


class TestTheDigestOfABatch:
    def test_its_definition(self):
        """Pinned by hand: the rows are icao24 .. reason, floats as Python's repr."""
        rows = [
            {
                "timestamp": T0_S,
                "icao24": "a00001",
                "latitude": 48.5,
                "longitude": 1e-7,
                "altitude": 30000,
                "groundspeed": float("nan"),
                "callsign": "ÉCLAIR",
                "accepted": False,
                "reason": "position jump",
            }
        ]
        text = (
            '[["a00001",1700000000.0,48.5,1e-07,30000.0,null,null,null,'
            '"ÉCLAIR",null,null,false,"position jump"]]'
        )
        batch = _report_columns(rows)
        assert _rows_json(batch.rows(), batch.floats) == text.encode()

    def test_stored_and_recomputed_digests_agree(self, repo):
        # SQLite keeps -0.0 as 0 (it stores an integral REAL as an integer), so it
        # reads back as 0.0: the digests of a batch with -0.0 differ there (they did
        # before the fast path too)
        floats = [v for v in AWKWARD_FLOATS if math.copysign(1.0, v) > 0]
        floats += [-v for v in floats if v]
        rows = []
        for k, value in enumerate(floats):
            rows.append(
                {
                    "timestamp": T0_S + k + 0.125,
                    "icao24": f"a{k:05x}",
                    "latitude": value,
                    "longitude": floats[-k - 1],
                    "altitude": value if k % 3 else None,
                    "groundspeed": float("nan"),
                    "track": 123.456,
                    "vertical_rate": floats[(k * 5) % len(floats)],
                    # PostgreSQL text cannot hold NUL
                    "callsign": AWKWARD_TEXTS[k % len(AWKWARD_TEXTS)].replace(
                        "\x00", ""
                    ),
                    "squawk": [None, "7700", 1234][k % 3],
                    "source": "adsb",
                    "accepted": [True, False, None][k % 3],
                    "reason": [None, "position jump", None][k % 3],
                }
            )
        receipt = repo.store_report_batch("usa", "awkward", T0_S, rows)
        (record,) = repo.audit_records()
        stored = json.loads(record.payload)["sha256"]
        assert stored == repo.report_batch_sha256(receipt.batch_id)
        expected = _report_columns(rows).rows()
        assert stored == hashlib.sha256(canonical_json(expected).encode()).hexdigest()

    def test_a_large_batch(self, repo):
        rng = np.random.default_rng(3)
        n = 2500
        rows = [
            {
                "timestamp": T0_S + k * 0.1,
                "icao24": f"{k % 700:06x}",
                "latitude": float(rng.uniform(-90, 90)),
                "longitude": float(rng.uniform(-180, 180)),
                "altitude": float(rng.uniform(0, 45000)),
                "groundspeed": float(rng.uniform(0, 600)),
                "track": float(rng.uniform(0, 360)),
                "vertical_rate": float(rng.uniform(-3000, 3000)),
                "callsign": f"SKY{k % 700:03d}",
                "source": "adsb",
                "accepted": k % 9 != 0,
                "reason": None if k % 9 else "position jump",
            }
            for k in range(n)
        ]
        receipt = repo.store_report_batch("usa", "large", T0_S, rows)
        (record,) = repo.audit_records()
        stored = json.loads(record.payload)["sha256"]
        assert stored == repo.report_batch_sha256(receipt.batch_id)
