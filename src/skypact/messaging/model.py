"""What travels on the deconfliction line: typed message bodies and the message itself.

A message has a *kind* and a *body* of the matching type:

- ``free-text``, :class:`FreeText`: anything else, in the sender's language;
- ``notification``, :class:`OperationsNotice`: planned operations (area, altitude band,
  time window);
- ``identification-query``, :class:`IdentificationQuery`: "whose aircraft is this?";
- ``identification-answer``, :class:`IdentificationAnswer`: the owners' affiliation,
  nothing more;
- ``alert-notice``, :class:`AlertNotice`: a conflict alert, for the parties involved;
- ``zone-entry-notice``, :class:`ZoneEntryNotice`: another side's aircraft entered a
  zone with an owner (a notified operating area, or an agreement zone), for the owner
  and for the aircraft's party;
- ``link-test``, :class:`LinkTest`: a drill of the line itself.

There is no separate priority: what differs between kinds (an alert notice gets through
a suspended channel) is decided by the kind, and how fast an answer is needed by the
agreement's deadline and escalation ladder.

Units follow STYLE.md B3 at this edge: the bodies are what operators write and read, so
altitudes are in feet and distances in nautical miles (``floor_ft``, ``radius_nm``);
positions are WGS84 degrees; times are epoch seconds (``starts_at_s``), as everywhere in
the core. Polygons are ``(lat_deg, lon_deg)`` pairs, the agreement file's order, and must
not cross the antimeridian (as for the agreement's own zones).

Need to know: an :class:`IdentificationAnswer` can only carry the owners' affiliation
(party and bloc) and the distance from the queried point. It has no field for a
callsign, an icao24 address, a type or a mission, so none can be sent by mistake.

An operations notice becomes a zone for detection with :func:`notice_zone`.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
from dataclasses import dataclass

import pydantic
import shapely

from skypact.agreement.schema import Zone
from skypact.errors import ConfigError

__all__ = [
    "AlertNotice",
    "Body",
    "FreeText",
    "IdentificationAnswer",
    "IdentificationQuery",
    "IdentifiedAircraft",
    "Language",
    "LinkTest",
    "Message",
    "MessageKind",
    "OperationsNotice",
    "ZoneEntryNotice",
    "kind_of",
    "notice_zone",
]

_FLOOR_MIN_FT = -2000.0
_CEILING_MAX_FT = 100000.0
"""The altitude limits the agreement's zones accept (so every notice can become one)."""


class MessageKind(enum.StrEnum):
    """What a message is for (the type of its body)."""

    FREE_TEXT = "free-text"
    NOTIFICATION = "notification"
    IDENTIFICATION_QUERY = "identification-query"
    IDENTIFICATION_ANSWER = "identification-answer"
    ALERT_NOTICE = "alert-notice"
    ZONE_ENTRY_NOTICE = "zone-entry-notice"
    LINK_TEST = "link-test"


class Language(enum.StrEnum):
    """The languages of the line: every rendered message exists in both."""

    EN = "en"
    RU = "ru"


def _finite(name: str, value: float) -> None:
    if not math.isfinite(value):
        raise ConfigError(name, value, "must be a finite number")


def _text(name: str, value: str) -> None:
    if not value.strip():
        raise ConfigError(name, value, "must not be empty")


def _language(name: str, value: str) -> None:
    if value not in tuple(Language):
        raise ConfigError(name, value, f"must be one of {[str(x) for x in Language]}")


def _position(lat_deg: float, lon_deg: float, name: str) -> None:
    _finite(name, lat_deg)
    _finite(name, lon_deg)
    if not -90.0 <= lat_deg <= 90.0:
        raise ConfigError(name, (lat_deg, lon_deg), "latitude outside -90..90 deg")
    if not -180.0 <= lon_deg <= 180.0:
        raise ConfigError(name, (lat_deg, lon_deg), "longitude outside -180..180 deg")


@dataclass(frozen=True, slots=True, kw_only=True)
class FreeText:
    """Free text, in the language it was written in (it is never machine-translated)."""

    text: str
    language: Language

    def __post_init__(self) -> None:
        _text("text", self.text)
        _language("language", self.language)


