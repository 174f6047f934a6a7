"""The state of the line between two sides, as pure transitions (no clock, no I/O).

A channel joins two sides: two parties, or two blocs when a bloc speaks as one (the
coalition's CAOC for all of its members). A side may suspend the channel, saying why,
as happened to the 2015 Syria memorandum in April 2017; the channel then *keeps
recording what it can* until the side that suspended it restores it.

States:

===========  ==============================================================================
active       opened; everything is delivered
suspended    one side suspended it (``suspended_by``, ``reason``)
restored     active again after a suspension (the history keeps every change)
===========  ==============================================================================

Rules (:func:`suspend`, :func:`restore`):

- only a side of the channel may act on it;
- an active or restored channel may be suspended; a suspended one may not be suspended
  again (there is one suspension at a time, with one owner);
- only the side that suspended a channel may restore it, and only a suspended channel
  can be restored. A suspension is a unilateral act, and the other side cannot undo it
  by itself: asking for the line back goes through the normal diplomatic channel, and
  reopening the line is the suspending side's decision.

What survives a suspension (:func:`accepts`):

- **alert notices and zone-entry notices are always delivered**: a predicted conflict,
  or another side's aircraft inside a notified operating area, concerns the safety of
  aircraft in the air, which a political suspension does not change;
- **link tests are refused**: a drill of a line known to be suspended tests nothing;
- **everything else is recorded but not delivered** (``recorded-undelivered``): the
  record shows what a side said and when, and a service may deliver it on restoration.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, replace

from skypact.errors import ConfigError, MessageStateError
from skypact.messaging.model import MessageKind

__all__ = [
    "Channel",
    "ChannelChange",
    "ChannelState",
    "Disposition",
    "accepts",
    "open_channel",
    "restore",
    "suspend",
]


class ChannelState(enum.StrEnum):
    """Where a channel is."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    RESTORED = "restored"


class Disposition(enum.StrEnum):
    """What a channel does with a message of one kind."""

    DELIVERED = "delivered"
    RECORDED_UNDELIVERED = "recorded-undelivered"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelChange:
    """One change of a channel's state, for its history and the audit log.

    Attributes:
        at_s: when, epoch seconds.
        state: the state the channel entered.
        party: the side that acted (None for the opening).
        reason: why (for a suspension).
    """

    at_s: float
    state: ChannelState
    party: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Channel:
    """The line between two sides (see the module docstring for the rules).

    Attributes:
        channel_id: the channel.
        parties: the two sides (party or bloc ids).
        state: where it is.
        suspended_by: the side that suspended it, while it is suspended.
        reason: why, while it is suspended.
        since_s: when it entered its state, epoch seconds.
        history: every change, oldest first (the opening first).
    """

    channel_id: str
    parties: frozenset[str]
    state: ChannelState
    since_s: float
    history: tuple[ChannelChange, ...]
    suspended_by: str | None = None
    reason: str | None = None


def open_channel(*, channel_id: str, parties: frozenset[str], now_s: float) -> Channel:
    """A new, active channel between two sides.

    Raises:
        ConfigError: no id, not exactly two distinct non-empty sides, or a time that
            is not finite.
    """
    if not channel_id.strip():
        raise ConfigError("channel_id", channel_id, "must not be empty")
    if len(parties) != 2 or not all(p.strip() for p in parties):
        raise ConfigError("parties", sorted(parties), "a channel joins two sides")
    if not math.isfinite(now_s):
        raise ConfigError("now_s", now_s, "must be a finite number")
    return Channel(
        channel_id=channel_id,
        parties=parties,
        state=ChannelState.ACTIVE,
        since_s=now_s,
        history=(ChannelChange(at_s=now_s, state=ChannelState.ACTIVE),),
    )


def _check(channel: Channel, party: str, now_s: float, action: str) -> None:
    if party not in channel.parties:
        raise MessageStateError(
            channel.channel_id,
            channel.state,
            action,
            f"{party!r} is not a side of this channel",
        )
    if not math.isfinite(now_s) or now_s < channel.since_s:
        raise ConfigError(
            "now_s",
            now_s,
            f"cannot {action} before the last change ({channel.since_s})",
        )


def suspend(channel: Channel, party: str, reason: str, now_s: float) -> Channel:
    """One side suspends the channel; the change is ``history[-1]``.

    Raises:
        MessageStateError: the party is not a side, or the channel is suspended.
        ConfigError: no reason given, or ``now_s`` before the last change.
    """
    _check(channel, party, now_s, "suspend")
    if channel.state is ChannelState.SUSPENDED:
        raise MessageStateError(
            channel.channel_id,
            channel.state,
            "suspend",
            f"suspended by {channel.suspended_by!r} already",
        )
    if not reason.strip():
        raise ConfigError("reason", reason, "a suspension says why")
    change = ChannelChange(
        at_s=now_s, state=ChannelState.SUSPENDED, party=party, reason=reason.strip()
    )
    return replace(
        channel,
        state=ChannelState.SUSPENDED,
        since_s=now_s,
        suspended_by=party,
        reason=change.reason,
        history=(*channel.history, change),
    )


def restore(channel: Channel, party: str, now_s: float) -> Channel:
    """The side that suspended the channel restores it; the change is ``history[-1]``.

    Raises:
        MessageStateError: the party is not a side, the channel is not suspended, or
            the other side suspended it.
        ConfigError: ``now_s`` before the last change.
    """
    _check(channel, party, now_s, "restore")
    if channel.state is not ChannelState.SUSPENDED:
        raise MessageStateError(
            channel.channel_id, channel.state, "restore", "it is not suspended"
        )
    if party != channel.suspended_by:
        raise MessageStateError(
            channel.channel_id,
            channel.state,
            "restore",
            f"only {channel.suspended_by!r}, which suspended it, may restore it",
        )
    change = ChannelChange(at_s=now_s, state=ChannelState.RESTORED, party=party)
    return replace(
        channel,
        state=ChannelState.RESTORED,
        since_s=now_s,
        suspended_by=None,
        reason=None,
        history=(*channel.history, change),
    )


def accepts(channel: Channel, kind: MessageKind) -> Disposition:
    """What the channel does with a message of this kind, in its current state."""
    if channel.state is not ChannelState.SUSPENDED:
        return Disposition.DELIVERED
    if kind in (MessageKind.ALERT_NOTICE, MessageKind.ZONE_ENTRY_NOTICE):
        return Disposition.DELIVERED
    if kind == MessageKind.LINK_TEST:
        return Disposition.REFUSED
    return Disposition.RECORDED_UNDELIVERED
