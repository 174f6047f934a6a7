"""Call BlueSky's state-based conflict detectors directly on numpy arrays.

Reference detectors for the benchmark: BlueSky (PyPI ``bluesky-simulator==1.1.1``,
TU Delft) as a comparison point for skypact. This module does not start BlueSky's
simulator, network node or GUI. It imports two functions and passes them
plain snapshot objects:

* ``bluesky.traffic.asas.cstatebased.detect``: the C++ extension (``CStateBased``)
* ``bluesky.traffic.asas.statebased.StateBased.detect``: the numpy version

Both have the signature ``detect(ownship, intruder, rpz, hpz, dtlookahead)``.
Inside the simulator, BlueSky calls it as ``cd.update(traf, traf)``, so ownship
and intruder are the same object. This module passes one snapshot object twice.

Units
-----
BlueSky works in SI units internally. Its ``Traffic`` arrays use:
``lat``/``lon`` [deg], ``alt`` [m], ``gs`` [m/s], ``trk`` [deg, clockwise from true
north], ``vs`` [m/s]. ``rpz`` and ``hpz`` are [m] and ``dtlookahead`` is [s].
Feet, knots and NM are only used in stack commands (``ZONER`` in NM, ``ZONEDH`` in
ft). The values returned are also SI: dist/dcpa [m], tcpa/tLOS [s], qdr [deg].
This module therefore passes the caller's SI arrays through unchanged. Note
that BlueSky's own knot constant ``aero.kts`` is rounded to six decimals, so it is
slightly off from the exact ``skypact.units.KT_MPS``.

Attributes read
---------------
Both detectors read ``lat lon alt gs trk vs`` from ownship and intruder, and
``id`` from ownship. The numpy version also reads ``ownship.ntraf``. Neither
reads ``gseast``/``gsnorth``/``tas``/``hdg``. Details:

* C++: ``id`` must be a real Python ``list``, because the extension calls
  ``PyList_GetItem``. ``rpz``, ``hpz`` and ``dtlookahead`` must be float arrays
  of length N, one value per aircraft. The C code walks a pointer through them,
  so a scalar would be read past its end. Non-float64 or non-contiguous inputs
  are copied on every call by ``PyArray_FROM_OTF``.
* numpy: per-aircraft arrays work, and so do scalars. The function never reads
  ``self``, and ``StateBased()`` cannot be built without ``bs.traf`` (its
  ``TrafficArrays`` root). So it is called unbound with ``self=None``.

Here the ids are the Python ints ``0..N-1``. This lets the returned pairs map
straight back to array indices (BlueSky itself uses callsign strings).

Global state
------------
``bs.init()`` is not needed. Importing ``bluesky.traffic.asas`` runs
``bluesky/traffic/__init__.py``, which pulls in Traffic, OpenAP, pandas,
matplotlib and scipy. That takes about 1 s, creates ``~/.config/matplotlib``,
prints several lines to stdout, changes the global ``warnings`` filters (adding
"ignore" for numpy's matrix warning and "once" for UserWarning), and registers
the settings defaults ``asas_pzr``/``asas_pzh``/``asas_dtlookahead``. Those
defaults are unused here because every value is passed explicitly.
:func:`prepare` does that import once, with stdout silenced, outside the timed
region. ``settings.prefer_compiled`` is False by default. As a result the numpy
detector uses the pure-Python ``geo.kwikqdrdist_matrix``, which is how BlueSky
runs unless configured otherwise.

Quirks (from reading the 1.1.1 source; checked on crafted and random cases)
---------------------------------------------------------------------------
* Geometry is flat-earth: an equirectangular ``kwikqdrdist``, R = 6371 km,
  cos of the mean latitude. Each aircraft's ``trk`` is used as-is in one common
  east/north frame. The intruder's velocity is not rotated for meridian
  convergence. tcpa/dcpa are computed from the initial relative position and
  velocity.
* Conflict pairs are ordered. Each unordered conflict normally appears twice,
  as (a, b) and (b, a), and each orientation is computed independently. The two
  directions agree only up to rounding (``atan2`` of the reversed vector is not
  exactly +pi). In a random 2,000-aircraft snapshot, tcpa differed by
  <1e-13 s and dcpa by <1e-8 m.
* The numpy version can report a pair in only one orientation, as in BlueSky
  issue #345 (open). When two aircraft have equal vertical speed, ``dvs`` is
  replaced by +1e-6 whatever its sign. The vertical window of the (lower, upper)
  orientation then closes after ``(hpz - gap) * 1e6`` s. If the altitude gap is
  exactly ``hpz``, only the (upper, lower) orientation is flagged: a one-sided
  false conflict. If the gap is less than about 1e-6 * tin metres below
  ``hpz``, the (lower, upper) orientation is missed. Flight-level data hits both
  cases, because ``ft_to_m(FL * 100)`` gives 1000 ft gaps of 304.8 m plus or minus
  about 1e-12 m of rounding. The C++ version has no such problem. It treats
  ``|dvs| <= 1e-6`` as level and requires ``|dalt| < hpz`` strictly, so it
  reports both orientations or neither. Whether a nominal 1000 ft gap counts as
  a conflict still depends on how the gap in metres rounds. One-sidedness is
  recorded in ``BlueSkyResult.one_sided``.
* The two versions differ at the boundaries:
  - lookahead: C++ uses ``tin <= max(tlook_i, tlook_j)``; numpy uses
    ``tin < tlook_i``.
  - in/out overlap: C++ needs ``tin < tout``; numpy needs ``tin <= tout``.
* ``tin`` (BlueSky's ``tLOS``/``tinconf``): C++ clamps the vertical entry time
  to >= 0, so its tin is never negative. Numpy does not clamp, so a pair
  already in loss of separation gets tin < 0.
* Only C++: it does not wrap longitude across +-180 deg. Its ``qdr`` comes out
  in (-180, 180] because of a harmless ``fmod(rad, 360)``. When the two
  aircraft move exactly head-on or in parallel, its ``dcpa`` can be NaN (sqrt of
  a tiny negative number); numpy uses ``abs``. If the relative speed is zero,
  its tcpa is 0/0, so the pair is never reported.
* BlueSky does not return ``tout``, so ``BlueSkyResult.tout_s`` is NaN.
* The numpy version builds dense N x N float64 matrices. Its traced peak is
  about 870 MiB at N = 2,000, about 228 bytes per ordered pair, so memory grows
  as O(N^2): about 21 GiB at N = 10,000. It uses ``np.asmatrix``, which gives a
  PendingDeprecationWarning; the closure silences it. The C++ version is an
  O(N^2) double loop, single-threaded, and its memory grows only with the
  number of conflicts found.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass
class BlueSkyResult:
    """Conflicts reported by BlueSky, one row per unordered pair (i < j)."""

    i: IntArray  # aircraft index of first member
    j: IntArray  # aircraft index of second member, i < j
    tcpa_s: FloatArray  # from the (i, j) entry if BlueSky reported it, else (j, i)
    dcpa_m: FloatArray
    tin_s: FloatArray  # BlueSky's tLOS (time to enter the conflict)
    tout_s: FloatArray  # always NaN: BlueSky does not return it
    one_sided: BoolArray  # True if BlueSky reported only one orientation


class _Snapshot:
    """The traffic attributes BlueSky's detectors read (SI units)."""

    def __init__(
        self,
        lat: FloatArray,
        lon: FloatArray,
        alt: FloatArray,
        gs: FloatArray,
        trk: FloatArray,
        vs: FloatArray,
    ) -> None:
        self.ntraf: int = int(lat.shape[0])
        self.id: list[int] = list(range(self.ntraf))
        self.lat, self.lon, self.alt = lat, lon, alt
        self.gs, self.trk, self.vs = gs, trk, vs


