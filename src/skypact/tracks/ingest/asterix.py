"""ASTERIX surveillance data (CAT021, CAT048, CAT062) to a traffic-convention table.

ASTERIX (EUROCONTROL's *All-purpose structured surveillance information exchange*) is a
binary format: a stream of **data blocks**, each one category byte, a 2-byte big-endian
length (header included) and one or more **records**. A record is an FSPEC (a bit map
of the items present, extended by FX bits) followed by those items, in the order of the
category's UAP. Records carry no length of their own, so a record that cannot be
decoded hides where the next one starts. The records are decoded with libasterix
(``asterix.generated``, pinned; 6 MB of Python, imported on the first decode rather
than with this module), one fixed edition per category: **CAT021 2.7**,
**CAT048 1.32** and **CAT062 1.21**. The item layout (UAP) is the same in every edition
libasterix knows of CAT021 2.x, CAT048 1.27+ and CAT062 1.16+, so data from those
editions decode correctly; CAT021 0.x (pre-2.0 layout, with I021/030) does not.

Inputs (told from the content, never from the file name):

- raw ASTERIX bytes: data blocks back to back (``*.ast``, ``*.raw``). The first data
  block must have a category libasterix knows and a length that fits in the data;
  otherwise the bytes are not taken for ASTERIX;
- classic pcap captures (magic ``a1b2c3d4`` or ``a1b23c4d`` for nanoseconds, either
  byte order) of UDP datagrams over Ethernet (with 802.1Q tags), Linux cooked capture
  or raw IPv4, each datagram's payload being one or more data blocks. pcapng is not
  read (convert it with ``editcap -F pcap``). Packets that are not IPv4/UDP are skipped
  and counted; IPv4 fragments are counted and not reassembled.

One row per target report (CAT048), system track update (CAT062) or ADS-B report
(CAT021), in input order, with the ``source`` column ``"asterix-cat048"``,
``"asterix-cat062"`` or ``"asterix-cat021"``. Items used (aviation units, as the
:data:`~skypact.tracks.ingest.base.REPORT_COLUMNS` convention asks):

============== ========================== ========================= ==========================
column         CAT048 (mono-radar)        CAT062 (system track)     CAT021 (ADS-B)
============== ========================== ========================= ==========================
icao24         I048/220 address           I062/380 ADR              I021/080 address
callsign       I048/240                   I062/380 ID, else /245    I021/170
latitude,      I048/040 polar (below)     I062/105 WGS84            I021/131, else /130
longitude
altitude       I048/090 FL x 100          I062/136 FL x 100         I021/145 FL x 100
geoaltitude    --                         I062/130                  I021/140
groundspeed,   I048/200 speed, heading    I062/185 vx, vy           I021/160 ground vector
track
vertical_rate  --                         I062/220                  I021/155, else /157
squawk         I048/070                   I062/060                  I021/070
onground       --                         --                        I021/040 GBS
timestamp      I048/140 time of day       I062/070                  I021/071, 073 (+074), 072,
                                                                    075 (+076), 077 (first)
============== ========================== ========================= ==========================

A report without an aircraft address (a Mode A/C-only target, a track without
I062/380 ADR) is named by its tracker: ``icao24`` is ``~SAC/SIC/TRACK``, e.g.
``~25/204/2986`` (``~`` marks a non-ICAO identifier, as dump1090 marks them).

Extra columns: ``cat`` (category), ``sac``, ``sic`` (I0xx/010 data source),
``track_number`` (I048/161, I062/040, I021/161), ``time_of_day_s`` (the report's time
of day, seconds since midnight UTC, as sent), ``rho_nm`` and ``theta_deg`` (CAT048 polar
position, as sent), ``nacp`` and ``nic`` (CAT021 I021/090 NACp, and NIC -- NUCp for
MOPS version 0 transponders). Empty cells mean the item was absent. A garbled Mode 3/A
code or flight level (G bit) is left empty; a value beyond its field's range (RE bit of
I021/155, /157, /160) is left empty rather than clipped.

Time. ASTERIX sends only the time of day (UTC). The date comes, in this order, from:

1. ``date``, when given: it is the UTC date of the first report, and the day advances
   at each midnight rollover (each report is placed at the instant nearest the one
   before it). It also overrides a pcap's capture clock (for replayed captures);
2. otherwise a pcap packet's capture time: each report is placed at the instant
   nearest its packet's capture time, which also handles reports sent a few seconds
   either side of midnight;
3. otherwise (raw bytes, no ``date``) there is no date: ``timestamp`` is empty and
   ``time_of_day_s`` keeps the time. No date is ever made up.

A report without a time item (none of the items above) takes its packet's capture
time, or no timestamp in raw bytes.

CAT048 position. I048/040 gives the **slant** range RHO (NM) and azimuth THETA (deg,
from true north) from the radar that I048/010 (SAC, SIC) names. ``radar_site`` gives
radar positions ``(lat_deg, lon_deg, alt_ft)``: one for every CAT048 report, or a
mapping ``{(sac, sic): site}`` for recordings that several radars feed (a radar
network's output usually does). The report is placed on WGS84 as follows: on a sphere
of the Gaussian mean radius of curvature at the site (R = sqrt(M N)), the radar is at
R + site altitude and the target at R + its flight level x 100 ft (pressure altitude
taken for height; its error of a few hundred feet moves the ground range by tens of
metres at most), the central angle comes from the law of cosines on the slant range,
and the ground range is that angle times R; the target is then the geodesic point at
that ground range along azimuth THETA from the site (``pyproj.Geod`` forward on WGS84).
A report without a flight level is put at the site's altitude (ground range = slant
range, up to the curvature). A CAT048 report whose radar has no site has empty latitude
and longitude (``rho_nm`` and ``theta_deg`` keep the measurement): this is the input's
nature, not a problem, and is not counted.

CAT062 velocity. I062/185 is Cartesian in the tracker's system plane; the track angle
is taken from it as if that plane's y axis were true north, which is exact at the
projection's centre and off by the grid convergence elsewhere (a fraction of a degree
across a national airspace).

Resolutions (least significant bits; the decoded values are exact multiples):
I048/040 RHO 1/256 NM, THETA 360/2^16 deg; I048/090, I062/136, I021/145 1/4 FL (25 ft);
I048/200 speed 2^-14 NM/s (0.22 kt), heading 360/2^16 deg; I0xx time of day 1/128 s
(I021/074, /076 2^-30 s); I062/105 180/2^25 deg; I062/185 0.25 m/s; I062/130, /220,
I021/140, /155, /157 6.25 ft or ft/min; I021/131 180/2^30 deg, I021/130 180/2^23 deg;
I021/160 speed 2^-14 NM/s, track 360/2^16 deg.

What is not used is counted in :class:`~skypact.tracks.ingest.base.Problems` under a
reason, with the place of the first occurrence (``"packet 3, byte 42"`` in a pcap: the
packet's number from 1 as Wireshark shows it and the byte offset in its UDP payload;
``"byte 1024"`` in raw bytes):

- data blocks of other categories (CAT034 and CAT065 service messages, CAT001/002, ...)
  and zero padding after the last block or record, and pcap packets that are not
  IPv4/UDP or carry no payload: counted, never refused, even with ``strict``;
- everything malformed: a truncated pcap, a malformed frame header, an IPv4
  fragment, a data block whose length does not fit or that holds no record, a record
  libasterix cannot decode (the rest of its data block cannot be located and is counted
  with it, once), a time of day of 24 h or more, a WGS84 position out of range. With
  ``strict`` the first of these raises :class:`~skypact.errors.ParseError` naming the
  place.

References: EUROCONTROL ASTERIX Part 4 (CAT048), Part 9 (CAT062), Part 12 (CAT021);
libasterix and asterix-specs by Zoran Bosnjak; the pcap file format (draft-ietf-opsawg-pcap).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import struct
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final, TypeVar, cast

import numpy as np
import pandas as pd
from asterix.base import Bits, ParsingMode
from pyproj import Geod

from skypact.errors import ConfigError, UnsupportedFormatError
from skypact.tracks.ingest.base import REPORT_COLUMNS, Decoded, Problems, empty_reports
from skypact.units import (
    WGS84_A_M,
    WGS84_E2,
    FloatArray,
    ft_to_m,
    mps_to_kt,
    nm_to_m,
)

__all__ = [
    "EXTRA_COLUMNS",
    "FORMAT",
    "RadarSite",
    "decode_asterix",
    "polar_to_wgs84",
    "read_asterix",
]

_log = logging.getLogger(__name__)

RadarSite = tuple[float, float, float]
"""A radar's ``(lat_deg, lon_deg, alt_ft)``: WGS84 position and antenna altitude."""

