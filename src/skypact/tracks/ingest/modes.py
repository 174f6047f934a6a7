"""Raw Mode S / ADS-B frames to a traffic-convention table, decoded by rs1090.

Inputs (the format is told from the content, never from the name alone):

- JSON lines ``{"timestamp": <epoch s>, "frame": "<hex>"}`` (other keys ignored: a
  recording that already carries decoded fields is decoded again from ``frame``);
- CSV with the columns ``timestamp`` and ``rawmsg`` (traffic's layout), or without a
  header, the timestamp first and the frame in the first later column that holds 14
  or 28 hex digits (pyModeS's and rs1090's samples; pyModeS puts the address between);
- the **Beast** binary feed (dump1090/readsb port 30005): ``0x1a``, a type byte (``1``
  Mode A/C, ``2`` Mode S short, ``3`` Mode S long, ``4`` status), a 48-bit MLAT
  counter, a signal byte and the frame, with every ``0x1a`` inside doubled;
- **AVR** text (port 30002): ``*<hex>;`` per line, or ``@<12 hex MLAT><hex>;``.

Beast and AVR carry no wall-clock time, only a 12 MHz MLAT counter (``@`` lines) or
nothing (``*`` lines). Times are ``start_s`` plus the counter's elapsed seconds; frames
without a counter all get ``start_s``. When ``start_s`` is not given, a file's last
frame is taken to have been written at the file's modification time.

Gzip is read transparently. Each Mode S frame is 14 (56-bit) or 28 (112-bit) hex
digits.

Decoding is rs1090's (global CPR from even/odd pairs, and local CPR against the
aircraft's last position; a surface or lone position before any pair is decoded against
``reference``, the receiver's position, when one is given). rs1090 0.7.0's batch
decoder leaves some airborne positions undecoded although the aircraft's last position
is known (99 of 8,324 in full_flight_short, measured); each such message is decoded
again, locally, against that last position when it is at most
:data:`LOCAL_CPR_MAX_AGE_S` old (a local decode is unambiguous within half a CPR zone,
180 NM airborne: 600 s covers any aircraft under 1,080 kt). The result has one row per
decoded message, with the columns that message does not carry left empty, as traffic
does: the :data:`~skypact.tracks.ingest.base.REPORT_COLUMNS` and ``df``, ``bds``,
``nuc_p``, ``nac_v``; ``source`` is ``"modes"``.

Records that cannot be used (a line that is not JSON, no timestamp, a frame that is not
hex of the right length, a Beast block cut short, a Mode A/C reply, a receiver status
message) are never dropped silently: they are counted by reason in
:attr:`FrameBatch.problems`, with the place of the first of each, and ``strict`` reading
fails on the first with a :class:`~skypact.errors.ParseError` that names the place.
"""

from __future__ import annotations

import csv
import gzip
import json
import math
import re
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt
import pandas as pd
import rs1090

from skypact.errors import UnsupportedFormatError
from skypact.tracks.ingest.base import REPORT_COLUMNS, Decoded, Problems, empty_reports

__all__ = [
    "COLUMNS",
    "LOCAL_CPR_MAX_AGE_S",
    "MLAT_CLOCK_HZ",
    "FrameBatch",
    "decode_frames",
    "parse_avr",
    "parse_beast",
    "read_frames",
    "read_modes",
]

COLUMNS = (*REPORT_COLUMNS, "df", "bds", "nuc_p", "nac_v")

LOCAL_CPR_MAX_AGE_S = 600.0
_EPOCH_MIN_S, _EPOCH_MAX_S = 0.0, 4_102_444_800.0  # 1970-01-01, 2100-01-01
MLAT_CLOCK_HZ = 12e6

_HEX = re.compile(r"[0-9a-fA-F]{14}(?:[0-9a-fA-F]{14})?")
_AVR = re.compile(r"([*@])([0-9a-fA-F]*);?")
_SURFACE_BDS = "06"
_BEAST_ESCAPE = 0x1A
# Beast type byte -> payload length (MLAT counter 6 + signal 1 + frame)
_BEAST_LENGTH = {0x31: 7 + 2, 0x32: 7 + 7, 0x33: 7 + 14, 0x34: 7 + 14}
_BEAST_SKIP = {
    0x31: "Mode A/C reply (not a Mode S frame)",
    0x34: "receiver status message (not a frame)",
}