@dataclass
class Prepared:
    """Everything built before the timed call."""

    traf: _Snapshot
    rpz: FloatArray
    hpz: FloatArray
    dtlookahead: FloatArray


def _import(name: str) -> Any:
    """Import a BlueSky module, swallowing the banner lines it prints."""
    with contextlib.redirect_stdout(io.StringIO()):
        return importlib.import_module(name)


def _f64(a: npt.ArrayLike) -> FloatArray:
    return np.ascontiguousarray(a, dtype=np.float64)


def prepare(
    lat_deg: npt.ArrayLike,
    lon_deg: npt.ArrayLike,
    alt_m: npt.ArrayLike,
    gs_mps: npt.ArrayLike,
    trk_deg: npt.ArrayLike,
    vs_mps: npt.ArrayLike,
    *,
    horizontal_m: float,
    vertical_m: float,
    lookahead_s: float,
) -> Prepared:
    """Import BlueSky and build the snapshot and per-aircraft zone arrays."""
    _import("bluesky.traffic.asas.statebased")
    _import("bluesky.traffic.asas.cstatebased")
    arrays = (lat_deg, lon_deg, alt_m, gs_mps, trk_deg, vs_mps)
    traf = _Snapshot(*(_f64(a) for a in arrays))
    n = traf.ntraf
    return Prepared(
        traf=traf,
        rpz=np.full(n, float(horizontal_m)),
        hpz=np.full(n, float(vertical_m)),
        dtlookahead=np.full(n, float(lookahead_s)),
    )


