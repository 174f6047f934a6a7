"""ASTERIX test inputs built with libasterix: records, data blocks and pcap captures.

The encoders write the items :mod:`skypact.tracks.ingest.asterix` reads, in the
editions it decodes (CAT021 2.7, CAT048 1.32, CAT062 1.21), so that a decode can be
checked against what was written. Quantities are given in the units of the ASTERIX
items (NM, deg, FL, ft, ft/min, s) unless a name says otherwise.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from typing import Any

import pandas as pd
from asterix.generated import Cat_021_2_7, Cat_048_1_32, Cat_062_1_21

from skypact.units import kt_to_mps, m_to_nm

ETHERNET = 1
LINUX_SLL = 113
RAW_IPV4 = 228

_MAGIC = {
    (False, False): b"\xd4\xc3\xb2\xa1",  # microseconds, little-endian
    (False, True): b"\xa1\xb2\xc3\xd4",  # microseconds, big-endian
    (True, False): b"\x4d\x3c\xb2\xa1",  # nanoseconds, little-endian
    (True, True): b"\xa1\xb2\x3c\x4d",  # nanoseconds, big-endian
}


def kt_to_nm_per_s(speed_kt: float) -> float:
    return float(m_to_nm(kt_to_mps(speed_kt)))


def time_of_day_s(stamp: pd.Timestamp) -> float:
    return float((stamp - stamp.normalize()).total_seconds())


# -- records and data blocks ---------------------------------------------------------


_SPECS: dict[int, Any] = {21: Cat_021_2_7, 48: Cat_048_1_32, 62: Cat_062_1_21}


def record(category: int, items: dict[str, Any]) -> Any:
    """A record of libasterix item values (``record(62, {"105": (lat, lon)})``)."""
    return _SPECS[category].cv_record.create(items)


def cat048_record(
    *,
    tod_s: float | None = 27354.6015625,
    rho_nm: float | None = 100.0,
    theta_deg: float | None = 45.0,
    fl: float | None = 350.0,
    fl_garbled: int = 0,
    address: int | None = 0x3C660C,
    callsign: str | None = "DLH65A",
    squawk: str | None = "1000",
    squawk_garbled: int = 0,
    track_number: int | None = 3563,
    gs_kt: float | None = 434.0,
    heading_deg: float | None = 124.0,
    sac: int = 25,
    sic: int = 201,
) -> Any:
    """A CAT048 target report; ``None`` leaves an item out."""
    items: dict[str, Any] = {"010": (sac, sic)}
    if tod_s is not None:
        items["140"] = tod_s
    if rho_nm is not None and theta_deg is not None:
        items["040"] = (rho_nm, theta_deg)
    if squawk is not None:
        items["070"] = (0, squawk_garbled, 0, 0, squawk)
    if fl is not None:
        items["090"] = (0, fl_garbled, fl)
    if address is not None:
        items["220"] = address
    if callsign is not None:
        items["240"] = callsign
    if track_number is not None:
        items["161"] = (0, track_number)
    if gs_kt is not None and heading_deg is not None:
        items["200"] = (kt_to_nm_per_s(gs_kt), heading_deg)
    return record(48, items)


def block(category: int, records: Sequence[Any]) -> bytes:
    """One data block of libasterix records."""
    return bytes(_SPECS[category].create(list(records)).unparse().to_bytes())


def raw_block(category: int, body: bytes) -> bytes:
    """A data block around arbitrary record bytes (for categories not built here)."""
    return bytes([category]) + (len(body) + 3).to_bytes(2, "big") + body


# -- CAT021 from a traffic table ------------------------------------------------------


def cat021_from_traffic(table: pd.DataFrame, *, sac: int = 25, sic: int = 7) -> bytes:
    """CAT021 data blocks (50 records each) holding a traffic table's reports.

    Rows alternate between the items that carry the same quantity, so that each is
    written: I021/131 (even rows) or I021/130 (odd); I021/155 or I021/157 (every
    third); time in I021/071 or in I021/073 (every fourth). ``nacp`` is the row
    number modulo 12, ``nic`` modulo 11, and the track number is the row number.
    """
    records = []
    for k, row in enumerate(table.to_dict("records")):
        tod_s = time_of_day_s(pd.Timestamp(row["timestamp"]))
        items: dict[str, Any] = {
            "010": (sac, sic),
            "040": (
                (0, 1, 0, 0, None),
                (0, int(bool(row["onground"])), 0, 0, 0, 0, None),
            ),
            "080": int(row["icao24"], 16),
            "161": (0, k),
            "090": ((0, k % 11, None), (0, 0, k % 12, None)),
            "170": row["callsign"],
        }
        items["131" if k % 2 == 0 else "130"] = (row["latitude"], row["longitude"])
        items["073" if k % 4 == 3 else "071"] = tod_s
        if not math.isnan(row["altitude"]):
            items["145"] = row["altitude"] / 100.0
        if not math.isnan(row["groundspeed"]):
            items["160"] = (0, kt_to_nm_per_s(row["groundspeed"]), row["track"])
        if not math.isnan(row["vertical_rate"]):
            items["157" if k % 3 == 2 else "155"] = (0, row["vertical_rate"])
        if not math.isnan(row["squawk"]):
            items["070"] = (0, f"{int(row['squawk']):04d}")
        records.append(record(21, items))
    return b"".join(block(21, records[k : k + 50]) for k in range(0, len(records), 50))


# -- pcap ----------------------------------------------------------------------------


def ipv4_udp(
    payload: bytes,
    *,
    protocol: int = 17,
    options: bytes = b"",
    fragment: int = 0,
) -> bytes:
    """An IPv4 packet holding one UDP datagram (``fragment``: flags and offset)."""
    assert len(options) % 4 == 0
    udp = struct.pack(">HHHH", 40000, 8600, 8 + len(payload), 0) + payload
    header_len = 20 + len(options)
    header = struct.pack(
        ">BBHHHBBH4s4s",
        0x40 | header_len // 4,
        0,
        header_len + len(udp),
        1,
        fragment,
        64,
        protocol,
        0,
        bytes([10, 19, 16, 21]),
        bytes([232, 0, 6, 1]),
    )
    return header + options + udp


def ethernet(packet: bytes, *, ethertype: int = 0x0800, vlan: bool = False) -> bytes:
    """An Ethernet frame, padded to the 60-byte minimum as a capture shows it."""
    tag = struct.pack(">HH", 0x8100, 7) if vlan else b""
    frame = bytes(6) + bytes([2, 0, 0, 0, 0, 1]) + tag
    frame += ethertype.to_bytes(2, "big") + packet
    return frame + bytes(max(0, 60 - len(frame)))


def linux_sll(packet: bytes) -> bytes:
    return struct.pack(">HHH8sH", 0, 1, 6, bytes(8), 0x0800) + packet


def udp_frame(payload: bytes, *, link_type: int = ETHERNET, **ip: Any) -> bytes:
    packet = ipv4_udp(payload, **ip)
    if link_type == ETHERNET:
        return ethernet(packet)
    if link_type == LINUX_SLL:
        return linux_sll(packet)
    return packet


def pcap(
    frames: Sequence[tuple[float, bytes]],
    *,
    link_type: int = ETHERNET,
    nanoseconds: bool = False,
    big_endian: bool = False,
    snaplen: int = 65535,
) -> bytes:
    """A classic pcap file of ``(capture time in epoch s, frame)``."""
    order = ">" if big_endian else "<"
    ticks_per_s = 10**9 if nanoseconds else 10**6
    out = _MAGIC[nanoseconds, big_endian]
    out += struct.pack(order + "HHiIII", 2, 4, 0, 0, snaplen, link_type)
    for t_s, frame in frames:
        seconds = math.floor(t_s)
        ticks = round((t_s - seconds) * ticks_per_s)
        kept = frame[:snaplen]
        out += struct.pack(order + "IIII", seconds, ticks, len(kept), len(frame))
        out += kept
    return out
