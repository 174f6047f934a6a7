"""Events other than predicted conflicts: line crossings, zone entries, emergencies.

Pure functions over two consecutive pictures (the same aircraft, earlier and now):

- a **line crossing** is a step of an aircraft that intersects a deconfliction line;
  its direction is told by the side of the crossed segment it ends on (``left`` or
  ``right`` of the line as drawn, first point to last);
- a **zone entry** / **zone exit** is a change of being inside a zone (polygon,
  altitude band and time window);
- an **emergency** is a transponder code 7500 (unlawful interference), 7600 (radio
  failure) or 7700 (general emergency) that an aircraft starts to squawk.

A live service watches zones cycle by cycle with :class:`ZoneWatch`: it reports each
aircraft's entry into a zone that has an owner, for aircraft of the other sides only
(the owner's own aircraft are expected there).

Geometry is done in longitude/latitude degrees, which is exact enough for the short
steps between two pictures (seconds of flight); lines and zones crossing the
antimeridian are not supported.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import shapely

from skypact.agreement.schema import AgreementFile
from skypact.tracks.model import StateArrays
from skypact.units import FloatArray, ft_to_m

__all__ = [
    "EMERGENCY_CODES",
    "EventKind",
    "LineSpec",
    "ZoneEntry",
    "ZoneSpec",
    "ZoneWatch",
    "crossings",
    "inside_zone",
    "lines_and_zones",
]

EMERGENCY_CODES = {
    "7500": "unlawful interference",
    "7600": "radio failure",
    "7700": "emergency",
}


class EventKind(enum.StrEnum):
    """Kinds of events."""

    LINE_CROSSING = "line-crossing"
    ZONE_ENTRY = "zone-entry"
    ZONE_EXIT = "zone-exit"
    EMERGENCY = "emergency"


@dataclass(frozen=True, slots=True, kw_only=True)
class LineSpec:
    """A deconfliction line: id, name and its points as (lon, lat)."""

    id: str
    name: str
    line: shapely.LineString
    left_side: str | None
    right_side: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ZoneSpec:
    """A zone: polygon (lon, lat), altitude band (m), time window (epoch s), and the
    party or bloc that owns it, if any."""

    id: str
    name: str
    polygon: shapely.Polygon
    floor_m: float
    ceiling_m: float
    starts_s: float | None
    ends_s: float | None
    owner: str | None = None


def lines_and_zones(
    content: AgreementFile,
) -> tuple[tuple[LineSpec, ...], tuple[ZoneSpec, ...]]:
    """The agreement's deconfliction lines and zones, ready for event detection."""

    def epoch(stamp: dt.datetime | None) -> float | None:
        return None if stamp is None else stamp.timestamp()

    lines = tuple(
        LineSpec(
            id=line.id,
            name=line.name,
            line=shapely.LineString([(lon, lat) for lat, lon in line.points]),
            left_side=line.left_side,
            right_side=line.right_side,
        )
        for line in content.lines
    )
    zones = tuple(
        ZoneSpec(
            id=zone.id,
            name=zone.name,
            polygon=shapely.Polygon([(lon, lat) for lat, lon in zone.polygon]),
            floor_m=ft_to_m(zone.floor_ft),
            ceiling_m=ft_to_m(zone.ceiling_ft),
            starts_s=epoch(zone.starts_at),
            ends_s=epoch(zone.ends_at),
            owner=zone.owner,
        )
        for zone in content.zones
    )
    return lines, zones


def crossings(
    line: LineSpec,
    lat0: FloatArray,
    lon0: FloatArray,
    lat1: FloatArray,
    lon1: FloatArray,
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.str_]]:
    """Which steps (lat0, lon0) -> (lat1, lon1) cross the line, and to which side.

    Returns a mask and, per step, ``"left"``/``"right"`` (the side the aircraft ends
    on, looking along the line from its first point) or ``""`` where it does not cross.
    """
    steps = shapely.linestrings(
        np.stack(
            [np.stack([lon0, lat0], axis=1), np.stack([lon1, lat1], axis=1)], axis=1
        )
    )
    moved = (lat0 != lat1) | (lon0 != lon1)
    crossed: npt.NDArray[np.bool_] = shapely.intersects(steps, line.line) & moved
    side = np.full(len(lat0), "", dtype="<U5")
    if crossed.any():
        coords = np.asarray(line.line.coords)
        for k in np.flatnonzero(crossed):
            # The segment of the line nearest to where the aircraft ends up.
            px, py = lon1[k], lat1[k]
            a = coords[:-1]
            b = coords[1:]
            ab = b - a
            t = np.clip(((px - a[:, 0]) * ab[:, 0] + (py - a[:, 1]) * ab[:, 1])
                        / np.maximum((ab**2).sum(axis=1), 1e-18), 0.0, 1.0)  # fmt: skip
            near = a + t[:, None] * ab
            s = int(np.argmin((near[:, 0] - px) ** 2 + (near[:, 1] - py) ** 2))
            cross = ab[s, 0] * (py - a[s, 1]) - ab[s, 1] * (px - a[s, 0])
            side[k] = "left" if cross > 0 else "right"
    return crossed, side


