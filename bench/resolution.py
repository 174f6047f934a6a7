"""Resolution benchmark: SkyPact's ``resolve_pair`` against BlueSky's MVP.

Run: ``.venv/bin/python bench/resolution.py [--encounters 1000] [--seed 1]``
(BlueSky 1.1.1 must be installed: ``bash scripts/setup --group bench``).

Encounters
----------
Encounter k is a dense random Levant snapshot,
``random_snapshot(--aircraft, seed=seed * 1_000_000 + k)`` (2,000 aircraft by default, so
third aircraft are close enough to matter). SkyPact's ``CylinderDetector`` (5 NM,
1,000 ft, 300 s) finds its conflicts, and one pair is drawn at random among the
*predicted* conflicts (``t_in_s > 0``). Pairs that have already lost separation are not
drawn: no manoeuvre can clear them from t = 0 (SkyPact then only shortens the loss), so
they say nothing about the "resolved" share. Their share of the pool is printed.

What is measured
----------------
Both resolvers get the same pair of the same snapshot. Their new track, ground speed and
vertical speed for the two aircraft are written into a copy of the ``StateArrays`` and
SkyPact's exact ``CylinderDetector`` is run again on the whole snapshot, here in the
bench (independently of ``resolve_pair``'s own check):

* *resolved*: the pair is no longer in conflict within the look-ahead;
* *secondary conflicts*: pairs present after the manoeuvre but not before that involve
  one of the two manoeuvring aircraft (a third aircraft is the other member).

Deviations are per aircraft of the pair (two per encounter, zero where unchanged):
heading change |d trk| in degrees (wrapped to 180), |d gs| in knots, |d vs| in ft/min.

BlueSky's MVP is called through ``bench/_bluesky_mvp.py`` with BlueSky's default
switches (heading and speed combined, horizontal only, no priority rules, 1.01 margin),
and it is passed only the chosen pair's conflict (in both orientations, so both aircraft
manoeuvre cooperatively), computed by BlueSky's own C++ detector on the two aircraft.
MVP's velocities are capped by SkyPact's default ``PerformanceLimits`` (60-350 m/s,
+-3,000 ft/min), the same envelope ``resolve_pair`` respects.

The Markdown report goes to stdout, progress to stderr.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from _bluesky_mvp import Envelope, MvpPair
from skypact.detection.cylinder import CylinderDetector
from skypact.detection.model import ConflictSet
from skypact.geometry.angles import wrap_deg_180
from skypact.resolution.advice import PerformanceLimits, Resolution, resolve_pair
from skypact.sim.generator import random_snapshot
from skypact.tracks.ingest.table import states_from_table
from skypact.tracks.model import StateArrays
from skypact.units import ft_to_m, mps_to_fpm, mps_to_kt, nm_to_m

FloatArray = npt.NDArray[np.float64]
Pair = tuple[int, int]

HORIZONTAL_M = nm_to_m(5.0)
VERTICAL_M = ft_to_m(1000.0)
LOOKAHEAD_S = 300.0


@dataclass
class Tally:
    """Outcome of one resolver over all encounters."""

    name: str
    encounters: int = 0
    resolved: int = 0
    with_secondary: int = 0
    secondary: int = 0
    no_action: int = 0  # the resolver gave no manoeuvre
    dtrk_deg: list[float] = field(default_factory=list)  # per aircraft of the pair
    dgs_kt: list[float] = field(default_factory=list)
    dvs_fpm: list[float] = field(default_factory=list)
    seconds: float = 0.0  # time inside the resolver

    def add(
        self,
        before: StateArrays,
        after: StateArrays,
        pair: Pair,
        cleared: bool,
        new: set[Pair],
    ) -> None:
        self.encounters += 1
        self.resolved += cleared
        self.with_secondary += bool(new)
        self.secondary += len(new)
        for k in pair:
            dtrk = wrap_deg_180(np.array([after.trk_deg[k] - before.trk_deg[k]]))[0]
            self.dtrk_deg.append(abs(float(dtrk)))
            self.dgs_kt.append(
                abs(mps_to_kt(float(after.gs_mps[k] - before.gs_mps[k])))
            )
            self.dvs_fpm.append(
                abs(mps_to_fpm(float(after.vs_mps[k] - before.vs_mps[k])))
            )


@dataclass
class SkyPactExtra:
    """SkyPact-only details: kinds, per-kind deviation, self-check agreement."""

    kinds: dict[str, int] = field(default_factory=dict)  # encounters per kind mix
    deviation: dict[str, list[float]] = field(default_factory=dict)  # per advisory
    claimed_resolved: int = 0
    claimed_secondary: int = 0
    disagree_resolved: int = 0  # resolve_pair's `resolved` != bench re-run
    disagree_secondary: int = 0  # resolve_pair's `secondary` != bench re-run


def pairs_of(conflicts: ConflictSet) -> set[Pair]:
    return set(zip(conflicts.i.tolist(), conflicts.j.tolist(), strict=True))


def with_velocities(
    states: StateArrays,
    idx: Pair,
    trk_deg: FloatArray,
    gs_mps: FloatArray,
    vs_mps: FloatArray,
) -> StateArrays:
    """A copy of ``states`` with new velocities for the two aircraft ``idx``."""
    trk, gs, vs = states.trk_deg.copy(), states.gs_mps.copy(), states.vs_mps.copy()
    for n, k in enumerate(idx):
        trk[k], gs[k], vs[k] = trk_deg[n], gs_mps[n], vs_mps[n]
    return replace(states, trk_deg=trk, gs_mps=gs, vs_mps=vs)


def apply_resolution(states: StateArrays, res: Resolution) -> StateArrays:
    """Apply SkyPact's advisories (independently of resolve_pair's own helper)."""
    trk, gs, vs = states.trk_deg.copy(), states.gs_mps.copy(), states.vs_mps.copy()
    for adv in res.advisories:
        k = adv.aircraft_index
        trk[k], gs[k], vs[k] = adv.trk_deg, adv.gs_mps, adv.vs_mps
    return replace(states, trk_deg=trk, gs_mps=gs, vs_mps=vs)


def outcome(
    detector: CylinderDetector, after: StateArrays, before: set[Pair], key: Pair
) -> tuple[bool, set[Pair]]:
    """(pair cleared, new conflicts involving the pair) from an exact re-run."""
    now = pairs_of(detector.detect(after, lookahead_s=LOOKAHEAD_S))
    involved = set(key)
    new = {p for p in now - before if involved & set(p)}
    return key not in now, new


def mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else float("nan")


def run(n_encounters: int, seed: int, n_aircraft: int) -> str:
    detector = CylinderDetector(horizontal_m=HORIZONTAL_M, vertical_m=VERTICAL_M)
    limits = PerformanceLimits()
    mvp = MvpPair(
        horizontal_m=HORIZONTAL_M,
        vertical_m=VERTICAL_M,
        lookahead_s=LOOKAHEAD_S,
        envelope=Envelope(
            min_gs_mps=limits.min_gs_mps,
            max_gs_mps=limits.max_gs_mps,
            min_vs_mps=-limits.max_vs_mps,
            max_vs_mps=limits.max_vs_mps,
        ),
    )
    sky, bsky = Tally("SkyPact `resolve_pair`"), Tally("BlueSky 1.1.1 MVP")
    extra = SkyPactExtra()
    pool_pairs = pool_los = 0
    mvp_undetected = 0
    t_start = time.perf_counter()
    k = 0
    while sky.encounters < n_encounters:
        snap_seed = seed * 1_000_000 + k
        k += 1
        states = states_from_table(random_snapshot(n_aircraft, seed=snap_seed))
        found = detector.detect(states, lookahead_s=LOOKAHEAD_S)
        predicted = np.flatnonzero(found.t_in_s > 0.0)
        pool_pairs += len(found.i)
        pool_los += len(found.i) - len(predicted)
        if not len(predicted):
            continue
        pick = int(np.random.default_rng(snap_seed).choice(predicted))
        key: Pair = (int(found.i[pick]), int(found.j[pick]))
        before = pairs_of(found)

        # SkyPact
        t0 = time.perf_counter()
        res = resolve_pair(
            states,
            key[0],
            key[1],
            horizontal_m=HORIZONTAL_M,
            vertical_m=VERTICAL_M,
            lookahead_s=LOOKAHEAD_S,
            limits=limits,
        )
        sky.seconds += time.perf_counter() - t0
        after = apply_resolution(states, res)
        cleared, new = outcome(detector, after, before, key)
        sky.add(states, after, key, cleared, new)
        sky.no_action += not res.advisories
        extra.claimed_resolved += res.resolved
        extra.claimed_secondary += len(res.secondary)
        extra.disagree_resolved += res.resolved != cleared
        extra.disagree_secondary += set(res.secondary) != new
        mix = "+".join(sorted({str(a.kind) for a in res.advisories})) or "none"
        extra.kinds[mix] = extra.kinds.get(mix, 0) + 1
        for adv in res.advisories:
            extra.deviation.setdefault(str(adv.kind), []).append(adv.deviation)

        # BlueSky MVP, same pair of the same snapshot
        idx = np.array(key)
        t0 = time.perf_counter()
        out = mvp.resolve(
            states.lat_deg[idx],
            states.lon_deg[idx],
            states.alt_m[idx],
            states.gs_mps[idx],
            states.trk_deg[idx],
            states.vs_mps[idx],
        )
        bsky.seconds += time.perf_counter() - t0
        mvp_undetected += not out.detected
        bsky.no_action += not out.detected
        after = with_velocities(states, key, out.trk_deg, out.gs_mps, out.vs_mps)
        cleared, new = outcome(detector, after, before, key)
        bsky.add(states, after, key, cleared, new)

        if sky.encounters % 100 == 0:
            print(
                f"{sky.encounters}/{n_encounters} encounters "
                f"({time.perf_counter() - t_start:.0f} s)",
                file=sys.stderr,
            )
    wall = time.perf_counter() - t_start

    lines = [
        "# Resolution benchmark: SkyPact vs BlueSky MVP",
        "",
        f"{sky.encounters} encounters, one random predicted conflict (5 NM / 1,000 ft / "
        f"300 s) per random Levant snapshot of {n_aircraft:,} aircraft "
        f"(`random_snapshot(n, seed={seed} * 1_000_000 + k)`, {k} snapshots). "
        f"Pairs already in loss of separation were not drawn: {pool_los:,} of "
        f"{pool_pairs:,} conflicts in the snapshots "
        f"({100.0 * pool_los / max(pool_pairs, 1):.1f} %).",
        "",
        "Resolved = the pair is gone when SkyPact's `CylinderDetector` is re-run on the "
        "whole snapshot with the manoeuvre applied (checked in the bench). Secondary = "
        "new conflicts between a pair aircraft and a third aircraft. Deviations: mean "
        "over both aircraft of every encounter, zero where unchanged.",
        "",
        "| | SkyPact | BlueSky MVP |",
        "|---|---:|---:|",
    ]
    rows: list[tuple[str, str, str]] = [
        ("encounters", f"{sky.encounters}", f"{bsky.encounters}"),
        (
            "resolved %",
            f"{100.0 * sky.resolved / sky.encounters:.1f}",
            f"{100.0 * bsky.resolved / bsky.encounters:.1f}",
        ),
        (
            "mean heading change (deg)",
            f"{mean(sky.dtrk_deg):.2f}",
            f"{mean(bsky.dtrk_deg):.2f}",
        ),
        (
            "mean abs speed change (kt)",
            f"{mean(sky.dgs_kt):.2f}",
            f"{mean(bsky.dgs_kt):.2f}",
        ),
        (
            "mean abs vs change (fpm)",
            f"{mean(sky.dvs_fpm):.0f}",
            f"{mean(bsky.dvs_fpm):.0f}",
        ),
        (
            "encounters with secondary conflicts",
            f"{sky.with_secondary}",
            f"{bsky.with_secondary}",
        ),
        ("total secondary conflicts", f"{sky.secondary}", f"{bsky.secondary}"),
        ("encounters with no manoeuvre", f"{sky.no_action}", f"{bsky.no_action}"),
        (
            "time in resolver (ms / encounter)",
            f"{1e3 * sky.seconds / sky.encounters:.1f}",
            f"{1e3 * bsky.seconds / bsky.encounters:.2f}",
        ),
    ]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    target = sky.resolved >= 0.99 * sky.encounters and sky.secondary < bsky.secondary
    lines += [
        "",
        f"Target (>= 99 % resolved and fewer secondary conflicts than MVP): "
        f"{'met' if target else 'NOT met'}.",
        "",
        "## SkyPact details",
        "",
        "| manoeuvre mix | encounters | share |",
        "|---|---:|---:|",
    ]
    for mix, count in sorted(extra.kinds.items(), key=lambda kv: -kv[1]):
        lines.append(f"| {mix} | {count} | {100.0 * count / sky.encounters:.1f} % |")
    unit = {"vertical": "ft/min", "heading": "deg", "speed": "fraction of gs"}
    lines += ["", "| kind | advisories | mean deviation |", "|---|---:|---:|"]
    for kind, devs in sorted(extra.deviation.items()):
        lines.append(f"| {kind} | {len(devs)} | {mean(devs):.3g} {unit[kind]} |")
    lines += [
        "",
        f"`resolve_pair` said resolved in {extra.claimed_resolved} encounters and named "
        f"{extra.claimed_secondary} secondary conflicts; it disagreed with the bench "
        f"re-run on `resolved` in {extra.disagree_resolved} and on the secondary set "
        f"in {extra.disagree_secondary} encounters.",
        "",
        "## BlueSky MVP details",
        "",
        "Called as `MVP.resolve(self, conf, traf, traf)` (unbound, stand-in `self` with "
        "BlueSky's default switches: heading + speed, horizontal only, no priority, "
        "`resofach = resofacv = 1.01`) on a two-aircraft snapshot holding only the "
        "pair; `conf` is BlueSky's C++ detection of that pair, both orientations. "
        f"BlueSky's detector did not report the pair in {mvp_undetected} encounters "
        "(no manoeuvre then).",
        "",
        f"Run time: {wall:.1f} s wall for {sky.encounters} encounters "
        f"(snapshot generation, detection, both resolvers and re-runs).",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--encounters", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--aircraft", type=int, default=2000, help="snapshot size (default 2000)"
    )
    args = parser.parse_args(argv)
    print(run(args.encounters, args.seed, args.aircraft))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
