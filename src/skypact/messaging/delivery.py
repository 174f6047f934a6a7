"""Delivery, acknowledgement and escalation of one message, as pure transitions.

No clock and no I/O: the caller passes the time (``now_s``, epoch seconds) and gets back
the new state and the events to record, as :mod:`skypact.alerting.lifecycle` does for
alerts. A message to several parties is tracked per recipient (:class:`RecipientStatus`):
one party's acknowledgement says nothing about another's.

Per recipient, from :func:`start`:

=============  ============================================================================
sent           the message left the sender; the recipient's first rungs of the
               escalation ladder (those with ``after_s`` = 0, normally the duty officer)
               are called with it
delivered      the recipient's operations centre has it (:func:`deliver`; a repeated
               receipt is not an error and changes nothing)
escalated      not acknowledged, and a rung above the first has been called
               (:func:`escalate_due`)
acknowledged   the recipient acknowledged, naming who did (:func:`acknowledge`); once
               only, and final: no escalation after it. An acknowledgement proves
               delivery, so a recipient not yet delivered is delivered with it.
=============  ============================================================================

Escalation follows the agreement's ladder (``GroundLine.escalation``): rung k is called
``after_s`` seconds after the message was sent, for every recipient that has not
acknowledged by then. A recipient that is late by several rungs gets every rung it
passed, in order, at once (each officer on the ladder is told). The acknowledgement
deadline (``Message.deadline_s``) works alongside the ladder: a recipient without an
acknowledgement at or after it is *overdue*, once (an ``overdue`` event). Nothing
expires: an unacknowledged safety message stays at the top rung until it is answered.

Times within one message never run backwards: a transition at a time earlier than the
last event recorded is refused, so that the events of a message are in time order (a
service that takes receipts from several sources clamps their times to
``last_event_at_s``). :func:`next_due_s` tells a service when escalation is next due.
"""

from __future__ import annotations

import enum
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from skypact.agreement.schema import EscalationRole, EscalationStep
from skypact.errors import ConfigError, MessageStateError
from skypact.messaging.model import Body, Language, Message, kind_of
from skypact.messaging.templates import render_both

__all__ = [
    "DeliveryState",
    "DeliveryStatus",
    "MessageEvent",
    "MessageEventKind",
    "RecipientStatus",
    "acknowledge",
    "compose",
    "deliver",
    "escalate_due",
    "next_due_s",
    "start",
]


class DeliveryState(enum.StrEnum):
    """Where a message is, for one recipient (or overall: see DeliveryStatus.state)."""

    SENT = "sent"
    DELIVERED = "delivered"
    ESCALATED = "escalated"
    ACKNOWLEDGED = "acknowledged"


class MessageEventKind(enum.StrEnum):
    """What happened to a message."""

    SENT = "sent"
    DELIVERED = "delivered"
    ACKNOWLEDGED = "acknowledged"
    ESCALATED = "escalated"
    OVERDUE = "overdue"


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageEvent:
    """A transition, for the audit log and the parties' feeds.

    Attributes:
        message_id: the message.
        kind: what happened.
        at_s: when, epoch seconds.
        party: the recipient concerned.
        role: for ``sent`` and ``escalated``, who is called (the rung's role); for
            ``acknowledged``, who acknowledged; otherwise None.
        step: for ``sent`` and ``escalated``, the rung's index on the ladder (0 is the
            first), None if no rung is called.
    """

    message_id: str
    kind: MessageEventKind
    at_s: float
    party: str
    role: EscalationRole | None = None
    step: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RecipientStatus:
    """One recipient's side of a message.

    Attributes:
        party: the recipient.
        delivered_at_s: when its operations centre got the message.
        acknowledged_at_s: when it acknowledged.
        acknowledged_by: who acknowledged (the role).
        step: the highest rung of the ladder called so far (None: none yet).
        overdue_at_s: when it was found without acknowledgement at the deadline.
    """

    party: str
    delivered_at_s: float | None = None
    acknowledged_at_s: float | None = None
    acknowledged_by: EscalationRole | None = None
    step: int | None = None
    overdue_at_s: float | None = None

    @property
    def state(self) -> DeliveryState:
        """Acknowledged, else escalated (a rung above the first), delivered or sent."""
        if self.acknowledged_at_s is not None:
            return DeliveryState.ACKNOWLEDGED
        if self.step is not None and self.step > 0:
            return DeliveryState.ESCALATED
        if self.delivered_at_s is not None:
            return DeliveryState.DELIVERED
        return DeliveryState.SENT


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryStatus:
    """The delivery of one message to all of its recipients.

    Attributes:
        message_id: the message.
        sent_at_s: when it was sent (the ladder counts from here).
        deadline_s: when acknowledgement is due.
        recipients: one status per recipient, ordered by party id.
        last_event_at_s: the time of the latest event (transitions may not go back).
    """

    message_id: str
    sent_at_s: float
    deadline_s: float
    recipients: tuple[RecipientStatus, ...]
    last_event_at_s: float

    @property
    def state(self) -> DeliveryState:
        """The message as a whole.

        Acknowledged when every recipient has acknowledged; else escalated if any
        recipient still waiting is escalated; else delivered if every recipient still
        waiting has it; else sent.
        """
        waiting = [r for r in self.recipients if r.acknowledged_at_s is None]
        if not waiting:
            return DeliveryState.ACKNOWLEDGED
        if any(r.state is DeliveryState.ESCALATED for r in waiting):
            return DeliveryState.ESCALATED
        if all(r.delivered_at_s is not None for r in waiting):
            return DeliveryState.DELIVERED
        return DeliveryState.SENT

    @property
    def overdue(self) -> bool:
        """Whether a recipient is past the deadline without acknowledging."""
        return any(
            r.overdue_at_s is not None and r.acknowledged_at_s is None
            for r in self.recipients
        )

    def recipient(self, party: str) -> RecipientStatus:
        """One recipient's status.

        Raises:
            MessageStateError: the party is not a recipient.
        """
        return _recipient(self, party, "look up")


