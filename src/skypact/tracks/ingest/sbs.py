"""SBS-1 / BaseStation CSV (the feed dump1090 and readsb serve on TCP port 30003).

The format was defined by Kinetic Avionics for its SBS-1 receiver and BaseStation
software; dump1090, readsb and most ADS-B receivers emulate it. Each line is one
message, its fields separated by commas, the line ended by CR LF (a bare LF is read
too). A report line has 22 fields::

    MSG,<transmission type 1-8>,<session id>,<aircraft id>,<hex ident>,<flight id>,
    <date generated>,<time generated>,<date logged>,<time logged>,<callsign>,
    <altitude ft>,<ground speed kt>,<track deg>,<latitude deg>,<longitude deg>,
    <vertical rate ft/min>,<squawk>,<alert>,<emergency>,<SPI>,<is on ground>

Dates are ``YYYY/MM/DD`` and times ``HH:MM:SS.fff`` (the fraction may be missing or
have up to 9 digits; it is kept to the microsecond). Flags are ``-1`` (or ``1``) for
set and ``0`` for clear; an empty field means "not carried".

**Transmission types** and the fields each carries (BaseStation's definition); the
reader takes only those fields from a line of that type and ignores the others,
neither reading nor checking them:

==== ================================ ==================================================
type message (Mode S source)          fields
==== ================================ ==================================================
1    identification (DF17 BDS 0,8)    callsign
2    surface position (DF17 BDS 0,6)  altitude, ground speed, track, latitude, longitude
3    airborne position (DF17 BDS 0,5) altitude, latitude, longitude, alert, emergency, SPI
4    airborne velocity (DF17 BDS 0,9) ground speed, track, vertical rate
5    surveillance altitude (DF4, 20)  altitude, alert, SPI
6    surveillance ID (DF5, 21)        altitude, squawk, alert, emergency, SPI
7    air-to-air (DF16)                altitude
8    all-call reply (DF11)            (nothing but the on-ground flag)
==== ================================ ==================================================

The *is on ground* flag is read on every type: BaseStation leaves it empty on types 1
and 4, but dump1090 and readsb fill it on every line from the reply's capability
field. When it is empty, a surface position (type 2) is on the ground and an airborne
position (type 3) is not; other types leave ``onground`` empty.

**Time.** A row's time is the "date/time generated" pair, or "date/time logged" when
both generated fields are empty. Those are the receiver's clock readings and carry no
time zone: they are taken as UTC unless ``utc_offset_h`` gives the receiver clock's
offset from UTC (local = UTC + offset, so ``utc_offset_h=2.0`` for a clock on Central
European Summer Time; the offset is subtracted).

**Result.** One row per usable ``MSG`` line, in file order, in the traffic column
convention of :mod:`skypact.tracks.ingest.base` (aviation units, as SBS carries them:
ft, kt, deg, ft/min), with the fields the line's type does not carry left empty:
``icao24`` is the hex ident in lower case (a non-ICAO address keeps readsb's ``~``
prefix), ``callsign`` has its padding removed, ``altitude`` is barometric (``geo
altitude`` is always empty), ``source`` is ``"sbs"``. Extra columns:
:data:`EXTRA_COLUMNS`: ``alert`` (squawk changed), ``emergency`` (7500/7600/7700),
``spi`` (ident) as nullable booleans, and ``transmission_type`` (1-8).

**Lines not used.** Blank lines are skipped. The other message types, SEL (selection
change), ID (new callsign), AIR (new aircraft), STA (status) and CLK (clock), carry no
report: each is counted in the :class:`~skypact.tracks.ingest.base.Problems` ledger
under ``"<type> message (not a report)"``, never refused, even with ``strict``. A
line that cannot be used (an unknown message type, a field count other than 22, a
line over 4096 bytes or with a carriage return inside, a bad hex ident or transmission
type, a missing or impossible date or time, a carried field that is not a number, a
latitude or longitude out of range or without the other, a squawk that is not 4 octal
digits, a flag that is not -1, 0 or 1) is counted under its first fault with ``"line
N"`` (lines counted from 1, blank ones included); with ``strict`` the first such line
raises :class:`~skypact.errors.ParseError` instead. Gzip is read transparently (told by its
magic bytes); a truncated or corrupt gzip stream keeps what was decompressed and is
counted (``strict``: refused) at the byte where it failed. Content that is not SBS at
all (no known message type starting any of the first 50 non-blank lines, e.g. JSON,
binary, or nothing) raises :class:`~skypact.errors.UnsupportedFormatError`.

**Speed.** No Python code runs per line, except for lines that are not ``MSG`` or are
counted as problems: line breaks are found with numpy, fields are split by Arrow's CSV
reader (SBS has no quoting) and every column is checked and converted in bulk with
Arrow compute kernels (regular expressions; one fault mask per check, so that each
problem still names its line). Columns that repeat (hex idents, types, dates,
callsigns, squawks, flags) are checked once per distinct value.

**Writing.** :func:`write_sbs` turns a traffic-convention table into the lines a
BaseStation feed would carry for it (see its docstring for the choice of types).

References: Kinetic Avionics, BaseStation socket data (port 30003) as documented at
woodair.net "Barebones42_Socket_Data"; dump1090 ``net_io.c`` (``modesSendSBSOutput``).
"""

from __future__ import annotations

import datetime
import gzip
import io
import logging
import math
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from skypact.errors import (
    ConfigError,
    InvalidStateError,
    MissingColumnError,
    ParseError,
    UnsupportedFormatError,
)
from skypact.tracks.ingest.base import REPORT_COLUMNS, Decoded, Problems

__all__ = ["EXTRA_COLUMNS", "FIELD_COUNT", "decode_sbs", "read_sbs", "write_sbs"]

_log = logging.getLogger(__name__)

FIELD_COUNT = 22
"""Fields in a ``MSG`` line."""

EXTRA_COLUMNS = ("alert", "emergency", "spi", "transmission_type")
"""The columns after :data:`~skypact.tracks.ingest.base.REPORT_COLUMNS`."""

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