@dataclass(frozen=True, slots=True, kw_only=True)
class OperationsNotice:
    """A notification of planned operations: where, between which altitudes, when.

    Attributes:
        area: the polygon as ``(lat_deg, lon_deg)`` points, at least three distinct
            ones; it may be given closed (last point = first) or open, and must not
            cross itself.
        floor_ft, ceiling_ft: the altitude band (floor below ceiling, both within
            -2,000..100,000 ft; a floor at or below 0 ft means "from the surface").
        starts_at_s, ends_at_s: the time window, epoch seconds (start before end).
        description: what the sender says about it (not translated).
    """

    area: tuple[tuple[float, float], ...]
    floor_ft: float
    ceiling_ft: float
    starts_at_s: float
    ends_at_s: float
    description: str = ""

    def __post_init__(self) -> None:
        try:
            area = tuple((float(lat), float(lon)) for lat, lon in self.area)
        except (TypeError, ValueError) as exc:
            raise ConfigError("area", self.area, "points are [lat, lon] pairs") from exc
        object.__setattr__(self, "area", area)  # a tuple of pairs, however given
        for lat_deg, lon_deg in area:
            _position(lat_deg, lon_deg, "area")
        ring = self.ring
        if len(set(ring)) < 3:
            raise ConfigError("area", self.area, "needs at least three distinct points")
        polygon = shapely.Polygon([(lon, lat) for lat, lon in ring])
        if not polygon.is_valid or polygon.area <= 0.0:
            reason = shapely.is_valid_reason(polygon)
            raise ConfigError(
                "area", self.area, f"is not a simple polygon ({reason.lower()})"
            )
        for name, value in (
            ("floor_ft", self.floor_ft),
            ("ceiling_ft", self.ceiling_ft),
        ):
            _finite(name, value)
            if not _FLOOR_MIN_FT <= value <= _CEILING_MAX_FT:
                raise ConfigError(name, value, "outside -2,000..100,000 ft")
        if self.floor_ft >= self.ceiling_ft:
            raise ConfigError("floor_ft", self.floor_ft, "must be below ceiling_ft")
        _finite("starts_at_s", self.starts_at_s)
        _finite("ends_at_s", self.ends_at_s)
        if self.starts_at_s >= self.ends_at_s:
            raise ConfigError(
                "starts_at_s", self.starts_at_s, "must be before ends_at_s"
            )

    @property
    def ring(self) -> tuple[tuple[float, float], ...]:
        """The polygon's points without the closing repeat of the first point."""
        area = self.area
        if len(area) > 1 and area[0] == area[-1]:
            return area[:-1]
        return area


@dataclass(frozen=True, slots=True, kw_only=True)
class IdentificationQuery:
    """Whose aircraft is at this place? (an observed contact that the sender cannot place)

    Attributes:
        lat_deg, lon_deg: where the contact was observed.
        altitude_ft: its altitude, if known.
        radius_nm: how far around that point an answer may look (positive).
        observed_at_s: when it was observed, epoch seconds.
    """

    lat_deg: float
    lon_deg: float
    altitude_ft: float | None
    observed_at_s: float
    radius_nm: float = 5.0

    def __post_init__(self) -> None:
        _position(self.lat_deg, self.lon_deg, "lat_deg/lon_deg")
        if self.altitude_ft is not None:
            _finite("altitude_ft", self.altitude_ft)
        _finite("observed_at_s", self.observed_at_s)
        _finite("radius_nm", self.radius_nm)
        if self.radius_nm <= 0.0:
            raise ConfigError("radius_nm", self.radius_nm, "must be positive")


@dataclass(frozen=True, slots=True, kw_only=True)
class IdentifiedAircraft:
    """One aircraft matching a query: its owner's affiliation and how far it is.

    Deliberately nothing else (DESIGN.md "Identity"): no callsign, icao24, type or
    mission can be put in an answer.
    """

    party: str
    bloc: str | None
    distance_nm: float

    def __post_init__(self) -> None:
        _text("party", self.party)
        if self.bloc is not None:
            _text("bloc", self.bloc)
        _finite("distance_nm", self.distance_nm)
        if self.distance_nm < 0.0:
            raise ConfigError("distance_nm", self.distance_nm, "cannot be negative")