def inside_zone(
    zone: ZoneSpec, lat: FloatArray, lon: FloatArray, alt_m: FloatArray, t_s: float
) -> npt.NDArray[np.bool_]:
    """Which aircraft are inside the zone (polygon, band) while it is in force."""
    if (zone.starts_s is not None and t_s < zone.starts_s) or (
        zone.ends_s is not None and t_s >= zone.ends_s
    ):
        return np.zeros(len(lat), dtype=bool)
    inside: npt.NDArray[np.bool_] = shapely.contains_xy(zone.polygon, lon, lat)
    return inside & (alt_m >= zone.floor_m) & (alt_m <= zone.ceiling_m)


@dataclass(frozen=True, slots=True, kw_only=True)
class ZoneEntry:
    """An aircraft seen inside a zone it was not inside at the previous cycle.

    Attributes:
        zone: the zone entered.
        key: the aircraft's key (as the caller names aircraft, e.g. ``party:icao24``).
        index: its row in the states the entry was seen in.
        at_s: the cycle's time, epoch seconds.
    """

    zone: ZoneSpec
    key: str
    index: int
    at_s: float


@dataclass
class ZoneWatch:
    """Entries of other sides' aircraft into owned zones, cycle after cycle.

    Each :meth:`step` judges every aircraft against every zone that has an owner and
    is in force (:func:`inside_zone`), skipping aircraft of the owner's side, and
    reports the aircraft now inside that were not at the previous step (an aircraft
    already inside when a zone comes into force, or when it is first seen, has
    entered too). An aircraft that leaves and comes back within ``rearm_s`` is not
    reported again (a track skimming a boundary would otherwise enter at every other
    cycle); one that is no longer in the states is forgotten.

    Attributes:
        side_of: each party's side (its bloc, or itself); a zone's owner may be a
            party or a side.
        rearm_s: how long after leaving a zone a new entry is reported again.
    """

    side_of: Mapping[str, str]
    rearm_s: float = 60.0
    _inside: dict[tuple[str, str], float] = field(default_factory=dict)
    _left_s: dict[tuple[str, str], float] = field(default_factory=dict)

    def step(
        self,
        states: StateArrays,
        keys: Sequence[str] | npt.NDArray[np.object_],
        now_s: float,
        zones: Sequence[ZoneSpec],
    ) -> list[ZoneEntry]:
        """The entries seen at ``now_s`` (states and keys row for row)."""
        owned = [zone for zone in zones if zone.owner is not None]
        if not owned:
            self._inside.clear()
            self._left_s.clear()
            return []
        n = len(keys)
        party = (
            np.asarray(states.party, dtype=object)
            if states.party is not None
            else np.full(n, "", dtype=object)
        )
        side = np.asarray([self.side_of.get(str(p), str(p)) for p in party], object)
        entries: list[ZoneEntry] = []
        inside_now: dict[tuple[str, str], float] = {}
        for zone in owned:
            owner = str(zone.owner)
            owner_side = self.side_of.get(owner, owner)
            other = side != owner_side
            if not other.any():
                continue
            inside = inside_zone(
                zone, states.lat_deg, states.lon_deg, states.alt_m, now_s
            )
            for k in np.flatnonzero(inside & other).tolist():
                key = str(keys[k])
                slot = (key, zone.id)
                inside_now[slot] = self._inside.get(slot, now_s)
                if slot in self._inside:
                    continue
                left_s = self._left_s.get(slot)
                if left_s is not None and now_s - left_s < self.rearm_s:
                    continue
                entries.append(ZoneEntry(zone=zone, key=key, index=k, at_s=now_s))
        present = {str(k) for k in keys}
        for slot in self._inside.keys() - inside_now.keys():
            if slot[0] in present:
                self._left_s[slot] = now_s
        self._left_s = {
            slot: t
            for slot, t in self._left_s.items()
            if slot[0] in present and now_s - t < self.rearm_s
        }
        self._inside = inside_now
        return entries