_FORMAT = "sbs"
_GZIP_MAGIC = b"\x1f\x8b"
_GZIP_CHUNK = 1 << 20
_NOT_REPORTS = ("SEL", "ID", "AIR", "STA", "CLK")
_KINDS = frozenset({"MSG", *_NOT_REPORTS})
_UTF8_BOM = b"\xef\xbb\xbf"
_LF = 0x0A
_SNIFF_CHARS = 1 << 16
_SNIFF_LINES = 50
_MAX_LINE_BYTES = 4096  # real lines are about 120; Arrow's CSV blocks are 1 MiB
_MAX_OFFSET_H = 24.0

# Field positions in a MSG line.
_TYPE, _HEX = 1, 4
_DATE_GEN, _TIME_GEN, _DATE_LOG, _TIME_LOG = 6, 7, 8, 9
_FIELD = {
    "callsign": 10, "altitude": 11, "groundspeed": 12, "track": 13,
    "latitude": 14, "longitude": 15, "vertical_rate": 16, "squawk": 17,
    "alert": 18, "emergency": 19, "spi": 20, "onground": 21,
}  # fmt: skip
# transmission type -> the fields its lines carry (BaseStation's table, module doc)
_CARRIES: dict[int, frozenset[str]] = {
    1: frozenset({"callsign"}),
    2: frozenset({"altitude", "groundspeed", "track", "latitude", "longitude"}),
    3: frozenset({"altitude", "latitude", "longitude", "alert", "emergency", "spi"}),
    4: frozenset({"groundspeed", "track", "vertical_rate"}),
    5: frozenset({"altitude", "alert", "spi"}),
    6: frozenset({"altitude", "squawk", "alert", "emergency", "spi"}),
    7: frozenset({"altitude"}),
    8: frozenset(),
}
# field -> a lookup from transmission type (0 = not a type) to "carried"
_CARRIED = {
    name: np.array(
        [False] + [name == "onground" or name in _CARRIES[t] for t in range(1, 9)]
    )
    for name in _FIELD
}
_NUMBERS = ("altitude", "groundspeed", "track", "latitude", "longitude",
            "vertical_rate")  # fmt: skip
_FLAGS = ("alert", "emergency", "spi", "onground")
_FLAG_NAMES = {"alert": "alert", "emergency": "emergency", "spi": "SPI",
               "onground": "is-on-ground"}  # fmt: skip
_NUMBER_NAMES = {"altitude": "altitude", "groundspeed": "ground speed",
                 "track": "track", "latitude": "latitude", "longitude": "longitude",
                 "vertical_rate": "vertical rate"}  # fmt: skip
_EMERGENCY_SQUAWKS = ("7500", "7600", "7700")

# Patterns (RE2, ASCII classes) a field must match; the number pattern is what
# Arrow's string -> float64 cast accepts, bounded so that it never fails.
_RE_NUMBER = (
    r"^[+-]?(?:[0-9]{1,18}(?:\.[0-9]{0,18})?|\.[0-9]{1,18})(?:[eE][+-]?[0-9]{1,3})?$"
)
_RE_HEX = r"^~?[0-9A-Fa-f]{6}$"
_RE_TYPE = r"^[1-8]$"
_RE_DATE = r"^[0-9]{4}/[0-9]{2}/[0-9]{2}$"
_RE_TIME = r"^[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?$"
_RE_SQUAWK = r"^[0-7]{4}$"
_RE_CALLSIGN_OK = r"^[^,\r\n]*$"
_PLACEHOLDER_DATE = "1970/01/01"
_PLACEHOLDER_TIME = "00:00:00"
_US_DIGITS = 6  # digits of a microsecond fraction

# Writer precision: what BaseStation itself writes (dump1090 rounds ground speed
# and track to whole units; both are read the same).
_LATLON_DECIMALS = 5
_SPEED_DECIMALS = 1
_TRACK_DECIMALS = 1
_FULL_CIRCLE_DEG = 360.0
_MAX_ABS_VALUE = 1e9  # no SBS quantity comes near; keeps integers exact


# --------------------------------------------------------------------------- reading