FORMAT: Final = "asterix"
"""The ``format`` of every :class:`~skypact.tracks.ingest.base.Decoded` read here."""

EXTRA_COLUMNS: Final = (
    "cat", "sac", "sic", "track_number", "time_of_day_s", "rho_nm", "theta_deg",
    "nacp", "nic",
)  # fmt: skip
"""The columns after :data:`~skypact.tracks.ingest.base.REPORT_COLUMNS`, in order."""

_INTEGER_COLUMNS: Final = ("cat", "sac", "sic", "track_number", "nacp", "nic")

_DAY_S: Final = dt.timedelta(days=1).total_seconds()
_KT_PER_NM_PER_S: Final = float(mps_to_kt(nm_to_m(1.0)))  # 1 NM/s in knots
_FL_FT: Final = 100.0  # a flight level is hundreds of feet (by definition)

if TYPE_CHECKING:
    # libasterix's specifications are 6 MB of Python: imported on first decode, so
    # that importing this module (as the format reader does) stays cheap.
    from asterix.generated import Cat_021_2_7, Cat_048_1_32, Cat_062_1_21

    _Cat021Record = Cat_021_2_7.cv_record
    _Cat048Record = Cat_048_1_32.cv_record
    _Cat062Record = Cat_062_1_21.cv_record

_SURVEILLANCE: Final = frozenset({21, 48, 62})

