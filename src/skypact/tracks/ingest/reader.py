"""Any supported input to reports: the format is told from the content.

:func:`read_reports` looks at the first bytes (after gzip, where the format allows it)
and hands the file to its adapter:

=================================  ==========================================  ===========
content starts with                format                                      adapter
=================================  ==========================================  ===========
pcap magic, or an ASTERIX block     ASTERIX CAT021/048/062                      asterix
``0x1a`` + ``1``-``4``              Beast binary Mode S                         modes
``0xbf``                            TAK protocol (protobuf)                     cot
``<``                               Cursor on Target XML                        cot
``MSG,`` ``SEL,`` ``ID,`` ...       SBS-1 / BaseStation                         sbs
``*`` or ``@``                      AVR Mode S text                             modes
``PAR1``                            Parquet table                               table
``{"...frame"``, CSV ``rawmsg``     timestamped Mode S frames                   modes
``{"time": .., "states": [``        OpenSky live states                         opensky
JSON records / lines, CSV           traffic-convention table, or OpenSky        table /
                                    history columns                             opensky
=================================  ==========================================  ===========

:func:`from_traffic` takes ``traffic`` library objects (``Flight``, ``Traffic``) already
in memory, and :func:`reports_from_frame` a DataFrame.

Every adapter returns a :class:`~skypact.tracks.ingest.base.Decoded`: reports in the
traffic convention with a ``source`` column, and the records it could not use, by
reason. Tables have no records to refuse at this stage: their values are checked by
:mod:`skypact.tracks.validation`, as every adapter's are.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import re
import zlib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from skypact.errors import ParseError, UnsupportedFormatError
from skypact.tracks.ingest import asterix, cot, modes, opensky, sbs
from skypact.tracks.ingest.base import Decoded, Problems, report_table
from skypact.tracks.ingest.table import read_table
from skypact.tracks.validation import epoch_seconds

__all__ = [
    "ReadOptions",
    "detect_format",
    "from_traffic",
    "read_reports",
    "reports_from_frame",
]

_PCAP_MAGICS = (
    b"\xd4\xc3\xb2\xa1",
    b"\xa1\xb2\xc3\xd4",
    b"\x4d\x3c\xb2\xa1",
    b"\xa1\xb2\x3c\x4d",
)
_SBS = re.compile(rb"(MSG|SEL|ID|AIR|STA|CLK),")
_ASTERIX_CATEGORIES = frozenset({1, 2, 21, 34, 48, 62, 65})


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """What some formats need from outside the file.

    Attributes:
        reference: the receiver's (lat, lon), for Mode S positions decoded locally.
        radar_site: the CAT048 radar's (lat, lon, altitude ft).
        start_s: epoch seconds of the first frame of a Beast/AVR feed (no wall clock).
        date: the UTC date of an ASTERIX recording without capture times.
        strict: refuse the first unusable record instead of counting it.
        utc_offset_h: an SBS-1 receiver clock's offset from UTC in hours.
    """

    reference: tuple[float, float] | None = None
    radar_site: tuple[float, float, float] | None = None
    start_s: float | None = None
    date: dt.date | None = None
    strict: bool = False
    utc_offset_h: float = 0.0


def _head(path: Path, size: int = 512) -> tuple[bytes, bool]:
    """The first bytes of the content (decompressed when gzip), and whether gzip."""
    try:
        with path.open("rb") as raw:
            head = raw.read(size)
        if head[:2] == b"\x1f\x8b":
            with gzip.open(path, "rb") as unpacked:
                return unpacked.read(size), True
    except (OSError, EOFError, zlib.error) as exc:
        raise ParseError(f"cannot read: {exc}", source=str(path)) from None
    return head, False


def detect_format(path: str | Path) -> str:
    """The format's name (``asterix``, ``beast``, ``tak``, ``cot-xml``, ``sbs``,
    ``avr``, ``parquet``, ``modes-json``, ``modes-csv``, ``opensky-states``,
    ``json``, ``csv``) from the content.

    Raises:
        UnsupportedFormatError: binary content none of the formats starts with.
    """
    path = Path(path)
    head, _ = _head(path)
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:4] in _PCAP_MAGICS:
        return "asterix"
    if modes.is_beast(head):
        return "beast"
    if head[:1] == b"\xbf":
        return "tak"
    if head[:4] == b"PAR1":
        return "parquet"
    if text[:1] == b"<":
        return "cot-xml"
    if _SBS.match(text):
        return "sbs"
    if text[:1] in (b"*", b"@"):
        return "avr"
    if text[:1] in (b"{", b"["):
        first_line = text.split(b"\n", 1)[0]
        if b'"frame"' in first_line and text[:1] == b"{":
            return "modes-json"
        if text[:1] == b"{" and b'"states"' in head:
            return "opensky-states"
        return "json"
    if len(head) >= 3 and head[0] in _ASTERIX_CATEGORIES and _asterix_length_ok(path):
        return "asterix"
    if b"\x00" in head or not _is_text(head):
        raise UnsupportedFormatError(
            "binary content of no supported format (ASTERIX, Beast, TAK, Parquet)",
            source=str(path),
        )
    first = text.split(b"\n", 1)[0].decode("utf-8", errors="replace").lower()
    cells = next(csv.reader([first]), [])
    hex_frame = re.compile(r"[0-9a-f]{14}|[0-9a-f]{28}")
    if "rawmsg" in cells or any(hex_frame.fullmatch(c.strip()) for c in cells[1:]):
        return "modes-csv"
    return "csv"


def _is_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > len(head) - 4  # a character cut at the end of the sample
    return True


def _asterix_length_ok(path: Path) -> bool:
    with path.open("rb") as raw:
        head = raw.read(3)
    return int.from_bytes(head[1:3], "big") >= 3


def read_reports(path: str | Path, options: ReadOptions | None = None) -> Decoded:
    """Read any supported input into reports (see the module docstring).

    Raises:
        UnsupportedFormatError: the content is no supported format.
        ParseError: the file cannot be read, or (``strict``) a record cannot be used.
    """
    options = options or ReadOptions()
    path = Path(path)
    kind = detect_format(path)
    strict = options.strict
    if kind == "asterix":
        return asterix.read_asterix(
            path, radar_site=options.radar_site, date=options.date, strict=strict
        )
    if kind in ("beast", "avr", "modes-json", "modes-csv"):
        return modes.read_modes(
            path, reference=options.reference, start_s=options.start_s, strict=strict
        )
    if kind in ("tak", "cot-xml"):
        return cot.read_cot(path, strict=strict)
    if kind == "sbs":
        return sbs.read_sbs(path, strict=strict, utc_offset_h=options.utc_offset_h)
    if kind == "opensky-states":
        return opensky.read_states_json(path, strict=strict)
    return _read_table(path)


def _read_table(path: Path) -> Decoded:
    return reports_from_frame(read_table(path), str(path))


def reports_from_frame(
    table: pd.DataFrame, where: str, label: str = "table"
) -> Decoded:
    """A table in the traffic convention (or OpenSky history columns) as reports.

    ``label`` fills the ``source`` column where the table has none.
    """
    problems = Problems(where)
    if opensky.is_history(table):
        return Decoded("opensky", opensky.from_history(table), problems)
    # epoch seconds, whether the column holds numbers, datetimes or text
    seconds = epoch_seconds(table)
    source = table["source"] if "source" in table.columns else None
    typed = report_table(table.assign(timestamp=seconds), source=label)
    if source is not None:
        typed["source"] = source.fillna(label).astype(str).to_numpy()
    return Decoded(label, typed, problems)


def from_traffic(data: object, label: str = "traffic") -> Decoded:
    """Reports from ``traffic`` library objects, without importing ``traffic``.

    ``data`` is a ``traffic.core.Flight`` or ``Traffic`` (anything whose ``.data`` is a
    DataFrame in the traffic convention, as both are), or an iterable of them (a list
    of flights, or a ``Traffic`` iterated flight by flight). The ``source`` column says
    ``label`` unless the data carries its own.

    Raises:
        TypeError: ``data`` is none of those.
    """
    frames = _traffic_frames(data)
    if not frames:
        raise TypeError(
            f"expected a traffic Flight or Traffic (an object with a .data DataFrame),"
            f" or an iterable of them; got {type(data).__name__}"
        )
    table = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    table = table.reset_index(drop=True)
    table.index = pd.RangeIndex(1, len(table) + 1)
    return reports_from_frame(table, f"<{type(data).__name__}>", label)


def _traffic_frames(data: object) -> list[pd.DataFrame]:
    frame = getattr(data, "data", None)
    if isinstance(frame, pd.DataFrame):
        return [frame]
    if isinstance(data, (str, bytes, pd.DataFrame)) or not hasattr(data, "__iter__"):
        return []
    frames: list[pd.DataFrame] = []
    for item in data:
        inner = getattr(item, "data", None)
        if not isinstance(inner, pd.DataFrame):
            return []
        frames.append(inner)
    return frames