def read_sbs(
    path: str | Path, *, strict: bool = False, utc_offset_h: float = 0.0
) -> Decoded:
    """Read an SBS-1 / BaseStation recording (plain or gzip) into reports.

    Args:
        path: the file.
        strict: raise on the first line that cannot be used instead of counting it.
        utc_offset_h: the receiver clock's offset from UTC in hours (module doc).

    Returns:
        The reports (format ``"sbs"``) and the lines not used.

    Raises:
        ParseError: the file cannot be opened; with ``strict``, the first bad line.
        UnsupportedFormatError: the content is not SBS.
        ConfigError: ``utc_offset_h`` is not a finite number within [-24, 24].
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ParseError(f"cannot open: {reason}", source=str(path)) from exc
    return decode_sbs(data, source=str(path), strict=strict, utc_offset_h=utc_offset_h)


def decode_sbs(
    text: str | bytes,
    *,
    source: str = "<text>",
    strict: bool = False,
    utc_offset_h: float = 0.0,
) -> Decoded:
    """Decode SBS-1 / BaseStation text (or its bytes, possibly gzip) into reports.

    Args:
        text: the feed's content.
        source: the name problems and errors give the content.
        strict: raise on the first line that cannot be used instead of counting it.
        utc_offset_h: the receiver clock's offset from UTC in hours (module doc).

    Returns:
        The reports (format ``"sbs"``) and the lines not used.

    Raises:
        ParseError: with ``strict``, the first line (or gzip fault) not usable.
        UnsupportedFormatError: the content is not SBS.
        ConfigError: ``utc_offset_h`` is not a finite number within [-24, 24].
    """
    offset_h = float(utc_offset_h)
    if not (math.isfinite(offset_h) and abs(offset_h) <= _MAX_OFFSET_H):
        raise ConfigError(
            "utc_offset_h", utc_offset_h, "must be a finite number within [-24, 24]"
        )
    problems = Problems(source=source)
    data = text.encode("utf-8", errors="replace") if isinstance(text, str) else text
    if data[:2] == _GZIP_MAGIC:
        data = _gunzip(data, problems, strict=strict)
    data = _valid_utf8(data).removeprefix(_UTF8_BOM)
    if not _looks_like_sbs(data):
        raise UnsupportedFormatError(
            "not SBS-1/BaseStation: no line starts with a message type "
            f"({', '.join(('MSG', *_NOT_REPORTS))}) followed by a comma",
            source=source,
        )
    table = _decode_lines(data, problems, strict=strict, offset_h=offset_h)
    _log.info(
        "%s: %d SBS reports, %d lines not used", source, len(table), problems.total
    )
    return Decoded(format=_FORMAT, table=table, problems=problems)


def _gunzip(data: bytes, problems: Problems, *, strict: bool) -> bytes:
    """Decompress every gzip member; keep what precedes a fault, and count the fault."""
    out: list[bytes] = []
    pos = 0
    while pos < len(data):
        if data[pos : pos + 2] != _GZIP_MAGIC:
            problems.reject(
                "bytes after the gzip stream", f"byte {pos}", data[pos:], strict=strict
            )
            break
        engine = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
        try:
            while pos < len(data) and not engine.eof:
                chunk = data[pos : pos + _GZIP_CHUNK]
                out.append(engine.decompress(chunk))
                pos += len(chunk) - len(engine.unused_data)
        except zlib.error:
            problems.reject("corrupt gzip stream", f"byte {pos}", strict=strict)
            break
        if not engine.eof:
            problems.reject("truncated gzip stream", f"byte {pos}", strict=strict)
            break
    return b"".join(out)


def _valid_utf8(data: bytes) -> bytes:
    """The bytes as valid UTF-8: undecodable sequences become U+FFFD."""
    offsets = pa.py_buffer(np.array([0, len(data)], dtype=np.int64))
    whole = pa.LargeStringArray.from_buffers(1, offsets, pa.py_buffer(data))
    try:
        whole.validate(full=True)  # Arrow's vectorised UTF-8 check
    except pa.ArrowInvalid:
        return data.decode("utf-8", errors="replace").encode("utf-8")
    return data


def _looks_like_sbs(data: bytes) -> bool:
    """Whether a known message type and a comma start one of the first lines."""
    head = data[:_SNIFF_CHARS].decode("utf-8", errors="replace").split("\n")
    lines = (line for line in head if line.strip())
    for k, line in enumerate(lines):
        if k >= _SNIFF_LINES:
            break
        if _kind(line) in _KINDS:
            return True
    return False


def _kind(line: str) -> str | None:
    """The message type a line starts with (``None`` without a comma)."""
    kind, comma, _ = line.partition(",")
    return kind.strip() if comma else None


class _Faults:
    """Per-row first fault: check after check, a row keeps the first reason it fails."""

    def __init__(self, n: int) -> None:
        self.reasons: list[str] = []
        self.code = np.full(n, -1, dtype=np.int64)

    def add(self, reason: str, mask: BoolArray) -> None:
        fresh = mask & (self.code < 0)
        if fresh.any():
            if reason not in self.reasons:
                self.reasons.append(reason)
            self.code[fresh] = self.reasons.index(reason)

    @property
    def ok(self) -> BoolArray:
        return self.code < 0


def _bools(array: pa.Array) -> BoolArray:
    """A boolean Arrow result as a (writable) numpy array."""
    return np.array(array.to_numpy(zero_copy_only=False), dtype=np.bool_)


def _match(field: pa.Array, pattern: str) -> BoolArray:
    return _bools(pc.match_substring_regex(field, pattern))


@dataclass(frozen=True, slots=True)
class _Coded:
    """A text column as its distinct values (trimmed) and each row's index into them.

    Hex idents, types, dates, callsigns, squawks and flags repeat a lot: checking and
    converting the distinct values only is much cheaper than every row.
    """

    values: pa.Array
    codes: IntArray

    @classmethod
    def of(cls, column: pa.ChunkedArray) -> _Coded:
        distinct = pc.unique(column)
        codes = np.asarray(pc.index_in(column, value_set=distinct), dtype=np.int64)
        return cls(pc.utf8_trim_whitespace(distinct), codes)

    def match(self, pattern: str) -> BoolArray:
        return _match(self.values, pattern)[self.codes]

    def equal(self, text: str) -> BoolArray:
        return _bools(pc.equal(self.values, text))[self.codes]

    def objects(self, rows: IntArray, present: BoolArray) -> pd.Series:
        """The values of ``rows`` as an object column (``None`` where not present)."""
        names = np.asarray(self.values.to_numpy(zero_copy_only=False), dtype=object)
        values = np.empty(rows.size, dtype=object)
        values[:] = names[self.codes[rows]] if names.size else None
        values[~present[rows]] = None
        return pd.Series(values, dtype=object)


@dataclass(frozen=True, slots=True, kw_only=True)
class _Fields:
    """The MSG lines' fields, converted (every array has one entry per line)."""

    timestamp: npt.NDArray[np.datetime64]
    icao24: _Coded
    callsign: _Coded
    has_callsign: BoolArray
    squawk: _Coded
    has_squawk: BoolArray
    numbers: dict[str, FloatArray]
    flags: dict[str, tuple[BoolArray, BoolArray]]  # name -> (value, known)
    transmission_type: IntArray


def _split_lines(data: bytes) -> pa.Array:
    """The lines of the content (with their terminators) as one Arrow string array."""
    ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == _LF) + 1
    offsets = np.concatenate(([0], ends, [len(data)])).astype(np.int64)
    if ends.size and ends[-1] == len(data):
        offsets = offsets[:-1]  # the content ends with a line break
    return pa.LargeStringArray.from_buffers(
        len(offsets) - 1, pa.py_buffer(offsets), pa.py_buffer(data)
    )


