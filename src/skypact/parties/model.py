"""Who acts on SkyPact, and what they can ask for.

A :class:`Principal` is an authenticated person or system: the party it acts for, its
role in that party's operations centre, and the token it presented (``None`` for a
principal built in-process, e.g. by the simulator or a test). Roles and actions are
closed sets of strings (:class:`enum.StrEnum`) because they are persisted in tokens and
written to the audit chain. What each role may do is :mod:`skypact.parties.access`'s
policy table.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["Action", "Principal", "Role"]


class Role(enum.StrEnum):
    """A person's role in a party's operations centre."""

    DUTY_OFFICER = "duty-officer"
    """Runs the watch: feeds tracks, reads the picture, handles alerts and messages."""
    COMMANDER = "commander"
    """The duty officer's powers plus the command decisions (suspending the line)."""
    ANALYST = "analyst"
    """Reads the picture, alerts and messages and exports them; changes nothing."""
    AUDITOR = "auditor"
    """Reads and verifies the audit chain; does not see the live picture."""


class Action(enum.StrEnum):
    """Something a principal asks SkyPact to do."""

    REPORT = "report"
    """Post track reports (the party's own feed)."""
    READ_PICTURE = "read-picture"
    """Read the live picture (filtered by need to know)."""
    READ_ALERTS = "read-alerts"
    """Read the alerts involving the party's aircraft."""
    ACK_ALERT = "ack-alert"
    """Acknowledge an alert on behalf of the party."""
    READ_MESSAGES = "read-messages"
    """Read the deconfliction-line messages to and from the party."""
    SEND_MESSAGE = "send-message"
    """Send a message on the deconfliction line."""
    ACK_MESSAGE = "ack-message"
    """Acknowledge a message received on the deconfliction line."""
    SUSPEND_CHANNEL = "suspend-channel"
    """Suspend the party's use of a deconfliction-line channel."""
    RESTORE_CHANNEL = "restore-channel"
    """Restore a suspended channel."""
    VERIFY_AUDIT = "verify-audit"
    """Re-check the audit chain's hashes and signatures."""
    READ_AUDIT = "read-audit"
    """Read audit records."""
    EXPORT = "export"
    """Export the party's releasable data (picture, alerts, messages) to a file."""


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated actor: the party it acts for, its role and its token's id.

    Positional construction (``Principal("usa", Role.ANALYST, "tok-1")``) is allowed:
    the three fields are the whole identity and their order is fixed.

    Raises:
        ValueError: ``party`` is empty.
    """

    party: str
    role: Role
    token_id: str | None = None

    def __post_init__(self) -> None:
        if not self.party:
            raise ValueError("a principal acts for a party; party is empty")
        if not isinstance(self.role, Role):
            raise TypeError(f"role must be a Role, not {type(self.role).__name__}")