# pcap: the global header's magic number -> (struct byte order, seconds per tick)
_PCAP_MAGIC: Final = {
    b"\xa1\xb2\xc3\xd4": (">", 1e-6),
    b"\xd4\xc3\xb2\xa1": ("<", 1e-6),
    b"\xa1\xb2\x3c\x4d": (">", 1e-9),
    b"\x4d\x3c\xb2\xa1": ("<", 1e-9),
}
_PCAPNG_MAGIC: Final = b"\x0a\x0d\x0d\x0a"
_BLOCK_HEADER_BYTES: Final = 3  # category, length (2 bytes)
_RAW_SAMPLE_BYTES: Final = 64  # raw bytes kept with a refusal
_PCAP_HEADER_BYTES: Final = 24
_PCAP_RECORD_BYTES: Final = 16
_LINK_ETHERNET: Final = 1
_LINK_RAW: Final = frozenset({101, 228})  # raw IP, raw IPv4
_LINK_LINUX_SLL: Final = 113
_ETHERTYPE_IPV4: Final = 0x0800
_ETHERTYPE_VLAN: Final = frozenset({0x8100, 0x88A8})
_IP_UDP: Final = 17

# Reasons counted but never refused, even with strict: legitimate content skipped.
_OTHER_CATEGORY: Final = (
    "category {cat} is not a surveillance report category (skipped)"
)
_PADDING: Final = "zero padding after the last data block or record (ignored)"
_NOT_IPV4: Final = "packet is not IPv4 (skipped)"
_NOT_UDP: Final = "packet is not UDP (skipped)"
_NO_PAYLOAD: Final = "UDP datagram without payload (skipped)"

_R = TypeVar("_R")


class _UnusableRecordError(Exception):
    """A decoded record whose values cannot be used (the reason is the message)."""


@dataclass(frozen=True, slots=True)
class _Payload:
    """Bytes holding data blocks: a whole raw input, or one UDP datagram's payload."""

    data: bytes
    packet_no: int | None
    captured_s: float | None

    def where(self, offset: int) -> str:
        if self.packet_no is None:
            return f"byte {offset}"
        return f"packet {self.packet_no}, byte {offset}"


@dataclass(frozen=True, slots=True)
class _Block:
    """One data block: its records' bytes and where the block sits in its payload."""

    payload: _Payload
    offset: int
    category: int
    body: bytes

    def where(self, at: int) -> str:
        """The place of byte ``at`` of the records."""
        return self.payload.where(self.offset + _BLOCK_HEADER_BYTES + at)


@dataclass(frozen=True, slots=True)
class _Skip:
    """Why a pcap packet yields no payload; ``malformed`` ones are refused by strict."""

    reason: str
    malformed: bool


@dataclass
class _Clock:
    """Places times of day on dates (see the module docstring, *Time*)."""

    date_midnight_s: float | None
    last_s: float | None = None

    def resolve(self, tod_s: float | None, captured_s: float | None) -> float | None:
        if tod_s is None:
            return captured_s
        if self.date_midnight_s is not None:
            reference_s = (
                self.last_s
                if self.last_s is not None
                else self.date_midnight_s + _DAY_S / 2.0
            )
        elif captured_s is not None:
            reference_s = captured_s
        else:
            return None
        t_s = _nearest_instant_s(tod_s, reference_s)
        self.last_s = t_s
        return t_s


def _nearest_instant_s(tod_s: float, reference_s: float) -> float:
    """The epoch instant whose UTC time of day is ``tod_s``, nearest ``reference_s``."""
    base_s = math.floor(reference_s / _DAY_S) * _DAY_S + tod_s
    return base_s + _DAY_S * round((reference_s - base_s) / _DAY_S)


def read_asterix(
    path: str | Path,
    *,
    radar_site: RadarSite | Mapping[tuple[int, int], RadarSite] | None = None,
    date: dt.date | None = None,
    strict: bool = False,
) -> Decoded:
    """Read an ASTERIX recording (raw data blocks or a pcap capture).

    Args:
        path: the file.
        radar_site: the CAT048 radar's ``(lat_deg, lon_deg, alt_ft)``, or a mapping
            ``{(sac, sic): (lat_deg, lon_deg, alt_ft)}`` when several radars feed the
            recording; CAT048 reports without a site have no latitude/longitude.
        date: the UTC date of the first report; by default a pcap's capture time,
            and no date at all for raw bytes (see the module docstring).
        strict: raise on the first malformed record instead of counting it.

    Returns:
        The reports (one row each) and the problems met.

    Raises:
        UnsupportedFormatError: the file is neither a pcap capture nor ASTERIX.
        ParseError: with ``strict``, the first malformed part, with its place.
        ConfigError: ``radar_site`` holds an invalid position.
    """
    path = Path(path)
    return decode_asterix(
        path.read_bytes(),
        radar_site=radar_site,
        date=date,
        strict=strict,
        source=str(path),
    )


