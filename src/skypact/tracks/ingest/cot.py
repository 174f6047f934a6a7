"""Cursor on Target air tracks, in (CoT XML, TAK protobuf) and out.

Cursor on Target (CoT) is the event format of TAK (ATAK, WinTAK, TAK Server) and of
many command-and-control systems. An event says *what* (``type``), *who* (``uid``),
*when* (``time``, ``start``, ``stale``), *how* it was observed (``how``) and *where*
(``<point lat lon hae ce le>``), with a free-form ``<detail>``.

Reading (:func:`read_cot`, :func:`decode_cot`), the format told from the content:

- **CoT XML** (format ``"cot-xml"``, ``source`` column ``"cot"``): one or more
  ``<event>`` documents concatenated as a TAK server streams them over TCP, each
  optionally preceded by an ``<?xml ...?>`` declaration, with whitespace between. The
  content starts with ``<`` after an optional UTF-8 byte-order mark and whitespace.
- **TAK protocol version 1** (format ``"tak-protobuf"``, ``source`` ``"tak"``), decoded
  with takproto's ``TakMessage``: the *stream* framing, repeated (``0xbf``, a varint
  payload length, the payload), or one *mesh* datagram (``0xbf``, the varint protocol
  version 1, ``0xbf``, the payload). A mesh datagram carries no length, so it is the
  whole input (a stream payload cannot start with ``0xbf``: that is no protobuf tag,
  so the two framings are never confused).

:func:`read_cot` reads gzip transparently.

**Untrusted XML.** Documents are parsed by expat directly, one at a time, with no
entity expansion: a ``DOCTYPE`` (and so any ``ENTITY`` declaration) is refused under
the reason ``"DOCTYPE or ENTITY declaration refused"``, which leaves only the five
predefined entities and character references. External resources are never fetched.
The encoding is always UTF-8 (CoT's), whatever a declaration says, so no other codec
is ever run on the input.

Fields to columns (the traffic convention of :mod:`.base`, aviation units):

=================================== ============================================
CoT                                 column
=================================== ============================================
``time`` (xs:dateTime, UTC)         ``timestamp``; ``start`` -> ``start_at`` (``time``
                                    when absent), ``stale`` -> ``stale_at`` (UTC)
``uid``                             ``uid``; ``icao24`` (rules below)
``type`` (``a-f-A-M-F-Q``)          ``cot_type``; its second atom -> ``affiliation``
``how``                             ``how``
``point lat lon`` (deg)             ``latitude``, ``longitude``
``point hae`` (m above WGS84)       ``geoaltitude`` (ft)
``point ce``, ``le`` (m)            ``ce_m``, ``le_m``
``detail/track speed`` (m/s)        ``groundspeed`` (kt)
``detail/track course`` (deg true)  ``track`` (deg, wrapped to [0, 360))
``detail/contact callsign``         ``callsign``
``detail/_skypact_``                ``party``, ``altitude``, ``vertical_rate``,
                                    ``squawk``, ``onground`` (SkyPact's own detail)
=================================== ============================================

In TAK protobuf the same fields are typed: times are milliseconds since the epoch
(0: not set), ``contact`` and ``track`` are sub-messages, and any other detail element
travels as XML text in ``xmlDetail`` (parsed with the same safe parser). Protobuf 3
numbers have no "absent": an unset ``hae`` reads as 0 m, and an unset (0) ``ce`` or
``le`` as unknown, since no sensor is exact. ``hae``, ``ce`` and ``le`` of 9999999 (or
more) mean unknown and become ``NaN``. ``<_flow-tags_>`` and other details are
ignored.

**Only air tracks are reports**: the type's first atom is ``a`` (atoms) and its third
``A`` (air). The second atom is the affiliation, one of :data:`AFFILIATIONS`. Every
other event (ground ``a-f-G-U-C``, sea ``a-n-S``, ``t-x-c-t`` pings, ``b-`` bits) is
counted under ``"not an air track (type ...)"``, and every malformed event (no point,
latitude out of range, bad time, broken XML) under its reason, with the place of the
first: ``"event 12, byte 3456"`` (XML documents counted from 1, junk between events
counting as one, and the byte offset of the document's start) or
``"message 3, byte 120"`` (TAK). After a broken document, reading resumes at the next
``<?xml`` or ``<event``; an ``<event>`` opening inside another one means the first was
cut short (CoT never nests events).

**icao24**, the first that applies:

1. the ``icao24`` of a ``<_skypact_>`` detail (SkyPact's own events, any identifier);
2. the ``icao`` attribute of an ``<__adsb>`` or ``<_aircot_>`` detail (ADS-B bridges),
   when it is 6 hex digits;
3. a uid ending in ``ICAO-`` and 6 hex digits (``ICAO-3C6444``,
   ``FRA.ICAO-3C6444``; any case), the bridges' convention;
4. otherwise the uid itself.

Hex addresses are lower-cased.

**Altitude.** CoT carries only ``hae``, a geometric height above the WGS84
ellipsoid (as ADS-B's GNSS height), so it becomes ``geoaltitude``. Barometric
``altitude`` is not part of CoT: it stays ``NaN`` unless a ``<_skypact_>`` detail
carries it (``altitude_ft``). Nothing converts one into the other. Detection, which
separates aircraft by barometric altitude, will need a geoaltitude-to-altitude
policy for tracks that only have ``hae``. Likewise ``vertical_rate``, ``squawk``
and ``onground`` are read only from ``<_skypact_>``.

Writing (:func:`cot_event_xml`, :func:`cot_event_tak`, :func:`encode_cot`) takes a
traffic-convention row (a mapping, such as ``table.to_dict("records")`` gives):

- ``uid`` is ``<party>.ICAO-<HEX>`` (``ICAO-<HEX>`` without a party); an ``icao24``
  that is not 6 hex digits, such as a radar track number, is used as it is;
- ``type`` is ``a-<affiliation>-A``, followed by the atoms after the third of the
  row's ``cot_type`` when it is an air type (``a-f-A-M-F-Q`` written as hostile is
  ``a-h-A-M-F-Q``);
- ``how`` is ``m-g``; ``time`` and ``start`` are the row's ``timestamp``;
  ``stale`` is that plus ``stale_s``;
- ``hae`` comes from ``geoaltitude``, or else from barometric ``altitude`` (an
  approximation a TAK map can draw; ``<_skypact_ hae_source="altitude">`` says so,
  and reading such an event back leaves ``geoaltitude`` empty); ``ce``/``le`` come
  from ``ce_m``/``le_m`` (unknown when absent);
- ``<track course speed>`` and ``<contact callsign>``, and a ``<_skypact_>`` detail
  with ``icao24``, ``party``, ``altitude_ft``, ``vertical_rate_fpm``, ``squawk``,
  ``onground`` and ``hae_source``, which other CoT consumers ignore.

Resolution of a written event: XML writes latitude and longitude to 1e-7 deg (about
1 cm), ``hae`` to 0.01 m, ``ce``/``le`` to 0.1 m, ``speed`` to 0.001 m/s, ``course``
to 0.001 deg, ``altitude_ft`` to 0.01 ft and ``vertical_rate_fpm`` to 0.1 ft/min;
TAK protobuf carries the typed numbers as doubles (exact up to the unit conversion),
while ``altitude_ft`` and ``vertical_rate_fpm`` travel in ``xmlDetail`` as in XML.
Times are written to the millisecond in both.

References: MITRE's Cursor-on-Target event schema; TAK protocol version 1 as
implemented by takproto 3.0.1 (its framing constants and ``TakMessage`` definitions).
"""