@dataclass
class FrameBatch:
    """Frames read from a source, and the records that could not be used."""

    source: str
    timestamps: list[float] = field(default_factory=list)
    frames: list[str] = field(default_factory=list)
    places: list[str] = field(default_factory=list)
    problems: Problems = field(init=False)

    def __post_init__(self) -> None:
        self.problems = Problems(self.source)

    def add(
        self, stamp: object, frame: object, where: str, raw: str, *, strict: bool
    ) -> None:
        if not isinstance(frame, str) or not _HEX.fullmatch(frame.strip()):
            self.problems.reject(
                "frame is not 14 or 28 hex digits", where, raw, strict=strict
            )
            return
        try:
            t = float(stamp)  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError):
            t = math.nan
        if not math.isfinite(t):
            self.problems.reject("timestamp is not a number", where, raw, strict=strict)
            return
        if not _EPOCH_MIN_S <= t < _EPOCH_MAX_S:
            self.problems.reject(
                "timestamp outside 1970-2100 (epoch seconds)", where, raw, strict=strict
            )
            return
        self.timestamps.append(t)
        self.frames.append(frame.strip().lower())
        self.places.append(where)


def _read_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise UnsupportedFormatError(
                f"gzip content cannot be decompressed ({exc})", source=str(path)
            ) from None
    return data


def read_frames(
    path: str | Path, *, strict: bool = False, start_s: float | None = None
) -> FrameBatch:
    """Timestamped frames from any of the layouts in the module docstring.

    Args:
        path: the file (gzip or not).
        strict: raise on the first record that cannot be used.
        start_s: for Beast and AVR, the epoch seconds of the first frame (default:
            the last frame at the file's modification time).

    Raises:
        UnsupportedFormatError: the content is none of the layouts.
        ParseError: with ``strict``, the first record that cannot be used.
    """
    path = Path(path)
    data = _read_bytes(path)
    source = str(path)
    if is_beast(data):
        return parse_beast(
            data, source=source, strict=strict, start_s=start_s, end_s=_mtime(path)
        )
    text = data.decode("utf-8", errors="replace")
    if is_avr(text):
        return parse_avr(
            text, source=source, strict=strict, start_s=start_s, end_s=_mtime(path)
        )
    return parse_text_frames(text, source=source, strict=strict)


def _mtime(path: Path) -> float:
    return path.stat().st_mtime


def is_beast(data: bytes) -> bool:
    """Whether bytes start like a Beast feed (an escape and a known type byte)."""
    return len(data) >= 2 and data[0] == _BEAST_ESCAPE and data[1] in _BEAST_LENGTH


def is_avr(text: str) -> bool:
    """Whether text starts like an AVR feed (``*<hex>;`` or ``@<hex>;``)."""
    first = text.lstrip()[:1]
    return first in ("*", "@")


