"""Snapshot tables in the ``traffic`` column convention -> :class:`StateArrays`.

Columns (aviation units, as the ``traffic`` library and ADS-B use them):

============== ======== ==========================================================
column         unit     notes
============== ======== ==========================================================
icao24         --       aircraft identifier (required; kept as text)
latitude       deg      required, within [-90, 90]
longitude      deg      required, within [-180, 180]
altitude       ft       required, within [-2,000, 100,000]
groundspeed    kt       required, within [0, 2,000]
track          deg      required, true track; any finite value, wrapped to [0, 360)
vertical_rate  ft/min   required, within [-100,000, 100,000]
party          --       optional; the aircraft's party (identity is (party, icao24))
timestamp      UTC      optional; ISO text, datetimes, or epoch seconds
============== ======== ==========================================================

Other columns are ignored. When an aircraft has several rows, its latest (by
``timestamp``) is used; without a ``timestamp`` column an aircraft may have one row
only. When timestamps differ, every aircraft is dead-reckoned (along the geodesic, at
constant ground speed and vertical rate) to the newest timestamp, which is the
snapshot's time: all ``t_*_s`` of a detection are counted from it.

Every bad value raises :class:`~skypact.errors.InvalidStateError` naming the column,
the row and, for a file, its line; a missing column raises
:class:`~skypact.errors.MissingColumnError`.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from pyproj import Geod

from skypact.errors import (
    InvalidStateError,
    MissingColumnError,
    ParseError,
    UnsupportedFormatError,
)
from skypact.geometry.angles import wrap_deg_360
from skypact.tracks.model import StateArrays
from skypact.units import FloatArray, fpm_to_mps, ft_to_m, kt_to_mps

__all__ = [
    "REQUIRED_COLUMNS",
    "invalid_rows",
    "read_table",
    "report_order",
    "reports_from_table",
    "states_from_table",
]

REQUIRED_COLUMNS = (
    "icao24",
    "latitude",
    "longitude",
    "altitude",
    "groundspeed",
    "track",
    "vertical_rate",
)

# (column, lowest, highest, what the range means)
_RANGES: tuple[tuple[str, float, float, str], ...] = (
    ("latitude", -90.0, 90.0, "latitude must be within [-90, 90] degrees"),
    ("longitude", -180.0, 180.0, "longitude must be within [-180, 180] degrees"),
    ("altitude", -2000.0, 100000.0, "altitude must be within [-2,000, 100,000] ft"),
    ("groundspeed", 0.0, 2000.0, "ground speed must be within [0, 2,000] kt"),
    ("track", -1e6, 1e6, "track must be a finite angle in degrees"),
    (
        "vertical_rate",
        -100000.0,
        100000.0,
        "vertical rate must be within [-100,000, 100,000] ft/min",
    ),
)

_Fail = Callable[[str, int, object, str], InvalidStateError]
"""Builds the error for (column, row position, value, reason)."""

_PARQUET_MAGIC = b"PAR1"
_GZIP_MAGIC = b"\x1f\x8b"
_WGS84 = Geod(ellps="WGS84")


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a table in the traffic convention; the format is recognised from content.

    CSV, Parquet, and JSON (pandas ``orient="records"`` arrays, JSON lines, or one
    ``orient="columns"`` object), the latter optionally gzip-compressed (as the
    ``traffic`` library ships its samples).
    ``icao24``, ``callsign`` and ``party`` are read as text, so ``"004001"`` keeps its
    leading zeros. The frame's index is the data row number (1 for the first row) so
    that errors name rows as a person counts them.

    Raises:
        ParseError: the file cannot be read or parsed.
        UnsupportedFormatError: the file is none of those formats.
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(4)
        if head[:2] == _GZIP_MAGIC:
            with gzip.open(path, "rb") as fh:
                first = fh.read(64).lstrip()[:1]
        else:
            first = b""
    except (OSError, EOFError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ParseError(f"cannot open: {reason}", source=str(path)) from exc
    text_columns = {"icao24": str, "callsign": str, "party": str}
    is_csv = False
    try:
        if head == _PARQUET_MAGIC:
            frame = pd.read_parquet(path)
        elif head[:2] == _GZIP_MAGIC or head.lstrip()[:1] in (b"[", b"{"):
            lead = first or head.lstrip()[:1]
            if lead not in (b"[", b"{"):
                raise UnsupportedFormatError(
                    "compressed, but not JSON records or JSON lines", source=str(path)
                )
            compression: Literal["gzip"] | None = (
                "gzip" if head[:2] == _GZIP_MAGIC else None
            )
            frame = pd.read_json(
                path,
                orient="records",
                lines=lead == b"{",
                dtype=text_columns,
                compression=compression,
            )
            if len(frame) == 1 and any(isinstance(v, dict) for v in frame.iloc[0]):
                # one object of columns (pandas' default orient), not JSON lines
                frame = pd.read_json(
                    path, orient="columns", dtype=text_columns, compression=compression
                )
        else:
            if b"\x00" in head:
                raise UnsupportedFormatError(
                    "not a CSV, Parquet or JSON file (binary content)", source=str(path)
                )
            frame = pd.read_csv(path, dtype=text_columns, skipinitialspace=True)
            is_csv = True
    except (UnsupportedFormatError, ParseError):
        raise
    except (ValueError, OSError, UnicodeDecodeError, EOFError) as exc:
        raise ParseError(f"cannot parse: {exc}", source=str(path)) from exc
    for column in text_columns:
        if column in frame.columns and not is_csv:
            frame[column] = frame[column].astype("string").astype(object)
    frame.index = pd.RangeIndex(1, len(frame) + 1)
    frame.attrs["skypact_source"] = str(path)
    frame.attrs["skypact_csv"] = is_csv
    return frame


@dataclass(frozen=True, slots=True)
class _Validated:
    ids: np.ndarray
    party: np.ndarray | None
    numbers: dict[str, FloatArray]
    t_s: FloatArray | None
    fail: _Fail


def _validate(table: pd.DataFrame, source: str | None) -> _Validated | None:
    """Every row checked; None for an empty table."""
    source = source or str(table.attrs.get("skypact_source", "<table>"))
    is_csv = bool(table.attrs.get("skypact_csv", False))
    for column in REQUIRED_COLUMNS:
        if column not in table.columns:
            raise MissingColumnError(
                column,
                source=source,
                hint=f"a snapshot needs {', '.join(REQUIRED_COLUMNS)}",
            )
    if len(table) == 0:
        return None

    def fail(
        column: str, position: int, value: object, reason: str
    ) -> InvalidStateError:
        label = table.index[position]
        line_no = int(label) + 1 if is_csv else None
        return InvalidStateError(
            column=column,
            row=label,
            value=value,
            reason=reason,
            source=source,
            line_no=line_no,
        )

    ids = _text_column(table, "icao24", fail)
    party = _text_column(table, "party", fail) if "party" in table.columns else None
    numbers = {column: _numeric_column(table, column, fail) for column, *_ in _RANGES}
    for column, low, high, reason in _RANGES:
        values = numbers[column]
        bad = (values < low) | (values > high)
        if bad.any():
            k = int(np.argmax(bad))
            raise fail(column, k, table[column].iloc[k], reason)
    t_s = _timestamps(table, fail) if "timestamp" in table.columns else None
    return _Validated(ids=ids, party=party, numbers=numbers, t_s=t_s, fail=fail)


def invalid_rows(table: pd.DataFrame) -> dict[str, npt.NDArray[np.bool_]]:
    """Masks of the rows that validation would refuse, by ``"column: reason"``.

    For callers that skip bad reports instead of refusing the table; each refused row
    is counted under the first reason found for it.
    """
    problems: dict[str, npt.NDArray[np.bool_]] = {}
    taken = np.zeros(len(table), dtype=bool)

    def add(label: str, mask: npt.NDArray[np.bool_]) -> None:
        nonlocal taken
        mask = mask & ~taken
        if mask.any():
            problems[label] = mask
            taken |= mask

    for column in ("icao24", "party"):
        if column in table.columns:
            text = table[column].astype("string").str.strip()
            add(
                f"{column}: missing or empty",
                (text.isna() | (text == "")).to_numpy(bool),
            )
    if "timestamp" in table.columns:
        stamps = _parse_timestamps(table["timestamp"])
        add("timestamp: not a time", stamps.isna().to_numpy(bool))
    for column, low, high, reason in _RANGES:
        if column not in table.columns:
            continue
        values = pd.to_numeric(table[column], errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
        add(f"{column}: missing or not a number", ~np.isfinite(values))
        with np.errstate(invalid="ignore"):
            add(f"{column}: {reason}", (values < low) | (values > high))
    return problems


def reports_from_table(
    table: pd.DataFrame, *, source: str | None = None
) -> StateArrays:
    """Every row of a recording as one report, validated and in SI, sorted by time.

    Unlike :func:`states_from_table`, an aircraft may have many rows (one per report);
    a ``timestamp`` column is required.

    Raises:
        MissingColumnError: a required column (or ``timestamp``) is absent.
        InvalidStateError: a value is missing, non-numeric or impossible.
    """
    if "timestamp" not in table.columns:
        raise MissingColumnError(
            "timestamp",
            source=source or str(table.attrs.get("skypact_source", "<table>")),
            hint="a recording needs a time for each report",
        )
    checked = _validate(table, source)
    if checked is None:
        return _empty_states(with_party="party" in table.columns)
    assert checked.t_s is not None
    order = _time_order(checked.t_s)
    n = checked.numbers
    return StateArrays(
        aircraft_id=checked.ids[order],
        t_s=checked.t_s[order],
        lat_deg=n["latitude"][order],
        lon_deg=n["longitude"][order],
        alt_m=ft_to_m(n["altitude"][order]),
        gs_mps=kt_to_mps(n["groundspeed"][order]),
        trk_deg=wrap_deg_360(n["track"][order]),
        vs_mps=fpm_to_mps(n["vertical_rate"][order]),
        party=None if checked.party is None else checked.party[order],
    )


def report_order(table: pd.DataFrame) -> npt.NDArray[np.intp]:
    """The row order :func:`reports_from_table` puts a valid recording in (by time).

    For carrying other columns (e.g. ``squawk``) alongside the reports.
    """
    stamps = _parse_timestamps(table["timestamp"])
    nanos = stamps.astype("datetime64[ns, UTC]").to_numpy(dtype="datetime64[ns]")
    return _time_order(nanos.astype(np.int64).astype(np.float64) * 1e-9)


def _time_order(t_s: FloatArray) -> npt.NDArray[np.intp]:
    return np.argsort(t_s, kind="stable")


def states_from_table(table: pd.DataFrame, *, source: str | None = None) -> StateArrays:
    """Validate a traffic-convention table and convert it to SI state arrays.

    Args:
        table: the snapshot (one or more rows per aircraft). A ``traffic.Flight`` or
            ``Traffic`` object's ``.data`` frame is usable as it is.
        source: a name for error messages (defaults to the file the table came from).

    Raises:
        MissingColumnError: a required column is absent.
        InvalidStateError: a value is missing, non-numeric or impossible, or an
            aircraft's identity is ambiguous.
    """
    source = source or str(table.attrs.get("skypact_source", "<table>"))
    checked = _validate(table, source)
    if checked is None:
        return _empty_states(with_party="party" in table.columns)
    ids, party, numbers, fail = (
        checked.ids,
        checked.party,
        checked.numbers,
        checked.fail,
    )
    t_s = checked.t_s
    unique_ids = len(set(ids)) == len(ids)  # the common case: nothing to resolve
    keep = None if unique_ids else _latest_rows(ids, party, t_s, fail)
    if keep is not None:
        ids = ids[keep]
        party = None if party is None else party[keep]
        numbers = {column: values[keep] for column, values in numbers.items()}
        t_s = None if t_s is None else t_s[keep]
    if party is not None and not unique_ids:
        _check_one_party_per_id(ids, party, source)

    lat = numbers["latitude"]
    lon = numbers["longitude"]
    alt_m = ft_to_m(numbers["altitude"])
    gs_mps = kt_to_mps(numbers["groundspeed"])
    trk = wrap_deg_360(numbers["track"])
    vs_mps = fpm_to_mps(numbers["vertical_rate"])
    if t_s is None:
        t_s = np.zeros(len(ids))
    else:
        lat, lon, alt_m, t_s = _dead_reckon(lat, lon, alt_m, gs_mps, trk, vs_mps, t_s)
    return StateArrays(
        aircraft_id=ids,
        t_s=t_s,
        lat_deg=lat,
        lon_deg=lon,
        alt_m=alt_m,
        gs_mps=gs_mps,
        trk_deg=trk,
        vs_mps=vs_mps,
        party=party,
    )


def _empty_states(*, with_party: bool) -> StateArrays:
    none = np.empty(0)
    return StateArrays(
        aircraft_id=np.empty(0, dtype=object),
        t_s=none,
        lat_deg=none.copy(),
        lon_deg=none.copy(),
        alt_m=none.copy(),
        gs_mps=none.copy(),
        trk_deg=none.copy(),
        vs_mps=none.copy(),
        party=np.empty(0, dtype=object) if with_party else None,
    )


def _text_column(table: pd.DataFrame, column: str, fail: _Fail) -> np.ndarray:
    series = table[column]
    missing = series.isna().to_numpy()
    if missing.any():
        k = int(np.argmax(missing))
        raise fail(column, k, series.iloc[k], f"{column} is missing")
    text = series.astype("string").str.strip()
    empty = (text == "").to_numpy(dtype=bool)
    if empty.any():
        k = int(np.argmax(empty))
        raise fail(column, k, series.iloc[k], f"{column} is empty")
    return text.to_numpy(dtype=object)


def _numeric_column(table: pd.DataFrame, column: str, fail: _Fail) -> FloatArray:
    series = table[column]
    if pd.api.types.is_bool_dtype(series.dtype):
        raise fail(column, 0, series.iloc[0], "expected a number, found true/false")
    if pd.api.types.is_numeric_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        converted = pd.to_numeric(series, errors="coerce")
        values = converted.to_numpy(dtype=np.float64, na_value=np.nan)
        not_numeric = np.isnan(values) & series.notna().to_numpy()
        if not_numeric.any():
            k = int(np.argmax(not_numeric))
            raise fail(column, k, series.iloc[k], "expected a number")
    not_finite = ~np.isfinite(values)
    if not_finite.any():
        k = int(np.argmax(not_finite))
        value = series.iloc[k]
        reason = "value is missing (empty or NaN)" if pd.isna(value) else "not finite"
        raise fail(column, k, value, reason)
    return values


def _parse_timestamps(series: pd.Series) -> pd.Series:
    """UTC datetimes (NaT where unparseable): epoch seconds if numeric, else text."""
    try:
        if pd.api.types.is_numeric_dtype(
            series.dtype
        ) and not pd.api.types.is_bool_dtype(series.dtype):
            return pd.to_datetime(series, unit="s", utc=True, errors="coerce")
        return pd.to_datetime(series, utc=True, errors="coerce", format="mixed")
    except (ValueError, TypeError, OverflowError):
        return pd.Series(pd.NaT, index=series.index)


def _timestamps(table: pd.DataFrame, fail: _Fail) -> FloatArray:
    series = table["timestamp"]
    stamps = _parse_timestamps(series)
    bad = stamps.isna().to_numpy()
    if bad.any():
        k = int(np.argmax(bad))
        raise fail(
            "timestamp", k, series.iloc[k], "expected a UTC time or epoch seconds"
        )
    nanos = stamps.astype("datetime64[ns, UTC]").to_numpy(dtype="datetime64[ns]")
    return nanos.astype(np.int64).astype(np.float64) * 1e-9


def _latest_rows(
    ids: np.ndarray,
    party: np.ndarray | None,
    t_s: FloatArray | None,
    fail: _Fail,
) -> np.ndarray | None:
    """Positions of each aircraft's latest row, or None when every row is its own."""
    keys = pd.Series(ids if party is None else party + "\x1f" + ids, dtype=object)
    duplicated = keys.duplicated(keep=False).to_numpy()
    if not duplicated.any():
        return None
    if t_s is None:
        k = int(np.flatnonzero(duplicated)[1])
        raise fail(
            "icao24",
            k,
            ids[k],
            "aircraft appears in several rows and there is no timestamp column to "
            "tell which is the latest",
        )
    order = np.lexsort((t_s, keys.to_numpy(dtype=object).astype(str)))
    sorted_keys = keys.to_numpy(dtype=object)[order]
    last = np.ones(len(order), dtype=bool)
    last[:-1] = sorted_keys[1:] != sorted_keys[:-1]
    latest = order[last]
    # Two rows of one aircraft at the same latest time are ambiguous.
    same_time = np.zeros(len(order), dtype=bool)
    same_time[1:] = (sorted_keys[1:] == sorted_keys[:-1]) & (
        t_s[order][1:] == t_s[order][:-1]
    )
    clash = same_time & last
    if clash.any():
        k = int(order[np.flatnonzero(clash)[0]])
        raise fail(
            "icao24", k, ids[k], "duplicate aircraft: two rows with the same timestamp"
        )
    return np.sort(latest)


