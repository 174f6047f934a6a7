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

from skypact.errors import ParseError, UnsupportedFormatError
from skypact.tracks.ingest import asterix, cot, modes, opensky, sbs
from skypact.tracks.ingest.base import Decoded, Problems, report_table
from skypact.tracks.ingest.table import read_table
from skypact.tracks.validation import epoch_seconds

__all__ = ["ReadOptions", "detect_format", "read_reports"]

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
    """

    reference: tuple[float, float] | None = None
    radar_site: tuple[float, float, float] | None = None
    start_s: float | None = None
    date: dt.date | None = None
    strict: bool = False


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
        return sbs.read_sbs(path, strict=strict)
    if kind == "opensky-states":
        return opensky.read_states_json(path, strict=strict)
    return _read_table(path)


def _read_table(path: Path) -> Decoded:
    table = read_table(path)
    problems = Problems(str(path))
    if opensky.is_history(table):
        return Decoded("opensky", opensky.from_history(table), problems)
    # epoch seconds, whether the column holds numbers, datetimes or text
    seconds = epoch_seconds(table)
    source = table["source"] if "source" in table.columns else None
    typed = report_table(table.assign(timestamp=seconds), source="table")
    if source is not None:
        typed["source"] = source.fillna("table").astype(str).to_numpy()
    return Decoded("table", typed, problems)
