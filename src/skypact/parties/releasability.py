"""Need to know: what one party may see of the picture and of the alerts.

DESIGN.md "Need to know" is the rule; this module is its one implementation, used by
every API endpoint, the live feed, CoT output and exports. A viewing party receives:

- **all of its own tracks**, with every column of the picture (rows whose ``party`` is
  the viewer: its declared aircraft and what its own sensors observed);
- **another party's aircraft only while one of these holds**, each recorded as a reason:

  ============  ==========================================================================
  ``alert:ID``  the aircraft is one of the pair of the *active* alert ``ID``, and the
                other aircraft of that pair is the viewer's
  ``proximity`` it is within the agreement's disclosure radius (geodesic horizontal
                distance on WGS84, inclusive) of one of the viewer's aircraft
  ``zone:ID``   it is inside the shared zone ``ID``: in its polygon, within its altitude
                band (inclusive) and while it is in force (``starts_at`` inclusive,
                ``ends_at`` exclusive); zones that are not ``shared`` release nothing
  ============  ==========================================================================

  and then **only the releasable fields** (:data:`FIELD_COLUMNS`): the agreement's
  default ``releasability.fields`` plus whatever the aircraft's *owner* releases beyond
  them (``releasability.overrides``: the owner's choice, never the viewer's).
  Everything else -- ``icao24``, ``squawk``, ``status``, ``sources``, the quality
  columns, ``onground`` -- is withheld.

**Blocs give no visibility.** The need-to-know rule is per party: a bloc partner's
aircraft are foreign like any other party's (coalition partners deconflict among
themselves by other means, and they share with each other outside SkyPact if they
wish). A bloc appears only as part of an aircraft's *affiliation* (columns ``party`` and
``bloc``).

**Track handles.** ``icao24`` identifies an airframe and is withheld, so every released
row carries ``track_id``: HMAC-SHA256 of (viewer, party, icao24) under a server secret,
truncated to 16 hex digits. It is stable across updates (a client can follow a track)
but differs per viewer (two parties cannot match their handles) and reveals nothing of
the address. Own rows carry the same kind of handle, so the columns line up, plus their
``icao24``. Alerts name aircraft by :func:`aircraft_key` (``"party:icao24"``).

**Positions and time.** A foreign position is released with the time it was measured
(``last_update_s``): a position without its time cannot be used safely (a coasting
fast jet moves several NM in a minute). Proximity and zones are judged on the tracks'
reported positions, never on dropped tracks or tracks without a position; the viewer's
dropped tracks disclose nothing around them either. Zones crossing the antimeridian are
not supported (as in :mod:`skypact.alerting.events`).

**Auditing.** :func:`release_log` turns a :class:`ReleasedPicture` into one compact
record per foreign aircraft released (viewer, owner, handle, reasons), for the audit
chain: every release is audited.

Units: the picture is in the traffic convention (degrees, ``altitude`` in ft); the
disclosure radius is held in metres.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import numpy.typing as npt
import pandas as pd
from pyproj import Geod

from skypact.agreement.schema import AgreementFile, ReleasableField
from skypact.alerting.events import ZoneSpec, inside_zone, lines_and_zones
from skypact.alerting.lifecycle import Alert, AlertState
from skypact.errors import ConfigError, MissingColumnError
from skypact.units import WGS84_A_M, WGS84_E2, FloatArray, ft_to_m, nm_to_m

__all__ = [
    "FIELD_COLUMNS",
    "OWN",
    "PROXIMITY",
    "AlertAircraft",
    "AlertPair",
    "NeedToKnow",
    "RedactedAlert",
    "Release",
    "ReleasedPicture",
    "aircraft_key",
    "redact_alert",
    "release_log",
    "split_aircraft_key",
    "visible_alerts",
    "visible_picture",
]

OWN = "own"
"""The reason an own row is shown."""
PROXIMITY = "proximity"
"""The reason a foreign aircraft within the disclosure radius is shown."""

FIELD_COLUMNS: Mapping[ReleasableField, tuple[str, ...]] = MappingProxyType(
    {
        ReleasableField.POSITION: ("latitude", "longitude", "last_update_s"),
        ReleasableField.ALTITUDE: ("altitude",),
        ReleasableField.VELOCITY: ("groundspeed", "track", "vertical_rate"),
        ReleasableField.AFFILIATION: ("party", "bloc"),
        ReleasableField.CALLSIGN: ("callsign",),
        ReleasableField.TYPE: ("type",),
        ReleasableField.MISSION: ("mission",),
    }
)
"""The picture columns each releasable field releases (``bloc`` is added here)."""

_REQUIRED = ("party", "icao24", "latitude", "longitude", "altitude")
_NO_POSITION = frozenset({"dropped", "no position"})
_TRACK_ID_HEX = 16
_HANDLE_CACHE = 1 << 18
"""Handles remembered (they are pure functions of the key; the cache only saves time)."""
_MIN_SECRET_BYTES = 16
_KEY_SEPARATOR = ":"
_CANDIDATE_BUDGET = 1 << 20
"""Most anchor-aircraft candidate pairs measured at once (bounds memory)."""

_WGS84 = Geod(ellps="WGS84")
_MERIDIAN_MIN_M = WGS84_A_M * (1.0 - WGS84_E2)
_MEAN_RADIUS_M = WGS84_A_M * (1.0 - (1.0 - math.sqrt(1.0 - WGS84_E2)) / 3.0)
"""IUGG mean radius R1 = (2a + b) / 3."""
_SPHERE_MARGIN = 0.01
"""The smallest meridional radius of curvature (at the equator)."""

AlertPair = tuple[str, tuple[tuple[str, str], tuple[str, str]]]
"""An alert as ``(alert_id, ((party, icao24), (party, icao24)))``, taken as active."""


def aircraft_key(party: str, icao24: str) -> str:
    """The key naming one aircraft across SkyPact: ``"party:icao24"``.

    Party ids never contain ``:`` (the agreement schema's identifiers), so the key
    splits back unambiguously even if the address did.

    Raises:
        ValueError: the party is empty or contains ``:``, or the address is empty.

    Examples:
        >>> aircraft_key("usa", "ae1234")
        'usa:ae1234'
        >>> split_aircraft_key("usa:ae1234")
        ('usa', 'ae1234')
    """
    if not party or _KEY_SEPARATOR in party:
        raise ValueError(f"a party id is non-empty without ':', got {party!r}")
    if not icao24:
        raise ValueError("an aircraft key needs an address; icao24 is empty")
    return f"{party}{_KEY_SEPARATOR}{icao24}"


def split_aircraft_key(key: str) -> tuple[str, str]:
    """``(party, icao24)`` from an :func:`aircraft_key`.

    Raises:
        ValueError: the text is not such a key.
    """
    party, sep, icao24 = key.partition(_KEY_SEPARATOR)
    if not sep or not party or not icao24:
        raise ValueError(f"an aircraft key is 'party:icao24', got {key!r}")
    return party, icao24


@dataclass(frozen=True, slots=True, kw_only=True)
class NeedToKnow:
    """An agreement's releasability rules, ready to filter pictures and alerts.

    Build it with :meth:`from_agreement`; the constructor is for tests and tools.

    Attributes:
        secret: the server secret keying :meth:`track_id` (at least 16 bytes; never
            shown in ``repr``).
        fields: what every party releases of its aircraft (the default).
        overrides: per owning party, what it releases beyond the default.
        disclosure_radius_m: foreign aircraft this close to an own one are shown.
        shared_zones: zones in which every aircraft is shown to every party.
        blocs: each party's bloc (parties without one are absent or ``None``).

    Raises:
        ConfigError: the secret is too short or the radius is not a positive number.
    """

    secret: bytes = field(repr=False)
    fields: frozenset[ReleasableField] = frozenset(
        {
            ReleasableField.POSITION,
            ReleasableField.ALTITUDE,
            ReleasableField.VELOCITY,
            ReleasableField.AFFILIATION,
        }
    )
    overrides: Mapping[str, frozenset[ReleasableField]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    disclosure_radius_m: float = nm_to_m(20.0)
    shared_zones: tuple[ZoneSpec, ...] = ()
    blocs: Mapping[str, str | None] = field(
        default_factory=lambda: MappingProxyType({})
    )
    _handles: dict[tuple[str, str, str], str] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if not isinstance(self.secret, bytes) or len(self.secret) < _MIN_SECRET_BYTES:
            size = len(self.secret) if isinstance(self.secret, bytes) else "no"
            raise ConfigError(
                "secret",
                f"<{size} bytes>",
                f"the track-handle secret needs at least {_MIN_SECRET_BYTES} bytes",
            )
        radius = self.disclosure_radius_m
        if not (math.isfinite(radius) and radius > 0.0):
            raise ConfigError(
                "disclosure_radius_m", radius, "must be a positive distance"
            )

    @classmethod
    def from_agreement(cls, agreement: AgreementFile, *, secret: bytes) -> NeedToKnow:
        """The need-to-know rules of an agreement (its releasability, zones, blocs)."""
        rules = agreement.releasability
        shared = {zone.id for zone in agreement.zones if zone.shared}
        _, zones = lines_and_zones(agreement)
        overrides: dict[str, frozenset[ReleasableField]] = {}
        for item in rules.overrides:
            overrides[item.party] = overrides.get(item.party, frozenset()) | set(
                item.fields
            )
        return cls(
            secret=secret,
            fields=frozenset(rules.fields),
            overrides=MappingProxyType(overrides),
            disclosure_radius_m=nm_to_m(rules.disclosure_radius_nm),
            shared_zones=tuple(zone for zone in zones if zone.id in shared),
            blocs=MappingProxyType(
                {party.id: party.bloc for party in agreement.parties}
            ),
        )

    def released_fields(self, owner: str) -> frozenset[ReleasableField]:
        """What ``owner`` releases of its aircraft: the default plus its overrides."""
        return self.fields | self.overrides.get(owner, frozenset())

    def bloc_of(self, party: str) -> str | None:
        """The party's bloc, or ``None``."""
        return self.blocs.get(party)

    def track_id(self, viewer: str, party: str, icao24: str) -> str:
        """The viewer's opaque, stable handle for the aircraft ``(party, icao24)``."""
        key = (viewer, party, icao24)
        handle = self._handles.get(key)
        if handle is None:
            message = json.dumps([viewer, party, icao24]).encode()
            digest = hmac.new(self.secret, message, hashlib.sha256).hexdigest()
            handle = digest[:_TRACK_ID_HEX]
            if len(self._handles) >= _HANDLE_CACHE:
                self._handles.clear()
            self._handles[key] = handle
        return handle

    def any_released_fields(self) -> frozenset[ReleasableField]:
        """Every field some party releases (the foreign table's possible columns)."""
        out = self.fields
        for extra in self.overrides.values():
            out = out | extra
        return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Release:
    """One foreign aircraft released to a viewer, and why.

    Attributes:
        track_id: the viewer's handle for it.
        party: its owner (for the audit chain; shown to the viewer only if the owner
            releases its affiliation).
        reasons: why it is shown (``alert:ID``, ``proximity``, ``zone:ID``).
        columns: the columns released of it (``track_id`` included).
    """

    track_id: str
    party: str
    reasons: tuple[str, ...]
    columns: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleasedPicture:
    """What one party may see of the picture at one time.

    Attributes:
        viewer: the viewing party.
        now_s: the time of the picture (epoch s).
        own: the viewer's rows, every picture column plus ``track_id`` and ``bloc``.
        foreign: the released foreign rows: ``track_id`` and the columns of the fields
            any party releases; a cell of a field its owner does not release is null
            (see :meth:`foreign_records` for rows without those keys at all).
        releases: one :class:`Release` per row of ``foreign``, in the same order.

    Key methods: :attr:`reasons`, :meth:`foreign_records`; :func:`release_log` for the
    audit chain.
    """

    viewer: str
    now_s: float
    own: pd.DataFrame
    foreign: pd.DataFrame
    releases: tuple[Release, ...]

    @property
    def reasons(self) -> dict[str, tuple[str, ...]]:
        """Why each released row is shown, by ``track_id`` (own rows: ``("own",)``)."""
        out: dict[str, tuple[str, ...]] = {
            str(tid): (OWN,) for tid in self.own["track_id"]
        }
        out.update((r.track_id, r.reasons) for r in self.releases)
        return out

    def foreign_records(self) -> list[dict[str, object]]:
        """The foreign rows as dicts holding only what each owner releases.

        Missing values (a position not known, a party without a bloc) are ``None``.
        """
        rows = self.foreign.to_dict("records")
        return [
            {name: _none_if_missing(row[name]) for name in release.columns}
            for row, release in zip(rows, self.releases, strict=True)
        ]


def visible_picture(
    picture: pd.DataFrame,
    viewer_party: str,
    *,
    alerts: Iterable[Alert | AlertPair] = (),
    now_s: float,
    need: NeedToKnow,
) -> ReleasedPicture:
    """The part of the picture the viewing party may see (see the module docstring).

    Args:
        picture: the tracks, as :meth:`skypact.tracks.store.TrackStore.tracks` returns
            them (at least ``party``, ``icao24``, ``latitude``, ``longitude`` and
            ``altitude``; other columns are carried for own rows and released for
            foreign ones as :data:`FIELD_COLUMNS` says).
        viewer_party: the party whose clients receive the result.
        alerts: the current alerts: :class:`~skypact.alerting.lifecycle.Alert` objects
            (only *active* ones release aircraft; their ``aircraft`` are
            :func:`aircraft_key` keys) or ``(alert_id, ((party, icao24), (party,
            icao24)))`` pairs, taken as active.
        now_s: the time (epoch s) the shared zones' windows are judged at.
        need: the agreement's rules.

    Raises:
        MissingColumnError: a required column is absent.
        ValueError: an alert names an aircraft by something other than a key.
    """
    for column in _REQUIRED:
        if column not in picture.columns:
            raise MissingColumnError(column, source="<picture>")
    party = picture["party"].astype("string").fillna("").to_numpy(dtype=object)
    icao24 = picture["icao24"].astype("string").fillna("").to_numpy(dtype=object)
    own_mask = party == viewer_party
    lat = _numbers(picture, "latitude")
    lon = _numbers(picture, "longitude")
    alt_ft = _numbers(picture, "altitude")
    positioned = np.isfinite(lat) & np.isfinite(lon)
    if "status" in picture.columns:
        status = picture["status"].astype("string").fillna("").to_numpy(dtype=object)
        positioned &= ~np.isin(status, list(_NO_POSITION))
    foreign_rows = np.flatnonzero(~own_mask)
    reasons: list[list[str]] = [[] for _ in foreign_rows]

    alerted = _alerted_aircraft(alerts, viewer_party)
    if alerted:
        for k, row in enumerate(foreign_rows):
            reasons[k].extend(
                f"alert:{alert_id}"
                for alert_id in alerted.get((party[row], icao24[row]), ())
            )
    anchors = own_mask & positioned
    candidates = foreign_rows[positioned[foreign_rows]]
    near = _within_radius(
        lat[anchors],
        lon[anchors],
        lat[candidates],
        lon[candidates],
        need.disclosure_radius_m,
    )
    slot = np.searchsorted(foreign_rows, candidates[near])
    for k in slot.tolist():
        reasons[k].append(PROXIMITY)
    cand_alt_m = ft_to_m(alt_ft[candidates])
    for zone in need.shared_zones:
        inside = inside_zone(
            zone, lat[candidates], lon[candidates], cand_alt_m, float(now_s)
        )
        for k in np.searchsorted(foreign_rows, candidates[inside]).tolist():
            reasons[k].append(f"zone:{zone.id}")

    own = _own_table(picture, own_mask, icao24, viewer_party, need)
    released = [k for k, why in enumerate(reasons) if why]
    rows = foreign_rows[released]
    foreign, releases = _foreign_table(
        picture, rows, party, icao24, [reasons[k] for k in released], viewer_party, need
    )
    return ReleasedPicture(
        viewer=viewer_party,
        now_s=float(now_s),
        own=own,
        foreign=foreign,
        releases=releases,
    )


def release_log(released: ReleasedPicture) -> list[dict[str, object]]:
    """Audit records of a release: one per foreign aircraft, none for own ones.

    Each record is ``{"viewer", "party", "track_id", "reasons"}``: who received it,
    whose aircraft it is, the viewer's handle for it, and why (a list of strings).
    With the server secret, an auditor can tell which aircraft a handle names.
    """
    return [
        {
            "viewer": released.viewer,
            "party": release.party,
            "track_id": release.track_id,
            "reasons": list(release.reasons),
        }
        for release in released.releases
    ]


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertAircraft:
    """One aircraft of an alert as a viewer sees it.

    Attributes:
        track_id: the viewer's handle for it (as in :class:`ReleasedPicture`).
        own: whether it is the viewer's.
        icao24: its address, for the viewer's own aircraft only.
        party, bloc: its affiliation: always for own aircraft; for a foreign one only
            if its owner releases affiliation (else ``None``).
    """

    track_id: str
    own: bool
    icao24: str | None
    party: str | None
    bloc: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class RedactedAlert:
    """An alert involving the viewer's aircraft, as the viewer may see it.

    The other party's identifiers are replaced by track handles; acknowledgements are
    shown for the viewer and for parties whose affiliation is released in this alert.
    The alert's internal M-of-N window is not shown.
    """

    alert_id: str
    state: AlertState
    level: int
    highest_level: int
    aircraft: tuple[AlertAircraft, AlertAircraft]
    acknowledged_by: frozenset[str]
    raised_at_s: float | None
    predicted_los_at_s: float | None
    los_at_s: float | None
    ended_at_s: float | None
    warning_time_s: float | None


def redact_alert(
    alert: Alert, viewer: str, *, need: NeedToKnow
) -> RedactedAlert | None:
    """The alert as ``viewer`` may see it, or ``None`` if it may not see it at all.

    A party sees an alert only if one of its aircraft is in it, and only once it has
    been raised (pending alerts are shown to nobody; cleared and expired ones stay
    visible to the parties involved, as history).

    Raises:
        ValueError: the alert names an aircraft by something other than a key.
    """
    if alert.state is AlertState.PENDING:
        return None
    keys = tuple(split_aircraft_key(key) for key in alert.aircraft)
    if all(owner != viewer for owner, _ in keys):
        return None
    first, second = (_alert_aircraft(owner, icao, viewer, need) for owner, icao in keys)
    shown = {a.party for a in (first, second) if a.party is not None}
    return RedactedAlert(
        alert_id=alert.alert_id,
        state=alert.state,
        level=alert.level,
        highest_level=alert.highest_level,
        aircraft=(first, second),
        acknowledged_by=frozenset(alert.acknowledged_by & shown),
        raised_at_s=alert.raised_at_s,
        predicted_los_at_s=alert.predicted_los_at_s,
        los_at_s=alert.los_at_s,
        ended_at_s=alert.ended_at_s,
        warning_time_s=alert.warning_time_s,
    )


def visible_alerts(
    alerts: Iterable[Alert], viewer: str, *, need: NeedToKnow
) -> list[RedactedAlert]:
    """The alerts ``viewer`` may see, redacted, in their given order."""
    out = []
    for alert in alerts:
        shown = redact_alert(alert, viewer, need=need)
        if shown is not None:
            out.append(shown)
    return out


def _alert_aircraft(
    owner: str, icao24: str, viewer: str, need: NeedToKnow
) -> AlertAircraft:
    handle = need.track_id(viewer, owner, icao24)
    if owner == viewer:
        return AlertAircraft(
            track_id=handle,
            own=True,
            icao24=icao24,
            party=owner,
            bloc=need.bloc_of(owner),
        )
    affiliated = ReleasableField.AFFILIATION in need.released_fields(owner)
    return AlertAircraft(
        track_id=handle,
        own=False,
        icao24=None,
        party=owner if affiliated else None,
        bloc=need.bloc_of(owner) if affiliated else None,
    )


def _none_if_missing(value: object) -> object:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _numbers(picture: pd.DataFrame, column: str) -> FloatArray:
    values: FloatArray = pd.to_numeric(picture[column], errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )
    return values


def _alerted_aircraft(
    alerts: Iterable[Alert | AlertPair], viewer: str
) -> dict[tuple[str, str], list[str]]:
    """Foreign aircraft in an active alert with one of the viewer's: their alert ids."""
    out: dict[tuple[str, str], list[str]] = {}
    for alert in alerts:
        if isinstance(alert, Alert):
            if alert.state is not AlertState.ACTIVE:
                continue
            alert_id = alert.alert_id
            a, b = (split_aircraft_key(key) for key in alert.aircraft)
        else:
            alert_id, (a, b) = alert
        for mine, other in ((a, b), (b, a)):
            if mine[0] == viewer and other[0] != viewer:
                ids = out.setdefault((other[0], other[1]), [])
                if alert_id not in ids:
                    ids.append(alert_id)
    return out


def _within_radius(
    anchor_lat: FloatArray,
    anchor_lon: FloatArray,
    lat: FloatArray,
    lon: FloatArray,
    radius_m: float,
) -> npt.NDArray[np.bool_]:
    """Which points lie within the disclosure radius of at least one anchor.

    Candidates are pruned with a latitude/longitude box that provably contains the
    geodesic disc (on WGS84 a path of length d changes latitude by at most
    d / M_min and longitude by at most d / (a cos phi_max)), then measured exactly.
    """
    hit = np.zeros(len(lat), dtype=bool)
    if not len(anchor_lat) or not len(lat):
        return hit
    dlat_deg = math.degrees(radius_m / _MERIDIAN_MIN_M) * (1.0 + 1e-9) + 1e-9
    phi_max_rad = np.radians(np.minimum(np.abs(anchor_lat) + dlat_deg, 90.0))
    with np.errstate(divide="ignore"):
        dlon_deg = np.degrees(radius_m / (WGS84_A_M * np.cos(phi_max_rad)))
    dlon_deg = np.where(
        np.cos(phi_max_rad) > 1e-12, dlon_deg * (1.0 + 1e-9) + 1e-9, np.inf
    )
    order = np.argsort(lat, kind="stable")
    lat_sorted = lat[order]
    lo = np.searchsorted(lat_sorted, anchor_lat - dlat_deg, side="left")
    hi = np.searchsorted(lat_sorted, anchor_lat + dlat_deg, side="right")
    counts = hi - lo
    ends = np.cumsum(counts)
    start = 0
    while start < len(anchor_lat):
        base = ends[start] - counts[start]
        stop = int(np.searchsorted(ends, base + _CANDIDATE_BUDGET, side="right"))
        stop = max(stop, start + 1)
        _measure_chunk(
            slice(start, stop), anchor_lat, anchor_lon, lat, lon,
            order, lo, counts, dlon_deg, radius_m, hit,
        )  # fmt: skip
        start = stop
    return hit


def _measure_chunk(
    chunk: slice,
    anchor_lat: FloatArray,
    anchor_lon: FloatArray,
    lat: FloatArray,
    lon: FloatArray,
    order: npt.NDArray[np.intp],
    lo: npt.NDArray[np.intp],
    counts: npt.NDArray[np.intp],
    dlon_deg: FloatArray,
    radius_m: float,
    hit: npt.NDArray[np.bool_],
) -> None:
    n = counts[chunk]
    total = int(n.sum())
    if not total:
        return
    anchor = np.repeat(np.arange(chunk.start, chunk.stop), n)
    first = np.repeat(np.cumsum(n) - n, n)
    cand = order[np.repeat(lo[chunk], n) + np.arange(total) - first]
    dlon = np.abs((lon[cand] - anchor_lon[anchor] + 180.0) % 360.0 - 180.0)
    keep = (dlon <= dlon_deg[anchor]) & ~hit[cand]
    anchor, cand = anchor[keep], cand[keep]
    if not len(cand):
        return
    # A great circle on the mean sphere is within 1 % of the geodesic on WGS84 (the
    # spherical error stays below 0.6 %): clear cases are decided on the sphere, and
    # only pairs within 1 % of the radius are measured on the ellipsoid.
    sphere_m = _sphere_distance_m(
        anchor_lat[anchor], anchor_lon[anchor], lat[cand], lon[cand]
    )
    hit[cand[sphere_m <= radius_m * (1.0 - _SPHERE_MARGIN)]] = True
    near = (sphere_m > radius_m * (1.0 - _SPHERE_MARGIN)) & (
        sphere_m < radius_m * (1.0 + _SPHERE_MARGIN)
    )
    near &= ~hit[cand]
    if near.any():
        anchor, cand = anchor[near], cand[near]
        _, _, dist_m = _WGS84.inv(
            anchor_lon[anchor], anchor_lat[anchor], lon[cand], lat[cand]
        )
        hit[cand[np.asarray(dist_m) <= radius_m]] = True


def _sphere_distance_m(
    lat1: FloatArray, lon1: FloatArray, lat2: FloatArray, lon2: FloatArray
) -> FloatArray:
    """Great-circle distance on the sphere of the Earth's mean radius (haversine)."""
    phi1, phi2 = np.radians(lat1), np.radians(lat2)
    half_dphi = (phi2 - phi1) * 0.5
    half_dlam = np.radians(lon2 - lon1) * 0.5
    h = np.sin(half_dphi) ** 2 + np.cos(phi1) * np.cos(phi2) * np.sin(half_dlam) ** 2
    distance: FloatArray = (
        2.0 * _MEAN_RADIUS_M * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    )
    return distance


def _own_table(
    picture: pd.DataFrame,
    own_mask: npt.NDArray[np.bool_],
    icao24: npt.NDArray[np.object_],
    viewer: str,
    need: NeedToKnow,
) -> pd.DataFrame:
    own = picture.loc[own_mask].drop(columns="track_id", errors="ignore")
    own = own.reset_index(drop=True)
    own.insert(
        0,
        "track_id",
        [need.track_id(viewer, viewer, str(i)) for i in icao24[own_mask]],
    )
    own["bloc"] = need.bloc_of(viewer)
    return own


def _foreign_table(
    picture: pd.DataFrame,
    rows: npt.NDArray[np.intp],
    party: npt.NDArray[np.object_],
    icao24: npt.NDArray[np.object_],
    reasons: list[list[str]],
    viewer: str,
    need: NeedToKnow,
) -> tuple[pd.DataFrame, tuple[Release, ...]]:
    available = set(picture.columns) | {"bloc"}
    columns = _columns_of(need.any_released_fields(), available)
    owners = [str(p) for p in party[rows]]
    handles = [
        need.track_id(viewer, owner, str(i))
        for owner, i in zip(owners, icao24[rows], strict=True)
    ]
    table = picture.iloc[rows].reset_index(drop=True)
    table["bloc"] = [need.bloc_of(owner) for owner in owners]
    table = table[list(columns)].copy()
    table.insert(0, "track_id", handles)
    per_owner: dict[str, tuple[str, ...]] = {}
    for owner in set(owners):
        per_owner[owner] = (
            "track_id",
            *_columns_of(need.released_fields(owner), available),
        )
    owner_array = np.asarray(owners, dtype=object)
    for name in columns:
        allowed = [owner for owner, cols in per_owner.items() if name in cols]
        withheld = ~np.isin(owner_array, allowed)
        if withheld.any():
            table.loc[withheld, name] = None
    releases = tuple(
        Release(
            track_id=handle,
            party=owner,
            reasons=tuple(why),
            columns=per_owner[owner],
        )
        for handle, owner, why in zip(handles, owners, reasons, strict=True)
    )
    return table, releases


def _columns_of(
    fields: frozenset[ReleasableField], available: set[str]
) -> tuple[str, ...]:
    """The available columns the fields release, in :data:`FIELD_COLUMNS` order."""
    return tuple(
        name
        for released in ReleasableField
        if released in fields
        for name in FIELD_COLUMNS[released]
        if name in available
    )
