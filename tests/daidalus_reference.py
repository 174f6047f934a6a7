"""An independent, DAIDALUS-shaped reference for DO-365B alerting, one second at a time.

SkyPact's ``do365b`` profile is vectorised, pair-symmetric and goes through the alert
lifecycle. This reference is built the way DAIDALUS is (release 2.0.4, its
``DO_365B_no_SUM`` configuration), so that the two can be compared on any scenario:

- ownship-centred: every intruder is projected orthographically onto the tangent plane
  at the ownship, on the sphere where a minute of arc is a nautical mile;
- scalar modified-tau well-clear interval (vertical interval first, then the horizontal
  one within it), level by level from the most severe, with the early alerting time for
  the level shown in the previous second;
- the shown level filtered by a queue of the last N raw levels (unseen slots -1, reset
  when an intruder has not been seen for more than the hysteresis time, the reset value
  filling M slots) and persistence since the last rise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from skypact.units import NAUTICAL_SPHERE_RADIUS_M, fpm_to_mps, ft_to_m, kt_to_mps

DTHR = 0.66 * 1852.0
TTHR = 35.0
LEVELS = (  # (level, ZTHR ft, alerting time, early alerting time), most severe first
    (3, 450.0, 25.0, 55.0),
    (2, 450.0, 55.0, 75.0),
    (1, 700.0, 55.0, 75.0),
)
M, N, RESET_S, PERSISTENCE_S = 2, 4, 5.0, 4.0


def _unit_sphere(lat: float, lon: float) -> tuple[float, float, float]:
    p, q = math.radians(lat), math.radians(lon)
    return (math.cos(p) * math.cos(q), math.cos(p) * math.sin(q), math.sin(p))


def _axes(lat: float, lon: float) -> tuple[tuple[float, ...], tuple[float, ...]]:
    p, q = math.radians(lat), math.radians(lon)
    east = (-math.sin(q), math.cos(q), 0.0)
    north = (-math.sin(p) * math.cos(q), -math.sin(p) * math.sin(q), math.cos(p))
    return east, north


def _dot(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def _project(own: pd.Series, other: pd.Series) -> tuple[float, float, float, float]:
    """Intruder minus ownship: east/north position (m) and velocity (m/s)."""
    east, north = _axes(own.latitude, own.longitude)
    here = _unit_sphere(other.latitude, other.longitude)
    x = NAUTICAL_SPHERE_RADIUS_M * _dot(here, east)
    y = NAUTICAL_SPHERE_RADIUS_M * _dot(here, north)

    def velocity(row: pd.Series) -> tuple[float, float]:
        e, n = _axes(row.latitude, row.longitude)
        gs, trk = kt_to_mps(row.groundspeed), math.radians(row.track)
        v = tuple(
            gs * (math.sin(trk) * a + math.cos(trk) * b)
            for a, b in zip(e, n, strict=False)
        )
        return _dot(v, east), _dot(v, north)

    vo, vi = velocity(own), velocity(other)
    return x, y, vi[0] - vo[0], vi[1] - vo[1]


def _wcv_interval(
    sx: float, sy: float, vx: float, vy: float, sz: float, vz: float,
    zthr: float, horizon: float,
) -> tuple[float, float]:  # fmt: skip
    """DAIDALUS's WCV_TAUMOD interval (time in, time out) within [0, horizon]."""
    if vz == 0.0:
        if abs(sz) > zthr:
            return math.inf, -math.inf
        lo, hi = 0.0, horizon
    else:
        enter = (-math.copysign(zthr, vz) - sz) / vz
        leave = (math.copysign(zthr, vz) - sz) / vz
        if horizon < enter or leave < 0.0:
            return math.inf, -math.inf
        lo, hi = max(0.0, enter), min(horizon, leave)
    if hi - lo <= 1e-9:
        return math.inf, -math.inf
    px, py, span = sx + lo * vx, sy + lo * vy, hi - lo
    a = vx * vx + vy * vy
    sqs, sdotv = px * px + py * py, px * vx + py * vy
    delta = DTHR * DTHR * a - (px * vy - py * vx) ** 2

    def exit_time() -> float:
        return (-sdotv + math.sqrt(max(delta, 0.0))) / a if a > 0.0 else math.inf

    if sqs <= DTHR * DTHR:
        return lo, lo + min(span, exit_time())
    b = 2.0 * sdotv + TTHR * a
    c = sqs + TTHR * sdotv - DTHR * DTHR
    discr = b * b - 4.0 * a * c
    if sdotv >= 0.0 or discr < 0.0 or delta < 0.0:
        return math.inf, -math.inf
    t = (-b - math.sqrt(discr)) / (2.0 * a)
    if t > span:
        return math.inf, -math.inf
    return lo + max(0.0, t), lo + min(span, exit_time())


@dataclass
class _Hysteresis:
    queue: list[int] = field(default_factory=list)
    last_time: float = math.nan
    last_value: int = -1
    init_time: float = math.nan

    def apply(self, raw: int, now: float) -> int:
        if math.isnan(self.last_time) or now - self.last_time > RESET_S:
            self.queue = [raw] * M + [-1] * (N - M)
            self.last_value, self.init_time = -1, math.nan
        self.queue = [*self.queue[1:], raw]
        value = max(
            (lv for lv in range(max(self.queue), -1, -1)
             if sum(q >= lv for q in self.queue) >= M),
            default=-1,
        )  # fmt: skip
        held = (
            not math.isnan(self.init_time)
            and self.last_value > 0
            and value < self.last_value
            and now - self.init_time < PERSISTENCE_S
        )
        if not held:
            if value > 0 and value > self.last_value:
                self.init_time = now
            self.last_value = max(0, value)
        self.last_time = now
        return self.last_value


def alert_levels(scenario: pd.DataFrame) -> dict[int, int]:
    """Shown level per second from the start, for the ownship and its one intruder."""
    scenario = scenario.assign(t=pd.to_datetime(scenario.timestamp))
    t0 = scenario.t.min()
    hysteresis = _Hysteresis()
    shown: dict[int, int] = {}
    for t, rows in scenario.groupby("t", sort=True):
        own = rows[rows.icao24 == "ownship"]
        other = rows[rows.icao24 != "ownship"]
        if own.empty or other.empty:
            continue
        o, i = own.iloc[0], other.iloc[0]
        sx, sy, vx, vy = _project(o, i)
        sz = ft_to_m(i.altitude - o.altitude)
        vz = fpm_to_mps(i.vertical_rate - o.vertical_rate)
        now = (t - t0).total_seconds()
        raw = 0
        for level, zthr_ft, alerting, early in LEVELS:
            horizon = early if hysteresis.last_value == level else alerting
            t_in, t_out = _wcv_interval(
                sx, sy, vx, vy, sz, vz, ft_to_m(zthr_ft), horizon
            )
            if t_out - t_in > 1e-9 and (t_in == 0.0 or t_in < horizon):
                raw = level
                break
        shown[int(now)] = hysteresis.apply(raw, now)
    return shown