def decode_asterix(
    data: bytes,
    *,
    radar_site: RadarSite | Mapping[tuple[int, int], RadarSite] | None = None,
    date: dt.date | None = None,
    strict: bool = False,
    source: str = "<bytes>",
) -> Decoded:
    """Decode ASTERIX from bytes: raw data blocks or a pcap capture.

    Args and result as :func:`read_asterix`; ``source`` names the bytes in problems
    and errors.
    """
    sites = _checked_sites(radar_site)
    problems = Problems(source=source)
    payloads = _payloads(bytes(data), problems, source, strict=strict)
    clock = _Clock(None if date is None else _midnight_s(date))
    rows: list[dict[str, object]] = []
    for payload in payloads:
        for blk in _blocks(payload, problems, strict=strict):
            if blk.category not in _SURVEILLANCE:
                reason = _OTHER_CATEGORY.format(cat=blk.category)
                problems.reject(reason, payload.where(blk.offset), strict=False)
                continue
            for row in _block_rows(blk, problems, strict=strict):
                row["timestamp"] = clock.resolve(
                    _optional_float(row.get("time_of_day_s")), payload.captured_s
                )
                rows.append(row)
    table = _table(rows, sites)
    _log.info(
        "%s: %d ASTERIX reports, %d records not used",
        source,
        len(table),
        problems.total,
    )
    return Decoded(format=FORMAT, table=table, problems=problems)


def _optional_float(value: object) -> float | None:
    return float(value) if isinstance(value, float | int) else None


def _midnight_s(date: dt.date) -> float:
    return dt.datetime(date.year, date.month, date.day, tzinfo=dt.UTC).timestamp()


def _checked_sites(
    radar_site: RadarSite | Mapping[tuple[int, int], RadarSite] | None,
) -> RadarSite | dict[tuple[int, int], RadarSite] | None:
    if radar_site is None:
        return None
    if isinstance(radar_site, Mapping):
        return {
            (int(sac), int(sic)): _checked_site(site)
            for (sac, sic), site in radar_site.items()
        }
    return _checked_site(radar_site)


def _checked_site(site: RadarSite) -> RadarSite:
    try:
        lat_deg, lon_deg, alt_ft = (float(v) for v in site)
    except (TypeError, ValueError) as exc:
        raise ConfigError(
            "radar_site", site, "expected (lat_deg, lon_deg, alt_ft)"
        ) from exc
    finite = all(math.isfinite(v) for v in (lat_deg, lon_deg, alt_ft))
    if not finite or abs(lat_deg) > 90.0 or abs(lon_deg) > 180.0:
        raise ConfigError(
            "radar_site",
            site,
            "latitude must be within [-90, 90] and longitude within [-180, 180] "
            "degrees, altitude finite",
        )
    return lat_deg, lon_deg, alt_ft


# -- framing: pcap, raw, data blocks -------------------------------------------------


def _payloads(
    data: bytes, problems: Problems, source: str, *, strict: bool
) -> Iterator[_Payload]:
    """The input's payloads, after telling pcap from raw ASTERIX from anything else."""
    magic = data[:4]
    if magic in _PCAP_MAGIC:
        return _pcap_payloads(data, problems, source, strict=strict)
    if magic == _PCAPNG_MAGIC:
        raise UnsupportedFormatError(
            "pcapng captures are not read; convert to pcap (editcap -F pcap)",
            source=source,
        )
    if _looks_like_asterix(data):
        return iter([_Payload(data, None, None)])
    raise UnsupportedFormatError(
        "neither a pcap capture nor ASTERIX data blocks (a known category byte "
        "followed by a 2-byte length that fits in the data)",
        source=source,
    )


def _looks_like_asterix(data: bytes) -> bool:
    from asterix.generated import manifest

    if len(data) < 4:
        return False
    length = int.from_bytes(data[1:3], "big")
    known = cast("dict[int, object]", manifest["CATS"])
    return data[0] in known and 4 <= length <= len(data)


def _pcap_payloads(
    data: bytes, problems: Problems, source: str, *, strict: bool
) -> Iterator[_Payload]:
    order, tick_s = _PCAP_MAGIC[data[:4]]
    if len(data) < _PCAP_HEADER_BYTES:
        raise UnsupportedFormatError("pcap global header is truncated", source=source)
    # The link type is the low 16 bits (the high bits may carry FCS information).
    link_type = struct.unpack_from(order + "I", data, 20)[0] & 0xFFFF
    if link_type not in {_LINK_ETHERNET, _LINK_LINUX_SLL, *_LINK_RAW}:
        raise UnsupportedFormatError(
            f"pcap link type {link_type} is not read (Ethernet, Linux cooked capture "
            "or raw IPv4)",
            source=source,
        )
    return _pcap_packets(data, order, tick_s, link_type, problems, strict=strict)


def _pcap_packets(
    data: bytes,
    order: str,
    tick_s: float,
    link_type: int,
    problems: Problems,
    *,
    strict: bool,
) -> Iterator[_Payload]:
    offset = _PCAP_HEADER_BYTES
    packet_no = 0
    while offset < len(data):
        packet_no += 1
        where = f"packet {packet_no}"
        if len(data) - offset < _PCAP_RECORD_BYTES:
            problems.reject(
                "pcap packet header is truncated", where, data[offset:], strict=strict
            )
            return
        seconds, ticks, captured_len, _ = struct.unpack_from(
            order + "IIII", data, offset
        )
        start = offset + _PCAP_RECORD_BYTES
        offset = start + captured_len
        if offset > len(data):
            problems.reject(
                "pcap packet data is truncated",
                where,
                data[start : start + _RAW_SAMPLE_BYTES],
                strict=strict,
            )
            return
        payload = _udp_payload(data[start:offset], link_type)
        if isinstance(payload, _Skip):
            problems.reject(payload.reason, where, strict=strict and payload.malformed)
            continue
        yield _Payload(payload, packet_no, seconds + ticks * tick_s)