@dataclass(frozen=True, slots=True, kw_only=True)
class IdentificationAnswer:
    """The answer to an identification query: the affiliation of what matched.

    No match means no declared aircraft lies within the queried radius: the contact
    stays unidentified (an *unknown*).
    """

    query_id: str
    matches: tuple[IdentifiedAircraft, ...] = ()

    def __post_init__(self) -> None:
        _text("query_id", self.query_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertNotice:
    """A conflict alert, for the parties it involves.

    Attributes:
        alert_id: the alert.
        level: its severity (1 = least severe), as in :mod:`skypact.alerting`.
        parties: the parties involved.
        level_name: the agreement's name of the level (``"caution"``), if known.
        los_at_s: when separation is predicted to be lost, epoch seconds, if known.
    """

    alert_id: str
    level: int
    parties: frozenset[str]
    level_name: str | None = None
    los_at_s: float | None = None

    def __post_init__(self) -> None:
        _text("alert_id", self.alert_id)
        if not 1 <= self.level <= 9:
            raise ConfigError("level", self.level, "alert levels run from 1 to 9")
        if not self.parties:
            raise ConfigError("parties", self.parties, "an alert involves parties")
        if self.los_at_s is not None:
            _finite("los_at_s", self.los_at_s)


@dataclass(frozen=True, slots=True, kw_only=True)
class ZoneEntryNotice:
    """An aircraft of another side entered a zone that has an owner.

    Two notices are sent for one entry: to the zone's owner, which learns the
    aircraft's affiliation, position and altitude (it is released to it inside a shared
    zone) but never its address or callsign; and to the aircraft's own party, which
    also learns which of its aircraft it is (``icao24``, ``callsign``).

    Attributes:
        zone_id: the zone (``notice-...`` for a notified operating area).
        zone_name: its name (a notice's description).
        owner: the party or bloc that owns the zone (a notice's sender).
        party: the entering aircraft's party.
        bloc: that party's bloc, if any.
        lat_deg, lon_deg: where it was when its entry was seen (WGS84).
        altitude_ft: its barometric altitude then.
        at_s: when the entry was seen, epoch seconds.
        notice_id: the notification that declared the zone, if one did.
        icao24, callsign: the aircraft's identity, only in the notice to its own party.
    """

    zone_id: str
    zone_name: str
    owner: str
    party: str
    lat_deg: float
    lon_deg: float
    altitude_ft: float
    at_s: float
    bloc: str | None = None
    notice_id: str | None = None
    icao24: str | None = None
    callsign: str | None = None

    def __post_init__(self) -> None:
        for name in ("zone_id", "zone_name", "owner", "party"):
            _text(name, getattr(self, name))
        _position(self.lat_deg, self.lon_deg, "position")
        _finite("altitude_ft", self.altitude_ft)
        _finite("at_s", self.at_s)


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkTest:
    """A drill of the line: the recipients acknowledge, nothing else is asked."""

    nonce: str

    def __post_init__(self) -> None:
        _text("nonce", self.nonce)


Body = (
    FreeText
    | OperationsNotice
    | IdentificationQuery
    | IdentificationAnswer
    | AlertNotice
    | ZoneEntryNotice
    | LinkTest
)

_KINDS: dict[type[Body], MessageKind] = {
    FreeText: MessageKind.FREE_TEXT,
    OperationsNotice: MessageKind.NOTIFICATION,
    IdentificationQuery: MessageKind.IDENTIFICATION_QUERY,
    IdentificationAnswer: MessageKind.IDENTIFICATION_ANSWER,
    AlertNotice: MessageKind.ALERT_NOTICE,
    ZoneEntryNotice: MessageKind.ZONE_ENTRY_NOTICE,
    LinkTest: MessageKind.LINK_TEST,
}


def kind_of(body: Body) -> MessageKind:
    """The kind of message a body makes.

    Raises:
        TypeError: not a message body.
    """
    try:
        return _KINDS[type(body)]
    except KeyError:
        raise TypeError(f"{type(body).__name__} is not a message body") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class Message:
    """One message on the deconfliction line, as sent (it never changes afterwards).

    Its delivery, acknowledgement and escalation are tracked apart, per recipient, by
    :mod:`skypact.messaging.delivery`; :func:`skypact.messaging.delivery.compose`
    builds a message with its texts and deadline.

    Attributes:
        message_id: unique on the line.
        kind: what the body is (must match it).
        sender: the sending party's id.
        recipients: the receiving parties' ids (at least one, not the sender).
        body: the typed content.
        sent_at_s: when it was sent, epoch seconds.
        language: the language the sender wrote in.
        text: the body rendered in ``language``: the original, the authoritative text.
        translation: the body rendered in the other language, or None (free text).
        deadline_s: when acknowledgement is due, epoch seconds (after ``sent_at_s``).
        in_reply_to: the message this one answers (an identification answer always
            answers its query).
    """

    message_id: str
    kind: MessageKind
    sender: str
    recipients: frozenset[str]
    body: Body
    sent_at_s: float
    language: Language
    text: str
    translation: str | None
    deadline_s: float
    in_reply_to: str | None = None

    def __post_init__(self) -> None:
        _text("message_id", self.message_id)
        _text("sender", self.sender)
        if not self.recipients:
            raise ConfigError("recipients", self.recipients, "at least one is needed")
        for recipient in self.recipients:
            _text("recipients", recipient)
        if self.sender in self.recipients:
            raise ConfigError("recipients", self.recipients, "include the sender")
        if self.kind is not kind_of(self.body):
            raise ConfigError(
                "kind", self.kind, f"does not match a {type(self.body).__name__} body"
            )
        _finite("sent_at_s", self.sent_at_s)
        _finite("deadline_s", self.deadline_s)
        if self.deadline_s <= self.sent_at_s:
            raise ConfigError("deadline_s", self.deadline_s, "must be after sent_at_s")
        _language("language", self.language)
        _text("text", self.text)
        if isinstance(self.body, FreeText) and self.body.language != self.language:
            raise ConfigError(
                "language", self.language, "differs from the free text's language"
            )
        if self.in_reply_to == self.message_id:
            raise ConfigError("in_reply_to", self.in_reply_to, "a message's own id")
        if (
            isinstance(self.body, IdentificationAnswer)
            and self.in_reply_to != self.body.query_id
        ):
            raise ConfigError(
                "in_reply_to", self.in_reply_to, "an answer replies to its query"
            )


def _utc(t_s: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(t_s, tz=dt.UTC)


def notice_zone(message: Message, *, zone_id: str, owner: str | None = None) -> Zone:
    """The zone a notification of planned operations declares, for detection.

    The zone is shared (both sides see what enters it), named after the notice's
    description, and in force over the notice's window.

    Args:
        message: a notification (its body an :class:`OperationsNotice`).
        zone_id: the zone's id (an agreement identifier: lowercase letters, digits and
            ``-``, starting with a letter, at most 32 characters).
        owner: the party or bloc that owns the zone; the sender by default.

    Raises:
        TypeError: the message is not a notification.
        ConfigError: the zone id or owner is not an identifier.
    """
    notice = message.body
    if not isinstance(notice, OperationsNotice):
        raise TypeError(f"a {message.kind} message declares no zone")
    name = notice.description.strip() or f"Notified operations ({message.message_id})"
    try:
        return Zone(
            id=zone_id,
            name=name,
            owner=message.sender if owner is None else owner,
            shared=True,
            starts_at=_utc(notice.starts_at_s),
            ends_at=_utc(notice.ends_at_s),
            polygon=notice.ring,
            floor_ft=notice.floor_ft,
            ceiling_ft=notice.ceiling_ft,
        )
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "zone"
        raise ConfigError(field, first["input"], first["msg"]) from exc
