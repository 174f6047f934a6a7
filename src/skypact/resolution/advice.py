"""Coordinated advisories that clear a conflict, verified by detection itself.

For a conflicting pair, candidate manoeuvres are tried in order of increasing deviation:

- **vertical**, complementary: the higher aircraft climbs and the lower descends (never
  both in the same sense), at the same rate, 500 to 3,000 ft/min;
- **heading**, complementary: both turn right (the rules of the air for converging and
  head-on aircraft), by 10 to 90 degrees;
- **speed**: the faster aircraft slows and the slower speeds up, by 5 to 20 %.

Each candidate is applied to the snapshot and checked with the exact detector: it must
clear the pair over the whole look-ahead, within each aircraft's performance limits, and
preferably create no new conflict with third aircraft. The first candidate that does so
is the advice; if none avoids secondary conflicts, the clearing candidate with the
fewest is given, and its secondary conflicts are named.

A pair that has already lost separation cannot be cleared from t = 0; for it the advice
is the candidate that ends the loss soonest (``exit_s``), secondary conflicts counted
the same way.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

import numpy as np

from skypact.detection.cylinder import CylinderDetector
from skypact.detection.model import ConflictSet
from skypact.geometry.angles import wrap_deg_360
from skypact.geometry.frames import surface_ecef_m
from skypact.tracks.model import StateArrays
from skypact.units import fpm_to_mps

__all__ = [
    "Advisory",
    "ManoeuvreKind",
    "PerformanceLimits",
    "Resolution",
    "resolve_nearby",
    "resolve_pair",
]


class ManoeuvreKind(enum.StrEnum):
    """The kind of a manoeuvre."""

    VERTICAL = "vertical"
    HEADING = "heading"
    SPEED = "speed"


@dataclass(frozen=True, slots=True, kw_only=True)
class PerformanceLimits:
    """What every aircraft can do (SI): the advice never asks for more."""

    max_vs_mps: float = fpm_to_mps(3000.0)
    max_turn_deg: float = 90.0
    min_gs_mps: float = 60.0
    max_gs_mps: float = 350.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Advisory:
    """A manoeuvre for one aircraft: its new state and what it deviates by."""

    aircraft_index: int
    kind: ManoeuvreKind
    trk_deg: float
    gs_mps: float
    vs_mps: float
    deviation: float
    text: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Resolution:
    """The advice for one pair."""

    i: int
    j: int
    advisories: tuple[Advisory, ...]
    resolved: bool
    secondary: tuple[tuple[int, int], ...]
    exit_s: float | None = None
    """For a pair already in loss of separation: when the advice ends it."""


def resolve_pair(
    states: StateArrays,
    i: int,
    j: int,
    *,
    horizontal_m: float,
    vertical_m: float,
    lookahead_s: float,
    limits: PerformanceLimits | None = None,
) -> Resolution:
    """Coordinated advisories for aircraft i and j (see the module docstring)."""
    limits = limits or PerformanceLimits()
    detector = CylinderDetector(horizontal_m=horizontal_m, vertical_m=vertical_m)
    key = (min(i, j), max(i, j))
    found = detector.detect(states, lookahead_s=lookahead_s)
    before = _pairs(found)
    lost_now = _exit(found, key) is not None and _entry(found, key) == 0.0
    baseline_exit = _exit(found, key)
    best: (
        tuple[
            tuple[int, float],
            tuple[Advisory, ...],
            tuple[tuple[int, int], ...],
            float | None,
        ]
        | None
    ) = None
    for advisories in _candidates(states, i, j, limits):
        trial = _apply(states, advisories)
        after_set = detector.detect(trial, lookahead_s=lookahead_s)
        after = _pairs(after_set)
        exit_s = _exit(after_set, key)
        if key in after and not (lost_now and _entry(after_set, key) == 0.0):
            continue
        involved = {i, j}
        new = tuple(sorted(p for p in after - before if involved & set(p)))
        if lost_now:
            exit_s = 0.0 if exit_s is None else exit_s
            if baseline_exit is not None and exit_s >= baseline_exit:
                continue  # no better than doing nothing
            score = (len(new), exit_s)
        else:
            score = (len(new), 0.0)
            if not new:
                return Resolution(
                    i=i, j=j, advisories=advisories, resolved=True, secondary=()
                )
        if best is None or score < best[0]:
            best = (score, advisories, new, exit_s if lost_now else None)
    if best is not None:
        return Resolution(
            i=i,
            j=j,
            advisories=best[1],
            resolved=True,
            secondary=best[2],
            exit_s=best[3],
        )
    return Resolution(i=i, j=j, advisories=(), resolved=False, secondary=())


def resolve_nearby(
    states: StateArrays,
    i: int,
    j: int,
    *,
    horizontal_m: float,
    vertical_m: float,
    lookahead_s: float,
    limits: PerformanceLimits | None = None,
) -> Resolution:
    """:func:`resolve_pair` over only the aircraft that could come within
    ``horizontal_m`` of i or j within the look-ahead, whatever i and j are advised:
    the same advice, at a cost that does not grow with the whole picture (the live
    service advises on every alert raised among ten thousand aircraft).

    An aircraft k is left out when the straight distance between the surface points
    below it and below i (or j) exceeds ``(gs_k + fastest) * lookahead_s +
    horizontal_m``, ``fastest`` being the faster of i's or j's speed and the fastest
    speed the advice may ask for: neither can close that distance in time. The
    straight (chord) distance is never longer than the distance along the surface,
    so nobody who could matter is left out.
    """
    limits = limits or PerformanceLimits()
    points = surface_ecef_m(states.lat_deg, states.lon_deg)
    fastest = max(float(states.gs_mps[i]), float(states.gs_mps[j]), limits.max_gs_mps)
    reach_m = (states.gs_mps + fastest) * lookahead_s + horizontal_m
    near = np.zeros(len(states), dtype=bool)
    for k in (i, j):
        near |= np.linalg.norm(points - points[k], axis=1) <= reach_m
    near[[i, j]] = True
    kept = np.flatnonzero(near)
    local = states.take(kept)
    where = {int(k): n for n, k in enumerate(kept.tolist())}
    found = resolve_pair(
        local,
        where[i],
        where[j],
        horizontal_m=horizontal_m,
        vertical_m=vertical_m,
        lookahead_s=lookahead_s,
        limits=limits,
    )
    return Resolution(
        i=i,
        j=j,
        advisories=tuple(
            replace(a, aircraft_index=int(kept[a.aircraft_index]))
            for a in found.advisories
        ),
        resolved=found.resolved,
        secondary=tuple((int(kept[a]), int(kept[b])) for a, b in found.secondary),
        exit_s=found.exit_s,
    )


def _entry(conflicts: ConflictSet, key: tuple[int, int]) -> float | None:
    hit = np.flatnonzero((conflicts.i == key[0]) & (conflicts.j == key[1]))
    return float(conflicts.t_in_s[hit[0]]) if len(hit) else None


def _exit(conflicts: ConflictSet, key: tuple[int, int]) -> float | None:
    hit = np.flatnonzero((conflicts.i == key[0]) & (conflicts.j == key[1]))
    return float(conflicts.t_out_s[hit[0]]) if len(hit) else None


def _pairs(conflicts: ConflictSet) -> set[tuple[int, int]]:
    return set(zip(conflicts.i.tolist(), conflicts.j.tolist(), strict=True))


def _candidates(
    states: StateArrays, i: int, j: int, limits: PerformanceLimits
) -> list[tuple[Advisory, ...]]:
    """Complementary manoeuvre pairs, by increasing normalised deviation."""
    options: list[tuple[float, tuple[Advisory, ...]]] = []
    upper, lower = (i, j) if states.alt_m[i] >= states.alt_m[j] else (j, i)
    for rate_fpm in (500.0, 1000.0, 1500.0, 2000.0, 2500.0, 3000.0):
        rate = fpm_to_mps(rate_fpm)
        if rate > limits.max_vs_mps:
            break
        options.append(
            (
                rate_fpm / 3000.0,
                (
                    _advice(states, upper, ManoeuvreKind.VERTICAL, vs=rate, dev=rate_fpm,
                            text=f"climb at {rate_fpm:.0f} ft/min"),
                    _advice(states, lower, ManoeuvreKind.VERTICAL, vs=-rate, dev=rate_fpm,
                            text=f"descend at {rate_fpm:.0f} ft/min"),
                ),
            )
        )  # fmt: skip
    for turn in (10.0, 20.0, 30.0, 45.0, 60.0, 75.0, 90.0):
        if turn > limits.max_turn_deg:
            break
        options.append(
            (
                turn / 90.0,
                tuple(
                    _advice(states, k, ManoeuvreKind.HEADING,
                            trk=float(states.trk_deg[k]) + turn, dev=turn,
                            text=f"turn right {turn:.0f} deg")
                    for k in (i, j)
                ),
            )
        )  # fmt: skip
    fast, slow = (i, j) if states.gs_mps[i] >= states.gs_mps[j] else (j, i)
    for share in (0.05, 0.10, 0.15, 0.20):
        slower = max(limits.min_gs_mps, float(states.gs_mps[fast]) * (1.0 - share))
        faster = min(limits.max_gs_mps, float(states.gs_mps[slow]) * (1.0 + share))
        options.append(
            (
                share / 0.2,
                (
                    _advice(states, fast, ManoeuvreKind.SPEED, gs=slower, dev=share,
                            text=f"slow down {share:.0%}"),
                    _advice(states, slow, ManoeuvreKind.SPEED, gs=faster, dev=share,
                            text=f"speed up {share:.0%}"),
                ),
            )
        )  # fmt: skip
    options.sort(key=lambda option: option[0])
    return [advisories for _, advisories in options]


def _advice(
    states: StateArrays,
    k: int,
    kind: ManoeuvreKind,
    *,
    dev: float,
    text: str,
    trk: float | None = None,
    gs: float | None = None,
    vs: float | None = None,
) -> Advisory:
    return Advisory(
        aircraft_index=k,
        kind=kind,
        trk_deg=float(wrap_deg_360(np.array([trk]))[0])
        if trk is not None
        else float(states.trk_deg[k]),
        gs_mps=gs if gs is not None else float(states.gs_mps[k]),
        vs_mps=vs if vs is not None else float(states.vs_mps[k]),
        deviation=dev,
        text=text,
    )


def _apply(states: StateArrays, advisories: tuple[Advisory, ...]) -> StateArrays:
    trk = states.trk_deg.copy()
    gs = states.gs_mps.copy()
    vs = states.vs_mps.copy()
    for advisory in advisories:
        trk[advisory.aircraft_index] = advisory.trk_deg
        gs[advisory.aircraft_index] = advisory.gs_mps
        vs[advisory.aircraft_index] = advisory.vs_mps
    return replace(states, trk_deg=trk, gs_mps=gs, vs_mps=vs)