def _udp_payload(frame: bytes, link_type: int) -> bytes | _Skip:
    """The UDP payload of one captured frame, or why there is none."""
    if link_type == _LINK_ETHERNET:
        if len(frame) < 14:
            return _Skip("Ethernet frame shorter than its header", malformed=True)
        ethertype, start = int.from_bytes(frame[12:14], "big"), 14
        while ethertype in _ETHERTYPE_VLAN and len(frame) >= start + 4:
            ethertype, start = (
                int.from_bytes(frame[start + 2 : start + 4], "big"),
                start + 4,
            )
    elif link_type == _LINK_LINUX_SLL:
        if len(frame) < 16:
            return _Skip("Linux cooked capture header is truncated", malformed=True)
        ethertype, start = int.from_bytes(frame[14:16], "big"), 16
    else:
        version = frame[0] >> 4 if frame else 0
        ethertype, start = (_ETHERTYPE_IPV4 if version == 4 else 0), 0
    if ethertype != _ETHERTYPE_IPV4:
        return _Skip(_NOT_IPV4, malformed=False)
    ip = frame[start:]
    header_len = (ip[0] & 0x0F) * 4 if ip else 0
    if len(ip) < 20 or ip[0] >> 4 != 4 or header_len < 20 or len(ip) < header_len:
        return _Skip("malformed IPv4 header", malformed=True)
    total_len = int.from_bytes(ip[2:4], "big")
    if total_len < header_len:
        return _Skip("malformed IPv4 header", malformed=True)
    if ip[9] != _IP_UDP:
        return _Skip(_NOT_UDP, malformed=False)
    if int.from_bytes(ip[6:8], "big") & 0x3FFF:  # more fragments, or an offset
        return _Skip("IPv4 fragment (fragments are not reassembled)", malformed=True)
    udp = ip[header_len:total_len]  # the IPv4 length excludes Ethernet padding
    if len(udp) < 8 or int.from_bytes(udp[4:6], "big") < 8:
        return _Skip("malformed UDP header", malformed=True)
    payload = udp[8 : int.from_bytes(udp[4:6], "big")]
    return payload if payload else _Skip(_NO_PAYLOAD, malformed=False)


def _blocks(payload: _Payload, problems: Problems, *, strict: bool) -> Iterator[_Block]:
    """The data blocks of a payload, up to the first that cannot be delimited."""
    data = payload.data
    offset = 0
    while offset < len(data):
        left = len(data) - offset
        if data[offset] == 0 and _all_zero(data, offset):
            problems.reject(_PADDING, payload.where(offset), strict=False)
            return
        if left < _BLOCK_HEADER_BYTES:
            problems.reject(
                "data block header is truncated",
                payload.where(offset),
                data[offset:],
                strict=strict,
            )
            return
        length = int.from_bytes(data[offset + 1 : offset + 3], "big")
        if length < _BLOCK_HEADER_BYTES or length > left:
            reason = (
                "data block length is shorter than its header"
                if length < _BLOCK_HEADER_BYTES
                else "data block runs past the end of the data"
            )
            raw = data[offset : offset + _RAW_SAMPLE_BYTES]
            problems.reject(reason, payload.where(offset), raw, strict=strict)
            return  # the next block cannot be located
        if length == _BLOCK_HEADER_BYTES:
            problems.reject(
                "data block without records",
                payload.where(offset),
                data[offset : offset + length],
                strict=strict,
            )
            offset += length
            continue
        body = data[offset + _BLOCK_HEADER_BYTES : offset + length]
        yield _Block(payload, offset, data[offset], body)
        offset += length


def _all_zero(data: bytes, start: int) -> bool:
    return data.count(0, start) == len(data) - start


# -- records -------------------------------------------------------------------------


def _block_rows(
    blk: _Block, problems: Problems, *, strict: bool
) -> Iterator[dict[str, object]]:
    from asterix.generated import Cat_021_2_7, Cat_048_1_32, Cat_062_1_21

    if blk.category == 48:
        parse48 = Cat_048_1_32.cv_record.parse
        return _rows(parse48, _cat048_row, "CAT048", blk, problems, strict=strict)
    if blk.category == 62:
        parse62 = Cat_062_1_21.cv_record.parse
        return _rows(parse62, _cat062_row, "CAT062", blk, problems, strict=strict)
    parse21 = Cat_021_2_7.cv_record.parse
    return _rows(parse21, _cat021_row, "CAT021", blk, problems, strict=strict)


def _rows(
    parse: Callable[[ParsingMode, Bits], ValueError | tuple[_R, Bits]],
    row_of: Callable[[_R], dict[str, object]],
    name: str,
    blk: _Block,
    problems: Problems,
    *,
    strict: bool,
) -> Iterator[dict[str, object]]:
    """The rows of one data block's records, decoded one by one."""
    body = blk.body
    bits = Bits.from_bytes(body)
    used = 0
    while used < len(body):
        where = blk.where(used)
        if body[used] == 0 and _all_zero(body, used):
            problems.reject(_PADDING, where, strict=False)
            return
        # libasterix returns its parse errors as values; guard its few internal
        # checks (asserts, lookups) as well, so that no input escapes as a crash.
        try:
            result = parse(ParsingMode.StrictParsing, bits)
        except (ValueError, IndexError, AssertionError) as exc:
            result = ValueError(str(exc) or type(exc).__name__)
        if isinstance(result, ValueError):
            problems.reject(
                f"{name} record cannot be decoded ({result}); "
                "the rest of its data block is skipped",
                where,
                body[used : used + _RAW_SAMPLE_BYTES],
                strict=strict,
            )
            return
        record, bits = result
        record_end = len(body) - len(bits) // 8
        try:
            row = row_of(record)
        except _UnusableRecordError as exc:
            problems.reject(
                f"{name} record: {exc}", where, body[used:record_end], strict=strict
            )
        else:
            yield row
        used = record_end


