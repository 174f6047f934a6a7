"""Report validation: what may reach the track store, and why the rest may not.

Every row of a report table (the traffic convention, one row per decoded message or
report, fields the message does not carry left empty) gets a verdict: accepted, or
rejected with one reason from :data:`REASONS`. Nothing is dropped silently: the caller
keeps the rejected rows, their reasons and the first place of each in its ingest
report, and ``strict`` ingest fails on the first.

Checks, in this order:

1. **Impossible values** in any field the row carries (and text where a number
   belongs): latitude outside [-90, 90],
   longitude outside [-180, 180], ground speed outside [0, 2,000] kt, altitude outside
   [-2,000, 100,000] ft, vertical rate beyond ±100,000 ft/min (``limits``).
2. **Identity and time**: a row with no aircraft identifier or no finite timestamp.
3. **Sequence**, per stream -- one aircraft of one party as seen by one source (radar
   and ADS-B of the same aircraft are checked apart, then merged by the track store):
   time running backwards (a row older than the stream's last accepted row); a
   position jump that implies a ground speed above ``limits.max_groundspeed_kt``
   from the stream's last accepted position; an altitude jump that implies a vertical
   rate beyond ``limits.max_vertical_rate_fpm`` from its last accepted altitude (a
   garbled Mode S altitude reply). Slack absorbs position and altitude quantisation
   (``jump_slack_m``, ``altitude_slack_ft``).

The sequence checks compare a row with the stream's last *accepted* values, so a
spoofed or garbled report is rejected without dragging the reference away with it: in
noisy_spoofing.json.gz the true positions that follow each spoofed one are accepted
again. Within a table, each stream's rows are checked in time order (a recording may
list one aircraft's flights one after the other), or in the order given
(``in_given_order``, for a feed whose arrival order matters). Across tables, a
:class:`StreamHistory` carries each stream's last accepted values, so a report older
than one already accepted in an earlier batch is refused.
Jump distances are great-circle distances on a sphere: good to 0.5 %, well inside the
slack for a plausibility bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np
import numpy.typing as npt
import pandas as pd

from skypact.units import (
    NAUTICAL_SPHERE_RADIUS_M,
    FloatArray,
    fpm_to_mps,
    ft_to_m,
    kt_to_mps,
)

__all__ = [
    "REASONS",
    "StreamHistory",
    "ValidationLimits",
    "Verdicts",
    "epoch_seconds",
    "stream_keys",
    "validate_reports",
]

OK = 0
# code -> reason; the codes index this tuple
REASONS = (
    "",
    "latitude outside [-90, 90] deg",
    "longitude outside [-180, 180] deg",
    "ground speed outside [0, 2,000] kt",
    "altitude outside [-2,000, 100,000] ft",
    "vertical rate beyond 100,000 ft/min",
    "no aircraft identifier",
    "no timestamp",
    "time runs backwards",
    "position jump implies an impossible speed",
    "altitude jump implies an impossible vertical rate",
    "a numeric field holds something else",
)
(_LAT, _LON, _GS, _ALT, _VS, _NO_ID, _NO_TIME,
 _BACKWARDS, _JUMP, _ALT_JUMP, _NAN) = range(1, 12)  # fmt: skip
_NUMERIC = (
    "latitude",
    "longitude",
    "altitude",
    "groundspeed",
    "track",
    "vertical_rate",
)


@dataclass(frozen=True, slots=True)
class ValidationLimits:
    """What counts as impossible (aviation units, as the issue and the data state them)."""

    max_groundspeed_kt: float = 2_000.0
    min_altitude_ft: float = -2_000.0
    max_altitude_ft: float = 100_000.0
    max_abs_vertical_rate_fpm: float = 100_000.0
    max_vertical_rate_fpm: float = 30_000.0
    jump_slack_m: float = 1_000.0
    altitude_slack_ft: float = 500.0


@dataclass(frozen=True, slots=True)
class Verdicts:
    """One code per row (0 accepted; otherwise an index into :data:`REASONS`)."""

    code: npt.NDArray[np.int8]

    @property
    def accepted(self) -> npt.NDArray[np.bool_]:
        return np.asarray(self.code == OK, dtype=np.bool_)

    def reasons(self) -> npt.NDArray[np.object_]:
        """The reason per row (``None`` where accepted)."""
        table = np.asarray([None, *REASONS[1:]], dtype=object)
        return table[self.code]

    def counts(self) -> dict[str, int]:
        """Rejected rows per reason (only reasons that occurred)."""
        found = np.bincount(self.code, minlength=len(REASONS))
        return {REASONS[k]: int(found[k]) for k in range(1, len(REASONS)) if found[k]}


def _column(table: pd.DataFrame, name: str) -> FloatArray:
    if name not in table.columns:
        return np.full(len(table), np.nan)
    return pd.to_numeric(table[name], errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )


def epoch_seconds(table: pd.DataFrame) -> FloatArray:
    """The ``timestamp`` column as float epoch seconds (NaN where missing or bad)."""
    if "timestamp" not in table.columns:
        return np.full(len(table), np.nan)
    stamps = table["timestamp"]
    if pd.api.types.is_numeric_dtype(stamps):
        return pd.to_numeric(stamps, errors="coerce").to_numpy(
            dtype=np.float64, na_value=np.nan
        )
    if pd.api.types.is_datetime64_any_dtype(stamps):
        parsed = pd.to_datetime(stamps, utc=True)
    else:  # text: ISO 8601 (anything else is no time), never format guessing
        parsed = pd.to_datetime(stamps, utc=True, errors="coerce", format="ISO8601")
    nanos = parsed.astype("datetime64[ns, UTC]").to_numpy(dtype="datetime64[ns]")
    seconds = nanos.astype(np.int64).astype(np.float64) * 1e-9
    seconds[np.isnat(nanos)] = np.nan
    return seconds


_STATE = ("last_t", "pos_t", "lat", "lon", "alt_t", "alt_m")


@dataclass
class StreamHistory:
    """Each stream's last accepted time, position and altitude, between batches."""

    state: dict[str, tuple[float, ...]]

    @classmethod
    def empty(cls) -> StreamHistory:
        return cls({})

    def __len__(self) -> int:
        return len(self.state)


