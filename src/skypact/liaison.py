"""The deconfliction line as a service: messages stored, delivered, acknowledged, escalated.

The pure rules are :mod:`skypact.messaging`'s; this module keeps their state between
calls, writes every message and transition to storage (each audited) and tells the
caller what to deliver to whom. :class:`~skypact.service.Service` owns one
:class:`Liaison` and calls it under its lock.

Channels. The line joins the agreement's *sides*: each bloc, and each party without a
bloc. There is one channel per pair of sides (``coalition~russian-side``), carrying the
messages between their parties. A channel suspended by a party records what is sent
on it without delivering it (alert notices still get through; link tests are refused),
until the same party restores it.

Automatic traffic (sender ``skypact``): an alert notice to both parties of an alert
when it is raised or rises a level; a zone-entry notice when another side's aircraft
enters a zone with an owner (a notified operating area, or an agreement zone), to the
owner (affiliation, position and altitude only) and to the aircraft's party (which
also learns which of its aircraft); and the answer to every identification query,
computed from the picture with the owner's affiliation only (party, bloc, distance).

Notified operating areas are zones while their window lasts (:attr:`Liaison.zones`);
they are read back from the stored notifications when the service starts.

Delivery. A message is *delivered* to a party when it is pushed to one of its live
clients, or when the party reads its messages; it must then be acknowledged within the
agreement's ``ack_deadline_s``, or it climbs the escalation ladder (duty officer,
senior officer, command) as each rung's ``after_s`` passes.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from pyproj import Geod

from skypact.agreement.schema import (
    AgreementFile,
    EscalationRole,
    EscalationStep,
    Zone,
)
from skypact.alerting.events import ZoneEntry
from skypact.alerting.lifecycle import Alert
from skypact.errors import ConfigError, MessageStateError, NotFoundError
from skypact.messaging import (
    AlertNotice,
    Body,
    Channel,
    DeliveryStatus,
    Disposition,
    FreeText,
    IdentificationAnswer,
    IdentificationQuery,
    IdentifiedAircraft,
    Language,
    LinkTest,
    Message,
    MessageEvent,
    MessageKind,
    OperationsNotice,
    ZoneEntryNotice,
    accepts,
    acknowledge,
    compose,
    deliver,
    escalate_due,
    notice_zone,
    open_channel,
    restore,
    start,
    suspend,
)
from skypact.storage.repository import (
    ChannelRow,
    MessageEventRow,
    MessageRow,
    Repository,
)
from skypact.units import m_to_nm, nm_to_m

__all__ = ["SYSTEM_SENDER", "Liaison", "Outgoing", "body_from_json", "body_to_json"]

SYSTEM_SENDER = "skypact"
"""The sender of automatic messages (alert notices, identification answers)."""

_WGS84 = Geod(ellps="WGS84")

_RUNG_OF_ROLE = {
    "duty-officer": EscalationRole.DUTY_OFFICER,
    "commander": EscalationRole.COMMAND,
}
"""The ladder's rung a signed-in role acknowledges for."""

_BODIES: dict[MessageKind, type[Any]] = {
    MessageKind.FREE_TEXT: FreeText,
    MessageKind.NOTIFICATION: OperationsNotice,
    MessageKind.IDENTIFICATION_QUERY: IdentificationQuery,
    MessageKind.LINK_TEST: LinkTest,
}
"""The kinds a party may send (answers and alert notices are the service's own)."""


def body_from_json(kind: str, data: Mapping[str, Any]) -> Body:
    """A typed body from its JSON form (the API's ``body`` object).

    Raises:
        ConfigError: an unknown or service-only kind, or a field missing or invalid.
    """
    try:
        parsed = MessageKind(kind)
    except ValueError:
        raise ConfigError("kind", kind, "not a message kind") from None
    maker = _BODIES.get(parsed)
    if maker is None:
        raise ConfigError("kind", kind, "only the service sends this kind")
    values = dict(data)
    if parsed is MessageKind.NOTIFICATION and "area" in values:
        values["area"] = tuple(tuple(point) for point in values["area"])
    try:
        body: Body = maker(**values)
    except TypeError as exc:
        raise ConfigError("body", sorted(values), str(exc)) from None
    return body