def compose(
    *,
    message_id: str,
    sender: str,
    recipients: frozenset[str],
    body: Body,
    language: Language,
    sent_at_s: float,
    ack_deadline_s: float,
    in_reply_to: str | None = None,
) -> Message:
    """A message ready to send: its kind, both texts and its acknowledgement deadline.

    Args:
        ack_deadline_s: how long the recipients have to acknowledge, seconds
            (the agreement's ``ground_line.ack_deadline_s``).

    Raises:
        ConfigError: a parameter is invalid (see :class:`Message`).
    """
    if not math.isfinite(ack_deadline_s) or ack_deadline_s <= 0.0:
        raise ConfigError("ack_deadline_s", ack_deadline_s, "must be positive")
    text, translation = render_both(body, language)
    return Message(
        message_id=message_id,
        kind=kind_of(body),
        sender=sender,
        recipients=recipients,
        body=body,
        sent_at_s=sent_at_s,
        language=language,
        text=text,
        translation=translation,
        deadline_s=sent_at_s + ack_deadline_s,
        in_reply_to=in_reply_to,
    )


def _check_ladder(ladder: Sequence[EscalationStep]) -> None:
    times = [step.after_s for step in ladder]
    if any(t < 0.0 or not math.isfinite(t) for t in times) or any(
        b <= a for a, b in itertools.pairwise(times)
    ):
        raise ConfigError(
            "ladder", times, "rungs must come at strictly increasing after_s >= 0"
        )


def _rung_at(ladder: Sequence[EscalationStep], elapsed_s: float) -> int | None:
    """The highest rung whose time has come ``elapsed_s`` after sending."""
    reached = None
    for k, step in enumerate(ladder):
        if step.after_s <= elapsed_s:
            reached = k
    return reached


def _check_time(status: DeliveryStatus, now_s: float, action: str) -> None:
    if not math.isfinite(now_s) or now_s < status.last_event_at_s:
        raise ConfigError(
            "now_s",
            now_s,
            f"cannot {action} before the message's last event"
            f" (at {status.last_event_at_s})",
        )


def _with(
    status: DeliveryStatus,
    changed: dict[str, RecipientStatus],
    events: tuple[MessageEvent, ...],
) -> DeliveryStatus:
    recipients = tuple(changed.get(r.party, r) for r in status.recipients)
    last = events[-1].at_s if events else status.last_event_at_s
    return replace(status, recipients=recipients, last_event_at_s=last)


def start(
    message: Message, ladder: Sequence[EscalationStep]
) -> tuple[DeliveryStatus, tuple[MessageEvent, ...]]:
    """The delivery status of a message just sent, and one ``sent`` event per recipient.

    Each recipient starts at the highest rung due at once (``after_s`` = 0), if any.

    Raises:
        ConfigError: the ladder's rungs are not at strictly increasing times.
    """
    _check_ladder(ladder)
    step = _rung_at(ladder, 0.0)
    role = None if step is None else ladder[step].role
    parties = sorted(message.recipients)
    status = DeliveryStatus(
        message_id=message.message_id,
        sent_at_s=message.sent_at_s,
        deadline_s=message.deadline_s,
        recipients=tuple(RecipientStatus(party=p, step=step) for p in parties),
        last_event_at_s=message.sent_at_s,
    )
    events = tuple(
        MessageEvent(
            message_id=message.message_id,
            kind=MessageEventKind.SENT,
            at_s=message.sent_at_s,
            party=party,
            role=role,
            step=step,
        )
        for party in parties
    )
    return status, events


