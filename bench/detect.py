"""Benchmark: SkyPact's conflict detection against BlueSky's state-based detectors.

Run it with ``bash bench/run`` (installs the bench dependency group first), or directly
as ``.venv/bin/python bench/detect.py [--quick] [--sizes ...]``.

For each snapshot (``skypact.sim.generator.random_snapshot``: N aircraft in the Levant
box, plus one whole-globe snapshot) it times, on the same aircraft states:

* SkyPact ``skypact.detect(table)``: DataFrame in, DataFrame out (validation, unit
  conversion, detection, output table);
* SkyPact's core: ``CylinderDetector.detect_with_stats`` on prepared ``StateArrays``;
* BlueSky's C++ ``cstatebased.detect`` and numpy ``StateBased.detect`` (through
  ``bench/_bluesky.py``), fed the SI arrays of those same ``StateArrays``.

Times are medians of several runs after one warm-up run. Peak memory is measured per
(detector, N) in a fresh subprocess (this script with hidden arguments) as the peak
resident set size above a baseline taken after imports, snapshot creation and a small
warm-up detection. Pair sets are compared, and every pair on which SkyPact and
BlueSky's C++ disagree is classified with SkyPact's own geometry (see ``classify``).

The Markdown report goes to stdout and to ``bench/results/detect-<date>.md``.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import datetime as dt
import gc
import hashlib
import importlib
import importlib.metadata
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

import _bluesky
import skypact
from skypact.cli import configure_runtime
from skypact.detection.cylinder import CylinderDetector
from skypact.detection.model import ConflictSet
from skypact.geometry.cpa import cylinder_encounter, relative_plane_motion
from skypact.geometry.frames import ground_velocity_ecef_mps, surface_ecef_m
from skypact.sim.generator import LEVANT, random_snapshot
from skypact.tracks.ingest.table import states_from_table
from skypact.tracks.model import StateArrays
from skypact.units import ft_to_m, m_to_ft, m_to_nm, nm_to_m

HORIZONTAL_NM = 5.0
VERTICAL_FT = 1000.0
LOOKAHEAD_S = 300.0
HORIZONTAL_M = nm_to_m(HORIZONTAL_NM)
VERTICAL_M = ft_to_m(VERTICAL_FT)

SEED = 2024
LEVANT_SIZES = (1_000, 2_000, 5_000, 10_000, 20_000)
QUICK_SIZES = (1_000, 2_000)
GLOBE_N = 100_000

SKYPACT_REPEATS = 7
CPP_SLOW_S = 5.0  # a C++ warm-up slower than this -> 1 timed run instead of 3
CPP_BUDGET_S = 60.0  # skip C++ where one run is estimated (N^2) to take longer
NUMPY_SLOW_S = 3.0  # a numpy warm-up slower than this -> 1 timed run instead of 3
NUMPY_MAX_N = 5_000  # BlueSky numpy builds dense N x N matrices: skip above this
BORDERLINE = 0.02  # relative margin for the "borderline" classes
FLIP_STEP = 0.0025  # resolution of the flip margin of a differing pair
FLIP_MAX = 0.20  # give up beyond this

RESULTS_DIR = Path(__file__).resolve().parent / "results"
SRC_DIR = Path(skypact.__file__).resolve().parent
DETECTORS = ("detect", "core", "cpp", "numpy")
DIMENSIONS = ("horizontal", "vertical", "look-ahead")
CLASSES = (*(f"borderline {d}" for d in DIMENSIONS), "geometry")

Pair = tuple[int, int]
Call = Callable[[], object]
IntArray = npt.NDArray[np.int64]


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Case:
    """One benchmark snapshot."""

    n: int
    globe: bool = False

    @property
    def label(self) -> str:
        return f"{self.n:,} globe" if self.globe else f"{self.n:,}"

    def snapshot(self, seed: int) -> pd.DataFrame:
        return random_snapshot(self.n, seed=seed, region=None if self.globe else LEVANT)


def si_arrays(states: StateArrays) -> tuple[npt.NDArray[np.float64], ...]:
    """The arrays BlueSky reads, in SI: lat, lon [deg], alt [m], gs [m/s], trk [deg],
    vs [m/s]; exactly the values SkyPact's detectors see."""
    return (
        states.lat_deg,
        states.lon_deg,
        states.alt_m,
        states.gs_mps,
        states.trk_deg,
        states.vs_mps,
    )


def prepare_bluesky(states: StateArrays) -> _bluesky.Prepared:
    return _bluesky.prepare(
        *si_arrays(states),
        horizontal_m=HORIZONTAL_M,
        vertical_m=VERTICAL_M,
        lookahead_s=LOOKAHEAD_S,
    )


def make_runner(kind: str, table: pd.DataFrame, states: StateArrays) -> Call:
    """A zero-argument call running one detector on one snapshot (inputs prepared)."""
    if kind == "detect":

        def run_detect() -> object:
            return skypact.detect(
                table,
                lookahead_s=LOOKAHEAD_S,
                horizontal_nm=HORIZONTAL_NM,
                vertical_ft=VERTICAL_FT,
            )

        return run_detect
    if kind == "core":
        detector = CylinderDetector(horizontal_m=HORIZONTAL_M, vertical_m=VERTICAL_M)

        def run_core() -> object:
            return detector.detect_with_stats(states, lookahead_s=LOOKAHEAD_S)

        return run_core
    if kind == "cpp":
        return _bluesky.make_cpp_call(prepare_bluesky(states))
    if kind == "numpy":
        return _bluesky.make_numpy_call(prepare_bluesky(states))
    raise ValueError(f"unknown detector {kind!r}")