def _check_one_party_per_id(ids: np.ndarray, party: np.ndarray, source: str) -> None:
    frame = pd.DataFrame({"icao24": ids, "party": party})
    parties = frame.groupby("icao24")["party"].nunique()
    shared = parties[parties > 1]
    if len(shared):
        icao24 = str(shared.index[0])
        owners = sorted(set(frame.loc[frame["icao24"] == icao24, "party"]))
        raise InvalidStateError(
            column="icao24",
            row=int(np.flatnonzero(ids == icao24)[0]),
            value=icao24,
            reason=f"the same icao24 is reported by parties {', '.join(owners)}; "
            "detection names aircraft by icao24, so it must be unique in a snapshot",
            source=source,
        )


def _dead_reckon(
    lat: FloatArray,
    lon: FloatArray,
    alt_m: FloatArray,
    gs_mps: FloatArray,
    trk_deg: FloatArray,
    vs_mps: FloatArray,
    t_s: FloatArray,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Move every aircraft to the newest time along its geodesic."""
    now_s = float(np.max(t_s))
    dt_s = now_s - t_s
    moving = dt_s > 0.0
    if moving.any():
        lat = lat.copy()
        lon = lon.copy()
        alt_m = alt_m.copy()
        new_lon, new_lat, _ = _WGS84.fwd(
            lon[moving], lat[moving], trk_deg[moving], gs_mps[moving] * dt_s[moving]
        )
        lat[moving] = new_lat
        lon[moving] = new_lon
        alt_m[moving] = alt_m[moving] + vs_mps[moving] * dt_s[moving]
    return lat, lon, alt_m, np.full(len(t_s), now_s)