def deliver(
    status: DeliveryStatus, party: str, now_s: float
) -> tuple[DeliveryStatus, tuple[MessageEvent, ...]]:
    """A recipient's operations centre has the message.

    A repeated receipt (transports deliver at least once), or one after the
    acknowledgement, changes nothing.

    Raises:
        MessageStateError: the party is not a recipient.
        ConfigError: ``now_s`` is before the message's last event.
    """
    recipient = _recipient(status, party, "deliver")
    if recipient.delivered_at_s is not None:
        return status, ()
    _check_time(status, now_s, "deliver")
    event = MessageEvent(
        message_id=status.message_id,
        kind=MessageEventKind.DELIVERED,
        at_s=now_s,
        party=party,
    )
    changed = replace(recipient, delivered_at_s=now_s)
    return _with(status, {party: changed}, (event,)), (event,)


def acknowledge(
    status: DeliveryStatus, party: str, role: EscalationRole, now_s: float
) -> tuple[DeliveryStatus, tuple[MessageEvent, ...]]:
    """A recipient acknowledges the message; ``role`` is who did (any rung may).

    A late acknowledgement (after the deadline) is recorded like any other; the
    recipient's ``overdue_at_s`` keeps the fact that it was late.

    Raises:
        MessageStateError: the party is not a recipient, or has acknowledged already.
        ConfigError: ``now_s`` is before the message's last event.
    """
    recipient = _recipient(status, party, "acknowledge")
    if recipient.acknowledged_at_s is not None:
        raise MessageStateError(
            status.message_id,
            recipient.state,
            "acknowledge",
            f"{party!r} acknowledged it already",
        )
    _check_time(status, now_s, "acknowledge")
    events: tuple[MessageEvent, ...] = ()
    delivered_at_s = recipient.delivered_at_s
    if delivered_at_s is None:
        delivered_at_s = now_s
        events += (
            MessageEvent(
                message_id=status.message_id,
                kind=MessageEventKind.DELIVERED,
                at_s=now_s,
                party=party,
            ),
        )
    events += (
        MessageEvent(
            message_id=status.message_id,
            kind=MessageEventKind.ACKNOWLEDGED,
            at_s=now_s,
            party=party,
            role=role,
        ),
    )
    changed = replace(
        recipient,
        delivered_at_s=delivered_at_s,
        acknowledged_at_s=now_s,
        acknowledged_by=role,
    )
    return _with(status, {party: changed}, events), events


def escalate_due(
    status: DeliveryStatus, ladder: Sequence[EscalationStep], now_s: float
) -> tuple[DeliveryStatus, tuple[MessageEvent, ...]]:
    """Call every rung that has come due, and flag recipients past the deadline.

    For each recipient that has not acknowledged: one ``escalated`` event per rung
    whose ``after_s`` has passed since sending and that was not called yet (in ladder
    order), then an ``overdue`` event if the deadline has come and none was emitted
    before. Nothing due: the status comes back unchanged, with no events.

    Raises:
        ConfigError: the ladder's rungs are not at strictly increasing times, or
            ``now_s`` is before the message's last event.
    """
    _check_ladder(ladder)
    _check_time(status, now_s, "escalate")
    target = _rung_at(ladder, now_s - status.sent_at_s)
    changed: dict[str, RecipientStatus] = {}
    events: list[MessageEvent] = []
    for recipient in status.recipients:
        if recipient.acknowledged_at_s is not None:
            continue
        updated = recipient
        first = 0 if recipient.step is None else recipient.step + 1
        if target is not None and target >= first:
            for k in range(first, target + 1):
                events.append(
                    MessageEvent(
                        message_id=status.message_id,
                        kind=MessageEventKind.ESCALATED,
                        at_s=now_s,
                        party=recipient.party,
                        role=ladder[k].role,
                        step=k,
                    )
                )
            updated = replace(updated, step=target)
        if recipient.overdue_at_s is None and now_s >= status.deadline_s:
            events.append(
                MessageEvent(
                    message_id=status.message_id,
                    kind=MessageEventKind.OVERDUE,
                    at_s=now_s,
                    party=recipient.party,
                )
            )
            updated = replace(updated, overdue_at_s=now_s)
        if updated is not recipient:
            changed[recipient.party] = updated
    if not events:
        return status, ()
    emitted = tuple(events)
    return _with(status, changed, emitted), emitted


def next_due_s(
    status: DeliveryStatus, ladder: Sequence[EscalationStep]
) -> float | None:
    """When :func:`escalate_due` next has something to do, or None (nothing ever).

    The earliest of, over the recipients still waiting: the time of the next rung not
    yet called, and the deadline if it has not been flagged yet.
    """
    due: list[float] = []
    for recipient in status.recipients:
        if recipient.acknowledged_at_s is not None:
            continue
        nxt = 0 if recipient.step is None else recipient.step + 1
        if nxt < len(ladder):
            due.append(status.sent_at_s + ladder[nxt].after_s)
        if recipient.overdue_at_s is None:
            due.append(status.deadline_s)
    return min(due) if due else None


def _recipient(status: DeliveryStatus, party: str, action: str) -> RecipientStatus:
    for recipient in status.recipients:
        if recipient.party == party:
            return recipient
    raise MessageStateError(
        status.message_id, status.state, action, f"{party!r} is not a recipient"
    )