# --------------------------------------------------------------------------- timing


@dataclass
class Timing:
    median_s: float
    runs: int


def time_call(call: Call, repeats: Callable[[float], int]) -> tuple[Timing, object]:
    """Median wall time of ``repeats(warm-up time)`` runs after one warm-up run."""
    gc.collect()
    started = time.perf_counter()
    result = call()
    warmup_s = time.perf_counter() - started
    runs = repeats(warmup_s)
    times: list[float] = []
    for _ in range(runs):
        del result
        gc.collect()
        started = time.perf_counter()
        result = call()
        times.append(time.perf_counter() - started)
    return Timing(statistics.median(times), runs), result


# --------------------------------------------------------------------------- memory

_KIB = 1024


def _proc_status_kib(key: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _release_free_heap() -> None:
    """Return freed heap pages to the OS (glibc ``malloc_trim``), so that memory the
    snapshot creation freed is not silently reused by the measured call."""
    name = ctypes.util.find_library("c")
    if name is None:
        return
    libc = ctypes.CDLL(name)
    if hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


def _reset_peak_rss() -> tuple[int, str]:
    """Reset the kernel's peak-RSS mark to the current RSS; (baseline bytes, method)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        rss = _proc_status_kib("VmRSS")
        if rss is not None:
            return rss * _KIB, "VmHWM"
    except OSError:
        pass
    # Without the reset the baseline is the peak so far: a lower bound on the increase.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * _KIB, "ru_maxrss"


def _peak_rss_bytes(method: str) -> int:
    hwm = _proc_status_kib("VmHWM") if method == "VmHWM" else None
    if hwm is not None:
        return hwm * _KIB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * _KIB


def memory_child(kind: str, case: Case, seed: int) -> dict[str, object]:
    """Runs in a fresh process: peak RSS increase of one detection call."""
    table = case.snapshot(seed)
    states = states_from_table(table)
    run = make_runner(kind, table, states)
    # Warm up on a small snapshot: imports, JIT/cache loading and thread pools are
    # not the detection's memory.
    small_table = Case(min(case.n, 500), case.globe).snapshot(seed + 1)
    make_runner(kind, small_table, states_from_table(small_table))()
    gc.collect()
    _release_free_heap()
    baseline, method = _reset_peak_rss()
    result = run()
    peak = _peak_rss_bytes(method)
    del result
    return {"increase_bytes": max(0, peak - baseline), "method": method}


def measure_memory(kind: str, case: Case, seed: int) -> float | None:
    """Peak RSS increase [bytes] of one run of ``kind`` on ``case``, in a subprocess."""
    command = [sys.executable, str(Path(__file__).resolve()), "--_memory", kind]
    command += ["--_n", str(case.n), "--seed", str(seed)]
    command += ["--_globe"] if case.globe else []
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        log(f"  memory run {kind} N={case.label} failed:\n{done.stderr[-2000:]}")
        return None
    report = json.loads(lines[-1])
    if report["method"] != "VmHWM":
        log("  (peak RSS could not be reset; memory is a lower bound)")
    return float(report["increase_bytes"])


# --------------------------------------------------------------------------- pairs


def pairs_of(i: IntArray, j: IntArray) -> set[Pair]:
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    return set(zip(lo.tolist(), hi.tolist(), strict=True))


@dataclass
class Encounter:
    """SkyPact's own numbers for a list of pairs (NaN t_in where not in conflict)."""

    conflict: npt.NDArray[np.bool_]
    d0_m: npt.NDArray[np.float64]  # horizontal distance now
    t_in_s: npt.NDArray[np.float64]
    t_cpa_s: npt.NDArray[np.float64]
    h_cpa_m: npt.NDArray[np.float64]
    v_cpa_m: npt.NDArray[np.float64]


class PairGeometry:
    """SkyPact's exact pair test (the contract kernel) on chosen pairs of a snapshot."""

    def __init__(self, states: StateArrays) -> None:
        self.states = states
        self.pos = surface_ecef_m(states.lat_deg, states.lon_deg)
        self.vel = ground_velocity_ecef_mps(
            states.lat_deg, states.lon_deg, states.gs_mps, states.trk_deg
        )

    def encounter(
        self,
        i: IntArray,
        j: IntArray,
        *,
        h: float = 1.0,
        v: float = 1.0,
        t: float = 1.0,
    ) -> Encounter:
        """The test with the minima and look-ahead scaled by ``h``, ``v``, ``t``."""
        s = self.states
        motion = relative_plane_motion(
            self.pos[i], self.pos[j], self.vel[i], self.vel[j],
            s.alt_m[i], s.alt_m[j], s.vs_mps[i], s.vs_mps[j],
        )  # fmt: skip
        enc = cylinder_encounter(
            motion,
            horizontal_m=HORIZONTAL_M * h,
            vertical_m=VERTICAL_M * v,
            lookahead_s=LOOKAHEAD_S * t,
        )
        return Encounter(
            conflict=enc.conflict,
            d0_m=np.linalg.norm(motion.r_m, axis=1),
            t_in_s=np.where(enc.conflict, enc.t_in_s, np.nan),
            t_cpa_s=enc.t_cpa_s,
            h_cpa_m=enc.h_cpa_m,
            v_cpa_m=enc.v_cpa_m,
        )


@dataclass
class Difference:
    """One pair found by only one of SkyPact and BlueSky C++."""

    case: str
    ids: tuple[str, str]
    side: str  # "only SkyPact" or "only C++"
    cls: str
    also: list[str]  # further borderline dimensions
    flip: float  # smallest single-parameter change flipping SkyPact's verdict
    sp_d0_m: float
    sp_t_in_s: float
    sp_t_cpa_s: float
    sp_h_cpa_m: float
    sp_v_cpa_m: float
    bs_tin_s: float
    bs_tcpa_s: float
    bs_dcpa_m: float


@dataclass
class Agreement:
    common: int
    only_skypact: int
    only_bluesky: int
    classes: dict[str, int]
    multi: int  # differing pairs borderline in more than one dimension
    differences: list[Difference]
    common_d0_m: npt.NDArray[np.float64]  # SkyPact's distance now, common pairs
    common_t_in_s: npt.NDArray[np.float64]  # SkyPact's t_in, common pairs

    @property
    def jaccard(self) -> float:
        union = self.common + self.only_skypact + self.only_bluesky
        return 1.0 if union == 0 else self.common / union


def classify(
    case: Case,
    states: StateArrays,
    skypact_pairs: set[Pair],
    bluesky: _bluesky.BlueSkyResult,
) -> Agreement:
    """Compare SkyPact's and BlueSky C++'s pairs and explain every difference.

    A differing pair is *borderline* in a dimension (horizontal minimum, vertical
    minimum, look-ahead) when SkyPact's own verdict flips once that one parameter is
    moved by 2 % towards BlueSky's verdict: a pair only SkyPact reports is no longer
    a conflict with the parameter 2 % smaller (e.g. its horizontal distance never gets
    below 4.9 NM while vertically too close, or its t_in is past 294 s); a pair only
    BlueSky reports becomes one with it 2 % larger (e.g. SkyPact's closest approach is
    under 5.1 NM). Dimensions are tried in the order horizontal, vertical, look-ahead;
    a pair borderline in none is put down to BlueSky's geometry (flat earth with one
    cos(latitude) factor and a spherical radius; the intruder's track reused unrotated
    in the ownship's frame).
    """
    bs_pairs = pairs_of(bluesky.i, bluesky.j)
    only_sp = sorted(skypact_pairs - bs_pairs)
    only_bs = sorted(bs_pairs - skypact_pairs)
    common = len(skypact_pairs & bs_pairs)
    geometry = PairGeometry(states)
    classes = dict.fromkeys(CLASSES, 0)
    multi = 0
    bs_row = {
        p: k
        for k, p in enumerate(zip(bluesky.i.tolist(), bluesky.j.tolist(), strict=True))
    }
    differences: list[Difference] = []
    for side, chosen, factor in (
        ("only SkyPact", only_sp, 1.0 - BORDERLINE),
        ("only C++", only_bs, 1.0 + BORDERLINE),
    ):
        if not chosen:
            continue
        i = np.array([p[0] for p in chosen], dtype=np.int64)
        j = np.array([p[1] for p in chosen], dtype=np.int64)
        base = geometry.encounter(i, j)
        want = side == "only SkyPact"  # SkyPact's verdict on these pairs
        if not bool(np.all(base.conflict == want)):
            log(f"  warning: SkyPact's kernel disagrees with its detector ({side})")
        flips = {
            "horizontal": geometry.encounter(i, j, h=factor).conflict != want,
            "vertical": geometry.encounter(i, j, v=factor).conflict != want,
            "look-ahead": geometry.encounter(i, j, t=factor).conflict != want,
        }
        flip = flip_margin(geometry, i, j, want=want)
        for k, pair in enumerate(chosen):
            dims = [d for d in DIMENSIONS if bool(flips[d][k])]
            cls = f"borderline {dims[0]}" if dims else "geometry"
            classes[cls] += 1
            multi += len(dims) > 1
            row = bs_row.get(pair)
            ids = states.aircraft_id
            differences.append(
                Difference(
                    case=case.label,
                    ids=(str(ids[pair[0]]), str(ids[pair[1]])),
                    side=side,
                    cls=cls,
                    also=dims[1:],
                    flip=float(flip[k]),
                    sp_d0_m=float(base.d0_m[k]),
                    sp_t_in_s=float(base.t_in_s[k]),
                    sp_t_cpa_s=float(base.t_cpa_s[k]),
                    sp_h_cpa_m=float(base.h_cpa_m[k]),
                    sp_v_cpa_m=float(base.v_cpa_m[k]),
                    bs_tin_s=np.nan if row is None else float(bluesky.tin_s[row]),
                    bs_tcpa_s=np.nan if row is None else float(bluesky.tcpa_s[row]),
                    bs_dcpa_m=np.nan if row is None else float(bluesky.dcpa_m[row]),
                )
            )
    both = sorted(skypact_pairs & bs_pairs)
    enc = geometry.encounter(
        np.array([p[0] for p in both], dtype=np.int64),
        np.array([p[1] for p in both], dtype=np.int64),
    )
    return Agreement(
        common=common,
        only_skypact=len(only_sp),
        only_bluesky=len(only_bs),
        classes=classes,
        multi=multi,
        differences=differences,
        common_d0_m=enc.d0_m,
        common_t_in_s=enc.t_in_s,
    )


def flip_margin(
    geometry: PairGeometry, i: IntArray, j: IntArray, *, want: bool
) -> npt.NDArray[np.float64]:
    """Per pair, the smallest relative change of one parameter (horizontal minimum,
    vertical minimum or look-ahead; in steps of FLIP_STEP, up to FLIP_MAX) that flips
    SkyPact's verdict away from ``want``; NaN if none does."""
    margin = np.full(i.shape[0], np.nan)
    for step in np.arange(1, round(FLIP_MAX / FLIP_STEP) + 1) * FLIP_STEP:
        factor = 1.0 - step if want else 1.0 + step
        flipped = np.zeros(i.shape[0], dtype=bool)
        for scale in ({"h": factor}, {"v": factor}, {"t": factor}):
            flipped |= geometry.encounter(i, j, **scale).conflict != want
        margin[np.isnan(margin) & flipped] = step
        if not np.isnan(margin).any():
            break
    return margin


@dataclass
class NumpyVsCpp:
    common: int
    only_numpy: int
    only_cpp: int
    numpy_one_sided: int
    cpp_one_sided: int


# --------------------------------------------------------------------------- one case


@dataclass
class CaseResult:
    case: Case
    conflicts: int = 0
    timings: dict[str, Timing] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    memory: dict[str, float | None] = field(default_factory=dict)
    bluesky_pairs: int | None = None
    detect_matches_core: bool = True
    agreement: Agreement | None = None
    numpy_vs_cpp: NumpyVsCpp | None = None


@dataclass
class Settings:
    seed: int
    memory: bool


@dataclass
class Scaling:
    """What earlier cases measured, for estimating the cost of later ones."""

    cpp: tuple[int, float] | None = None  # (N, median s) of the largest C++ run
    numpy_bytes_per_pair: float | None = None


def run_case(case: Case, settings: Settings, scaling: Scaling) -> CaseResult:
    log(f"N = {case.label}")
    result = CaseResult(case)
    table = case.snapshot(settings.seed)
    states = states_from_table(table)

    timing, out = time_call(
        make_runner("detect", table, states), lambda _: SKYPACT_REPEATS
    )
    result.timings["detect"] = timing
    assert isinstance(out, pd.DataFrame)
    result.conflicts = len(out)
    detect_pairs = set(zip(out["aircraft_a"], out["aircraft_b"], strict=True))

    timing, out = time_call(
        make_runner("core", table, states), lambda _: SKYPACT_REPEATS
    )
    result.timings["core"] = timing
    assert isinstance(out, tuple)
    conflicts = out[0]
    assert isinstance(conflicts, ConflictSet)
    core_pairs = pairs_of(conflicts.i, conflicts.j)
    ids = states.aircraft_id
    result.detect_matches_core = detect_pairs == {
        tuple(sorted((str(ids[a]), str(ids[b])))) for a, b in core_pairs
    }
    log(
        f"  SkyPact detect() {fmt_ms(result.timings['detect'].median_s)} ms, "
        f"core {fmt_ms(result.timings['core'].median_s)} ms, "
        f"{result.conflicts:,} pairs"
    )

    cpp: _bluesky.BlueSkyResult | None = None
    estimate = None
    if scaling.cpp is not None:
        n_ref, t_ref = scaling.cpp
        estimate = t_ref * (case.n / n_ref) ** 2
    if estimate is not None and estimate > CPP_BUDGET_S:
        result.skipped["cpp"] = (
            f"not run: ~{estimate:,.0f} s estimated (N² from {scaling.cpp[0]:,})"
            if scaling.cpp
            else "not run"
        )
        log(f"  BlueSky C++ {result.skipped['cpp']}")
    else:
        timing, raw = time_call(
            make_runner("cpp", table, states), lambda w: 3 if w < CPP_SLOW_S else 1
        )
        result.timings["cpp"] = timing
        cpp = _bluesky.to_result(raw)
        result.bluesky_pairs = len(cpp.i)
        if scaling.cpp is None or case.n >= scaling.cpp[0]:
            scaling.cpp = (case.n, timing.median_s)
        result.agreement = classify(case, states, core_pairs, cpp)
        log(
            f"  BlueSky C++ {fmt_ms(timing.median_s)} ms ({timing.runs} runs), "
            f"{result.bluesky_pairs:,} pairs, agreement "
            f"{result.agreement.jaccard:.4%}"
        )

    if case.n <= NUMPY_MAX_N and not case.globe:
        timing, raw = time_call(
            make_runner("numpy", table, states),
            lambda w: 3 if w < NUMPY_SLOW_S else 1,
        )
        result.timings["numpy"] = timing
        res_np = _bluesky.to_result(raw)
        log(f"  BlueSky numpy {fmt_ms(timing.median_s)} ms ({timing.runs} runs)")
        if cpp is not None:
            np_pairs, cpp_pairs = pairs_of(res_np.i, res_np.j), pairs_of(cpp.i, cpp.j)
            result.numpy_vs_cpp = NumpyVsCpp(
                common=len(np_pairs & cpp_pairs),
                only_numpy=len(np_pairs - cpp_pairs),
                only_cpp=len(cpp_pairs - np_pairs),
                numpy_one_sided=int(res_np.one_sided.sum()),
                cpp_one_sided=int(cpp.one_sided.sum()),
            )
    else:
        bpp = scaling.numpy_bytes_per_pair
        result.skipped["numpy"] = (
            f"not run: ~{bpp * case.n**2 / 2**30:,.0f} GiB needed"
            if bpp is not None
            else f"not run (N > {NUMPY_MAX_N:,})"
        )

    if settings.memory:
        for kind in DETECTORS:
            if kind in result.timings:
                result.memory[kind] = measure_memory(kind, case, settings.seed)
        numpy_bytes = result.memory.get("numpy")
        if numpy_bytes is not None:
            scaling.numpy_bytes_per_pair = numpy_bytes / case.n**2
        log(
            "  peak MiB: "
            + ", ".join(f"{k} {fmt_mib(v)}" for k, v in result.memory.items())
        )
    return result


# --------------------------------------------------------------------------- report


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def fmt_ms(seconds: float) -> str:
    ms = seconds * 1e3
    if ms < 10:
        return f"{ms:.2f}"
    if ms < 100:
        return f"{ms:.1f}"
    return f"{ms:,.0f}"


def fmt_mib(value: float | None) -> str:
    if value is None:
        return "n/a"
    mib = value / 2**20
    if mib < 1:
        return f"{mib:.2f}"
    return f"{mib:.1f}" if mib < 10 else f"{mib:,.0f}"


def fmt_ratio(num: Timing | None, den: Timing | None) -> str:
    if num is None or den is None:
        return "-"
    ratio = num.median_s / den.median_s
    return f"{ratio:,.0f}x" if ratio >= 10 else f"{ratio:.1f}x"


def cell_time(r: CaseResult, kind: str) -> str:
    if kind in r.timings:
        return fmt_ms(r.timings[kind].median_s)
    return r.skipped.get(kind, "-")


def cell_memory(r: CaseResult, kind: str) -> str:
    if kind in r.memory:
        return fmt_mib(r.memory[kind])
    return "-"


def cell_agreement(r: CaseResult) -> str:
    a = r.agreement
    if a is None:
        return "-"
    if a.only_skypact == a.only_bluesky == 0:
        return "100% (identical)"
    return f"{a.jaccard:.3%} ({a.only_skypact} only SkyPact, {a.only_bluesky} only C++)"


def source_fingerprint() -> str:
    """Short hash of SkyPact's source files, to tell which code was measured."""
    digest = hashlib.sha256()
    for path in sorted(SRC_DIR.rglob("*.py")):
        digest.update(str(path.relative_to(SRC_DIR)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def git_state() -> str:
    """The checked-out commit and any uncommitted files under src/ (read-only git)."""
    root = SRC_DIR.parents[1]

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "--no-optional-locks", *args],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    try:
        head = git("rev-parse", "--short", "HEAD").strip()
        dirty = [
            line[3:] for line in git("status", "--porcelain", "--", "src").splitlines()
        ]
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    if not dirty:
        return f"commit {head}, src/ clean"
    return f"commit {head} plus uncommitted changes in {', '.join(dirty)}"


@dataclass
class Provenance:
    git: str
    fingerprint_start: str
    fingerprint_end: str

    def lines(self) -> list[str]:
        out = [f"- Code: {self.git}; src fingerprint {self.fingerprint_start}"]
        if self.fingerprint_end != self.fingerprint_start:
            out.append(
                f"- **SkyPact's source changed during the run** (fingerprint now "
                f"{self.fingerprint_end}): later cells and the memory subprocesses "
                "may have measured different code. Rerun for clean numbers."
            )
        return out


def environment() -> list[str]:
    def version(dist: str) -> str:
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    cpu = "unknown CPU"
    mem_gib = float("nan")
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(
                (
                    ln.split(":", 1)[1].strip()
                    for ln in fh
                    if ln.startswith("model name")
                ),
                cpu,
            )
        with open("/proc/meminfo") as fh:
            kib = next(int(ln.split()[1]) for ln in fh if ln.startswith("MemTotal"))
            mem_gib = kib / 2**20
    except (OSError, StopIteration):
        pass
    numba: Any = importlib.import_module("numba")
    try:
        layer = str(numba.threading_layer())
    except ValueError:
        layer = "not initialised"
    return [
        f"- Machine: {os.cpu_count()} cores ({cpu}), {mem_gib:.1f} GiB RAM, "
        f"{platform.system()} {platform.release()}",
        f"- Python {platform.python_version()}, numpy {np.__version__}, "
        f"numba {numba.__version__} (threading layer {layer}, "
        f"{numba.config.NUMBA_NUM_THREADS} threads), pandas {pd.__version__}, "
        f"skypact {skypact.__version__}, bluesky-simulator "
        f"{version('bluesky-simulator')}",
        f"- OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}, "
        f"GOMP_SPINCOUNT={os.environ.get('GOMP_SPINCOUNT', '(unset)')}",
    ]


def render(
    results: Sequence[CaseResult],
    *,
    seed: int,
    started: dt.datetime,
    runtime_s: float,
    load: tuple[tuple[float, ...], tuple[float, ...]],
    provenance: Provenance,
) -> str:
    out: list[str] = []
    add = out.append
    add(f"# SkyPact vs BlueSky conflict detection ({started:%Y-%m-%d %H:%M} UTC)")
    add("")
    out += environment()
    out += provenance.lines()
    add(
        f"- Load average (1/5/15 min) at start {fmt_load(load[0])}, "
        f"at end {fmt_load(load[1])}; bench runtime {runtime_s:,.0f} s"
    )
    add(
        f"- Snapshots: `random_snapshot(N, seed={seed})` in the Levant box "
        f"(lat {LEVANT.lat_min_deg}-{LEVANT.lat_max_deg}, "
        f"lon {LEVANT.lon_min_deg}-{LEVANT.lon_max_deg}); globe: `region=None`. "
        f"Minima {HORIZONTAL_NM:g} NM / {VERTICAL_FT:,.0f} ft, look-ahead "
        f"{LOOKAHEAD_S:g} s. All detectors get the same SI states."
    )
    add("")
    add(
        "| N | SkyPact detect() ms | SkyPact core ms | BlueSky C++ ms "
        "| BlueSky numpy ms | C++ / detect() | C++ / core | numpy / detect() "
        "| peak MiB detect() / C++ / numpy | pairs SkyPact / C++ | agreement |"
    )
    add("|" + "---:|" * 10 + "---|")
    for r in results:
        t = r.timings
        add(
            f"| {r.case.label} | {cell_time(r, 'detect')} | {cell_time(r, 'core')} "
            f"| {cell_time(r, 'cpp')} | {cell_time(r, 'numpy')} "
            f"| {fmt_ratio(t.get('cpp'), t.get('detect'))} "
            f"| {fmt_ratio(t.get('cpp'), t.get('core'))} "
            f"| {fmt_ratio(t.get('numpy'), t.get('detect'))} "
            f"| {cell_memory(r, 'detect')} / {cell_memory(r, 'cpp')} "
            f"/ {cell_memory(r, 'numpy')} "
            f"| {r.conflicts:,} / "
            f"{'-' if r.bluesky_pairs is None else f'{r.bluesky_pairs:,}'} "
            f"| {cell_agreement(r)} |"
        )
    add("")
    runs = {
        kind: ", ".join(f"{r.timings[kind].runs}" for r in results if kind in r.timings)
        for kind in DETECTORS
    }
    add(
        "Times: median wall-clock ms of the timed runs after one warm-up run "
        f"(runs per N: detect() {runs['detect']}; core {runs['core']}; "
        f"C++ {runs['cpp'] or '-'}; numpy {runs['numpy'] or '-'}). "
        "Peak MiB: peak resident memory (VmHWM) above a baseline taken after "
        "imports, snapshot creation, a 500-aircraft warm-up and `malloc_trim`, one "
        "fresh process per cell; below about 1 MiB it is noise. "
        "Agreement: common pairs / all pairs found by either (SkyPact vs BlueSky C++)."
    )
    if not all(r.detect_matches_core for r in results):
        bad = [r.case.label for r in results if not r.detect_matches_core]
        add("")
        add(f"**detect() and the core found different pairs at N = {', '.join(bad)}.**")
    else:
        add("")
        add("detect() and the core found the same pairs at every N.")
    add("")
    out += render_differences(results)
    out += render_numpy(results)
    out += render_memory(results)
    out += render_targets(results)
    return "\n".join(out) + "\n"


def fmt_load(values: tuple[float, ...]) -> str:
    return "/".join(f"{v:.2f}" for v in values)


def fmt_pct(value: float) -> str:
    return f"> {FLIP_MAX:.0%}" if not np.isfinite(value) else f"{value:.2%}"


def fmt_float(value: float, digits: int) -> str:
    return "-" if not np.isfinite(value) else f"{value:.{digits}f}"


def render_differences(results: Sequence[CaseResult]) -> list[str]:
    out = ["## Where SkyPact and BlueSky C++ differ", ""]
    compared = [r for r in results if r.agreement is not None]
    if not compared:
        return [*out, "BlueSky C++ was not run.", ""]
    out.append(
        "Each pair found by only one detector is classified with SkyPact's own "
        "pair geometry (its exact kernel, `skypact.geometry.cpa`): *borderline* in a "
        f"dimension when SkyPact's verdict flips once that parameter alone moves by "
        f"{BORDERLINE:.0%} towards BlueSky's verdict (horizontal 5 NM → "
        f"{HORIZONTAL_NM * (1 - BORDERLINE):g}/{HORIZONTAL_NM * (1 + BORDERLINE):g} "
        f"NM, vertical 1,000 → {VERTICAL_FT * (1 - BORDERLINE):,.0f}/"
        f"{VERTICAL_FT * (1 + BORDERLINE):,.0f} ft, look-ahead 300 → "
        f"{LOOKAHEAD_S * (1 - BORDERLINE):g}/{LOOKAHEAD_S * (1 + BORDERLINE):g} s); "
        "tried in that order. Anything else is *geometry*: BlueSky's flat-earth "
        "distance (one cos(latitude), sphere R = 6,371 km) and the intruder's track "
        "used unrotated in the ownship's frame, against SkyPact's WGS84 pair plane."
    )
    out.append("")
    out.append(
        "| N | common | only SkyPact | only C++ | "
        + " | ".join(CLASSES)
        + " | borderline in >1 dimension |"
    )
    out.append("|" + "---:|" * (5 + len(CLASSES)))
    for r in compared:
        a = r.agreement
        assert a is not None
        out.append(
            f"| {r.case.label} | {a.common:,} | {a.only_skypact} | {a.only_bluesky} | "
            + " | ".join(str(a.classes[c]) for c in CLASSES)
            + f" | {a.multi} |"
        )
    totals = {
        c: sum(r.agreement.classes[c] for r in compared if r.agreement) for c in CLASSES
    }
    n_diff = sum(totals.values())
    out.append("")
    out.append(
        f"In total {n_diff} differing pairs: "
        + ", ".join(f"{totals[c]} {c}" for c in CLASSES)
        + "."
    )
    diffs = [d for r in compared if r.agreement for d in r.agreement.differences]
    out += [
        "",
        "Where the differing pairs are (all N; initial distance: SkyPact's horizontal "
        "distance now; t_in: SkyPact's, or BlueSky's where SkyPact finds none):",
        "",
        "| pairs | count | median initial distance NM | median t_in s "
        "| largest flip margin |",
        "|---|---:|---:|---:|---:|",
    ]
    d0_common = np.concatenate(
        [r.agreement.common_d0_m for r in compared if r.agreement]
    )
    t_common = np.concatenate(
        [r.agreement.common_t_in_s for r in compared if r.agreement]
    )
    out.append(
        f"| found by both | {d0_common.size:,} "
        f"| {fmt_float(m_to_nm(float(np.median(d0_common))), 1)} "
        f"| {fmt_float(float(np.median(t_common)), 0)} | - |"
    )
    for cls in CLASSES:
        members = [d for d in diffs if d.cls == cls]
        if not members:
            continue
        d0 = np.median([d.sp_d0_m for d in members])
        t_in = np.median(
            [d.sp_t_in_s if np.isfinite(d.sp_t_in_s) else d.bs_tin_s for d in members]
        )
        out.append(
            f"| {cls} | {len(members):,} | {fmt_float(m_to_nm(float(d0)), 1)} "
            f"| {fmt_float(float(t_in), 0)} | {fmt_pct(max(d.flip for d in members))} |"
        )
    out += [
        "",
        "Flip margin: the smallest change of one parameter (in steps of "
        f"{FLIP_STEP:.2%}, up to {FLIP_MAX:.0%}) that turns SkyPact's verdict on the "
        f"pair into BlueSky's. The largest over all differing pairs is "
        f"{fmt_pct(max(d.flip for d in diffs)) if diffs else '-'}.",
    ]
    examples = pick_examples(diffs)
    if examples:
        out += [
            "",
            "Examples (SkyPact's numbers from its kernel; t_in is '-' where SkyPact "
            "finds no conflict, BlueSky's '-' where it reports none):",
            "",
            "| N | pair | found by | class | flip margin | SkyPact d0 NM | h_cpa NM "
            "| v_cpa ft | t_cpa s | t_in s | C++ dcpa NM | tcpa s | tin s |",
            "|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for d in examples:
            cls = d.cls + (f" (also {', '.join(d.also)})" if d.also else "")
            out.append(
                f"| {d.case} | {d.ids[0]} / {d.ids[1]} | {d.side} | {cls} "
                f"| {fmt_pct(d.flip)} | {fmt_float(m_to_nm(d.sp_d0_m), 1)} "
                f"| {fmt_float(m_to_nm(d.sp_h_cpa_m), 4)} "
                f"| {fmt_float(m_to_ft(d.sp_v_cpa_m), 1)} "
                f"| {fmt_float(d.sp_t_cpa_s, 1)} | {fmt_float(d.sp_t_in_s, 1)} "
                f"| {fmt_float(m_to_nm(d.bs_dcpa_m), 4)} "
                f"| {fmt_float(d.bs_tcpa_s, 1)} | {fmt_float(d.bs_tin_s, 1)} |"
            )
    out.append("")
    return out


def pick_examples(diffs: Sequence[Difference], per_class: int = 2) -> list[Difference]:
    """A few differences of each class and side, geometry first."""
    picked: list[Difference] = []
    for cls in ("geometry", *CLASSES[:-1]):
        for side in ("only SkyPact", "only C++"):
            picked += [d for d in diffs if d.cls == cls and d.side == side][:per_class]
    return picked


def render_numpy(results: Sequence[CaseResult]) -> list[str]:
    out = ["## BlueSky numpy vs BlueSky C++", ""]
    rows = [r for r in results if r.numpy_vs_cpp is not None]
    if not rows:
        return [*out, "Not compared (numpy or C++ not run).", ""]
    out += [
        "| N | common | only numpy | only C++ | numpy one-sided | C++ one-sided |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        c = r.numpy_vs_cpp
        assert c is not None
        out.append(
            f"| {r.case.label} | {c.common:,} | {c.only_numpy} | {c.only_cpp} "
            f"| {c.numpy_one_sided} | {c.cpp_one_sided} |"
        )
    out += [
        "",
        "One-sided: reported in only one orientation (a, b) or (b, a) of the pair "
        "(BlueSky issue #345 for numpy).",
        "",
    ]
    return out


def render_memory(results: Sequence[CaseResult]) -> list[str]:
    out = ["## Memory per aircraft", ""]
    rows = [r for r in results if r.memory]
    if not rows:
        return [*out, "Not measured (--no-memory).", ""]
    out += [
        "| N | detect() bytes/aircraft | core bytes/aircraft | C++ bytes/aircraft "
        "| numpy bytes/ordered pair | conflicts per aircraft |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:

        def per_aircraft(kind: str, r: CaseResult = r) -> str:
            v = r.memory.get(kind)
            return "-" if v is None else f"{v / r.case.n:,.0f}"

        v_np = r.memory.get("numpy")
        out.append(
            f"| {r.case.label} | {per_aircraft('detect')} | {per_aircraft('core')} "
            f"| {per_aircraft('cpp')} "
            f"| {'-' if v_np is None else f'{v_np / r.case.n**2:.0f}'} "
            f"| {r.conflicts / r.case.n:.2f} |"
        )
    out.append("")
    return out


MEMORY_FIT_MIN_N = 5_000  # below this the peaks are about 1 MiB, near the noise


def memory_fit(results: Sequence[CaseResult]) -> list[str]:
    """Least-squares fit peak = a * aircraft + b * conflicts (no constant, no N^2)."""
    out: list[str] = []
    for kind, name in (("detect", "detect()"), ("core", "core")):
        rows = [
            (r.case.n, r.conflicts, r.memory[kind])
            for r in results
            if r.case.n >= MEMORY_FIT_MIN_N and r.memory.get(kind) is not None
        ]
        if len(rows) < 3:
            continue
        x = np.array([[n, c] for n, c, _ in rows], dtype=np.float64)
        y = np.array([m for *_, m in rows], dtype=np.float64)
        (a, b), *_ = np.linalg.lstsq(x, y, rcond=None)
        worst = float(np.max(np.abs(x @ np.array([a, b]) - y) / y))
        sizes = ", ".join(f"{r[0]:,}" for r in rows)
        out.append(
            f"- Memory linear in N ({name}): peak ≈ {a:,.0f} B per aircraft + "
            f"{b:,.0f} B per conflict (least squares over N = {sizes}; worst "
            f"misfit {worst:.0%}). Conflicts grow as N² in the fixed Levant box, "
            "so the second term is the output, not the search."
        )
    if not out:
        out.append("- Memory linear in N: not enough memory measurements to judge.")
    return out


def render_targets(results: Sequence[CaseResult]) -> list[str]:
    out = ["## Targets", ""]

    def find(n: int, globe: bool) -> CaseResult | None:
        return next(
            (r for r in results if r.case.n == n and r.case.globe == globe), None
        )

    r10 = find(10_000, False)
    if r10 is not None and "cpp" in r10.timings:
        cpp = r10.timings["cpp"].median_s
        s_det = cpp / r10.timings["detect"].median_s
        s_core = cpp / r10.timings["core"].median_s
        out.append(
            f"- N = 10,000 at least 100x faster than BlueSky C++: detect() "
            f"{s_det:,.0f}x ({'met' if s_det >= 100 else 'NOT met'}), core "
            f"{s_core:,.0f}x ({'met' if s_core >= 100 else 'NOT met'})."
        )
    else:
        out.append("- N = 10,000 vs BlueSky C++: not measured in this run.")
    out += memory_fit(results)
    globe = next((r for r in results if r.case.globe), None)
    if globe is not None:
        t = globe.timings["detect"].median_s
        tc = globe.timings["core"].median_s
        out.append(
            f"- {globe.case.label} under 0.2 s: detect() {t * 1e3:,.0f} ms "
            f"({'met' if t < 0.2 else 'NOT met'}), core {tc * 1e3:,.0f} ms "
            f"({'met' if tc < 0.2 else 'NOT met'})."
        )
    out.append("")
    return out


# --------------------------------------------------------------------------- main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark SkyPact's conflict detection against BlueSky's."
    )
    parser.add_argument(
        "--quick", action="store_true", help="N = 1,000 and 2,000 only, no globe"
    )
    parser.add_argument(
        "--sizes",
        type=lambda s: tuple(int(x.replace("_", "")) for x in s.split(",")),
        help="comma-separated Levant sizes (default 1000,2000,5000,10000,20000)",
    )
    parser.add_argument(
        "--globe-n",
        type=int,
        default=None,
        help=f"aircraft in the whole-globe snapshot (default {GLOBE_N:,}; 0: none)",
    )
    parser.add_argument("--seed", type=int, default=SEED, help="snapshot seed")
    parser.add_argument(
        "--no-memory", action="store_true", help="skip the peak-memory subprocesses"
    )
    parser.add_argument(
        "--no-save", action="store_true", help="do not write bench/results/"
    )
    parser.add_argument("--_memory", choices=DETECTORS, help=argparse.SUPPRESS)
    parser.add_argument("--_n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--_globe", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    # Read by libgomp when numba first starts its OpenMP thread pool.
    configure_runtime()
    args = parse_args(argv)
    if args._memory is not None:
        report = memory_child(args._memory, Case(args._n, args._globe), args.seed)
        print(json.dumps(report))
        return 0

    started = dt.datetime.now(dt.UTC)
    clock = time.perf_counter()
    git, fingerprint = git_state(), source_fingerprint()
    load_start = os.getloadavg()
    sizes: tuple[int, ...] = args.sizes or (QUICK_SIZES if args.quick else LEVANT_SIZES)
    globe_n = (
        args.globe_n if args.globe_n is not None else (0 if args.quick else GLOBE_N)
    )
    cases = [Case(n) for n in sorted(sizes)]
    if globe_n > 0:
        cases.append(Case(globe_n, globe=True))

    settings = Settings(seed=args.seed, memory=not args.no_memory)
    scaling = Scaling()
    results = [run_case(case, settings, scaling) for case in cases]
    runtime_s = time.perf_counter() - clock
    report_md = render(
        results,
        seed=args.seed,
        started=started,
        runtime_s=runtime_s,
        load=(load_start, os.getloadavg()),
        provenance=Provenance(git, fingerprint, source_fingerprint()),
    )
    print(report_md)
    if not args.no_save:
        RESULTS_DIR.mkdir(parents=True, exist_ok=True)
        path = RESULTS_DIR / f"detect-{started:%Y-%m-%d}.md"
        path.write_text(report_md)
        log(f"written to {path}")
    log(f"bench runtime {runtime_s:,.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