def stream_keys(table: pd.DataFrame) -> tuple[npt.NDArray[np.int64], list[str]]:
    """A group number per row for (party, icao24, source), and each group's key.

    The group is -1 where ``icao24`` is missing or blank.
    """
    n = len(table)
    if "icao24" not in table.columns:
        return np.full(n, -1, dtype=np.int64), []
    parts = [
        table[name].astype("string").fillna("")
        for name in ("party", "icao24", "source")
        if name in table.columns
    ]
    key = parts[0]
    for part in parts[1:]:
        key = key + "\x1f" + part
    codes, uniques = pd.factorize(key)
    group = codes.astype(np.int64)
    missing = table["icao24"].astype("string").fillna("").str.strip() == ""
    group[missing.to_numpy(dtype=bool)] = -1
    return group, [str(u) for u in uniques]


def validate_reports(
    table: pd.DataFrame,
    limits: ValidationLimits | None = None,
    *,
    history: StreamHistory | None = None,
    in_given_order: bool = False,
) -> Verdicts:
    """A verdict for every row of a report table (see the module docstring).

    ``history`` (updated in place) carries the streams' last accepted values from
    earlier tables to this one and on to the next.
    """
    limits = limits or ValidationLimits()
    n = len(table)
    code = np.zeros(n, dtype=np.int8)
    lat, lon = _column(table, "latitude"), _column(table, "longitude")
    gs, alt = _column(table, "groundspeed"), _column(table, "altitude")
    vs = _column(table, "vertical_rate")
    with np.errstate(invalid="ignore"):
        checks = (
            (_LAT, np.abs(lat) > 90.0),
            (_LON, np.abs(lon) > 180.0),
            (_GS, (gs < 0.0) | (gs > limits.max_groundspeed_kt)),
            (_ALT, (alt < limits.min_altitude_ft) | (alt > limits.max_altitude_ft)),
            (_VS, np.abs(vs) > limits.max_abs_vertical_rate_fpm),
        )
    for reason, bad in checks:
        code[(code == OK) & bad] = reason
    for name in _NUMERIC:
        if name in table.columns and not pd.api.types.is_numeric_dtype(table[name]):
            given = table[name].notna().to_numpy(dtype=bool)
            code[(code == OK) & given & np.isnan(_column(table, name))] = _NAN
    group, keys = stream_keys(table)
    code[(code == OK) & (group < 0)] = _NO_ID
    t_s = epoch_seconds(table)
    code[(code == OK) & ~np.isfinite(t_s)] = _NO_TIME
    if in_given_order:
        order = np.argsort(group, kind="stable")
    else:
        order = np.lexsort((np.nan_to_num(t_s, nan=-np.inf), group))
    state = np.full((len(keys), len(_STATE)), np.nan)
    known = history.state if history is not None else {}
    for k, key in enumerate(keys):
        if key in known:
            state[k] = known[key]
    sorted_code = code[order]
    _sequence_checks(
        group[order],
        t_s[order],
        lat[order],
        lon[order],
        ft_to_m(alt[order]),
        kt_to_mps(limits.max_groundspeed_kt),
        limits.jump_slack_m,
        fpm_to_mps(limits.max_vertical_rate_fpm),
        ft_to_m(limits.altitude_slack_ft),
        NAUTICAL_SPHERE_RADIUS_M,
        sorted_code,
        state,
    )
    code[order] = sorted_code
    if history is not None:
        for k, key in enumerate(keys):
            history.state[key] = tuple(float(x) for x in state[k])
    return Verdicts(code)


