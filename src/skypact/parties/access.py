"""Who may do what: the role policy of an air-operations centre, as a table.

Access is decided by role alone, from :data:`POLICY` (data, not if-chains); *what* a
party then sees of the picture, the alerts and the messages is a separate question,
answered by :mod:`skypact.parties.releasability` (need to know). Every edge (API,
WebSocket feed, CoT output, exports, CLI) calls :func:`can` or :func:`require` rather than
comparing roles itself.

====================  ============  =========  =======  =======
action                duty-officer  commander  analyst  auditor
====================  ============  =========  =======  =======
``report``            yes           yes        --       --
``read-picture``      yes           yes        yes      --
``read-alerts``       yes           yes        yes      --
``ack-alert``         yes           yes        --       --
``read-messages``     yes           yes        yes      --
``send-message``      yes           yes        --       --
``ack-message``       yes           yes        --       --
``suspend-channel``   --            yes        --       --
``restore-channel``   --            yes        --       --
``verify-audit``      --            --         --       yes
``read-audit``        --            --         --       yes
``export``            yes           yes        yes      --
====================  ============  =========  =======  =======

Why:

- **The duty officer** runs the watch: feeds the party's tracks, reads the picture,
  acknowledges alerts, talks on the deconfliction line and exports the watch's record.
- **Suspending or restoring a channel** of the deconfliction line stops (or resumes) the
  party's side of a safety arrangement agreed between governments: a command decision,
  so the commander's alone. The commander otherwise has the duty officer's powers, so a
  commander on watch needs no second account.
- **The analyst** reads (picture, alerts, messages) and exports for after-action work,
  but never acts on the line or feeds tracks: nothing an analyst does changes what the
  other parties see or are told.
- **The auditor** reads and verifies the audit chain and nothing else: separation of
  duties keeps the people who check the record apart from the people who make it, and
  the live picture is not theirs to see (the chain holds what was released, which is
  what an audit needs).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from skypact.errors import AccessDeniedError
from skypact.parties.model import Action, Principal, Role

__all__ = ["POLICY", "can", "permitted_actions", "require"]

_OPERATIONAL = frozenset(
    {
        Action.REPORT,
        Action.READ_PICTURE,
        Action.READ_ALERTS,
        Action.ACK_ALERT,
        Action.READ_MESSAGES,
        Action.SEND_MESSAGE,
        Action.ACK_MESSAGE,
        Action.EXPORT,
    }
)

POLICY: Mapping[Role, frozenset[Action]] = MappingProxyType(
    {
        Role.DUTY_OFFICER: _OPERATIONAL,
        Role.COMMANDER: _OPERATIONAL | {Action.SUSPEND_CHANNEL, Action.RESTORE_CHANNEL},
        Role.ANALYST: frozenset(
            {
                Action.READ_PICTURE,
                Action.READ_ALERTS,
                Action.READ_MESSAGES,
                Action.EXPORT,
            }
        ),
        Role.AUDITOR: frozenset({Action.VERIFY_AUDIT, Action.READ_AUDIT}),
    }
)
"""Each role's permitted actions (the table in the module docstring); read-only."""


def permitted_actions(role: Role) -> frozenset[Action]:
    """Every action ``role`` may take (empty for a role the table does not know)."""
    return POLICY.get(role, frozenset())


def can(principal: Principal, action: Action) -> bool:
    """Whether ``principal``'s role permits ``action``.

    Examples:
        >>> can(Principal("usa", Role.ANALYST), Action.READ_PICTURE)
        True
        >>> can(Principal("usa", Role.ANALYST), Action.SEND_MESSAGE)
        False
    """
    return action in permitted_actions(principal.role)


def require(principal: Principal, action: Action, resource: str) -> None:
    """Raise unless ``principal``'s role permits ``action`` on ``resource``.

    Args:
        principal: who asks.
        action: what it asks to do.
        resource: on what, as the edge names it (``"picture"``, ``"alert a-17"``); it
            appears in the error so the refusal can be audited and shown.

    Raises:
        AccessDeniedError: the role does not permit the action. The error carries the
            principal's party, the action and the resource, and names the role; never
            the token.
    """
    if not can(principal, action):
        raise AccessDeniedError(
            principal.party,
            str(action),
            resource,
            detail=f"the {principal.role} role does not permit it",
        )