def _time_of_day_s(value_s: float) -> float:
    if not 0.0 <= value_s < _DAY_S:
        raise _UnusableRecordError("time of day is 24 h or more")
    return value_s


def _checked_position(lat_deg: float, lon_deg: float) -> tuple[float, float]:
    if abs(lat_deg) > 90.0 or abs(lon_deg) > 180.0:
        raise _UnusableRecordError("WGS84 position out of range")
    return lat_deg, lon_deg


def _identification(text: str) -> str | None:
    return text.strip() or None


def _cat048_row(record: _Cat048Record) -> dict[str, object]:
    row: dict[str, object] = {"source": "asterix-cat048", "cat": 48}
    if (i010 := record.get_item("010")) is not None:
        row["sac"] = i010.variation.get_item("SAC").variation.as_uint()
        row["sic"] = i010.variation.get_item("SIC").variation.as_uint()
    if (i140 := record.get_item("140")) is not None:
        row["time_of_day_s"] = _time_of_day_s(i140.variation.content.as_quantity())
    if (i040 := record.get_item("040")) is not None:
        polar = i040.variation
        row["rho_nm"] = polar.get_item("RHO").variation.content.as_quantity()
        row["theta_deg"] = polar.get_item("THETA").variation.content.as_quantity()
    if (i070 := record.get_item("070")) is not None:
        code = i070.variation.get_item("MODE3A").variation.content.as_string()
        garbled = i070.variation.get_item("G").variation.as_uint()
        row["squawk"] = None if garbled else code
    if (i090 := record.get_item("090")) is not None:
        level = i090.variation.get_item("FL").variation.content.as_quantity()
        garbled = i090.variation.get_item("G").variation.as_uint()
        row["altitude"] = None if garbled else level * _FL_FT
    if (i220 := record.get_item("220")) is not None:
        row["icao24"] = f"{i220.variation.content.as_uint():06x}"
    if (i240 := record.get_item("240")) is not None:
        row["callsign"] = _identification(i240.variation.content.as_string())
    if (i161 := record.get_item("161")) is not None:
        row["track_number"] = i161.variation.get_item("TRN").variation.as_uint()
    if (i200 := record.get_item("200")) is not None:
        speed = i200.variation.get_item("GSP").variation.content.as_quantity()
        row["groundspeed"] = speed * _KT_PER_NM_PER_S
        row["track"] = i200.variation.get_item("HDG").variation.content.as_quantity()
    return row


def _cat062_row(record: _Cat062Record) -> dict[str, object]:
    row: dict[str, object] = {"source": "asterix-cat062", "cat": 62}
    if (i010 := record.get_item("010")) is not None:
        row["sac"] = i010.variation.get_item("SAC").variation.as_uint()
        row["sic"] = i010.variation.get_item("SIC").variation.as_uint()
    if (i070 := record.get_item("070")) is not None:
        row["time_of_day_s"] = _time_of_day_s(i070.variation.content.as_quantity())
    if (i105 := record.get_item("105")) is not None:
        row["latitude"], row["longitude"] = _checked_position(
            i105.variation.get_item("LAT").variation.content.as_quantity(),
            i105.variation.get_item("LON").variation.content.as_quantity(),
        )
    if (i185 := record.get_item("185")) is not None:
        vx_mps = i185.variation.get_item("VX").variation.content.as_quantity()
        vy_mps = i185.variation.get_item("VY").variation.content.as_quantity()
        row["groundspeed"] = mps_to_kt(math.hypot(vx_mps, vy_mps))
        row["track"] = math.degrees(math.atan2(vx_mps, vy_mps)) % 360.0
    if (i060 := record.get_item("060")) is not None:
        code = i060.variation.get_item("MODE3A").variation.content.as_string()
        garbled = i060.variation.get_item("G").variation.as_uint()
        row["squawk"] = None if garbled else code
    if (i245 := record.get_item("245")) is not None:
        row["callsign"] = _identification(
            i245.variation.get_item("CHR").variation.content.as_string()
        )
    if (i380 := record.get_item("380")) is not None:
        if (adr := i380.variation.get_item("ADR")) is not None:
            row["icao24"] = f"{adr.variation.content.as_uint():06x}"
        if (ident := i380.variation.get_item("ID")) is not None:
            callsign = _identification(ident.variation.content.as_string())
            row["callsign"] = callsign or row.get("callsign")
    if (i040 := record.get_item("040")) is not None:
        row["track_number"] = i040.variation.content.as_uint()
    if (i136 := record.get_item("136")) is not None:
        row["altitude"] = i136.variation.content.as_quantity() * _FL_FT
    if (i130 := record.get_item("130")) is not None:
        row["geoaltitude"] = i130.variation.content.as_quantity()
    if (i220 := record.get_item("220")) is not None:
        row["vertical_rate"] = i220.variation.content.as_quantity()
    return row