from __future__ import annotations

import gzip
import logging
import math
import re
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from numbers import Real
from pathlib import Path
from typing import Any, Literal
from xml.parsers import expat

import numpy as np
import pandas as pd
from google.protobuf.message import DecodeError  # type: ignore[import-untyped]
from takproto.constants import TAKProtoVer
from takproto.functions import msg2proto
from takproto.proto import TakMessage

from skypact.errors import InvalidStateError, ParseError, UnsupportedFormatError
from skypact.geometry.angles import wrap_deg_360
from skypact.tracks.ingest.base import REPORT_COLUMNS, Decoded, Problems, empty_reports
from skypact.units import ft_to_m, kt_to_mps, m_to_ft, mps_to_kt

__all__ = [
    "AFFILIATIONS",
    "COT_EXTRA_COLUMNS",
    "UNKNOWN_M",
    "cot_event_tak",
    "cot_event_xml",
    "decode_cot",
    "encode_cot",
    "read_cot",
]

_log = logging.getLogger(__name__)

AFFILIATIONS: Mapping[str, str] = {
    "f": "friend",
    "h": "hostile",
    "u": "unknown",
    "n": "neutral",
    "a": "assumed friend",
    "s": "suspect",
    "p": "pending",
    "j": "joker",
    "k": "faker",
    "o": "none",
}
"""CoT affiliation atom (a type's second) -> the word in the ``affiliation`` column."""

COT_EXTRA_COLUMNS = (
    "affiliation", "ce_m", "cot_type", "how", "le_m", "party", "stale_at",
    "start_at", "uid",
)  # fmt: skip
"""The columns after :data:`~.base.REPORT_COLUMNS` in a CoT table, in order."""

UNKNOWN_M = 9_999_999.0
"""CoT's "unknown" for ``hae``, ``ce`` and ``le`` (metres); this or more reads as NaN."""

_CODES = {word: code for code, word in AFFILIATIONS.items()}
_SKYPACT = "_skypact_"
_ADSB_DETAILS = ("__adsb", "_aircot_")
_HEX24 = re.compile(r"[0-9a-fA-F]{6}")
_UID_ICAO = re.compile(r"(?:^|.*[.:/_-])ICAO-([0-9a-f]{6})", re.IGNORECASE)
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(Z|[+-]\d{2}:\d{2})",
    re.ASCII,
)
# Times outside 1970-01-01 .. 2200-01-01 are refused (a TAK 0 means "not set").
_FIRST_NS = 0
_LAST_NS = 7_258_118_400 * 1_000_000_000
_NS_PER_S = 1_000_000_000
_NS_PER_MS = 1_000_000
_XML_SPACE = b" \t\r\n"
_BOM = b"\xef\xbb\xbf"
_MAGIC = 0xBF
_DOC_START = re.compile(rb"<\?xml[\s?]|<event[\s/>]")
_FIRST_CHUNK = 2048
_MAX_CHUNK = 1 << 20
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


# --------------------------------------------------------------------------- reading