def _decode_lines(
    data: bytes, problems: Problems, *, strict: bool, offset_h: float
) -> pd.DataFrame:
    """The reports of SBS content (valid UTF-8); every unused line goes to the ledger."""
    lines = _split_lines(data)
    empty = _bools(pc.equal(pc.utf8_rtrim(lines, characters="\r\n"), ""))
    blank = _bools(pc.equal(pc.utf8_trim_whitespace(lines), ""))
    is_msg = _bools(pc.starts_with(lines, "MSG,"))
    n_fields = np.asarray(pc.count_substring(lines, ","), dtype=np.int64) + 1
    inner_cr = _bools(pc.match_substring_regex(lines, "\r[^\r\n]"))
    too_long = np.asarray(pc.binary_length(lines), dtype=np.int64) > _MAX_LINE_BYTES

    # Lines not starting with "MSG," are rare in a feed: their type is read here.
    kinds: dict[str, list[int]] = {}
    others = np.flatnonzero(~is_msg & ~blank)
    for row, line in zip(others.tolist(), lines.take(pa.array(others)).to_pylist(),
                         strict=True):  # fmt: skip
        kind = _kind(line)
        kinds.setdefault(kind if kind in _KINDS else "", []).append(row)
    is_msg[kinds.pop("MSG", [])] = True
    unknown = np.asarray(kinds.pop("", []), dtype=np.int64)
    counted = [
        (f"{name} message (not a report)", np.asarray(rows, dtype=np.int64))
        for name, rows in kinds.items()
    ]
    refused: list[tuple[str, IntArray]] = [
        ("unknown message type", unknown),
        (
            f"MSG line without {FIELD_COUNT} comma-separated fields",
            np.flatnonzero(is_msg & (n_fields != FIELD_COUNT)),
        ),
        (
            f"MSG line longer than {_MAX_LINE_BYTES} bytes",
            np.flatnonzero(is_msg & (n_fields == FIELD_COUNT) & too_long),
        ),
        (
            "carriage return inside a line",
            np.flatnonzero(is_msg & (n_fields == FIELD_COUNT) & ~too_long & inner_cr),
        ),
    ]

    candidate = is_msg & (n_fields == FIELD_COUNT) & ~too_long & ~inner_cr
    rows = np.flatnonzero(candidate)
    columns = _fields_of(data, lines, candidate | empty, rows)
    faults = _Faults(len(rows))
    fields = _convert(columns, faults, offset_h=offset_h)
    refused += [
        (reason, rows[faults.code == k]) for k, reason in enumerate(faults.reasons)
    ]
    _account(problems, lines, counted, refused, strict=strict)
    return _table(fields, faults.ok)


def _fields_of(
    data: bytes, lines: pa.Array, usable: BoolArray, rows: IntArray
) -> list[pa.ChunkedArray]:
    """The 22 fields of the candidate lines ``rows``, as columns of text.

    Arrow's CSV reader splits them (no quoting: SBS has none). When every line is a
    candidate or empty, the content is read as it is; otherwise the candidates are
    gathered into a new buffer first.
    """
    if not rows.size:
        return [pa.chunked_array([], pa.string())] * FIELD_COUNT
    if usable.all():
        source = pa.py_buffer(data)
    else:
        chosen = pc.utf8_rtrim(lines.take(pa.array(rows)), characters="\r\n")
        joined = pc.binary_join(
            pa.LargeListArray.from_arrays(pa.array([0, len(rows)], pa.int64()), chosen),
            pa.scalar("\n", pa.large_string()),
        )
        source = joined[0].as_buffer()
    names = [f"f{j}" for j in range(FIELD_COUNT)]
    table = pa_csv.read_csv(
        pa.BufferReader(source),
        read_options=pa_csv.ReadOptions(column_names=names),
        parse_options=pa_csv.ParseOptions(
            quote_char=False,
            double_quote=False,
            escape_char=False,
            newlines_in_values=False,
            ignore_empty_lines=True,
        ),
        convert_options=pa_csv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            strings_can_be_null=False,
            quoted_strings_can_be_null=False,
        ),
    )
    if table.num_rows != len(rows):  # pragma: no cover - excluded by construction
        raise RuntimeError("SBS lines and CSV rows do not match")
    return [table.column(j) for j in range(FIELD_COUNT)]


def _account(
    problems: Problems,
    lines: pa.Array,
    counted: list[tuple[str, IntArray]],
    refused: list[tuple[str, IntArray]],
    *,
    strict: bool,
) -> None:
    """Enter every unused line (0-based indices) in the ledger, earliest reason first.

    With ``strict``, the earliest refused line raises; counted lines never do.
    """
    refused = [(reason, rows) for reason, rows in refused if rows.size]
    if strict and refused:
        reason, rows = min(refused, key=lambda item: int(item[1][0]))
        first = int(rows[0])
        raw = lines[first].as_py().rstrip("\r\n")
        problems.reject(reason, f"line {first + 1}", raw, strict=True)
    groups = refused + [(reason, rows) for reason, rows in counted if rows.size]
    for reason, rows in sorted(groups, key=lambda item: int(item[1][0])):
        for row in rows.tolist():
            problems.reject(reason, f"line {row + 1}", strict=False)


def _convert(
    columns: list[pa.ChunkedArray], faults: _Faults, *, offset_h: float
) -> _Fields:
    """Validate and convert the MSG lines' fields; ``faults`` keeps each line's first."""
    hex_ident = _Coded.of(columns[_HEX])
    faults.add("hex ident is not 6 hex digits", ~hex_ident.match(_RE_HEX))
    types = _Coded.of(columns[_TYPE])
    type_ok = types.match(_RE_TYPE)
    faults.add("transmission type is not 1 to 8", ~type_ok)
    ttype = np.where(type_ok, _type_numbers(types.values)[types.codes], 0)
    stamp = _timestamps(columns, faults, offset_h=offset_h)

    def carried(name: str) -> BoolArray:
        return _CARRIED[name][ttype]

    numbers = {
        name: _number(columns[_FIELD[name]], carried(name), name, faults)
        for name in _NUMBERS
    }
    lat, lon = numbers["latitude"], numbers["longitude"]
    faults.add(
        "position with only one of latitude and longitude",
        np.isnan(lat) != np.isnan(lon),
    )
    with np.errstate(invalid="ignore"):
        faults.add("latitude out of range [-90, 90]", np.abs(lat) > 90.0)
        faults.add("longitude out of range [-180, 180]", np.abs(lon) > 180.0)

    squawk = _Coded.of(columns[_FIELD["squawk"]])
    has_squawk = carried("squawk") & ~squawk.equal("")
    faults.add("squawk is not 4 octal digits", has_squawk & ~squawk.match(_RE_SQUAWK))

    flags = {
        name: _flag(
            _Coded.of(columns[_FIELD[name]]), carried(name), _FLAG_NAMES[name], faults
        )
        for name in _FLAGS
    }
    ground, known = flags["onground"]
    surface = ~known & (ttype == 2)
    airborne = ~known & (ttype == 3)
    flags["onground"] = (ground | surface, known | surface | airborne)

    callsign = _Coded.of(columns[_FIELD["callsign"]])
    return _Fields(
        timestamp=stamp,
        icao24=_Coded(pc.utf8_lower(hex_ident.values), hex_ident.codes),
        callsign=callsign,
        has_callsign=carried("callsign") & ~callsign.equal(""),
        squawk=squawk,
        has_squawk=has_squawk,
        numbers=numbers,
        flags=flags,
        transmission_type=ttype,
    )