def make_cpp_call(p: Prepared) -> Callable[[], Any]:
    """Zero-argument closure that runs only BlueSky's C++ ``detect``."""
    detect = _import("bluesky.traffic.asas.cstatebased").detect
    traf, rpz, hpz, tlook = p.traf, p.rpz, p.hpz, p.dtlookahead

    def call() -> Any:
        return detect(traf, traf, rpz, hpz, tlook)

    return call


def make_numpy_call(p: Prepared) -> Callable[[], Any]:
    """Zero-argument closure that runs only BlueSky's numpy ``StateBased.detect``."""
    detect = _import("bluesky.traffic.asas.statebased").StateBased.detect
    traf, rpz, hpz, tlook = p.traf, p.rpz, p.hpz, p.dtlookahead

    def call() -> Any:
        # np.asmatrix warns; keep pytest's filterwarnings=error from failing.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            return detect(None, traf, traf, rpz, hpz, tlook)

    return call


def to_result(raw: Any) -> BlueSkyResult:
    """Turn BlueSky's 9-tuple into unique i < j pairs.

    ``raw`` is ``(confpairs, lospairs, inconf, tcpamax, qdr, dist, dcpa, tcpa, tLOS)``.
    The per-conflict arrays are aligned with ``confpairs``.
    """
    confpairs, _, _, _, _, _, dcpa, tcpa, tlos = raw
    pairs = np.asarray(confpairs, dtype=np.int64).reshape(-1, 2)
    a, b = pairs[:, 0], pairs[:, 1]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    key = lo * (int(pairs.max(initial=0)) + 1) + hi
    # Sort by pair, with the forward (a < b) entry first inside each pair.
    order = np.lexsort((b < a, key))
    sorted_key = key[order]
    first = np.ones(sorted_key.shape[0], dtype=bool)
    first[1:] = sorted_key[1:] != sorted_key[:-1]
    pick = order[first]
    counts = np.diff(np.flatnonzero(np.append(first, True)))
    return BlueSkyResult(
        i=lo[pick],
        j=hi[pick],
        tcpa_s=np.asarray(tcpa, dtype=np.float64)[pick],
        dcpa_m=np.asarray(dcpa, dtype=np.float64)[pick],
        tin_s=np.asarray(tlos, dtype=np.float64)[pick],
        tout_s=np.full(pick.shape[0], np.nan),
        one_sided=counts == 1,
    )


def detect_cpp(
    lat_deg: npt.ArrayLike,
    lon_deg: npt.ArrayLike,
    alt_m: npt.ArrayLike,
    gs_mps: npt.ArrayLike,
    trk_deg: npt.ArrayLike,
    vs_mps: npt.ArrayLike,
    *,
    horizontal_m: float,
    vertical_m: float,
    lookahead_s: float,
) -> BlueSkyResult:
    """Run BlueSky's C++ state-based detector on one snapshot (SI inputs)."""
    p = prepare(
        lat_deg, lon_deg, alt_m, gs_mps, trk_deg, vs_mps,
        horizontal_m=horizontal_m, vertical_m=vertical_m, lookahead_s=lookahead_s,
    )  # fmt: skip
    return to_result(make_cpp_call(p)())