@numba.njit(cache=True)
def _sequence_checks(  # pragma: no cover - compiled; held to the tests' expectations
    group: npt.NDArray[np.int64],
    t_s: FloatArray,
    lat_deg: FloatArray,
    lon_deg: FloatArray,
    alt_m: FloatArray,
    max_speed_mps: float,
    slack_m: float,
    max_climb_mps: float,
    slack_alt_m: float,
    radius_m: float,
    code: npt.NDArray[np.int8],
    state: FloatArray,
) -> None:
    """Sequence checks over rows sorted by stream.

    ``state`` (streams x 6: last accepted time, position time, latitude, longitude,
    altitude time, altitude) holds each stream's last accepted values; it is read and
    updated in place, so it carries over to the next table.
    """
    rad = math.pi / 180.0
    for k in range(len(group)):
        g = group[k]
        if g < 0 or code[k] != 0:
            continue
        last = state[g]
        t = t_s[k]
        if t < last[0]:
            code[k] = _BACKWARDS
            continue
        has_pos = not (math.isnan(lat_deg[k]) or math.isnan(lon_deg[k]))
        if has_pos and not math.isnan(last[1]):
            dlat = (lat_deg[k] - last[2]) * rad
            dlon = (lon_deg[k] - last[3]) * rad
            h = (
                math.sin(dlat / 2.0) ** 2
                + math.cos(last[2] * rad)
                * math.cos(lat_deg[k] * rad)
                * math.sin(dlon / 2.0) ** 2
            )
            dist = 2.0 * radius_m * math.asin(math.sqrt(min(1.0, h)))
            if dist > max_speed_mps * (t - last[1]) + slack_m:
                code[k] = _JUMP
                continue
        has_alt = not math.isnan(alt_m[k])
        if (
            has_alt
            and not math.isnan(last[4])
            and abs(alt_m[k] - last[5]) > max_climb_mps * (t - last[4]) + slack_alt_m
        ):
            code[k] = _ALT_JUMP
            continue
        last[0] = t
        if has_pos:
            last[1], last[2], last[3] = t, lat_deg[k], lon_deg[k]
        if has_alt:
            last[4], last[5] = t, alt_m[k]