def _type_numbers(values: pa.Array) -> IntArray:
    """Transmission types as numbers (0 where not a type)."""
    ok = pa.array(_match(values, _RE_TYPE))
    return np.asarray(pc.cast(pc.if_else(ok, values, "0"), pa.int64()), dtype=np.int64)


def _number(
    text: pa.ChunkedArray, carried: BoolArray, name: str, faults: _Faults
) -> FloatArray:
    """A carried numeric field as float64 (NaN where empty, not carried or bad)."""
    text = pc.utf8_trim_whitespace(text)
    present = carried & _bools(pc.not_equal(text, ""))
    good = present & _match(text, _RE_NUMBER)
    kept = pc.if_else(pa.array(good), text, pa.scalar(None, pa.string()))
    values = np.asarray(
        pc.cast(kept, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64
    )
    finite = np.isfinite(values)
    faults.add(f"{_NUMBER_NAMES[name]} is not a number", present & ~finite)
    return np.where(finite, values, np.nan)


def _flag(
    text: _Coded, carried: BoolArray, label: str, faults: _Faults
) -> tuple[BoolArray, BoolArray]:
    """(value, known) of a carried -1/1/0 flag field."""
    set_ = _bools(pc.is_in(text.values, value_set=pa.array(["-1", "1"])))[text.codes]
    clear = text.equal("0")
    empty = text.equal("")
    faults.add(f"{label} flag is not -1, 0 or 1", carried & ~(set_ | clear | empty))
    return carried & set_, carried & (set_ | clear)


def _timestamps(
    columns: list[pa.ChunkedArray], faults: _Faults, *, offset_h: float
) -> npt.NDArray[np.datetime64]:
    """datetime64[us] (UTC) of each line: its generated, else logged, date and time."""
    date_gen, date_log = _Coded.of(columns[_DATE_GEN]), _Coded.of(columns[_DATE_LOG])
    time_gen = pc.utf8_trim_whitespace(columns[_TIME_GEN])
    generated = ~date_gen.equal("") | _bools(pc.not_equal(time_gen, ""))
    days_gen, form_gen = _days(date_gen)
    days_log, form_log = _days(date_log)
    day = np.where(generated, days_gen[date_gen.codes], days_log[date_log.codes])
    well_formed = np.where(
        generated, form_gen[date_gen.codes], form_log[date_log.codes]
    )
    clock = time_gen
    if not generated.all():
        logged = pc.utf8_trim_whitespace(columns[_TIME_LOG])
        clock = pc.if_else(pa.array(generated), time_gen, logged)
    missing = np.where(generated, date_gen.equal(""), date_log.equal(""))
    faults.add("no date or time", missing | _bools(pc.equal(clock, "")))
    faults.add("date is not YYYY/MM/DD", ~well_formed)
    faults.add("impossible date", np.isnan(day))
    time_ok = _match(clock, _RE_TIME)
    faults.add("time is not HH:MM:SS.fff", ~time_ok)
    clock = pc.if_else(pa.array(time_ok), clock, _PLACEHOLDER_TIME)

    def part(start: int, stop: int) -> IntArray:
        piece = pc.utf8_slice_codeunits(clock, start, stop)
        return np.asarray(pc.cast(piece, pa.int64()), dtype=np.int64)

    hour, minute, second = part(0, 2), part(3, 5), part(6, 8)
    digits = pc.utf8_slice_codeunits(clock, 9, 9 + _US_DIGITS)  # after "HH:MM:SS."
    micro = np.asarray(
        pc.cast(pc.utf8_rpad(digits, _US_DIGITS, padding="0"), pa.int64()),
        dtype=np.int64,
    )
    faults.add("impossible time of day", (hour > 23) | (minute > 59) | (second > 59))
    offset = np.timedelta64(datetime.timedelta(hours=offset_h), "us")
    stamp: npt.NDArray[np.datetime64] = (
        np.where(np.isnan(day), 0, day).astype(np.int64).astype("datetime64[D]")
        + hour.astype("timedelta64[h]")
        + minute.astype("timedelta64[m]")
        + second.astype("timedelta64[s]")
        + micro.astype("timedelta64[us]")
        - offset
    )
    return stamp


def _days(dates: _Coded) -> tuple[FloatArray, BoolArray]:
    """Days since 1970-01-01 of each distinct date, and whether it is ``YYYY/MM/DD``.

    The days are NaN where the text is not a date: malformed, or impossible (month
    13, 30 February).
    """
    text = dates.values
    ok = _match(text, _RE_DATE)
    text = pc.if_else(pa.array(ok), text, _PLACEHOLDER_DATE)

    def part(start: int, stop: int) -> IntArray:
        piece = pc.utf8_slice_codeunits(text, start, stop)
        return np.asarray(pc.cast(piece, pa.int64()), dtype=np.int64)

    year, month, day = part(0, 4), part(5, 7), part(8, 10)
    month_ok = (month >= 1) & (month <= 12)
    month_start = (year - 1970).astype("datetime64[Y]").astype("datetime64[M]") + (
        np.where(month_ok, month, 1) - 1
    )
    first_day = month_start.astype("datetime64[D]")
    month_days = ((month_start + 1).astype("datetime64[D]") - first_day).astype(
        np.int64
    )
    possible = month_ok & (day >= 1) & (day <= month_days)
    days = (first_day - np.datetime64("1970-01-01", "D")).astype(np.int64) + day - 1
    return np.where(ok & possible, days.astype(np.float64), np.nan), ok


def _booleans(value: BoolArray, known: BoolArray) -> pd.Series:
    return pd.Series(pd.arrays.BooleanArray(value, ~known), dtype="boolean")


def _table(fields: _Fields, ok: BoolArray) -> pd.DataFrame:
    """The report table of the lines that passed every check, in file order."""
    keep = np.flatnonzero(ok)
    everywhere = np.ones(ok.size, dtype=np.bool_)
    columns: dict[str, pd.Series | npt.NDArray[Any]] = {
        "timestamp": pd.Series(fields.timestamp[keep]).dt.tz_localize("UTC"),
        "icao24": fields.icao24.objects(keep, everywhere),
        "callsign": fields.callsign.objects(keep, fields.has_callsign),
        "geoaltitude": np.full(keep.size, np.nan),
        "squawk": fields.squawk.objects(keep, fields.has_squawk),
    }
    for name, values in fields.numbers.items():
        columns[name] = values[keep]
    for name, (value, known) in fields.flags.items():
        columns[name] = _booleans(value[keep], known[keep])
    columns["transmission_type"] = fields.transmission_type[keep]
    table = pd.DataFrame(
        {name: columns[name] for name in REPORT_COLUMNS if name != "source"}
    )
    table["source"] = _FORMAT
    for name in EXTRA_COLUMNS:
        table[name] = columns[name]
    return table


# --------------------------------------------------------------------------- writing

_EARLIEST = np.datetime64("0001-01-01T00:00:00.000000", "us")
_LATEST = np.datetime64("9999-12-31T23:59:59.999999", "us")
_UNIX_EPOCH = np.datetime64("1970-01-01T00:00:00.000000", "us")
# The order of a table row's lines: identification, squawk, position, velocity.
_RANK = {1: 0, 6: 1, 2: 2, 3: 2, 5: 2, 4: 3}
_RANKS = 4
# hours, minutes, seconds and milliseconds of HH:MM:SS.fff, with their widths
_CLOCK_UNITS = (
    (np.timedelta64(1, "h"), 2),
    (np.timedelta64(1, "m"), 2),
    (np.timedelta64(1, "s"), 2),
    (np.timedelta64(1, "ms"), 3),
)


def write_sbs(
    table: pd.DataFrame, destination: str | Path | IO[str] | IO[bytes]
) -> int:
    """Write a traffic-convention table as the MSG lines a BaseStation feed carries.

    Columns: ``timestamp`` (datetimes, naive ones taken as UTC; epoch seconds; or
    ISO 8601 text) and ``icao24`` are required; ``callsign``, ``latitude`` and ``longitude`` (deg,
    together), ``altitude`` (ft), ``groundspeed`` (kt), ``track`` (deg),
    ``vertical_rate`` (ft/min), ``squawk`` (4 octal digits, as text or as the number
    they spell), ``onground``, ``alert``, ``emergency`` and ``spi`` are optional and
    may hold missing values. Rows are written in time order (to the microsecond;
    rows of one instant keep their order). For each row, as a receiver would relay
    the messages that carry its values, in this order:

    - ``MSG,1`` when the callsign is new or changed for that aircraft;
    - ``MSG,6`` when the squawk is new or changed for that aircraft (with its
      altitude; the emergency flag, without an ``emergency`` column, is set for
      7500, 7600 and 7700);
    - ``MSG,2`` for a position on the ground (with altitude, ground speed and
      track), ``MSG,3`` for any other position (with altitude), or ``MSG,5`` for
      an altitude without a position;
    - ``MSG,4`` when the row has a vertical rate, or a ground speed or track that
      no ``MSG,2`` carried.

    A row with none of these values gives no line. Read back, an airborne position
    whose ``onground`` was unknown is not on the ground (module doc).

    Every line carries the is-on-ground flag (as dump1090 writes it) when
    ``onground`` is known; alert, emergency and SPI are written where the type
    carries them and the table has them. Precision is BaseStation's: latitude and
    longitude 5 decimals, altitude and vertical rate whole ft and ft/min, ground
    speed and track one decimal (track wrapped to [0, 360)), times to the
    millisecond, generated and logged alike; hex idents upper case; lines end with
    CR LF.

    Args:
        table: the reports.
        destination: a path (gzip-compressed when it ends in ``.gz``), a text
            stream (:class:`io.TextIOBase`, open it with ``newline=""``) or a binary
            stream.

    Returns:
        The number of lines written.

    Raises:
        MissingColumnError: ``timestamp`` or ``icao24`` is absent, or only one of
            ``latitude`` and ``longitude`` is present.
        InvalidStateError: a value cannot be written (named by column and row).
    """
    lines = _encode(table)
    crlf, nothing = (
        pa.scalar("\r\n", pa.large_string()),
        pa.scalar("", pa.large_string()),
    )
    ended = pc.binary_join_element_wise(lines, nothing, crlf)  # each line + CR LF
    payload = pc.binary_join(
        pa.LargeListArray.from_arrays(pa.array([0, len(ended)], pa.int64()), ended),
        nothing,
    )[0].as_buffer()
    if isinstance(destination, str | Path):
        path = Path(destination)
        if path.suffix == ".gz":
            with gzip.open(path, "wb") as out:
                out.write(payload)
        else:
            path.write_bytes(payload)
    elif isinstance(destination, io.TextIOBase):
        destination.write(payload.to_pybytes().decode("utf-8"))
    else:
        cast("IO[bytes]", destination).write(payload)
    return len(lines)


class _Checker:
    """Raises :class:`InvalidStateError` for the first row a mask flags."""

    def __init__(self, table: pd.DataFrame) -> None:
        self.table = table

    def __call__(self, column: str, bad: BoolArray, reason: str) -> None:
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise InvalidStateError(
                column=column,
                row=self.table.index[k],
                value=self.table[column].iloc[k],
                reason=reason,
            )


def _text_column(series: pd.Series) -> pa.Array:
    """A column as trimmed large strings (null where missing)."""
    try:
        text = pa.array(series, type=pa.string(), from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        text = pa.array(
            [None if _is_missing(v) else str(v) for v in series.tolist()],
            type=pa.string(),
        )
    return pc.utf8_trim_whitespace(text)


def _is_missing(value: object) -> bool:
    return (
        value is None
        or value is pd.NA
        or value is pd.NaT
        or (isinstance(value, float) and math.isnan(value))
    )


def _utc(series: pd.Series, check: _Checker) -> npt.NDArray[np.datetime64]:
    """The timestamps as datetime64[us] (UTC)."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        seconds = pd.to_numeric(series).to_numpy(dtype=np.float64, na_value=np.nan)
        lo = (_EARLIEST - _UNIX_EPOCH) / np.timedelta64(1, "s")
        hi = (_LATEST - _UNIX_EPOCH) / np.timedelta64(1, "s")
        with np.errstate(invalid="ignore"):
            check(
                "timestamp",
                ~((seconds >= lo) & (seconds <= hi)),
                "must be epoch seconds within years 1 to 9999",
            )
        micro = np.rint(seconds * (np.timedelta64(1, "s") / np.timedelta64(1, "us")))
        return _UNIX_EPOCH + micro.astype(np.int64).astype("timedelta64[us]")
    if pd.api.types.is_datetime64_any_dtype(series):
        stamps = pd.to_datetime(series, utc=True)
    else:
        stamps = pd.to_datetime(series, utc=True, errors="coerce", format="ISO8601")
    values = stamps.dt.tz_convert(None).to_numpy().astype("datetime64[us]")
    missing = np.isnat(values)
    check("timestamp", missing, "must be a date and time")
    outside = (values < _EARLIEST) | (values > _LATEST)
    check("timestamp", ~missing & outside, "must be within years 1 to 9999")
    return values


def _numbers(series: pd.Series, name: str, check: _Checker) -> FloatArray:
    values = pd.to_numeric(series, errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    given = ~series.isna().to_numpy(dtype=np.bool_)
    check(name, given & np.isnan(values), "must be a number")
    with np.errstate(invalid="ignore"):
        check(
            name,
            given & ~(np.abs(values) <= _MAX_ABS_VALUE),
            f"must be finite and within +-{_MAX_ABS_VALUE:.0e}",
        )
    return values


def _booleans_in(series: pd.Series, name: str, check: _Checker) -> pd.Series:
    """A column as nullable booleans (true/false, 1/0, or missing)."""
    try:
        return series.astype("boolean")
    except (TypeError, ValueError):
        values = series.tolist()
    ok = np.array([_is_missing(v) or v in (True, False) for v in values], dtype=bool)
    check(name, ~ok, "must be true or false")
    return pd.Series(
        [None if _is_missing(v) else bool(v) for v in values],
        index=series.index,
        dtype="boolean",
    )


def _squawks(series: pd.Series, check: _Checker) -> pa.Array:
    """Squawks as 4-digit text (null where missing)."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        values = pd.to_numeric(series).to_numpy(dtype=np.float64, na_value=np.nan)
        given = ~np.isnan(values)
        with np.errstate(invalid="ignore"):
            whole = given & (values == np.round(values)) & (np.abs(values) < 1e4)
        check("squawk", given & ~whole, "must be 4 octal digits")
        digits = pa.array(np.where(whole, values, 0).astype(np.int64), mask=~given)
        text = pc.utf8_lpad(pc.cast(digits, pa.string()), 4, padding="0")
    else:
        text = _text_column(series)
    present = _bools(pc.fill_null(pc.not_equal(text, ""), False))
    check(
        "squawk",
        present & ~_bools(pc.fill_null(pc.match_substring_regex(text, _RE_SQUAWK),
                                       False)),
        "must be 4 octal digits",
    )  # fmt: skip
    return pc.if_else(pa.array(present), text, pa.scalar(None, pa.string()))


def _fixed(values: FloatArray, decimals: int) -> pa.Array:
    """Numbers as fixed-point text with ``decimals`` decimals (``""`` where NaN)."""
    present = ~np.isnan(values)
    scale = 10**decimals
    units = np.rint(np.abs(np.where(present, values, 0.0)) * scale).astype(np.int64)
    whole, fraction = np.divmod(units, scale)
    sign = pc.if_else(pa.array((values < 0) & (units > 0)), "-", "")
    text = pc.cast(pa.array(whole), pa.string())
    if decimals:
        tail = pc.utf8_lpad(
            pc.cast(pa.array(fraction), pa.string()), decimals, padding="0"
        )
        text = pc.binary_join_element_wise(text, ".", tail, "")
    text = pc.binary_join_element_wise(pc.cast(sign, pa.string()), text, "")
    return pc.if_else(pa.array(present), text, "")


def _flag_text(value: pd.Series) -> pa.Array:
    """-1 / 0 / "" of a nullable boolean column."""
    known = ~value.isna().to_numpy(dtype=np.bool_)
    truth = value.fillna(False).to_numpy(dtype=np.bool_)
    return pc.if_else(pa.array(known), pc.if_else(pa.array(truth), "-1", "0"), "").cast(
        pa.string()
    )


def _clock_text(stamp_ms: npt.NDArray[np.datetime64]) -> pa.Array:
    """``YYYY/MM/DD,HH:MM:SS.fff`` of each time (the date and time fields)."""
    day = stamp_ms.astype("datetime64[D]")
    days, which = np.unique(day, return_inverse=True)
    date = pc.strftime(pa.array(days.astype("datetime64[s]")), format="%Y/%m/%d")
    left = (stamp_ms - day).astype(np.int64)  # ms since midnight
    parts = []
    for unit, width in _CLOCK_UNITS:
        count, left = np.divmod(left, unit // np.timedelta64(1, "ms"))
        text = pc.cast(pa.array(count), pa.string())
        parts.append(pc.utf8_lpad(text, width, padding="0"))
    hours, minutes, seconds, millis = parts
    return pc.binary_join_element_wise(
        date.take(pa.array(which.ravel())), ",", hours, ":", minutes, ":", seconds, ".",
        millis, ""
    )  # fmt: skip


def _changes(aircraft: IntArray, value: pa.Array) -> BoolArray:
    """Rows whose value is given and differs from that aircraft's previous one.

    ``aircraft`` numbers the aircraft of each row; rows are in time order.
    """
    distinct = pc.unique(value)
    codes = np.asarray(
        pc.index_in(value, value_set=distinct, skip_nulls=True).to_numpy(
            zero_copy_only=False
        ),
        dtype=np.float64,
    )  # NaN where missing
    series = pd.Series(codes)
    last = series.groupby(aircraft, sort=False).ffill()
    previous = last.groupby(aircraft, sort=False).shift().to_numpy(dtype=np.float64)
    changed = np.asarray(previous != codes, dtype=np.bool_)
    return ~np.isnan(codes) & changed


@dataclass(frozen=True, slots=True, kw_only=True)
class _Rows:
    """A table's values checked and put in time order, ready to be written."""

    stamp_ms: npt.NDArray[np.datetime64]
    icao24: pa.Array  # upper case
    callsign: pa.Array  # null where absent
    squawk: pa.Array  # null where absent
    numbers: dict[str, FloatArray]  # NaN where absent
    flags: dict[str, pd.Series]  # nullable booleans
    has_emergency_column: bool


def _rows(table: pd.DataFrame) -> _Rows:
    """Check every value a line will carry, and sort the rows by time (stable)."""
    for name in ("timestamp", "icao24"):
        if name not in table.columns:
            raise MissingColumnError(name, hint="every SBS line needs it")
    for name, other in (("latitude", "longitude"), ("longitude", "latitude")):
        if name in table.columns and other not in table.columns:
            raise MissingColumnError(other, hint=f"{name} is given without it")
    check = _Checker(table)

    def optional(name: str) -> pd.Series:
        if name in table.columns:
            return table[name]
        return pd.Series([None] * len(table), index=table.index, dtype=object)

    def matches(text: pa.Array, pattern: str, *, if_null: bool) -> BoolArray:
        return _bools(pc.fill_null(pc.match_substring_regex(text, pattern), if_null))

    stamps = _utc(table["timestamp"], check)
    icao = _text_column(table["icao24"])
    check("icao24", ~matches(icao, _RE_HEX, if_null=False), "must be 6 hex digits")
    callsign = _text_column(optional("callsign"))
    check(
        "callsign",
        ~matches(callsign, _RE_CALLSIGN_OK, if_null=True),
        "must not contain commas or line breaks",
    )
    callsign = pc.if_else(
        pc.fill_null(pc.equal(callsign, ""), True),
        pa.scalar(None, pa.string()),
        callsign,
    )
    numbers = {name: _numbers(optional(name), name, check) for name in _NUMBERS}
    lat, lon = numbers["latitude"], numbers["longitude"]
    check("latitude", np.isnan(lat) != np.isnan(lon), "needs a longitude with it")
    with np.errstate(invalid="ignore"):
        check("latitude", np.abs(lat) > 90.0, "must be within [-90, 90] degrees")
        check("longitude", np.abs(lon) > 180.0, "must be within [-180, 180] degrees")
    squawk = _squawks(optional("squawk"), check)
    flags = {name: _booleans_in(optional(name), name, check) for name in _FLAGS}

    order = np.argsort(stamps, kind="stable")
    taken = pa.array(order)
    return _Rows(
        stamp_ms=stamps[order].astype("datetime64[ms]"),
        icao24=pc.utf8_upper(icao).take(taken),
        callsign=callsign.take(taken),
        squawk=squawk.take(taken),
        numbers={name: values[order] for name, values in numbers.items()},
        flags={name: value.iloc[order] for name, value in flags.items()},
        has_emergency_column="emergency" in table.columns,
    )


def _field_texts(rows: _Rows) -> dict[str, pa.Array]:
    """Each field's text for every row, at the precision BaseStation writes."""
    numbers = rows.numbers
    wrapped = np.round(np.mod(numbers["track"], _FULL_CIRCLE_DEG), _TRACK_DECIMALS)
    track = np.where(wrapped >= _FULL_CIRCLE_DEG, wrapped - _FULL_CIRCLE_DEG, wrapped)
    text = {
        "callsign": pc.fill_null(rows.callsign, ""),
        "altitude": _fixed(numbers["altitude"], 0),
        "groundspeed": _fixed(numbers["groundspeed"], _SPEED_DECIMALS),
        "track": _fixed(track, _TRACK_DECIMALS),
        "latitude": _fixed(numbers["latitude"], _LATLON_DECIMALS),
        "longitude": _fixed(numbers["longitude"], _LATLON_DECIMALS),
        "vertical_rate": _fixed(numbers["vertical_rate"], 0),
        "squawk": pc.fill_null(rows.squawk, ""),
    }
    for name in _FLAGS:
        text[name] = _flag_text(rows.flags[name])
    return text


def _rows_by_type(rows: _Rows) -> dict[int, BoolArray]:
    """Transmission type -> the rows that get a line of that type (write_sbs doc)."""
    aircraft = np.asarray(
        pc.index_in(rows.icao24, value_set=pc.unique(rows.icao24)), dtype=np.int64
    )
    has = {name: ~np.isnan(values) for name, values in rows.numbers.items()}
    position = has["latitude"]
    surface = position & rows.flags["onground"].fillna(False).to_numpy(dtype=bool)
    return {
        1: _changes(aircraft, rows.callsign),
        6: _changes(aircraft, rows.squawk),
        2: surface,
        3: position & ~surface,
        5: ~position & has["altitude"],
        4: has["vertical_rate"] | ((has["groundspeed"] | has["track"]) & ~surface),
    }


def _encode(table: pd.DataFrame) -> pa.Array:
    """The lines (without terminators) for a table, in feed order."""
    rows = _rows(table)
    text = _field_texts(rows)
    stamp = _clock_text(rows.stamp_ms)
    emergency = pc.if_else(
        pc.is_in(rows.squawk, value_set=pa.array(_EMERGENCY_SQUAWKS)), "-1", "0"
    )
    pieces: list[pa.Array] = []
    keys: list[IntArray] = []
    for ttype, mask in _rows_by_type(rows).items():
        chosen = np.flatnonzero(mask)
        if not chosen.size:
            continue
        at = pa.array(chosen)
        stamp_at = stamp.take(at)
        items: list[object] = ["MSG", str(ttype), "1", "1", rows.icao24.take(at), "1",
                               stamp_at, stamp_at]  # fmt: skip
        for name in _FIELD:
            if ttype == 2 and name == "onground":
                items.append("-1")  # a surface position is on the ground
            elif ttype == 6 and name == "emergency" and not rows.has_emergency_column:
                items.append(emergency.take(at))
            elif name in _CARRIES[ttype] or name == "onground":
                items.append(text[name].take(at))
            else:
                items.append("")
        pieces.append(pc.binary_join_element_wise(*items, ","))
        keys.append(chosen * _RANKS + _RANK[ttype])
    if not pieces:
        return pa.array([], pa.large_string())
    order = np.argsort(np.concatenate(keys))
    lines = pa.concat_arrays([piece.cast(pa.large_string()) for piece in pieces])
    return lines.take(pa.array(order))