def detect_numpy(
    lat_deg: npt.ArrayLike,
    lon_deg: npt.ArrayLike,
    alt_m: npt.ArrayLike,
    gs_mps: npt.ArrayLike,
    trk_deg: npt.ArrayLike,
    vs_mps: npt.ArrayLike,
    *,
    horizontal_m: float,
    vertical_m: float,
    lookahead_s: float,
) -> BlueSkyResult:
    """Run BlueSky's numpy state-based detector on one snapshot (SI inputs)."""
    p = prepare(
        lat_deg, lon_deg, alt_m, gs_mps, trk_deg, vs_mps,
        horizontal_m=horizontal_m, vertical_m=vertical_m, lookahead_s=lookahead_s,
    )  # fmt: skip
    return to_result(make_numpy_call(p)())


def _random_traffic(n: int, seed: int = 0) -> tuple[FloatArray, ...]:
    """Random snapshot over the Levant box, returned in SI units."""
    from skypact.units import fpm_to_mps, ft_to_m, kt_to_mps

    rng = np.random.default_rng(seed)
    lat = rng.uniform(32.3, 37.3, n)
    lon = rng.uniform(35.7, 42.4, n)
    alt = ft_to_m(rng.uniform(10_000.0, 40_000.0, n))
    gs = kt_to_mps(rng.uniform(250.0, 550.0, n))
    trk = rng.uniform(0.0, 360.0, n)
    moving = rng.random(n) < 0.2
    rate = rng.choice([-1.0, 1.0], n) * rng.uniform(500.0, 3000.0, n)
    vs = fpm_to_mps(np.where(moving, rate, 0.0))
    return lat, lon, alt, gs, trk, vs


if __name__ == "__main__":
    import time
    import tracemalloc

    from skypact.units import ft_to_m, nm_to_m

    zones = {
        "horizontal_m": nm_to_m(5.0),
        "vertical_m": ft_to_m(1000.0),
        "lookahead_s": 300.0,
    }

    def timed(call: Callable[[], Any]) -> tuple[Any, float]:
        t0 = time.perf_counter()
        raw = call()
        return raw, time.perf_counter() - t0

    def pairs(r: BlueSkyResult) -> set[tuple[int, int]]:
        return set(zip(r.i.tolist(), r.j.tolist(), strict=True))

    p2k = prepare(*_random_traffic(2_000), **zones)
    raw_c, t_c = timed(make_cpp_call(p2k))
    raw_n, t_n = timed(make_numpy_call(p2k))
    res_c, res_n = to_result(raw_c), to_result(raw_n)
    for name, raw, res, t in (
        ("C++  ", raw_c, res_c, t_c),
        ("numpy", raw_n, res_n, t_n),
    ):
        print(
            f"N=2000  {name}: {len(raw[0])} ordered -> {res.i.size} pairs "
            f"({int(res.one_sided.sum())} one-sided)  {t * 1e3:.1f} ms"
        )
    same = pairs(res_c) == pairs(res_n)
    print(f"        same pairs: {same}")
    if same and res_c.i.size:
        dt = np.max(np.abs(res_c.tcpa_s - res_n.tcpa_s))
        dd = np.max(np.abs(res_c.dcpa_m - res_n.dcpa_m))
        print(f"        max |tcpa diff| {dt:.2e} s, max |dcpa diff| {dd:.2e} m")

    tracemalloc.start()
    make_numpy_call(p2k)()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"N=2000  numpy peak traced memory: {peak / 2**20:.0f} MiB")

    p10k = prepare(*_random_traffic(10_000), **zones)
    raw_c, t_c = timed(make_cpp_call(p10k))
    print(f"N=10000 C++  : {to_result(raw_c).i.size} pairs  {t_c:.2f} s")