def parse_text_frames(text: str, *, source: str, strict: bool = False) -> FrameBatch:
    """Frames from JSON lines or CSV text (see :func:`read_frames`)."""
    batch = FrameBatch(source=source)
    text_lines = text.removeprefix("\ufeff").splitlines()
    skip = next((k for k, line in enumerate(text_lines) if line.strip()), 0)
    first = text_lines[skip] if text_lines else ""
    if first.lstrip().startswith("{"):
        for no, line in enumerate(text_lines, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except (json.JSONDecodeError, RecursionError):
                record = None
            if not isinstance(record, dict):
                batch.problems.reject(
                    "not a JSON object", f"line {no}", line, strict=strict
                )
                continue
            batch.add(
                record.get("timestamp"),
                record.get("frame"),
                f"line {no}",
                line,
                strict=strict,
            )
        return batch
    header = next(csv.reader([first.lstrip("\ufeff")]), [])
    names = [name.strip().lower() for name in header]
    frame_col = next(
        (k for k, cell in enumerate(header[1:], 1) if _HEX.fullmatch(cell.strip())),
        None,
    )
    headerless = len(header) >= 2 and _is_number(header[0]) and frame_col is not None
    if headerless or ("rawmsg" in names and "timestamp" in names):
        t_col, m_col = (
            (0, frame_col)
            if frame_col is not None and headerless
            else (names.index("timestamp"), names.index("rawmsg"))
        )
        body = skip if headerless else skip + 1
        for no, row in enumerate(csv.reader(text_lines[body:]), body + 1):
            if not row:
                continue
            raw = ",".join(row)
            if len(row) <= max(t_col, m_col):
                batch.problems.reject(
                    "missing fields", f"line {no}", raw, strict=strict
                )
                continue
            batch.add(row[t_col], row[m_col], f"line {no}", raw, strict=strict)
        return batch
    raise UnsupportedFormatError(
        "not Mode S frames: expected JSON lines with 'timestamp' and 'frame', CSV "
        "with 'timestamp' and 'rawmsg' columns, a Beast feed or AVR text",
        source=source,
    )


def parse_beast(
    data: bytes,
    *,
    source: str = "<bytes>",
    strict: bool = False,
    start_s: float | None = None,
    end_s: float = 0.0,
) -> FrameBatch:
    """Frames from a Beast binary feed (see the module docstring).

    ``start_s`` is the epoch time of the first frame; without it, the last frame is
    placed at ``end_s``. Bytes before the first escape, or between blocks, are counted
    as one problem per run.
    """
    batch = FrameBatch(source=source)
    counters: list[int] = []
    k, n = 0, len(data)
    while k < n:
        if data[k] != _BEAST_ESCAPE or k + 1 >= n or data[k + 1] not in _BEAST_LENGTH:
            junk = k
            k += 1
            while k < n and not (
                data[k] == _BEAST_ESCAPE and k + 1 < n and data[k + 1] in _BEAST_LENGTH
            ):
                k += 1
            batch.problems.reject(
                "bytes outside a Beast block",
                f"byte {junk}",
                data[junk:k],
                strict=strict,
            )
            continue
        kind, begin = data[k + 1], k
        payload, k = _unescape(data, k + 2, _BEAST_LENGTH[kind])
        if len(payload) < _BEAST_LENGTH[kind]:
            batch.problems.reject(
                "Beast block cut short", f"byte {begin}", data[begin:k], strict=strict
            )
            continue
        if kind in _BEAST_SKIP:
            batch.problems.reject(
                _BEAST_SKIP[kind], f"byte {begin}", data[begin:k], strict=strict
            )
            continue
        counters.append(int.from_bytes(payload[:6], "big"))
        batch.frames.append(payload[7:].hex())
        batch.places.append(f"byte {begin}")
    batch.timestamps = _clock_times(counters, start_s, end_s)
    return batch


def _unescape(data: bytes, k: int, length: int) -> tuple[bytes, int]:
    """``length`` unescaped bytes from ``data[k:]`` (a doubled 0x1a is one byte).

    Stops early at a lone 0x1a (the next block's start); returns the bytes and the
    position after them.
    """
    out = bytearray()
    n = len(data)
    while len(out) < length and k < n:
        byte = data[k]
        if byte == _BEAST_ESCAPE:
            if k + 1 < n and data[k + 1] == _BEAST_ESCAPE:
                k += 2
            else:
                break
        else:
            k += 1
        out.append(byte)
    return bytes(out), k


def _clock_times(
    counters: list[int], start_s: float | None, end_s: float
) -> list[float]:
    """Epoch seconds from 12 MHz MLAT counters (wrapping at 2**48)."""
    if not counters:
        return []
    ticks = np.asarray(counters, dtype=np.int64)
    step = np.diff(ticks) % (1 << 48)
    elapsed_s = np.concatenate([[0.0], np.cumsum(step) / MLAT_CLOCK_HZ])
    first_s = end_s - float(elapsed_s[-1]) if start_s is None else start_s
    return cast("list[float]", (first_s + elapsed_s).tolist())


def parse_avr(
    text: str,
    *,
    source: str = "<text>",
    strict: bool = False,
    start_s: float | None = None,
    end_s: float = 0.0,
) -> FrameBatch:
    """Frames from AVR text: ``*<frame>;`` or ``@<12 hex MLAT counter><frame>;``.

    Lines with a counter are timed as in :func:`parse_beast`; lines without one get
    the time of the last counter seen, or the start time.
    """
    batch = FrameBatch(source=source)
    counters: list[int | None] = []
    for no, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped:
            continue
        match = _AVR.fullmatch(stripped)
        if match is None:
            batch.problems.reject("not an AVR line", f"line {no}", line, strict=strict)
            continue
        mark, digits = match.groups()
        counter: int | None = None
        if mark == "@":
            counter, digits = int(digits[:12] or "0", 16), digits[12:]
        if not _HEX.fullmatch(digits):
            batch.problems.reject(
                "frame is not 14 or 28 hex digits", f"line {no}", line, strict=strict
            )
            continue
        counters.append(counter)
        batch.frames.append(digits.lower())
        batch.places.append(f"line {no}")
    timed_s = _clock_times([c for c in counters if c is not None], start_s, end_s)
    times = iter(timed_s)
    current = start_s if start_s is not None else (timed_s[0] if timed_s else end_s)
    for counter in counters:
        if counter is not None:
            current = next(times)
        batch.timestamps.append(current)
    return batch


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def read_modes(
    path: str | Path,
    *,
    reference: tuple[float, float] | None = None,
    start_s: float | None = None,
    strict: bool = False,
) -> Decoded:
    """Read and decode raw frames: :func:`read_frames` then :func:`decode_frames`."""
    batch = read_frames(path, strict=strict, start_s=start_s)
    table = decode_frames(batch, reference=reference, strict=strict)
    return Decoded("modes", table, batch.problems)


def decode_frames(
    batch: FrameBatch,
    *,
    reference: tuple[float, float] | None = None,
    strict: bool = False,
) -> pd.DataFrame:
    """Decode the frames (time-ordered first) into a traffic-convention table.

    A frame rs1090 cannot decode (a downlink format it does not know, such as DF 1 or
    2, or a DF 17 that fails its checks) is counted in ``batch.problems`` under
    ``"frame cannot be decoded (DF n)"`` at its place (``strict``: refused).
    """
    order = np.argsort(np.asarray(batch.timestamps, dtype=np.float64), kind="stable")
    frames = [batch.frames[k] for k in order]
    stamps = [batch.timestamps[k] for k in order]
    decoded = rs1090.decode(frames, stamps, reference=reference) if frames else []
    messages = cast("list[dict[str, Any]]", decoded)
    if len(messages) < len(frames):
        kept = _account_undecoded(batch, order, frames, messages, strict=strict)
        frames = [frames[k] for k in kept]
    _decode_lone_positions(messages, frames)
    table = empty_reports([_row(message) for message in messages], source="modes")
    for name in ("df", "bds"):
        if name not in table.columns:  # no message decoded
            table[name] = pd.Series(dtype=object)
    for name in ("nuc_p", "nac_v"):
        if name not in table.columns:
            table[name] = np.nan
        table[name] = pd.to_numeric(table[name], errors="coerce").astype("float64")
    return table[list(COLUMNS)]


def _account_undecoded(
    batch: FrameBatch,
    order: npt.NDArray[np.intp],
    frames: list[str],
    messages: list[dict[str, Any]],
    *,
    strict: bool,
) -> list[int]:
    """Count the frames rs1090 returned no message for; the decoded ones' indices."""
    kept: list[int] = []
    k = 0
    for message in messages:
        while k < len(frames) and frames[k] != message.get("frame"):
            _undecodable(batch, int(order[k]), strict=strict)
            k += 1
        kept.append(k)
        k += 1
    for rest in range(k, len(frames)):
        _undecodable(batch, int(order[rest]), strict=strict)
    return kept


def _undecodable(batch: FrameBatch, index: int, *, strict: bool) -> None:
    frame = batch.frames[index]
    where = batch.places[index] if index < len(batch.places) else f"frame {index + 1}"
    df = int(frame[:2], 16) >> 3
    batch.problems.reject(
        f"frame cannot be decoded (DF {df})", where, frame, strict=strict
    )


def _decode_lone_positions(messages: list[dict[str, Any]], frames: list[str]) -> None:
    """Decode positions rs1090's batch left out against the aircraft's last position."""
    last: dict[str, tuple[float, float, float]] = {}
    for k, message in enumerate(messages):
        icao24 = message.get("icao24")
        if not isinstance(icao24, str):
            continue
        if "latitude" in message:
            last[icao24] = (
                message["latitude"],
                message["longitude"],
                message["timestamp"],
            )
            continue
        if "lat_cpr" not in message or icao24 not in last:
            continue
        lat, lon, t = last[icao24]
        if message["timestamp"] - t > LOCAL_CPR_MAX_AGE_S:
            continue
        local = cast("dict[str, Any]", rs1090.decode(frames[k], reference=(lat, lon)))
        if "latitude" in local:
            message["latitude"], message["longitude"] = (
                local["latitude"],
                local["longitude"],
            )
            last[icao24] = (local["latitude"], local["longitude"], message["timestamp"])


def _row(message: dict[str, Any]) -> dict[str, Any]:
    bds = message.get("bds")
    callsign = message.get("callsign")
    comm_b = message.get("bds20")
    if callsign is None and isinstance(comm_b, dict):
        callsign = comm_b.get("callsign")
    position = "latitude" in message
    return {
        "timestamp": message["timestamp"],
        "icao24": message.get("icao24"),
        "df": message.get("df"),
        "bds": bds,
        "latitude": message.get("latitude"),
        "longitude": message.get("longitude"),
        "altitude": message.get("altitude"),
        "groundspeed": message.get("groundspeed"),
        "track": message.get("track"),
        "vertical_rate": message.get("vertical_rate"),
        "callsign": callsign,
        "squawk": message.get("squawk"),
        "onground": True if bds == _SURFACE_BDS else (False if position else None),
        "nuc_p": message.get("NUCp"),
        "nac_v": message.get("NACv"),
    }