def body_to_json(body: Body) -> dict[str, Any]:
    """A body's JSON form (what is stored and served)."""
    out: dict[str, Any] = {}
    for name in body.__dataclass_fields__:
        value = getattr(body, name)
        if isinstance(value, frozenset):
            value = sorted(value)
        elif isinstance(value, tuple):
            value = [
                {k: getattr(v, k) for k in v.__dataclass_fields__}
                if hasattr(v, "__dataclass_fields__")
                else list(v)
                if isinstance(v, tuple)
                else v
                for v in value
            ]
        elif hasattr(value, "value"):
            value = value.value
        out[name] = value
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class Outgoing:
    """Something to push to one party's live clients."""

    party: str
    message: dict[str, Any]


@dataclass
class Liaison:
    """The line's state and its storage (see the module docstring)."""

    agreement: AgreementFile
    repository: Repository
    clock: Callable[[], float] = time.time
    _statuses: dict[str, DeliveryStatus] = field(default_factory=dict)
    _messages: dict[str, Message] = field(default_factory=dict)
    _channels: dict[str, Channel] = field(default_factory=dict)
    _zones: dict[str, Zone] = field(default_factory=dict)
    _zone_notice: dict[str, str] = field(default_factory=dict)
    _serial: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self._side = {p.id: (p.bloc or p.id) for p in self.agreement.parties}
        self._bloc = {p.id: p.bloc for p in self.agreement.parties}
        self._ladder: Sequence[EscalationStep] = self.agreement.ground_line.escalation
        self._deadline_s = self.agreement.ground_line.ack_deadline_s
        self._radius_nm = self.agreement.releasability.disclosure_radius_nm
        sides = sorted(set(self._side.values()))
        now = self.clock()
        stored = {row.channel_id: row for row in self.repository.channels()}
        for a, b in itertools.combinations(sides, 2):
            channel_id = f"{a}~{b}"
            channel = open_channel(
                channel_id=channel_id, parties=frozenset({a, b}), now_s=now
            )
            row = stored.get(channel_id)
            if row is not None and row.state == "suspended":
                by = self._side.get(row.changed_by, row.changed_by)
                channel = suspend(channel, by, row.reason or "", now)
            self._channels[channel_id] = channel
        for message_row in self.repository.messages():
            if message_row.kind == MessageKind.NOTIFICATION.value:
                notice = body_from_json(message_row.kind, message_row.body)
                assert isinstance(notice, OperationsNotice)
                if notice.ends_at_s > now:
                    self._add_zone(_stored_message(message_row, notice))

    def _add_zone(self, message: Message) -> None:
        zone = notice_zone(message, zone_id=f"notice-{message.message_id.lower()}")
        self._zones[zone.id] = zone
        self._zone_notice[zone.id] = message.message_id

    # -- reading ----------------------------------------------------------------

    @property
    def zones(self) -> tuple[Zone, ...]:
        """Zones notified on the line (planned operations), for detection."""
        return tuple(self._zones.values())

    def channels(self) -> list[Channel]:
        """Every channel of the line."""
        return list(self._channels.values())

    def side_of(self, party: str) -> str:
        """The party's side on the line: its bloc, or itself."""
        return self._side.get(party, party)

    def channel_of(self, sender: str, recipient: str) -> Channel | None:
        """The channel between two parties' sides (None within one side)."""
        a, b = sorted(
            (self._side.get(sender, sender), self._side.get(recipient, recipient))
        )
        return self._channels.get(f"{a}~{b}")

    def status(self, message_id: str) -> DeliveryStatus | None:
        """A message's delivery status, while the service holds it."""
        return self._statuses.get(message_id)

    def read(self, party: str, now_s: float) -> tuple[list[MessageRow], list[Outgoing]]:
        """The messages sent by or to a party; reading delivers them to it."""
        rows = self.repository.messages(party)
        pushed: list[Outgoing] = []
        for row in rows:
            if party in row.recipients:
                pushed.extend(self._mark_delivered(row.message_id, party, now_s))
        return rows, pushed

    # -- sending -------------------------------------------------------------------

    def send(
        self,
        sender: str,
        role: str,
        body: Body,
        *,
        recipients: Iterable[str] | None,
        language: str,
        in_reply_to: str | None = None,
        picture: pd.DataFrame | None = None,
    ) -> tuple[Message, list[Outgoing]]:
        """Send a message from a party (see the module docstring).

        Args:
            recipients: parties (default: every party of another side).
            picture: the current tracks, to answer an identification query.

        Raises:
            ConfigError: unknown recipients, or a bad language or body.
            MessageStateError: the channel is suspended and refuses this kind.
        """
        others = [p for p in self._side if self._side[p] != self._side.get(sender)]
        chosen = sorted(set(recipients)) if recipients is not None else others
        unknown = [p for p in chosen if p not in self._side or p == sender]
        if unknown or not chosen:
            raise ConfigError(
                "recipients",
                unknown or chosen,
                "must be other parties of the agreement",
            )
        try:
            lang = Language(language)
        except ValueError:
            raise ConfigError("language", language, "must be 'en' or 'ru'") from None
        now = self.clock()
        message = compose(
            message_id=self._next_id(now),
            sender=sender,
            recipients=frozenset(chosen),
            body=body,
            language=lang,
            sent_at_s=now,
            ack_deadline_s=self._deadline_s,
            in_reply_to=in_reply_to,
        )
        pushed = self._record(message, actor=f"{sender}/{role}")
        if isinstance(body, OperationsNotice):
            self._add_zone(message)
        if isinstance(body, IdentificationQuery) and picture is not None:
            pushed.extend(self._answer(message, body, picture, now))
        return message, pushed

    def alert_notices(
        self, alerts: Iterable[Alert], level_names: Mapping[int, str]
    ) -> list[Outgoing]:
        """Automatic notices of alerts raised or risen a level, to the parties involved."""
        pushed: list[Outgoing] = []
        for alert in alerts:
            parties = frozenset(alert.parties)
            if len(parties) < 1:
                continue
            body = AlertNotice(
                alert_id=alert.alert_id,
                level=alert.level,
                parties=parties,
                level_name=level_names.get(alert.level),
                los_at_s=alert.predicted_los_at_s,
            )
            pushed.extend(self._automatic(parties, body))
        return pushed

    def _automatic(self, recipients: frozenset[str], body: Body) -> list[Outgoing]:
        """Send an automatic message (sender ``skypact``, in English, with its Russian
        translation) now."""
        now = self.clock()
        message = compose(
            message_id=self._next_id(now),
            sender=SYSTEM_SENDER,
            recipients=recipients,
            body=body,
            language=Language.EN,
            sent_at_s=now,
            ack_deadline_s=self._deadline_s,
        )
        return self._record(message, actor=SYSTEM_SENDER)

    def zone_notices(
        self,
        entry: ZoneEntry,
        *,
        party: str,
        icao24: str,
        callsign: str | None,
        lat_deg: float,
        lon_deg: float,
        altitude_ft: float,
    ) -> list[Outgoing]:
        """Automatic notices of an aircraft's entry into a zone with an owner: one to
        the owner's parties without the aircraft's identity, one to its own party with
        it."""
        zone = entry.zone
        owner = str(zone.owner)
        owners = frozenset(
            p for p, side in self._side.items() if owner in (p, side)
        ) - {party}
        shared = ZoneEntryNotice(
            zone_id=zone.id,
            zone_name=zone.name,
            owner=owner,
            party=party,
            bloc=self._bloc.get(party),
            lat_deg=lat_deg,
            lon_deg=lon_deg,
            altitude_ft=altitude_ft,
            at_s=entry.at_s,
            notice_id=self._zone_notice.get(zone.id),
        )
        bodies: list[tuple[frozenset[str], ZoneEntryNotice]] = []
        if owners:
            bodies.append((owners, shared))
        if party in self._side:
            own = replace(shared, icao24=icao24, callsign=callsign)
            bodies.append((frozenset({party}), own))
        pushed: list[Outgoing] = []
        for recipients, body in bodies:
            pushed.extend(self._automatic(recipients, body))
        return pushed

    def _answer(
        self,
        query: Message,
        body: IdentificationQuery,
        picture: pd.DataFrame,
        now_s: float,
    ) -> list[Outgoing]:
        radius_nm = min(body.radius_nm, self._radius_nm)
        matches: list[IdentifiedAircraft] = []
        if len(picture):
            live = picture[picture["status"].isin(["live", "coasting"])]
            live = live[live["party"] != query.sender]
            lat = pd.to_numeric(live["latitude"], errors="coerce").to_numpy(float)
            lon = pd.to_numeric(live["longitude"], errors="coerce").to_numpy(float)
            ok = np.isfinite(lat) & np.isfinite(lon)
            if ok.any():
                _, _, dist_m = _WGS84.inv(
                    np.full(int(ok.sum()), body.lon_deg),
                    np.full(int(ok.sum()), body.lat_deg),
                    lon[ok],
                    lat[ok],
                )
                parties = live["party"].to_numpy(object)[ok]
                near = np.flatnonzero(np.asarray(dist_m) <= nm_to_m(radius_nm))
                for k in near[np.argsort(np.asarray(dist_m)[near])].tolist():
                    party = str(parties[k])
                    matches.append(
                        IdentifiedAircraft(
                            party=party,
                            bloc=self._bloc.get(party),
                            distance_nm=round(float(m_to_nm(dist_m[k])), 1),
                        )
                    )
        answer = compose(
            message_id=self._next_id(now_s),
            sender=SYSTEM_SENDER,
            recipients=frozenset({query.sender}),
            body=IdentificationAnswer(
                query_id=query.message_id, matches=tuple(matches)
            ),
            language=query.language,
            sent_at_s=now_s,
            ack_deadline_s=self._deadline_s,
            in_reply_to=query.message_id,
        )
        return self._record(answer, actor=SYSTEM_SENDER)

    def _record(self, message: Message, *, actor: str) -> list[Outgoing]:
        """Store a message, start its delivery, and say whom to push it to."""
        channel = None
        disposition = Disposition.DELIVERED
        if message.sender != SYSTEM_SENDER:
            first = sorted(message.recipients)[0]
            channel = self.channel_of(message.sender, first)
            if channel is not None:
                disposition = accepts(channel, message.kind)
        if disposition is Disposition.REFUSED:
            assert channel is not None
            raise MessageStateError(
                channel.channel_id,
                channel.state.value,
                f"send a {message.kind.value}",
                f"suspended by {channel.suspended_by}",
            )
        self.repository.store_message(
            MessageRow(
                message_id=message.message_id,
                kind=message.kind.value,
                sender=message.sender,
                recipients=tuple(sorted(message.recipients)),
                body=body_to_json(message.body),
                language=message.language.value,
                text=message.text,
                translation=message.translation,
                sent_at_s=message.sent_at_s,
                deadline_s=message.deadline_s,
                in_reply_to=message.in_reply_to,
                channel_id=None if channel is None else channel.channel_id,
            ),
            actor=actor,
        )
        status, events = start(message, self._ladder)
        self._messages[message.message_id] = message
        self._statuses[message.message_id] = status
        self._store_events(events)
        if disposition is Disposition.RECORDED_UNDELIVERED:
            return []
        view = {"type": "message", "message": message_view(message, disposition.value)}
        targets = sorted(message.recipients | {message.sender} - {SYSTEM_SENDER})
        return [Outgoing(party=p, message=view) for p in targets]

    # -- transitions -------------------------------------------------------------------

    def delivered(self, message_id: str, party: str, now_s: float) -> list[Outgoing]:
        """A party's live client received a message."""
        return self._mark_delivered(message_id, party, now_s)

    def _mark_delivered(
        self, message_id: str, party: str, now_s: float
    ) -> list[Outgoing]:
        status = self._statuses.get(message_id)
        if status is None:
            return []
        message = self._messages[message_id]
        if party not in message.recipients:
            return []  # the sender's own copy on its feed: not a delivery
        channel_blocked = False
        if message.sender != SYSTEM_SENDER:
            channel = self.channel_of(message.sender, party)
            channel_blocked = (
                channel is not None
                and accepts(channel, message.kind) is not Disposition.DELIVERED
            )
        if channel_blocked:
            return []
        status, events = deliver(status, party, max(now_s, status.last_event_at_s))
        self._statuses[message_id] = status
        self._store_events(events)
        return []

    def acknowledge(
        self, message_id: str, party: str, role: str
    ) -> tuple[DeliveryStatus, list[Outgoing]]:
        """A recipient party acknowledges a message.

        Raises:
            NotFoundError: the message is not one the party received.
            MessageStateError: already acknowledged by that party.
        """
        status = self._statuses.get(message_id)
        message = self._messages.get(message_id)
        if status is None or message is None or party not in message.recipients:
            raise NotFoundError("message", message_id)
        now = max(self.clock(), status.last_event_at_s)
        rung = _RUNG_OF_ROLE.get(role, EscalationRole.DUTY_OFFICER)
        status, events = acknowledge(status, party, rung, now)
        self._statuses[message_id] = status
        self._store_events(events, actor=f"{party}/{role}")
        notice = {"type": "ack", "message_id": message_id, "party": party,
                  "role": role, "at_s": now}  # fmt: skip
        targets = {message.sender, *message.recipients} - {SYSTEM_SENDER}
        return status, [Outgoing(party=p, message=notice) for p in sorted(targets)]

    def tick(self, now_s: float) -> list[Outgoing]:
        """Escalate what is due; say whom to tell."""
        pushed: list[Outgoing] = []
        for message_id, status in list(self._statuses.items()):
            if status.state.value == "acknowledged":
                continue
            if now_s < status.last_event_at_s:
                continue
            status, events = escalate_due(status, self._ladder, now_s)
            self._statuses[message_id] = status
            self._store_events(events)
            for event in events:
                pushed.append(
                    Outgoing(
                        party=event.party,
                        message={
                            "type": "escalation",
                            "message_id": message_id,
                            "kind": event.kind.value,
                            "role": event.role,
                            "step": event.step,
                            "at_s": event.at_s,
                        },
                    )
                )
        return pushed

    def suspend(self, channel_id: str, party: str, role: str, reason: str) -> Channel:
        """A party suspends a channel it is on (audited)."""
        channel = self._channel(channel_id, party)
        changed = suspend(channel, self.side_of(party), reason, self.clock())
        self._channels[channel_id] = changed
        self._store_channel(changed, party, role)
        return changed

    def restore(self, channel_id: str, party: str, role: str) -> Channel:
        """The suspending party restores a channel (audited)."""
        channel = self._channel(channel_id, party)
        changed = restore(channel, self.side_of(party), self.clock())
        self._channels[channel_id] = changed
        self._store_channel(changed, party, role)
        return changed

    def _channel(self, channel_id: str, party: str) -> Channel:
        channel = self._channels.get(channel_id)
        if channel is None or self.side_of(party) not in channel.parties:
            raise NotFoundError("channel", channel_id)
        return channel

    def _store_channel(self, channel: Channel, party: str, role: str) -> None:
        self.repository.store_channel_state(
            ChannelRow(
                channel_id=channel.channel_id,
                parties=channel.parties,
                state=channel.state.value,
                changed_at_s=channel.since_s,
                changed_by=party,
                reason=channel.reason,
            ),
            actor=f"{party}/{role}",
        )

    def _store_events(
        self, events: Iterable[MessageEvent], actor: str | None = None
    ) -> None:
        for event in events:
            self.repository.record_message_event(
                MessageEventRow(
                    message_id=event.message_id,
                    kind=event.kind.value,
                    at_s=event.at_s,
                    party=event.party,
                    role=event.role,
                    step=event.step,
                ),
                actor=actor,
            )

    def _next_id(self, now_s: float) -> str:
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(now_s))
        return f"M{stamp}-{next(self._serial):05d}"