class _Reject(Exception):
    """An event that cannot be used, and why (internal control flow only)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True, kw_only=True)
class _Event:
    """One event's fields, whichever format it came in (NaN: unknown)."""

    cot_type: str
    affiliation: str
    uid: str
    how: str
    time_ns: int
    start_ns: int
    stale_ns: int
    lat_deg: float
    lon_deg: float
    hae_m: float
    ce_m: float
    le_m: float
    speed_mps: float
    course_deg: float
    callsign: str | None
    details: tuple[ET.Element, ...]


def read_cot(path: str | Path, *, strict: bool = False) -> Decoded:
    """Air tracks from a CoT XML or TAK protobuf file (gzip read transparently).

    Args:
        path: the file.
        strict: raise on the first event that cannot be used instead of counting it.

    Returns:
        The reports (one row per air-track event, in input order) and the problems.

    Raises:
        UnsupportedFormatError: the content is neither CoT XML nor TAK protobuf.
        ParseError: the gzip container is broken; with ``strict``, the first event that
            cannot be used.
    """
    path = Path(path)
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise ParseError(
                f"not a readable gzip file ({exc})", source=str(path), where="byte 0"
            ) from exc
    return decode_cot(data, source=str(path), strict=strict)


def decode_cot(
    data: bytes, *, source: str = "<bytes>", strict: bool = False
) -> Decoded:
    """Air tracks from CoT XML or TAK protobuf bytes (see the module docstring).

    Args:
        data: the content (not compressed).
        source: the name used in problems and errors.
        strict: raise on the first event that cannot be used instead of counting it.

    Raises:
        UnsupportedFormatError: the content is neither CoT XML nor TAK protobuf.
        ParseError: with ``strict``, the first event that cannot be used.
    """
    data = bytes(data)
    start = len(_BOM) if data.startswith(_BOM) else 0
    first = _skip_space(data, start)
    problems = Problems(source=source)
    if first < len(data) and data[first] == ord("<"):
        rows, times = _decode_xml(data, first, problems, strict=strict)
        decoded = Decoded("cot-xml", _table(rows, times, "cot"), problems)
    elif start == 0 and data[:1] == bytes([_MAGIC]):
        rows, times = _decode_tak(data, problems, strict=strict)
        decoded = Decoded("tak-protobuf", _table(rows, times, "tak"), problems)
    else:
        raise UnsupportedFormatError(
            "neither CoT XML (content starting with '<') nor TAK protobuf (first byte "
            "0xbf)",
            source=source,
        )
    _log.info(
        "%s: %d CoT air-track reports (%s), %d events not used",
        source,
        len(decoded.table),
        decoded.format,
        problems.total,
    )
    return decoded


def _skip_space(data: bytes, pos: int) -> int:
    while pos < len(data) and data[pos] in _XML_SPACE:
        pos += 1
    return pos


# ---- XML documents


@dataclass(frozen=True, slots=True)
class _Document:
    """One parsed XML document: its root, or why it is unusable; where the next starts."""

    root: ET.Element | None
    reason: str | None
    end: int


class _Refused(Exception):
    """A DOCTYPE or ENTITY declaration was met."""

    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index


class _Truncated(Exception):
    """An ``<event>`` started inside an unfinished element: the document was cut."""

    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index


class _TreeHandler:
    """expat callbacks building an ElementTree, refusing DTDs and nested events."""

    def __init__(self, parser: expat.XMLParserType) -> None:
        self.parser = parser
        self.builder = ET.TreeBuilder()
        self.depth = 0
        self.closed = False

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        if tag == "event" and self.depth > 0:  # CoT never nests events
            raise _Truncated(self.parser.CurrentByteIndex)
        self.builder.start(tag, attrib)
        self.depth += 1

    def end(self, tag: str) -> None:
        self.builder.end(tag)
        self.depth -= 1
        if self.depth == 0:
            self.closed = True

    def refuse(self, *_args: object) -> None:
        raise _Refused(self.parser.CurrentByteIndex)


def _parse_document(data: bytes, start: int) -> _Document:
    """Parse the XML document starting at ``start`` (it ends where the next begins)."""
    parser = expat.ParserCreate(encoding="utf-8")
    handler = _TreeHandler(parser)
    parser.StartElementHandler = handler.start
    parser.EndElementHandler = handler.end
    parser.StartDoctypeDeclHandler = handler.refuse
    parser.EntityDeclHandler = handler.refuse
    offset, size = start, _FIRST_CHUNK
    try:
        while offset < len(data):
            parser.Parse(data[offset : offset + size], False)
            offset += size
            size = min(2 * size, _MAX_CHUNK)
        parser.Parse(b"", True)
    except expat.ExpatError as exc:
        index = start + max(parser.ErrorByteIndex, 0)
        if handler.closed:  # the next document (or junk) starts where expat stopped
            return _Document(handler.builder.close(), None, index)
        reason = f"malformed XML ({expat.ErrorString(exc.code)})"
        return _Document(None, reason, _resync(data, start, index))
    except _Truncated as exc:
        reason = "malformed XML (cut short before the next <event>)"
        return _Document(None, reason, start + exc.index)
    except _Refused as exc:
        reason = "DOCTYPE or ENTITY declaration refused"
        return _Document(None, reason, _resync(data, start, start + exc.index))
    except (LookupError, ValueError):
        # Defensive: with the encoding forced to UTF-8 no codec should ever run.
        return _Document(None, "malformed XML (encoding)", _resync(data, start, start))
    return _Document(handler.builder.close(), None, len(data))