def _cat021_row(record: _Cat021Record) -> dict[str, object]:
    row: dict[str, object] = {"source": "asterix-cat021", "cat": 21}
    if (i010 := record.get_item("010")) is not None:
        row["sac"] = i010.variation.get_item("SAC").variation.as_uint()
        row["sic"] = i010.variation.get_item("SIC").variation.as_uint()
    if (i040 := record.get_item("040")) is not None:
        ground = i040.variation.get_item("GBS")
        row["onground"] = None if ground is None else bool(ground.variation.as_uint())
    if (i161 := record.get_item("161")) is not None:
        row["track_number"] = i161.variation.get_item("TRNUM").variation.as_uint()
    tod_s = _cat021_time_of_day_s(record)
    if tod_s is not None:
        row["time_of_day_s"] = _time_of_day_s(tod_s)
    if (i080 := record.get_item("080")) is not None:
        row["icao24"] = f"{i080.variation.content.as_uint():06x}"
    if (i131 := record.get_item("131")) is not None:
        row["latitude"], row["longitude"] = _checked_position(
            i131.variation.get_item("LAT").variation.content.as_quantity(),
            i131.variation.get_item("LON").variation.content.as_quantity(),
        )
    elif (i130 := record.get_item("130")) is not None:
        row["latitude"], row["longitude"] = _checked_position(
            i130.variation.get_item("LAT").variation.content.as_quantity(),
            i130.variation.get_item("LON").variation.content.as_quantity(),
        )
    if (i145 := record.get_item("145")) is not None:
        row["altitude"] = i145.variation.content.as_quantity() * _FL_FT
    if (i140 := record.get_item("140")) is not None:
        row["geoaltitude"] = i140.variation.content.as_quantity()
    if (i160 := record.get_item("160")) is not None:
        exceeded = i160.variation.get_item("RE").variation.as_uint()
        speed = i160.variation.get_item("GS").variation.content.as_quantity()
        row["groundspeed"] = None if exceeded else speed * _KT_PER_NM_PER_S
        row["track"] = i160.variation.get_item("TA").variation.content.as_quantity()
    if (i155 := record.get_item("155")) is not None:
        exceeded = i155.variation.get_item("RE").variation.as_uint()
        rate = i155.variation.get_item("BVR").variation.content.as_quantity()
        row["vertical_rate"] = None if exceeded else rate
    elif (i157 := record.get_item("157")) is not None:
        exceeded = i157.variation.get_item("RE").variation.as_uint()
        rate = i157.variation.get_item("GVR").variation.content.as_quantity()
        row["vertical_rate"] = None if exceeded else rate
    if (i170 := record.get_item("170")) is not None:
        row["callsign"] = _identification(i170.variation.content.as_string())
    if (i070 := record.get_item("070")) is not None:
        row["squawk"] = i070.variation.get_item("MODE3A").variation.content.as_string()
    if (i090 := record.get_item("090")) is not None:
        if (nic := i090.variation.get_item("NUCPNIC")) is not None:
            row["nic"] = nic.variation.as_uint()
        if (nacp := i090.variation.get_item("NACP")) is not None:
            row["nacp"] = nacp.variation.as_uint()
    return row


def _cat021_time_of_day_s(record: _Cat021Record) -> float | None:
    """The first of I021/071, 073 (+074), 072, 075 (+076), 077 present."""
    if (i071 := record.get_item("071")) is not None:
        return i071.variation.content.as_quantity()
    if (i073 := record.get_item("073")) is not None:
        coarse_s = i073.variation.content.as_quantity()
        if (i074 := record.get_item("074")) is None:
            return coarse_s
        return _high_precision_s(
            coarse_s,
            i074.variation.get_item("FSI").variation.as_uint(),
            i074.variation.get_item("TOMRP").variation.content.as_quantity(),
        )
    if (i072 := record.get_item("072")) is not None:
        return i072.variation.content.as_quantity()
    if (i075 := record.get_item("075")) is not None:
        coarse_s = i075.variation.content.as_quantity()
        if (i076 := record.get_item("076")) is None:
            return coarse_s
        return _high_precision_s(
            coarse_s,
            i076.variation.get_item("FSI").variation.as_uint(),
            i076.variation.get_item("TOMRP").variation.content.as_quantity(),
        )
    if (i077 := record.get_item("077")) is not None:
        return i077.variation.content.as_quantity()
    return None


def _high_precision_s(coarse_s: float, full_second: int, fraction_s: float) -> float:
    """I021/074 or /076: the fraction of a second, and the whole second's offset.

    FSI 0: the whole second is I021/073's (/075's); 1: that plus one; 2: minus one;
    3 is reserved and falls back to the coarse time.
    """
    if full_second == 3:
        return coarse_s
    shift = {0: 0, 1: 1, 2: -1}[full_second]
    return math.floor(coarse_s) + shift + fraction_s


# -- table ---------------------------------------------------------------------------


