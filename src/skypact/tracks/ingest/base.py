"""What every ingest adapter returns, and how it accounts for what it could not use.

An adapter reads one source (a file, a capture, a stream's bytes) into a
:class:`Decoded`: a table in the ``traffic`` column convention (aviation units, one row
per decoded message or report, a ``source`` column naming the adapter) and a
:class:`Problems` ledger. A record that cannot be used is never dropped silently: it is
counted under a reason, with the place of its first occurrence; with ``strict`` the
first one raises :class:`~skypact.errors.ParseError` naming the place instead.

A source that is not the adapter's format at all raises
:class:`~skypact.errors.UnsupportedFormatError`. No other exception may escape an
adapter, whatever the bytes (the fuzz tests hold every parser to this).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from skypact.errors import ParseError

__all__ = ["REPORT_COLUMNS", "Decoded", "Problems", "empty_reports", "report_table"]

# The columns every adapter's table has, in this order (other columns may follow):
# timestamp (UTC datetime), icao24 (6 lower-case hex digits, or a source-specific
# identifier such as a radar track number), callsign, latitude, longitude (deg),
# altitude (ft, barometric), geoaltitude (ft), groundspeed (kt), track (deg true),
# vertical_rate (ft/min), squawk (4 octal digits as text), onground, source.
REPORT_COLUMNS = (
    "timestamp", "icao24", "callsign", "latitude", "longitude", "altitude",
    "geoaltitude", "groundspeed", "track", "vertical_rate", "squawk", "onground",
    "source",
)  # fmt: skip

_FLOAT_COLUMNS = (
    "latitude", "longitude", "altitude", "geoaltitude", "groundspeed", "track",
    "vertical_rate",
)  # fmt: skip


@dataclass
class Problems:
    """Records that could not be used: reason -> count, and where each first occurred.

    ``where`` is the place in the source as a reader would look for it: ``"line 12"``,
    ``"byte 4096"``, ``"packet 3, record 2"``.
    """

    source: str
    counts: dict[str, int] = field(default_factory=dict)
    first_where: dict[str, str] = field(default_factory=dict)

    def reject(
        self, reason: str, where: str, raw: str | bytes | None = None, *, strict: bool
    ) -> None:
        """Count one unusable record, or with ``strict`` raise :class:`ParseError`."""
        if strict:
            text = raw.hex() if isinstance(raw, bytes) else raw
            raise ParseError(reason, source=self.source, where=where, raw=text)
        self.counts[reason] = self.counts.get(reason, 0) + 1
        self.first_where.setdefault(reason, where)

    @property
    def total(self) -> int:
        """How many records were not used."""
        return sum(self.counts.values())


@dataclass
class Decoded:
    """An adapter's result: the reports it read and the records it could not use."""

    format: str
    table: pd.DataFrame
    problems: Problems


def empty_reports(rows: list[dict[str, object]], *, source: str) -> pd.DataFrame:
    """A report table from row dicts, with every :data:`REPORT_COLUMNS` column typed.

    Row keys outside :data:`REPORT_COLUMNS` become extra columns after them. Missing
    values are ``NaN`` (numbers), ``None`` (text) or ``<NA>`` (``onground``);
    ``timestamp`` must be epoch seconds (float) and becomes a UTC datetime.

    >>> t = empty_reports([{"timestamp": 0.0, "icao24": "abc123", "altitude": 100}],
    ...                   source="sbs")
    >>> list(t.columns) == list(REPORT_COLUMNS)
    True
    >>> str(t["timestamp"].dt.tz), t["altitude"].dtype.name, t["source"][0]
    ('UTC', 'float64', 'sbs')
    """
    extra = sorted({key for row in rows for key in row} - set(REPORT_COLUMNS))
    return report_table(
        pd.DataFrame(rows, columns=[*REPORT_COLUMNS, *extra]), source=source
    )


def report_table(columns: pd.DataFrame, *, source: str) -> pd.DataFrame:
    """Type a frame of report columns (missing :data:`REPORT_COLUMNS` are added).

    As :func:`empty_reports`, from columns rather than rows (the fast path for large
    tables): ``timestamp`` in epoch seconds becomes a UTC datetime, numbers float64,
    text object, ``onground`` boolean, and ``source`` is set.
    """
    table = columns.copy()
    for name in REPORT_COLUMNS:
        if name not in table.columns:
            table[name] = None
    table = table[
        [*REPORT_COLUMNS, *(c for c in table.columns if c not in REPORT_COLUMNS)]
    ]
    seconds = pd.to_numeric(table["timestamp"], errors="coerce").astype("float64")
    # beyond pandas' datetime range (years 1677-2262) a time is missing, not a crash
    seconds = seconds.where(seconds.abs() < 9e9)
    table["timestamp"] = pd.to_datetime(seconds, unit="s", utc=True)
    for name in _FLOAT_COLUMNS:
        table[name] = pd.to_numeric(table[name], errors="coerce").astype("float64")
    table["onground"] = table["onground"].astype("boolean")
    for name in ("icao24", "callsign", "squawk"):
        table[name] = table[name].astype("object")
    table["source"] = source
    return table
