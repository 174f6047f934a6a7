"""Call BlueSky's MVP conflict resolution directly on one aircraft pair.

Reference resolver for ``bench/resolution.py``: BlueSky (PyPI
``bluesky-simulator==1.1.1``) ``bluesky.traffic.asas.mvp.MVP``, the Modified Voltage
Potential method. Like ``bench/_bluesky.py``, this module does not start BlueSky's
simulator; it passes plain objects to the unbound methods.

What is called
--------------
``MVP.resolve(self, conf, ownship, intruder)`` loops over ``conf.confpairs`` and calls
``self.MVP(...)`` once per ordered pair (a, b). Each call returns the relative
resolution velocity ``dv_mvp`` for a; ``resolve`` subtracts it from a's velocity. In the
simulator both orientations (a, b) and (b, a) are in ``confpairs``, so both aircraft
manoeuvre (cooperative resolution). ``resolve`` then turns the new velocity into a
track, ground speed and vertical speed, caps these to the performance envelope, and
returns ``(newtrack, newgs, newvs, alt)``.

``MVP()`` cannot be built without ``bs.traf`` (it is a ``TrafficArrays`` entity), so
``resolve`` is called unbound with a stand-in ``self`` (:class:`_Resolver`). The
stand-in holds the switches with BlueSky's defaults and binds the real ``MVP.MVP``:

* ``swresohoriz=True``, ``swresospd=False``, ``swresohdg=False``,
  ``swresovert=False``: BlueSky's default, heading and speed combined, no vertical
  change (``newvs = ownship.vs``);
* ``swprio=False`` (no priority rules), no ``noreso``/``resooff`` aircraft;
* ``resofach = resofacv = 1.01``: BlueSky's ``asas_marh``/``asas_marv`` defaults.

Only the chosen pair
--------------------
Inside the simulator MVP sums the ``dv`` of every conflict an aircraft is in. For a
like-for-like comparison with SkyPact's pairwise advice, this module builds a
two-aircraft snapshot holding only the pair, runs BlueSky's own C++ state-based detector
on it (so ``qdr``, ``dist``, ``tcpa`` and ``tLOS`` come from BlueSky, flat-earth), and
passes MVP only that pair's conflict, in both orientations. Third aircraft are unseen by
MVP; the caller measures the secondary conflicts MVP causes.

If BlueSky's detector does not report the pair (its flat-earth geometry disagrees with
SkyPact's detector near the zone boundary), MVP gives no manoeuvre: ``detected`` is
False and the velocities are returned unchanged.

Units are SI throughout (BlueSky's internal units): m, m/s, deg.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import io
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Envelope:
    """Performance caps MVP applies to its output (``ownship.perf``), SI."""

    min_gs_mps: float
    max_gs_mps: float
    min_vs_mps: float
    max_vs_mps: float


@dataclass(frozen=True)
class MvpResult:
    """MVP's new velocity for the two aircraft (index 0 and 1 of the pair)."""

    detected: bool  # BlueSky's detector reported the pair
    trk_deg: FloatArray  # (2,)
    gs_mps: FloatArray  # (2,)
    vs_mps: FloatArray  # (2,)


def _import(name: str) -> Any:
    """Import a BlueSky module, swallowing the banner lines it prints."""
    with contextlib.redirect_stdout(io.StringIO()):
        return importlib.import_module(name)


class _Obj:
    """A bare attribute holder (BlueSky reads attributes only)."""

    def __init__(self, **values: Any) -> None:
        self.__dict__.update(values)


class _Resolver:
    """Stand-in ``self`` for ``MVP.resolve``: BlueSky's default switches."""

    def __init__(self, mvp_cls: Any, n: int) -> None:
        self.swresohoriz = True
        self.swresospd = False
        self.swresohdg = False
        self.swresovert = False
        self.swprio = False
        self.priocode = ""
        self.resofach = 1.01
        self.resofacv = 1.01
        self.noresoac = np.zeros(n, dtype=bool)
        self.resooffac = np.zeros(n, dtype=bool)
        self.MVP = functools.partial(mvp_cls.MVP, self)


class MvpPair:
    """BlueSky's MVP, prepared once (imports outside any timed loop)."""

    def __init__(
        self,
        *,
        horizontal_m: float,
        vertical_m: float,
        lookahead_s: float,
        envelope: Envelope,
    ) -> None:
        self._mvp_cls = _import("bluesky.traffic.asas.mvp").MVP
        self._detect = _import("bluesky.traffic.asas.cstatebased").detect
        self._rpz = np.full(2, float(horizontal_m))
        self._hpz = np.full(2, float(vertical_m))
        self._tlook = np.full(2, float(lookahead_s))
        self._envelope = envelope

    def resolve(
        self,
        lat_deg: FloatArray,
        lon_deg: FloatArray,
        alt_m: FloatArray,
        gs_mps: FloatArray,
        trk_deg: FloatArray,
        vs_mps: FloatArray,
    ) -> MvpResult:
        """MVP's resolution velocities for a pair given as (2,) SI arrays."""

        def f64(a: FloatArray) -> FloatArray:
            return np.ascontiguousarray(a, dtype=np.float64)

        lat, lon, alt = f64(lat_deg), f64(lon_deg), f64(alt_m)
        gs, trk, vs = f64(gs_mps), f64(trk_deg), f64(vs_mps)
        env = self._envelope
        trk_rad = np.radians(trk)
        traf = _Obj(
            ntraf=2,
            id=[0, 1],
            lat=lat,
            lon=lon,
            alt=alt,
            gs=gs,
            trk=trk,
            vs=vs,
            gseast=gs * np.sin(trk_rad),
            gsnorth=gs * np.cos(trk_rad),
            selalt=alt.copy(),
            ap=_Obj(vs=vs.copy()),
            perf=_Obj(
                vmin=np.full(2, env.min_gs_mps),
                vmax=np.full(2, env.max_gs_mps),
                vsmin=np.full(2, env.min_vs_mps),
                vsmax=np.full(2, env.max_vs_mps),
            ),
        )
        raw = self._detect(traf, traf, self._rpz, self._hpz, self._tlook)
        confpairs, _, _, _, qdr, dist, _, tcpa, tlos = raw
        if not confpairs:
            return MvpResult(False, trk.copy(), gs.copy(), vs.copy())
        conf = _Obj(
            confpairs=list(confpairs),
            qdr=np.asarray(qdr, dtype=np.float64),
            dist=np.asarray(dist, dtype=np.float64),
            tcpa=np.asarray(tcpa, dtype=np.float64),
            tLOS=np.asarray(tlos, dtype=np.float64),
            rpz=self._rpz,
            hpz=self._hpz,
            dtlookahead=self._tlook,
        )
        me = _Resolver(self._mvp_cls, 2)
        # np.where in MVP's vertical part evaluates 0/0 for level pairs; that
        # component is discarded by the default horizontal-only switch.
        with np.errstate(divide="ignore", invalid="ignore"):
            newtrk, newgs, newvs, _ = self._mvp_cls.resolve(me, conf, traf, traf)
        return MvpResult(
            True,
            np.asarray(newtrk, dtype=np.float64),
            np.asarray(newgs, dtype=np.float64),
            np.asarray(newvs, dtype=np.float64),
        )