def _resync(data: bytes, start: int, index: int) -> int:
    """Where the next document may start after a broken one."""
    found = _DOC_START.search(data, max(index, start + 1))
    return len(data) if found is None else found.start()


def _decode_xml(
    data: bytes, pos: int, problems: Problems, *, strict: bool
) -> tuple[list[dict[str, object]], list[tuple[int, int, int]]]:
    rows: list[dict[str, object]] = []
    times: list[tuple[int, int, int]] = []
    number = 0
    while pos < len(data):
        number += 1
        document = _parse_document(data, pos)
        where = f"event {number}, byte {pos}"
        try:
            if document.root is None:
                raise _Reject(document.reason or "malformed XML")
            event = _xml_event(document.root)
            rows.append(_row(event))
        except _Reject as exc:
            raw = data[pos : min(document.end, pos + 200)]
            problems.reject(
                exc.reason, where, raw.decode("utf-8", "replace"), strict=strict
            )
        else:
            times.append((event.time_ns, event.start_ns, event.stale_ns))
        pos = _skip_space(data, max(document.end, pos + 1))
    return rows, times


def _xml_event(root: ET.Element) -> _Event:
    if root.tag != "event":
        raise _Reject(f"not a CoT event (root <{root.tag[:32]}>)")
    cot_type = root.get("type", "").strip()
    affiliation = _air_affiliation(cot_type)
    uid = _uid(root.get("uid", ""))
    time_ns = _xml_time(root, "time")
    start_ns = time_ns if root.get("start") is None else _xml_time(root, "start")
    stale_ns = _xml_time(root, "stale")
    point = root.find("point")
    if point is None:
        raise _Reject("event has no point")
    if point.get("lat") is None or point.get("lon") is None:
        raise _Reject("point has no lat or lon")
    detail = root.find("detail")
    details = tuple(detail) if detail is not None else ()
    contact = _first_detail(details, "contact")
    track = _first_detail(details, "track")
    speed_mps = course_deg = math.nan
    if track is not None:
        speed_mps = _xml_number(track, "speed", "track speed")
        course_deg = _xml_number(track, "course", "track course")
    return _checked(
        _Event(
            cot_type=cot_type,
            affiliation=affiliation,
            uid=uid,
            how=root.get("how", ""),
            time_ns=time_ns,
            start_ns=start_ns,
            stale_ns=stale_ns,
            lat_deg=_xml_number(point, "lat", "point lat"),
            lon_deg=_xml_number(point, "lon", "point lon"),
            hae_m=_xml_number(point, "hae", "point hae"),
            ce_m=_xml_number(point, "ce", "point ce"),
            le_m=_xml_number(point, "le", "point le"),
            speed_mps=speed_mps,
            course_deg=course_deg,
            callsign=None if contact is None else contact.get("callsign"),
            details=details,
        )
    )


def _xml_number(element: ET.Element, name: str, what: str) -> float:
    """An attribute as a number; NaN when absent."""
    text = element.get(name)
    if text is None:
        return math.nan
    value = float(text) if _NUMBER.fullmatch(text.strip()) else math.nan
    if not math.isfinite(value):  # not a decimal number, or one beyond a double
        raise _Reject(f"{what} is not a number")
    return value


def _xml_time(root: ET.Element, name: str) -> int:
    text = root.get(name)
    ns = None if text is None else _parse_time_ns(text.strip())
    if ns is None:
        raise _Reject(f"bad or missing {name}")
    return ns


