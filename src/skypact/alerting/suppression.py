"""What an agreement keeps from becoming an alert: tolerances, exemptions, inhibition.

Applied in every detection cycle (the replay and, later, the live service):

- **tolerances** (:func:`apply_tolerances`, before detection): an aircraft in level
  flight reported within the agreed tolerance of a flight level is taken level at that
  level, so adjacent levels reported 925-975 ft apart are 1,000 ft apart again. Climbing or
  descending aircraft, and aircraft away from a level, are untouched, so a real conflict
  at one level is never hidden;
- **exemptions** (:meth:`Suppression.suppressed`, after detection): declared
  formations and named pairs;
- **inhibition zones**: a pair is not alerted while *both* aircraft are inside one
  inhibition zone (polygon and altitude band; e.g. a terminal area with parallel
  approaches). One aircraft inside and one outside is still alerted.

Pairs within one party or bloc are handled by the monitoring groups (which pairs are
monitored at all), not here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import shapely

from skypact.agreement.schema import AgreementFile, ExemptionKind
from skypact.tracks.model import StateArrays
from skypact.units import FloatArray, fpm_to_mps, ft_to_m

__all__ = [
    "InhibitionArea",
    "Suppression",
    "apply_tolerances",
    "suppression_from_agreement",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class InhibitionArea:
    """A polygon (lon/lat, as shapely wants x/y) and an altitude band in metres."""

    name: str
    polygon: shapely.Polygon
    floor_m: float
    ceiling_m: float

    def contains(self, states: StateArrays) -> npt.NDArray[np.bool_]:
        """Which aircraft are inside the area."""
        inside: npt.NDArray[np.bool_] = shapely.contains_xy(
            self.polygon, states.lon_deg, states.lat_deg
        )
        return (
            inside & (states.alt_m >= self.floor_m) & (states.alt_m <= self.ceiling_m)
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Suppression:
    """The agreement's tolerances, exemptions and inhibition zones, in SI."""

    level_step_m: float = ft_to_m(1000.0)
    level_tolerance_m: float = 0.0
    level_flight_max_mps: float = fpm_to_mps(300.0)
    exempt_pairs: frozenset[frozenset[str]] = frozenset()
    areas: tuple[InhibitionArea, ...] = ()

    def suppressed(
        self, states: StateArrays, i: npt.NDArray[np.int64], j: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.bool_]:
        """Which of the pairs (i, j) are exempt or inside one inhibition zone together."""
        out = np.zeros(len(i), dtype=bool)
        if self.exempt_pairs:
            ids = states.aircraft_id
            out |= np.array(
                [
                    frozenset((str(ids[a]), str(ids[b]))) in self.exempt_pairs
                    for a, b in zip(i.tolist(), j.tolist(), strict=True)
                ],
                dtype=bool,
            )
        for area in self.areas:
            inside = area.contains(states)
            out |= inside[i] & inside[j]
        return out


def suppression_from_agreement(content: AgreementFile) -> Suppression:
    """The suppression an agreement defines."""
    pairs: set[frozenset[str]] = set()
    for exemption in content.exemptions:
        if exemption.kind in (ExemptionKind.FORMATION, ExemptionKind.PAIR):
            members = list(exemption.aircraft)
            for k, a in enumerate(members):
                for b in members[k + 1 :]:
                    pairs.add(frozenset((a, b)))
    areas = tuple(
        InhibitionArea(
            name=zone.name,
            polygon=shapely.Polygon([(lon, lat) for lat, lon in zone.polygon]),
            floor_m=ft_to_m(zone.floor_ft),
            ceiling_m=ft_to_m(zone.ceiling_ft),
        )
        for zone in content.inhibition_zones
    )
    tol = content.tolerances
    return Suppression(
        level_step_m=ft_to_m(tol.flight_level_step_ft),
        level_tolerance_m=ft_to_m(tol.flight_level_tolerance_ft),
        level_flight_max_mps=fpm_to_mps(tol.level_flight_max_fpm),
        exempt_pairs=frozenset(pairs),
        areas=areas,
    )


def apply_tolerances(states: StateArrays, suppression: Suppression) -> StateArrays:
    """States with level-flight aircraft near a flight level taken level at that level.

    Their vertical rate is taken as 0 too: in level flight Mode S reports rates of
    +-64 ft/min that a 300 s prediction would turn into 640 ft of convergence.
    """
    if suppression.level_tolerance_m <= 0.0 or len(states) == 0:
        return states
    step = suppression.level_step_m
    nearest: FloatArray = np.round(states.alt_m / step) * step
    snap = (np.abs(states.alt_m - nearest) <= suppression.level_tolerance_m) & (
        np.abs(states.vs_mps) <= suppression.level_flight_max_mps
    )
    if not snap.any():
        return states
    return replace(
        states,
        alt_m=np.where(snap, nearest, states.alt_m),
        vs_mps=np.where(snap, 0.0, states.vs_mps),
    )