def _stored_message(row: MessageRow, body: Body) -> Message:
    """A stored message as the message it was (its body already typed)."""
    return Message(
        message_id=row.message_id,
        kind=MessageKind(row.kind),
        sender=row.sender,
        recipients=frozenset(row.recipients),
        body=body,
        sent_at_s=row.sent_at_s,
        language=Language(row.language),
        text=row.text,
        translation=row.translation,
        deadline_s=row.deadline_s
        if row.deadline_s is not None
        else row.sent_at_s + 1.0,
        in_reply_to=row.in_reply_to,
    )


def message_view(
    message: Message | MessageRow, disposition: str | None = None
) -> dict[str, Any]:
    """A message as its parties see it (JSON-ready)."""
    if isinstance(message, Message):
        body = body_to_json(message.body)
        return {
            "message_id": message.message_id,
            "kind": message.kind.value,
            "sender": message.sender,
            "recipients": sorted(message.recipients),
            "body": body,
            "language": message.language.value,
            "text": message.text,
            "translation": message.translation,
            "sent_at_s": message.sent_at_s,
            "deadline_s": message.deadline_s,
            "in_reply_to": message.in_reply_to,
            "disposition": disposition,
        }
    return {
        "message_id": message.message_id,
        "kind": message.kind,
        "sender": message.sender,
        "recipients": list(message.recipients),
        "body": dict(message.body),
        "language": message.language,
        "text": message.text,
        "translation": message.translation,
        "sent_at_s": message.sent_at_s,
        "deadline_s": message.deadline_s,
        "in_reply_to": message.in_reply_to,
        "disposition": disposition,
    }
