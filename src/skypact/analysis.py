"""Offline replay of a recording through detection and alerting (``skypact analyze``).

At each distinct time of the recording the picture is rebuilt: each aircraft's latest
report no older than ``stale_s``, dead-reckoned along its geodesic to that time. The
picture goes through the alert levels of a profile (:func:`raw_levels`) and every pair
through the alert lifecycle, exactly as the live service will do. Outputs:

- ``alert_levels``: ``timestamp, aircraft_a, aircraft_b, level`` for every time and
  pair whose displayed alert level is above 0;
- ``alerts``: one row per alert: the pair, first and last time, highest level, warning
  time, and the closest approach seen in the replayed picture during the alert; an
  aircraft squawking an emergency code (7500/7600/7700) raises an alert of its own at
  the most severe level (``kind`` ``emergency-7700`` and so on, no second aircraft) for
  as long as it squawks it;
- ``encounters``: every pair that lost the separation minima in the picture, with the
  number of cycles it did so (a loss of a single cycle is what M-of-N confirmation
  deliberately does not alert on), whether it was alerted (or suppressed by the
  agreement), and the time and distances of its closest approach
  measured from the reports themselves (each aircraft interpolated linearly in time
  where its coverage has no gap, geodesic horizontally).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from pyproj import Geod

from skypact.alerting.events import (
    EMERGENCY_CODES,
    EventKind,
    LineSpec,
    ZoneSpec,
    crossings,
    inside_zone,
)
from skypact.alerting.levels import AlertProfile
from skypact.alerting.lifecycle import (
    Alert,
    AlertState,
)
from skypact.alerting.monitor import AlertMonitor
from skypact.alerting.suppression import Suppression
from skypact.detection.base import PairFilter
from skypact.detection.cylinder import CylinderDetector
from skypact.tracks.model import StateArrays
from skypact.units import m_to_ft, m_to_nm

__all__ = ["ReplayResult", "emergency_alerts", "events_table", "replay"]

_WGS84 = Geod(ellps="WGS84")
_FINAL = (AlertState.CLEARED, AlertState.EXPIRED)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReplayResult:
    """The three output tables and how many time steps were replayed."""

    alert_levels: pd.DataFrame
    alerts: pd.DataFrame
    encounters: pd.DataFrame
    steps: int


def replay(
    reports: StateArrays,
    profile: AlertProfile,
    *,
    horizontal_m: float,
    vertical_m: float,
    groups: dict[str, str] | None = None,
    suppression: Suppression | None = None,
    stale_s: float = 60.0,
) -> ReplayResult:
    """Replay time-sorted reports (see the module docstring).

    Args:
        reports: every report of the recording, sorted by time.
        profile: the alert levels and anti-flapping parameters.
        horizontal_m, vertical_m: the separation minima (for encounters).
        groups: party -> monitoring group (a bloc, or the party itself); pairs in the
            same group are not monitored. None monitors every pair.
        suppression: the agreement's tolerances, exemptions and inhibition zones,
            applied to alerting (encounters always measure the unadjusted picture).
        stale_s: reports older than this leave the picture.
    """
    ids, codes = np.unique(reports.aircraft_id.astype(str), return_inverse=True)
    n_aircraft = len(ids)
    party_of = np.full(n_aircraft, "", dtype=object)
    if reports.party is not None:
        party_of[codes] = reports.party
    last_t = np.full(n_aircraft, -np.inf)
    row_of = np.zeros(n_aircraft, dtype=np.int64)
    steps = np.unique(reports.t_s)
    bounds = np.searchsorted(reports.t_s, steps, side="right")
    serial = 0

    def new_id() -> str:
        nonlocal serial
        serial += 1
        return f"A{serial:05d}"

    monitor = AlertMonitor(
        profile=profile, new_id=new_id, groups=groups, suppression=suppression
    )
    finished: list[tuple[Alert, float, float, float]] = []
    closest: dict[str, tuple[float, float, float]] = {}
    levels_rows: list[tuple[float, int, int, int]] = []
    los_cycles: dict[tuple[int, int], int] = {}
    code_of = {str(name): k for k, name in enumerate(ids.tolist())}
    begin = 0
    los_pairs = PairFilter.ALL if groups is None else PairFilter.INTER_PARTY
    for now, end in zip(steps.tolist(), bounds.tolist(), strict=True):
        rows = np.arange(begin, end)
        begin = end
        last_t[codes[rows]] = now
        row_of[codes[rows]] = rows
        alive = np.flatnonzero(now - last_t <= stale_s)
        states = _picture(reports, row_of[alive], alive, now, party_of)
        cycle = monitor.step(states, ids[alive], now)
        if len(alive) > 1:
            grouped = states
            if groups is not None:
                grouped = replace(
                    states,
                    party=np.array(
                        [groups.get(str(p), str(p)) for p in party_of[alive]],
                        dtype=object,
                    ),
                )
            base = CylinderDetector(
                horizontal_m=horizontal_m, vertical_m=vertical_m, pairs=los_pairs
            ).detect(grouped, lookahead_s=1.0)
            for i, j, t_in in zip(
                base.i.tolist(), base.j.tolist(), base.t_in_s.tolist(), strict=True
            ):
                if t_in == 0.0:
                    ai, aj = int(alive[i]), int(alive[j])
                    key_los = (min(ai, aj), max(ai, aj))
                    los_cycles[key_los] = los_cycles.get(key_los, 0) + 1
        for alert in cycle.changed:
            if alert.state in _FINAL:
                finished.append((alert, *closest.get(alert.alert_id, (np.nan,) * 3)))
        for alert in monitor.alerts:
            if alert.state is not AlertState.ACTIVE:
                continue
            key = (code_of[alert.aircraft[0]], code_of[alert.aircraft[1]])
            levels_rows.append((now, key[0], key[1], alert.level))
            h, v = _distance(states, alive, key)
            best = closest.get(alert.alert_id)
            if best is None or h < best[1]:
                closest[alert.alert_id] = (now, h, v)
    for alert in monitor.alerts:
        if alert.state is AlertState.ACTIVE:
            finished.append((alert, *closest.get(alert.alert_id, (np.nan,) * 3)))
    return ReplayResult(
        alert_levels=_levels_table(levels_rows, ids),
        alerts=_alerts_table(finished, float(steps[-1]) if len(steps) else 0.0),
        encounters=_encounters(
            reports,
            codes,
            ids,
            los_cycles,
            vertical_m,
            stale_s,
            alerted={(str(f[0].aircraft[0]), str(f[0].aircraft[1])) for f in finished},
        ),
        steps=len(steps),
    )


def _picture(
    reports: StateArrays,
    rows: np.ndarray,
    alive: np.ndarray,
    now: float,
    party_of: np.ndarray,
) -> StateArrays:
    dt_s = now - reports.t_s[rows]
    lat = reports.lat_deg[rows].copy()
    lon = reports.lon_deg[rows].copy()
    alt = reports.alt_m[rows] + reports.vs_mps[rows] * dt_s
    moving = dt_s > 0
    if moving.any():
        new_lon, new_lat, _ = _WGS84.fwd(
            lon[moving], lat[moving], reports.trk_deg[rows][moving],
            reports.gs_mps[rows][moving] * dt_s[moving],
        )  # fmt: skip
        lat[moving] = new_lat
        lon[moving] = new_lon
    return StateArrays(
        aircraft_id=reports.aircraft_id[rows],
        t_s=np.full(len(rows), now),
        lat_deg=lat,
        lon_deg=lon,
        alt_m=alt,
        gs_mps=reports.gs_mps[rows],
        trk_deg=reports.trk_deg[rows],
        vs_mps=reports.vs_mps[rows],
        party=party_of[alive],
    )


def _distance(
    states: StateArrays, alive: np.ndarray, key: tuple[int, int]
) -> tuple[float, float]:
    i = int(np.searchsorted(alive, key[0]))
    j = int(np.searchsorted(alive, key[1]))
    _, _, h = _WGS84.inv(
        states.lon_deg[i], states.lat_deg[i], states.lon_deg[j], states.lat_deg[j]
    )
    return float(h), float(abs(states.alt_m[i] - states.alt_m[j]))


def _utc(t_s: float) -> pd.Timestamp:
    return pd.Timestamp(dt.datetime.fromtimestamp(t_s, dt.UTC))


def _levels_table(
    rows: list[tuple[float, int, int, int]], ids: np.ndarray
) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "timestamp": [_utc(r[0]) for r in rows],
            "aircraft_a": pd.Series([str(ids[r[1]]) for r in rows], dtype=object),
            "aircraft_b": pd.Series([str(ids[r[2]]) for r in rows], dtype=object),
            "level": pd.Series([r[3] for r in rows], dtype="int64"),
        }
    )


ALERT_COLUMNS = [
    "alert_id", "kind", "aircraft_a", "aircraft_b", "parties", "first_timestamp",
    "last_timestamp", "end", "highest_level", "warning_time_s", "cpa_timestamp",
    "h_cpa_nm", "v_cpa_ft",
]  # fmt: skip


def emergency_alerts(
    reports: StateArrays, squawk: np.ndarray, *, level: int
) -> pd.DataFrame:
    """One alert per spell of an aircraft squawking an emergency code (7500/7600/7700).

    A spell starts with the first report carrying the code and ends with the first
    later report carrying another code (``cleared``), or is ``open at end``. Reports
    without a squawk do not end a spell. Alerts are numbered ``E00001``... in time
    order, at ``level`` (the profile's most severe).
    """
    ids = reports.aircraft_id.astype(str)
    party = (
        reports.party if reports.party is not None else np.full(len(ids), "", object)
    )
    codes = np.array([_code(value) for value in squawk], dtype=object)
    spells: list[dict[str, object]] = []
    open_spell: dict[str, dict[str, object]] = {}
    for k in np.lexsort((reports.t_s, ids)).tolist():
        code, aircraft = str(codes[k]), str(ids[k])
        if not code:
            continue
        at = _utc(float(reports.t_s[k]))
        spell = open_spell.get(aircraft)
        if spell is not None:
            spell["last_timestamp"] = at
            if spell["code"] == code:
                continue
            spell["end"] = "cleared"
            del open_spell[aircraft]
        if code in EMERGENCY_CODES:
            spell = {
                "code": code,
                "kind": f"emergency-{code}",
                "aircraft_a": aircraft,
                "aircraft_b": "",
                "parties": str(party[k]),
                "first_timestamp": at,
                "last_timestamp": at,
                "end": "open at end",
                "highest_level": level,
            }
            spells.append(spell)
            open_spell[aircraft] = spell
    table = pd.DataFrame(spells, columns=[*ALERT_COLUMNS, "code"]).drop(columns="code")
    table = table.sort_values(["first_timestamp", "aircraft_a"], kind="stable")
    table["alert_id"] = [f"E{k:05d}" for k in range(1, len(table) + 1)]
    return table.reset_index(drop=True)


def _alerts_table(
    finished: list[tuple[Alert, float, float, float]], last_s: float
) -> pd.DataFrame:
    rows = []
    for alert, t_cpa, h_m, v_m in sorted(finished, key=lambda f: f[0].alert_id):
        assert alert.raised_at_s is not None
        ended = alert.ended_at_s if alert.ended_at_s is not None else last_s
        rows.append(
            {
                "alert_id": alert.alert_id,
                "kind": "conflict",
                "aircraft_a": alert.aircraft[0],
                "aircraft_b": alert.aircraft[1],
                "parties": "+".join(sorted(alert.parties)),
                "first_timestamp": _utc(alert.raised_at_s),
                "last_timestamp": _utc(ended),
                "end": alert.state.value if alert.state in _FINAL else "open at end",
                "highest_level": alert.highest_level,
                "warning_time_s": alert.warning_time_s,
                "cpa_timestamp": _utc(t_cpa) if np.isfinite(t_cpa) else pd.NaT,
                "h_cpa_nm": m_to_nm(h_m),
                "v_cpa_ft": m_to_ft(v_m),
            }
        )
    return pd.DataFrame(rows, columns=ALERT_COLUMNS)


def _encounters(
    reports: StateArrays,
    codes: np.ndarray,
    ids: np.ndarray,
    los_cycles: dict[tuple[int, int], int],
    vertical_m: float,
    max_gap_s: float,
    *,
    alerted: set[tuple[str, str]],
) -> pd.DataFrame:
    """Closest approach of each pair measured from its reports.

    Each aircraft is interpolated linearly on a 1 s grid (refined to 0.01 s around the
    minimum), only where its reports are at most ``max_gap_s`` apart: a coverage gap is
    not filled with a made-up straight line. Where the two never overlap like that, the
    measured columns are empty.
    """
    rows = []
    for (a, b), cycles in sorted(los_cycles.items()):
        row: dict[str, object] = {
            "aircraft_a": str(ids[a]),
            "aircraft_b": str(ids[b]),
            "los_cycles": cycles,
            "alerted": (str(ids[a]), str(ids[b])) in alerted,
            "cpa_timestamp": pd.NaT,
            "h_cpa_nm": np.nan,
            "v_cpa_ft": np.nan,
            "cpa_latitude": np.nan,
            "cpa_longitude": np.nan,
            "cpa_altitude_ft": np.nan,
        }
        ra = np.flatnonzero(codes == a)
        rb = np.flatnonzero(codes == b)
        t0 = max(reports.t_s[ra[0]], reports.t_s[rb[0]])
        t1 = min(reports.t_s[ra[-1]], reports.t_s[rb[-1]])
        grid = np.arange(t0, t1 + 1e-9, 1.0) if t1 >= t0 else np.empty(0)
        usable = _covered(reports.t_s[ra], grid, max_gap_s) & _covered(
            reports.t_s[rb], grid, max_gap_s
        )
        if usable.any():
            grid = grid[usable]
            lat_a, lon_a, alt_a = _interpolate(reports, ra, grid)
            lat_b, lon_b, alt_b = _interpolate(reports, rb, grid)
            _, _, h = _WGS84.inv(lon_a, lat_a, lon_b, lat_b)
            h = np.asarray(h)
            within = np.abs(alt_a - alt_b) < vertical_m
            candidates = (
                np.flatnonzero(within) if within.any() else np.arange(len(grid))
            )
            k = int(candidates[np.argmin(h[candidates])])
            fine = np.arange(grid[k] - 1.0, grid[k] + 1.0 + 1e-9, 0.01)
            fine = fine[
                _covered(reports.t_s[ra], fine, max_gap_s)
                & _covered(reports.t_s[rb], fine, max_gap_s)
            ]
            lat_a, lon_a, alt_a = _interpolate(reports, ra, fine)
            lat_b, lon_b, alt_b = _interpolate(reports, rb, fine)
            _, _, h_fine = _WGS84.inv(lon_a, lat_a, lon_b, lat_b)
            h_fine = np.asarray(h_fine)
            m = int(np.argmin(h_fine))
            row["cpa_timestamp"] = _utc(float(fine[m]))
            row["h_cpa_nm"] = m_to_nm(float(h_fine[m]))
            row["v_cpa_ft"] = m_to_ft(float(abs(alt_a[m] - alt_b[m])))
            # The midpoint of the pair at closest approach (where it happened).
            row["cpa_latitude"] = float((lat_a[m] + lat_b[m]) / 2.0)
            row["cpa_longitude"] = float(_mid_longitude(lon_a[m], lon_b[m]))
            row["cpa_altitude_ft"] = m_to_ft(float((alt_a[m] + alt_b[m]) / 2.0))
        rows.append(row)
    columns = [
        "aircraft_a", "aircraft_b", "los_cycles", "alerted", "cpa_timestamp",
        "h_cpa_nm", "v_cpa_ft", "cpa_latitude", "cpa_longitude", "cpa_altitude_ft",
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def _mid_longitude(lon_a: float, lon_b: float) -> float:
    """Mean of two longitudes, across the antimeridian too."""
    delta = (lon_b - lon_a + 180.0) % 360.0 - 180.0
    return (lon_a + delta / 2.0 + 180.0) % 360.0 - 180.0


def _covered(times: np.ndarray, grid: np.ndarray, max_gap_s: float) -> np.ndarray:
    """Grid times lying between two reports at most ``max_gap_s`` apart (or on one)."""
    after = np.searchsorted(times, grid, side="left")
    inside = (after > 0) & (after < len(times))
    exact = np.zeros(len(grid), dtype=bool)
    hit = after < len(times)
    exact[hit] = times[after[hit]] == grid[hit]
    gap = np.full(len(grid), np.inf)
    gap[inside] = times[after[inside]] - times[after[inside] - 1]
    return exact | (gap <= max_gap_s)


def _interpolate(
    reports: StateArrays, rows: np.ndarray, grid: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    t = reports.t_s[rows]
    lon = np.degrees(np.unwrap(np.radians(reports.lon_deg[rows])))
    lat = np.interp(grid, t, reports.lat_deg[rows])
    lon_i = (np.interp(grid, t, lon) + 180.0) % 360.0 - 180.0
    alt = np.interp(grid, t, reports.alt_m[rows])
    return lat, lon_i, alt


def events_table(
    reports: StateArrays,
    *,
    lines: tuple[LineSpec, ...] = (),
    zones: tuple[ZoneSpec, ...] = (),
    squawk: np.ndarray | None = None,
) -> pd.DataFrame:
    """Line crossings, zone entries and exits, and emergency squawks of each aircraft.

    Worked out between each aircraft's consecutive reports (not the dead-reckoned
    picture), so every event is anchored on a real report: its ``timestamp`` is that
    of the report after the crossing or entry.
    """
    rows: list[dict[str, object]] = []
    ids = reports.aircraft_id.astype(str)
    order = np.lexsort((reports.t_s, ids))  # by aircraft, then time
    same = np.zeros(len(order), dtype=bool)
    same[1:] = ids[order][1:] == ids[order][:-1]
    prev, now = order[:-1][same[1:]], order[1:][same[1:]]
    party = (
        reports.party if reports.party is not None else np.full(len(ids), "", object)
    )

    def add(k: int, kind: EventKind, ref: str, detail: str) -> None:
        rows.append(
            {
                "timestamp": _utc(float(reports.t_s[k])),
                "aircraft": ids[k],
                "party": str(party[k]),
                "kind": kind.value,
                "ref": ref,
                "detail": detail,
                "latitude": float(reports.lat_deg[k]),
                "longitude": float(reports.lon_deg[k]),
                "altitude_ft": m_to_ft(float(reports.alt_m[k])),
            }
        )

    for line in lines:
        hit, side = crossings(
            line, reports.lat_deg[prev], reports.lon_deg[prev],
            reports.lat_deg[now], reports.lon_deg[now],
        )  # fmt: skip
        for k in np.flatnonzero(hit):
            owner = line.left_side if side[k] == "left" else line.right_side
            into = f" (into the {owner} side)" if owner else ""
            add(
                int(now[k]), EventKind.LINE_CROSSING, line.id, f"to the {side[k]}{into}"
            )
    for zone in zones:
        inside = np.zeros(len(reports), dtype=bool)
        for t in np.unique(reports.t_s):
            at = reports.t_s == t
            inside[at] = inside_zone(
                zone,
                reports.lat_deg[at],
                reports.lon_deg[at],
                reports.alt_m[at],
                float(t),
            )
        for k in np.flatnonzero(inside[now] & ~inside[prev]):
            add(int(now[k]), EventKind.ZONE_ENTRY, zone.id, zone.name)
        for k in np.flatnonzero(~inside[now] & inside[prev]):
            add(int(now[k]), EventKind.ZONE_EXIT, zone.id, zone.name)
        first = order[~same]
        for k in first[inside[first]]:
            add(
                int(k),
                EventKind.ZONE_ENTRY,
                zone.id,
                f"{zone.name} (first seen inside)",
            )
    if squawk is not None:
        codes = np.array([_code(value) for value in squawk], dtype=object)
        emergency = np.isin(codes, list(EMERGENCY_CODES))
        started = np.zeros(len(reports), dtype=bool)
        started[order[~same]] = emergency[order[~same]]
        started[now] = emergency[now] & (codes[now] != codes[prev])
        for k in np.flatnonzero(started):
            code = str(codes[k])
            add(int(k), EventKind.EMERGENCY, code, EMERGENCY_CODES[code])
    columns = [
        "timestamp", "aircraft", "party", "kind", "ref", "detail", "latitude",
        "longitude", "altitude_ft",
    ]  # fmt: skip
    table = pd.DataFrame(rows, columns=columns)
    return table.sort_values(
        ["timestamp", "aircraft", "kind"], kind="stable"
    ).reset_index(drop=True)


def _code(value: object) -> str:
    """A squawk as four octal digits ('7700'), whether read as text or number."""
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return ""
    text = str(value).strip()
    if text.endswith(".0"):
        text = text[:-2]
    return text.zfill(4) if text.isdigit() else text
