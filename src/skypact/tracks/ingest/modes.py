"""Raw Mode S / ADS-B frames to a traffic-convention table, decoded by rs1090.

Inputs (the format is told from the content):

- JSON lines ``{"timestamp": <epoch s>, "frame": "<hex>"}`` (other keys ignored: a
  recording that already carries decoded fields is decoded again from ``frame``);
- CSV with the columns ``timestamp`` and ``rawmsg`` (traffic's layout), or without a
  header, timestamp then frame (pyModeS's and rs1090's samples).

Gzip is read transparently. Each frame is 14 (56-bit) or 28 (112-bit) hex digits.

Decoding is rs1090's (global CPR from even/odd pairs, and local CPR against the
aircraft's last position; a surface or lone position before any pair is decoded against
``reference``, the receiver's position, when one is given). The result has one row per
decoded message, with the columns that message does not carry left empty, as traffic
does: ``timestamp`` (UTC), ``icao24``, ``df``, ``bds``, ``latitude``, ``longitude``,
``altitude`` (ft), ``groundspeed`` (kt), ``track`` (deg), ``vertical_rate`` (ft/min),
``callsign``, ``squawk``, ``onground`` (surface position messages), ``nuc_p``,
``nac_v`` and ``source`` (``"modes"``).

Lines that cannot be used (not JSON, no timestamp, a frame that is not hex of the right
length, a timestamp that is not a finite number) are never dropped silently: they are
counted by reason in :attr:`FrameBatch.problems`, with the first line of each, and
``strict`` reading fails on the first with a :class:`~skypact.errors.ParseError` that
names the line.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd
import rs1090

from skypact.errors import ParseError, UnsupportedFormatError

__all__ = ["COLUMNS", "FrameBatch", "decode_frames", "read_frames"]

COLUMNS = (
    "timestamp", "icao24", "df", "bds", "latitude", "longitude", "altitude",
    "groundspeed", "track", "vertical_rate", "callsign", "squawk", "onground",
    "nuc_p", "nac_v", "source",
)  # fmt: skip

_HEX = re.compile(r"[0-9a-fA-F]{14}(?:[0-9a-fA-F]{14})?")
_SURFACE_BDS = "06"


@dataclass
class FrameBatch:
    """Frames read from a source, and what could not be read (reason -> count)."""

    source: str
    timestamps: list[float] = field(default_factory=list)
    frames: list[str] = field(default_factory=list)
    problems: dict[str, int] = field(default_factory=dict)
    first_line: dict[str, int] = field(default_factory=dict)

    def reject(self, reason: str, line_no: int, raw: str, *, strict: bool) -> None:
        if strict:
            raise ParseError(reason, source=self.source, line_no=line_no, raw=raw)
        self.problems[reason] = self.problems.get(reason, 0) + 1
        self.first_line.setdefault(reason, line_no)

    def add(
        self, stamp: object, frame: object, line_no: int, raw: str, *, strict: bool
    ) -> None:
        if not isinstance(frame, str) or not _HEX.fullmatch(frame.strip()):
            self.reject("frame is not 14 or 28 hex digits", line_no, raw, strict=strict)
            return
        try:
            t = float(stamp)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            t = math.nan
        if not math.isfinite(t):
            self.reject("timestamp is not a number", line_no, raw, strict=strict)
            return
        self.timestamps.append(t)
        self.frames.append(frame.strip().lower())


def _open_text(path: Path) -> io.TextIOBase:
    with path.open("rb") as raw:
        head = raw.read(2)
    if head == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(path), encoding="utf-8", errors="replace")
    return io.TextIOWrapper(path.open("rb"), encoding="utf-8", errors="replace")


def read_frames(path: str | Path, *, strict: bool = False) -> FrameBatch:
    """Timestamped hex frames from JSON lines or CSV (see the module docstring).

    Raises:
        UnsupportedFormatError: the content is neither layout.
        ParseError: with ``strict``, the first line that cannot be used.
    """
    path = Path(path)
    batch = FrameBatch(source=str(path))
    with _open_text(path) as text:
        text_lines = text.readlines()
    skip = next((k for k, line in enumerate(text_lines) if line.strip()), 0)
    first = text_lines[skip] if text_lines else ""
    if first.lstrip().startswith("{"):
        for no, line in enumerate(text_lines, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                batch.reject("not a JSON object", no, line, strict=strict)
                continue
            if not isinstance(record, dict):
                batch.reject("not a JSON object", no, line, strict=strict)
                continue
            batch.add(
                record.get("timestamp"), record.get("frame"), no, line, strict=strict
            )
        return batch
    header = next(csv.reader([first]), [])
    names = [name.strip().lower() for name in header]
    headerless = (
        len(header) >= 2
        and _is_number(header[0])
        and bool(_HEX.fullmatch(header[1].strip()))
    )
    if headerless or ("rawmsg" in names and "timestamp" in names):
        t_col, m_col = (
            (0, 1) if headerless else (names.index("timestamp"), names.index("rawmsg"))
        )
        body = skip if headerless else skip + 1
        for no, row in enumerate(csv.reader(text_lines[body:]), body + 1):
            if not row:
                continue
            raw = ",".join(row)
            if len(row) <= max(t_col, m_col):
                batch.reject("missing fields", no, raw, strict=strict)
                continue
            batch.add(row[t_col], row[m_col], no, raw, strict=strict)
        return batch
    raise UnsupportedFormatError(
        "not timestamped Mode S frames: expected JSON lines with 'timestamp' and "
        "'frame', or CSV with 'timestamp' and 'rawmsg' columns",
        source=str(path),
    )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def decode_frames(
    batch: FrameBatch, *, reference: tuple[float, float] | None = None
) -> pd.DataFrame:
    """Decode the frames (time-ordered first) into a traffic-convention table."""
    order = np.argsort(np.asarray(batch.timestamps, dtype=np.float64), kind="stable")
    frames = [batch.frames[k] for k in order]
    stamps = [batch.timestamps[k] for k in order]
    decoded = rs1090.decode(frames, stamps, reference=reference) if frames else []
    rows = [_row(cast("dict[str, Any]", message)) for message in decoded]
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    table["timestamp"] = pd.to_datetime(
        np.asarray([r["timestamp"] for r in rows], dtype=np.float64), unit="s", utc=True
    )
    for name in ("latitude", "longitude", "altitude", "groundspeed", "track",
                 "vertical_rate", "nuc_p", "nac_v"):  # fmt: skip
        table[name] = pd.to_numeric(table[name], errors="coerce").astype("float64")
    table["onground"] = table["onground"].astype("boolean")
    table["source"] = "modes"
    return table


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