def _table(
    rows: list[dict[str, object]],
    sites: RadarSite | dict[tuple[int, int], RadarSite] | None,
) -> pd.DataFrame:
    sources = [str(row.pop("source")) for row in rows]
    table = empty_reports(rows, source=FORMAT)
    for name in EXTRA_COLUMNS:
        if name not in table.columns:
            table[name] = np.nan
    table = table[[*REPORT_COLUMNS, *EXTRA_COLUMNS]].copy()
    for name in EXTRA_COLUMNS:
        table[name] = pd.to_numeric(table[name], errors="coerce")
        table[name] = table[name].astype(
            "Int64" if name in _INTEGER_COLUMNS else "float64"
        )
    for name in ("icao24", "callsign", "squawk"):  # absent text is None, not NaN
        table[name] = table[name].astype("object").where(table[name].notna(), None)
    table["source"] = pd.Series(sources, index=table.index, dtype="object")
    _name_unaddressed(table)
    _place_polar(table, sites)
    return table


def _name_unaddressed(table: pd.DataFrame) -> None:
    """Give reports without an aircraft address their tracker's identity.

    A Mode A/C-only target (no I048/220, I062/380 ADR or I021/080) is named by the
    source that tracks it and its track number: ``~SAC/SIC/TRACK`` (``~`` marks an
    identifier that is not an ICAO address, as dump1090 marks non-ICAO addresses), so
    the radar's track becomes one track in the store instead of being refused.
    """
    missing = table["icao24"].isna() & table["track_number"].notna()
    missing &= table["sac"].notna() & table["sic"].notna()
    if not missing.any():
        return
    chosen = table.loc[missing, ["sac", "sic", "track_number"]].astype("int64")
    table.loc[missing, "icao24"] = [
        f"~{sac}/{sic}/{number}"
        for sac, sic, number in chosen.itertuples(index=False, name=None)
    ]


def _place_polar(
    table: pd.DataFrame, sites: RadarSite | dict[tuple[int, int], RadarSite] | None
) -> None:
    """Fill latitude and longitude of the CAT048 rows whose radar site is known."""
    if sites is None:
        return
    polar = table["rho_nm"].notna().to_numpy() & table["theta_deg"].notna().to_numpy()
    if isinstance(sites, dict):
        sac = table["sac"].to_numpy(dtype=np.float64, na_value=np.nan)
        sic = table["sic"].to_numpy(dtype=np.float64, na_value=np.nan)
        groups = [
            (polar & (sac == key[0]) & (sic == key[1]), site)
            for key, site in sites.items()
        ]
    else:
        groups = [(polar, sites)]
    for chosen, site in groups:
        if not chosen.any():
            continue
        lat_deg, lon_deg = polar_to_wgs84(
            site,
            table["rho_nm"].to_numpy(dtype=np.float64)[chosen],
            table["theta_deg"].to_numpy(dtype=np.float64)[chosen],
            table["altitude"].to_numpy(dtype=np.float64)[chosen],
        )
        table.loc[chosen, "latitude"] = lat_deg
        table.loc[chosen, "longitude"] = lon_deg


def polar_to_wgs84(
    site: RadarSite,
    rho_nm: FloatArray,
    theta_deg: FloatArray,
    alt_ft: FloatArray,
) -> tuple[FloatArray, FloatArray]:
    """Radar slant range and azimuth to WGS84 latitude and longitude (deg).

    The method (spherical Earth of the site's mean radius of curvature for the slant
    correction, then a WGS84 geodesic) is the module docstring's, *CAT048 position*.
    A NaN ``alt_ft`` puts the target at the site's altitude; a slant range shorter
    than the height difference (a flight level inconsistent with the range) puts it
    over the site.

    Args:
        site: the radar's ``(lat_deg, lon_deg, alt_ft)``.
        rho_nm: slant ranges.
        theta_deg: azimuths from true north.
        alt_ft: target altitudes (flight level x 100).
    """
    lat0_deg, lon0_deg, site_alt_ft = site
    sin2 = math.sin(math.radians(lat0_deg)) ** 2
    normal_m = WGS84_A_M / math.sqrt(1.0 - WGS84_E2 * sin2)
    meridian_m = WGS84_A_M * (1.0 - WGS84_E2) / (1.0 - WGS84_E2 * sin2) ** 1.5
    earth_m = math.sqrt(normal_m * meridian_m)
    site_r_m = earth_m + ft_to_m(site_alt_ft)
    target_alt_ft = np.where(np.isnan(alt_ft), site_alt_ft, alt_ft)
    target_r_m = earth_m + ft_to_m(target_alt_ft)
    slant_m = nm_to_m(np.asarray(rho_nm, dtype=np.float64))
    cos_angle = (site_r_m**2 + target_r_m**2 - slant_m**2) / (
        2.0 * site_r_m * target_r_m
    )
    ground_m = earth_m * np.arccos(np.clip(cos_angle, -1.0, 1.0))
    n = len(ground_m)
    lon_deg, lat_deg, _ = Geod(ellps="WGS84").fwd(
        np.full(n, lon0_deg), np.full(n, lat0_deg), np.asarray(theta_deg), ground_m
    )
    return np.asarray(lat_deg, dtype=np.float64), np.asarray(lon_deg, dtype=np.float64)