def _parse_time_ns(text: str) -> int | None:
    """An xs:dateTime with a zone (``Z`` or ``+hh:mm``) as epoch nanoseconds."""
    found = _TIME.fullmatch(text)
    if found is None:
        return None
    year, month, day, hour, minute, second = (int(found[k]) for k in range(1, 7))
    try:
        at = datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None
    zone = found[8]
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        if hours > 14 or minutes > 59:
            return None
        at -= sign * timedelta(hours=hours, minutes=minutes)
    fraction = (found[7] or "")[:9].ljust(9, "0")
    ns = (at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(seconds=1) * _NS_PER_S
    ns += int(fraction)
    return ns if _FIRST_NS <= ns < _LAST_NS else None


# ---- TAK protobuf


def _decode_tak(
    data: bytes, problems: Problems, *, strict: bool
) -> tuple[list[dict[str, object]], list[tuple[int, int, int]]]:
    rows: list[dict[str, object]] = []
    times: list[tuple[int, int, int]] = []
    pos, number = 0, 0
    while pos < len(data):
        number += 1
        where = f"message {number}, byte {pos}"
        if data[pos] != _MAGIC:
            following = data.find(bytes([_MAGIC]), pos)
            end = len(data) if following < 0 else following
            problems.reject(
                "bytes without the 0xbf magic (skipped)",
                where,
                data[pos : min(end, pos + 100)],
                strict=strict,
            )
            pos = end
            continue
        header = _varint(data, pos + 1)
        if header is None:
            problems.reject("truncated message", where, data[pos:], strict=strict)
            break
        value, after = header
        if after < len(data) and data[after] == _MAGIC:  # mesh: 0xbf version 0xbf
            payload, end = data[after + 1 :], len(data)
            if value != 1:
                problems.reject(
                    "TAK protocol version not supported (not 1)",
                    where,
                    data[pos : after + 1],
                    strict=strict,
                )
                break
        else:  # stream: 0xbf length payload
            end = after + value
            if end > len(data):
                problems.reject(
                    "truncated message", where, data[pos : pos + 100], strict=strict
                )
                break
            payload = data[after:end]
        try:
            event = _tak_event(payload)
            rows.append(_row(event))
        except _Reject as exc:
            problems.reject(exc.reason, where, payload[:100], strict=strict)
        else:
            times.append((event.time_ns, event.start_ns, event.stale_ns))
        pos = end
    return rows, times


def _varint(data: bytes, pos: int) -> tuple[int, int] | None:
    """A protobuf varint at ``pos``: (value, position after it), or None if cut short."""
    value = 0
    for k in range(10):
        if pos + k >= len(data):
            return None
        byte = data[pos + k]
        value |= (byte & 0x7F) << (7 * k)
        if byte < 0x80:
            return value, pos + k + 1
    return None


def _tak_event(payload: bytes) -> _Event:
    message: Any = TakMessage()
    try:
        message.ParseFromString(payload)
    except DecodeError as exc:
        raise _Reject("protobuf does not decode as a TakMessage") from exc
    if not message.HasField("cotEvent"):
        raise _Reject("message has no CoT event")
    cot: Any = message.cotEvent
    cot_type = str(cot.type).strip()
    affiliation = _air_affiliation(cot_type)
    uid = _uid(str(cot.uid))
    time_ns = _ms_time(int(cot.sendTime), "time")
    start_ns = time_ns if cot.startTime == 0 else _ms_time(int(cot.startTime), "start")
    stale_ns = _ms_time(int(cot.staleTime), "stale")
    callsign: str | None = None
    speed_mps = course_deg = math.nan
    details: tuple[ET.Element, ...] = ()
    if cot.HasField("detail"):
        detail: Any = cot.detail
        if detail.HasField("contact"):
            callsign = str(detail.contact.callsign)
        if detail.HasField("track"):
            speed_mps = float(detail.track.speed)
            course_deg = float(detail.track.course)
        if detail.xmlDetail:
            details = _xml_detail(str(detail.xmlDetail))
    return _checked(
        _Event(
            cot_type=cot_type,
            affiliation=affiliation,
            uid=uid,
            how=str(cot.how),
            time_ns=time_ns,
            start_ns=start_ns,
            stale_ns=stale_ns,
            lat_deg=float(cot.lat),
            lon_deg=float(cot.lon),
            hae_m=float(cot.hae),
            ce_m=float(cot.ce) or math.nan,
            le_m=float(cot.le) or math.nan,
            speed_mps=speed_mps,
            course_deg=course_deg,
            callsign=callsign,
            details=details,
        )
    )


def _ms_time(ms: int, name: str) -> int:
    ns = ms * _NS_PER_MS
    if not _FIRST_NS < ns < _LAST_NS:
        raise _Reject(f"bad or missing {name}")
    return ns


def _xml_detail(text: str) -> tuple[ET.Element, ...]:
    """The elements of a TakMessage's ``xmlDetail`` (parsed as untrusted XML)."""
    wrapped = b"<detail>" + text.encode("utf-8") + b"</detail>"
    document = _parse_document(wrapped, 0)
    if document.root is None or _skip_space(wrapped, document.end) < len(wrapped):
        raise _Reject("malformed XML in xmlDetail")
    return tuple(document.root)


# ---- shared checks and the row


def _air_affiliation(cot_type: str) -> str:
    if not cot_type:
        raise _Reject("event has no type")
    atoms = cot_type.split("-")
    if atoms[0] != "a" or len(atoms) < 3 or atoms[2] != "A":
        raise _Reject(f"not an air track (type {cot_type[:40]})")
    word = AFFILIATIONS.get(atoms[1])
    if word is None:
        raise _Reject(f"unknown affiliation in type {cot_type[:40]}")
    return word


def _uid(text: str) -> str:
    uid = text.strip()
    if not uid:
        raise _Reject("event has no uid")
    return uid


def _checked(event: _Event) -> _Event:
    """The event with its position, errors and motion checked (unknowns as NaN)."""
    if not (math.isfinite(event.lat_deg) and -90.0 <= event.lat_deg <= 90.0):
        raise _Reject("latitude out of range")
    if not (math.isfinite(event.lon_deg) and -180.0 <= event.lon_deg <= 180.0):
        raise _Reject("longitude out of range")
    if any(math.isinf(value) for value in (event.hae_m, event.ce_m, event.le_m)):
        raise _Reject("point hae, ce or le is infinite")
    if event.ce_m < 0.0 or event.le_m < 0.0:
        raise _Reject("point ce or le is negative")
    if event.speed_mps < 0.0 or math.isinf(event.speed_mps):
        raise _Reject("track speed is negative or infinite")
    if math.isinf(event.course_deg):
        raise _Reject("track course is infinite")
    return replace(
        event,
        hae_m=_known_m(event.hae_m),
        ce_m=_known_m(event.ce_m),
        le_m=_known_m(event.le_m),
        callsign=(event.callsign or "").strip() or None,
    )


def _known_m(value_m: float) -> float:
    return math.nan if value_m >= UNKNOWN_M else value_m


def _row(event: _Event) -> dict[str, object]:
    own = _first_detail(event.details, _SKYPACT)
    icao24 = _icao24(event, own)
    hae_is_geometric = own is None or own.get("hae_source") != "altitude"
    return {
        "timestamp": event.time_ns / _NS_PER_S,
        "icao24": icao24,
        "callsign": event.callsign,
        "latitude": event.lat_deg,
        "longitude": event.lon_deg,
        "altitude": _own_number(own, "altitude_ft"),
        "geoaltitude": m_to_ft(event.hae_m) if hae_is_geometric else math.nan,
        "groundspeed": mps_to_kt(event.speed_mps),
        "track": event.course_deg,
        "vertical_rate": _own_number(own, "vertical_rate_fpm"),
        "squawk": None if own is None else (own.get("squawk") or None),
        "onground": _own_flag(own, "onground"),
        "uid": event.uid,
        "cot_type": event.cot_type,
        "affiliation": event.affiliation,
        "how": event.how or None,
        "party": None if own is None else (own.get("party") or None),
        "ce_m": event.ce_m,
        "le_m": event.le_m,
    }


def _first_detail(details: tuple[ET.Element, ...], tag: str) -> ET.Element | None:
    return next((element for element in details if element.tag == tag), None)


def _icao24(event: _Event, own: ET.Element | None) -> str:
    if own is not None and (own.get("icao24") or "").strip():
        return str(own.get("icao24")).strip()
    for tag in _ADSB_DETAILS:
        element = _first_detail(event.details, tag)
        address = "" if element is None else (element.get("icao") or "").strip()
        if _HEX24.fullmatch(address):
            return address.lower()
    found = _UID_ICAO.fullmatch(event.uid)
    return event.uid if found is None else found[1].lower()


def _own_number(own: ET.Element | None, name: str) -> float:
    if own is None or own.get(name) is None:
        return math.nan
    return _xml_number(own, name, f"{_SKYPACT} {name}")


def _own_flag(own: ET.Element | None, name: str) -> bool | None:
    text = None if own is None else own.get(name)
    if text is None:
        return None
    if text not in ("true", "false"):
        raise _Reject(f"{_SKYPACT} {name} is not true or false")
    return text == "true"


def _table(
    rows: list[dict[str, object]], times: list[tuple[int, int, int]], source: str
) -> pd.DataFrame:
    table = empty_reports(rows, source=source)
    table = table.reindex(columns=[*REPORT_COLUMNS, *COT_EXTRA_COLUMNS])
    stamps = np.asarray(times, dtype=np.int64).reshape(-1, 3)
    for k, name in enumerate(("timestamp", "start_at", "stale_at")):
        table[name] = pd.to_datetime(stamps[:, k], unit="ns", utc=True)
    table["track"] = wrap_deg_360(table["track"].to_numpy(dtype=np.float64, copy=True))
    for name in ("ce_m", "le_m"):
        table[name] = table[name].astype("float64")
    for name in ("affiliation", "cot_type", "how", "party", "uid"):
        table[name] = table[name].astype("object")
    return table


# --------------------------------------------------------------------------- writing


@dataclass(frozen=True, slots=True, kw_only=True)
class _Outgoing:
    """One row's event fields, checked, in CoT's units (None: unknown)."""

    uid: str
    cot_type: str
    how: str
    time_ms: int
    stale_ms: int
    lat_deg: float
    lon_deg: float
    hae_m: float | None
    ce_m: float | None
    le_m: float | None
    speed_mps: float | None
    course_deg: float | None
    callsign: str | None
    own: dict[str, str]


def cot_event_xml(
    row: Mapping[str, object],
    *,
    stale_s: float = 60.0,
    how: str = "m-g",
    affiliation: str | None = None,
    xml_declaration: bool = True,
) -> bytes:
    """One CoT XML event (UTF-8) from a traffic-convention row.

    Args:
        row: ``timestamp`` (UTC datetime or epoch seconds), ``icao24``, ``latitude``
            and ``longitude`` are required; ``party``, ``callsign``, ``altitude``,
            ``geoaltitude``, ``groundspeed``, ``track``, ``vertical_rate``,
            ``squawk``, ``onground``, ``affiliation``, ``cot_type``, ``ce_m`` and
            ``le_m`` are used when present.
        stale_s: how long after ``timestamp`` the event goes stale.
        how: the CoT ``how`` (``m-g``: machine, GPS-derived).
        affiliation: a word of :data:`AFFILIATIONS`; by default the row's
            ``affiliation``, else ``"unknown"``.
        xml_declaration: start with an ``<?xml ...?>`` declaration.

    Raises:
        InvalidStateError: a required value is missing, or a value is unusable.
        ValueError: ``stale_s`` is not positive, ``how`` is empty, or ``affiliation``
            is not a word of :data:`AFFILIATIONS`.
    """
    out = _outgoing(row, stale_s=stale_s, how=how, affiliation=affiliation)
    event = ET.Element(
        "event",
        {
            "version": "2.0",
            "uid": out.uid,
            "type": out.cot_type,
            "how": out.how,
            "time": _format_time(out.time_ms),
            "start": _format_time(out.time_ms),
            "stale": _format_time(out.stale_ms),
        },
    )
    ET.SubElement(
        event,
        "point",
        {
            "lat": _format(out.lat_deg, 7),
            "lon": _format(out.lon_deg, 7),
            "hae": _format(_or_unknown(out.hae_m), 2),
            "ce": _format(_or_unknown(out.ce_m), 1),
            "le": _format(_or_unknown(out.le_m), 1),
        },
    )
    detail = ET.SubElement(event, "detail")
    motion = {}
    if out.course_deg is not None:
        motion["course"] = _format(out.course_deg, 3)
    if out.speed_mps is not None:
        motion["speed"] = _format(out.speed_mps, 3)
    if motion:
        ET.SubElement(detail, "track", motion)
    if out.callsign is not None:
        ET.SubElement(detail, "contact", {"callsign": out.callsign})
    ET.SubElement(detail, _SKYPACT, out.own)
    return bytes(ET.tostring(event, encoding="utf-8", xml_declaration=xml_declaration))


def cot_event_tak(
    row: Mapping[str, object],
    *,
    stale_s: float = 60.0,
    how: str = "m-g",
    affiliation: str | None = None,
    framing: Literal["stream", "mesh"] = "stream",
) -> bytes:
    """One TAK protocol version 1 message from a traffic-convention row.

    The same event as :func:`cot_event_xml` (same arguments), as a takproto
    ``TakMessage``: ``contact`` and ``track`` typed, the ``<_skypact_>`` detail in
    ``xmlDetail``; unknown ``hae``/``ce``/``le`` are :data:`UNKNOWN_M`, and an unknown
    speed or course beside a known one is NaN.

    Args:
        framing: ``"stream"`` (``0xbf``, varint length; concatenate for TCP) or
            ``"mesh"`` (``0xbf 0x01 0xbf``; one UDP datagram).
    """
    if framing not in ("stream", "mesh"):
        raise ValueError(f"framing must be 'stream' or 'mesh', not {framing!r}")
    out = _outgoing(row, stale_s=stale_s, how=how, affiliation=affiliation)
    message: Any = TakMessage()
    cot: Any = message.cotEvent
    cot.type = out.cot_type
    cot.uid = out.uid
    cot.how = out.how
    cot.sendTime = out.time_ms
    cot.startTime = out.time_ms
    cot.staleTime = out.stale_ms
    cot.lat = out.lat_deg
    cot.lon = out.lon_deg
    cot.hae = _or_unknown(out.hae_m)
    cot.ce = _or_unknown(out.ce_m)
    cot.le = _or_unknown(out.le_m)
    if out.callsign is not None:
        cot.detail.contact.callsign = out.callsign
    if out.speed_mps is not None or out.course_deg is not None:
        cot.detail.track.speed = math.nan if out.speed_mps is None else out.speed_mps
        cot.detail.track.course = math.nan if out.course_deg is None else out.course_deg
    cot.detail.xmlDetail = ET.tostring(
        ET.Element(_SKYPACT, out.own), encoding="unicode"
    )
    version = TAKProtoVer.STREAM if framing == "stream" else TAKProtoVer.MESH
    return bytes(msg2proto(message, version))


def encode_cot(
    table: pd.DataFrame,
    *,
    format: Literal["cot-xml", "tak-protobuf"] = "cot-xml",
    stale_s: float = 60.0,
    how: str = "m-g",
    affiliation: str | None = None,
) -> bytes:
    """Every row of a traffic-convention table as concatenated CoT events.

    ``"cot-xml"`` gives one XML document per row, each with its declaration, one per
    line (as a TAK server streams them); ``"tak-protobuf"`` gives TAK stream-framed
    messages. :func:`decode_cot` reads either back.

    Raises:
        InvalidStateError: a row has an unusable value (``row`` is its index label).
    """
    if format not in ("cot-xml", "tak-protobuf"):
        raise ValueError(f"format must be 'cot-xml' or 'tak-protobuf', not {format!r}")
    parts: list[bytes] = []
    for label, record in zip(table.index, table.to_dict("records"), strict=True):
        row = {str(key): value for key, value in record.items()}
        try:
            if format == "cot-xml":
                parts.append(
                    cot_event_xml(
                        row, stale_s=stale_s, how=how, affiliation=affiliation
                    )
                )
            else:
                parts.append(
                    cot_event_tak(
                        row, stale_s=stale_s, how=how, affiliation=affiliation
                    )
                )
        except InvalidStateError as exc:
            raise InvalidStateError(
                column=exc.column, row=label, value=exc.value, reason=exc.reason
            ) from exc
    return (b"\n" if format == "cot-xml" else b"").join(parts)


def _outgoing(
    row: Mapping[str, object], *, stale_s: float, how: str, affiliation: str | None
) -> _Outgoing:
    if not (math.isfinite(stale_s) and stale_s > 0.0):
        raise ValueError(f"stale_s must be a positive number of seconds, not {stale_s}")
    if affiliation is not None and affiliation not in _CODES:
        raise ValueError(
            f"affiliation must be one of {sorted(_CODES)}, not {affiliation!r}"
        )
    if not how.strip() or _XML_FORBIDDEN.search(how):
        raise ValueError(f"how must be a CoT how code such as 'm-g', not {how!r}")
    time_ms = _time_ms(row)
    lat_deg = _required(row, "latitude", -90.0, 90.0)
    lon_deg = _required(row, "longitude", -180.0, 180.0)
    icao24 = _text(row, "icao24")
    if icao24 is None:
        raise _invalid("icao24", row.get("icao24"), "missing or empty")
    party = _text(row, "party")
    word = affiliation or _text(row, "affiliation") or "unknown"
    if word not in _CODES:
        raise _invalid("affiliation", word, f"not one of {sorted(_CODES)}")
    core = f"ICAO-{icao24.upper()}" if _HEX24.fullmatch(icao24) else icao24
    geo_ft, baro_ft = _number(row, "geoaltitude"), _number(row, "altitude")
    hae_ft = geo_ft if geo_ft is not None else baro_ft
    speed_kt, course_deg = _number(row, "groundspeed"), _number(row, "track")
    if speed_kt is not None and speed_kt < 0.0:
        raise _invalid("groundspeed", speed_kt, "negative")
    own = {"icao24": icao24}
    if party is not None:
        own["party"] = party
    if baro_ft is not None:
        own["altitude_ft"] = _format(baro_ft, 2)
    vertical_rate_fpm = _number(row, "vertical_rate")
    if vertical_rate_fpm is not None:
        own["vertical_rate_fpm"] = _format(vertical_rate_fpm, 1)
    squawk = _squawk(row)
    if squawk is not None:
        own["squawk"] = squawk
    onground = row.get("onground")
    if isinstance(onground, bool | np.bool_):
        own["onground"] = "true" if onground else "false"
    if hae_ft is not None:
        own["hae_source"] = "geoaltitude" if geo_ft is not None else "altitude"
    return _Outgoing(
        uid=core if party is None else f"{party}.{core}",
        cot_type=_writer_type(_CODES[word], _text(row, "cot_type")),
        how=how.strip(),
        time_ms=time_ms,
        stale_ms=time_ms + round(stale_s * 1000.0),
        lat_deg=lat_deg,
        lon_deg=lon_deg,
        hae_m=None if hae_ft is None else ft_to_m(hae_ft),
        ce_m=_error_m(row, "ce_m"),
        le_m=_error_m(row, "le_m"),
        speed_mps=None if speed_kt is None else kt_to_mps(speed_kt),
        course_deg=None if course_deg is None else course_deg % 360.0,
        callsign=_text(row, "callsign"),
        own=own,
    )


def _invalid(column: str, value: object, reason: str) -> InvalidStateError:
    return InvalidStateError(column=column, row="<row>", value=value, reason=reason)


def _missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and math.isnan(value)


def _number(row: Mapping[str, object], column: str) -> float | None:
    value = row.get(column)
    if _missing(value):
        return None
    if isinstance(value, bool | np.bool_) or not isinstance(value, Real):
        raise _invalid(column, value, "expected a number")
    number = float(value)
    if not math.isfinite(number):
        raise _invalid(column, value, "not finite")
    return number


def _required(row: Mapping[str, object], column: str, low: float, high: float) -> float:
    value = _number(row, column)
    if value is None:
        raise _invalid(column, row.get(column), "missing")
    if not low <= value <= high:
        raise _invalid(column, value, f"must be within [{low:g}, {high:g}]")
    return value


def _text(row: Mapping[str, object], column: str) -> str | None:
    value = row.get(column)
    if _missing(value):
        return None
    if not isinstance(value, str):
        raise _invalid(column, value, "expected text")
    text = value.strip()
    return _checked_text(text, column) if text else None


def _checked_text(text: str, column: str) -> str:
    if _XML_FORBIDDEN.search(text):
        raise _invalid(column, text, "contains characters XML cannot carry")
    return text


def _squawk(row: Mapping[str, object]) -> str | None:
    value = row.get("squawk")
    if _missing(value):
        return None
    if isinstance(value, str):
        return _text(row, "squawk")
    number = _number(row, "squawk")
    if number is None or not number.is_integer() or not 0 <= number <= 7777:
        raise _invalid("squawk", value, "not a 4-digit code")
    return f"{int(number):04d}"


def _error_m(row: Mapping[str, object], column: str) -> float | None:
    value = _number(row, column)
    if value is not None and value < 0.0:
        raise _invalid(column, value, "negative")
    return None if value is None or value >= UNKNOWN_M else value


def _time_ms(row: Mapping[str, object]) -> int:
    value = row.get("timestamp")
    if _missing(value):
        raise _invalid("timestamp", value, "missing")
    if isinstance(value, datetime):  # pd.Timestamp too
        if value.tzinfo is None:
            raise _invalid("timestamp", value, "not timezone-aware (UTC expected)")
        ns = (
            value.value
            if isinstance(value, pd.Timestamp)
            else (value - datetime(1970, 1, 1, tzinfo=UTC))
            // timedelta(microseconds=1)
            * 1000
        )
    else:
        seconds = _number(row, "timestamp")
        if seconds is None:
            raise _invalid("timestamp", value, "missing")
        ns = round(seconds * _NS_PER_S)
    if not _FIRST_NS <= ns < _LAST_NS:
        raise _invalid("timestamp", value, "outside 1970-2200")
    return (ns + _NS_PER_MS // 2) // _NS_PER_MS


def _writer_type(code: str, row_type: str | None) -> str:
    atoms = (row_type or "").split("-")
    function = atoms[3:] if atoms[:1] == ["a"] and atoms[2:3] == ["A"] else []
    return "-".join(["a", code, "A", *function])


def _or_unknown(value: float | None) -> float:
    return UNKNOWN_M if value is None else value


def _format(value: float, digits: int) -> str:
    """A number with at most ``digits`` decimals, trailing zeros dropped."""
    text = f"{value:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _format_time(ms: int) -> str:
    at = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
    return f"{at:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"
