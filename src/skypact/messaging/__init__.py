"""The deconfliction line: structured, acknowledged, escalating messages between parties.

It replaces the telephone between air-operations centres of the 2015 Syria memorandum.
The pure core, with no clock and no I/O (time comes in as epoch seconds ``now_s``):

- :mod:`skypact.messaging.model`: message kinds, typed bodies (free text, notification
  of planned operations, identification query and answer, alert notice, link test), the
  message itself, and :func:`notice_zone` (a notification becomes a zone for detection);
- :mod:`skypact.messaging.templates`: every body written in English and in Russian;
  the original and its translation are both kept;
- :mod:`skypact.messaging.delivery`: per-recipient delivery, acknowledgement,
  escalation along the agreement's ladder and deadline, as pure transitions;
- :mod:`skypact.messaging.channel`: the line between two sides, its suspension and
  restoration, and what gets through a suspended line.
"""

from skypact.messaging.channel import (
    Channel,
    ChannelChange,
    ChannelState,
    Disposition,
    accepts,
    open_channel,
    restore,
    suspend,
)
from skypact.messaging.delivery import (
    DeliveryState,
    DeliveryStatus,
    MessageEvent,
    MessageEventKind,
    RecipientStatus,
    acknowledge,
    compose,
    deliver,
    escalate_due,
    next_due_s,
    start,
)
from skypact.messaging.model import (
    AlertNotice,
    Body,
    FreeText,
    IdentificationAnswer,
    IdentificationQuery,
    IdentifiedAircraft,
    Language,
    LinkTest,
    Message,
    MessageKind,
    OperationsNotice,
    ZoneEntryNotice,
    kind_of,
    notice_zone,
)
from skypact.messaging.templates import render, render_both

__all__ = [
    "AlertNotice",
    "Body",
    "Channel",
    "ChannelChange",
    "ChannelState",
    "DeliveryState",
    "DeliveryStatus",
    "Disposition",
    "FreeText",
    "IdentificationAnswer",
    "IdentificationQuery",
    "IdentifiedAircraft",
    "Language",
    "LinkTest",
    "Message",
    "MessageEvent",
    "MessageEventKind",
    "MessageKind",
    "OperationsNotice",
    "RecipientStatus",
    "ZoneEntryNotice",
    "accepts",
    "acknowledge",
    "compose",
    "deliver",
    "escalate_due",
    "kind_of",
    "next_due_s",
    "notice_zone",
    "open_channel",
    "render",
    "render_both",
    "restore",
    "start",
    "suspend",
]
