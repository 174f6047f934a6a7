"""The life of one alert, as a pure transition function (no clock, no I/O).

States: ``pending`` (the pair is watched but nothing is confirmed: invisible to
operators), ``active``, then ``cleared`` or ``expired`` (final; a new encounter of the same
pair is a new alert). Transitions, each emitting an :class:`AlertEvent`:

============  =========================================================================
raised        pending -> active: a level is confirmed (M of the last N cycles at or
              above it)
level-up      active: the confirmed level rises; acknowledgements are reset (a more
              severe alert needs a new acknowledgement)
level-down    active: the confirmed level has stayed lower for ``hysteresis_s`` and
              ``persistence_s`` has passed since the shown level last rose
acknowledged  active: a party involved acknowledges (once per party and level)
cleared       active -> cleared: as level-down, to level 0
expired       pending/active -> expired: the pair has not been observed for ``expiry_s``
============  =========================================================================

The M-of-N window is DAIDALUS's: it holds the last N raw levels, and a pair with no
observation within ``reset_s`` (or none ever) starts afresh with its first observation
counted M times — an aircraft that appears already in conflict is alerted at once, and
after a gap the shown level restarts from what is seen now. The window outlives an
alert: a pair's next alert starts from the window its last one ended with.

Each alert records its warning time: from being raised to the loss of separation, the
actual one if it happened (a cycle with ``t_in_s == 0``), else the one predicted when it
was raised.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from skypact.alerting.levels import AlertProfile
from skypact.errors import IllegalTransitionError

__all__ = [
    "Alert",
    "AlertEvent",
    "AlertEventKind",
    "AlertState",
    "Observation",
    "acknowledge",
    "confirmed_level",
    "expire",
    "next_window",
    "observe",
    "start",
]


class AlertState(enum.StrEnum):
    """Where an alert is in its life."""

    PENDING = "pending"
    ACTIVE = "active"
    CLEARED = "cleared"
    EXPIRED = "expired"


class AlertEventKind(enum.StrEnum):
    """What happened to an alert."""

    RAISED = "raised"
    LEVEL_UP = "level-up"
    LEVEL_DOWN = "level-down"
    ACKNOWLEDGED = "acknowledged"
    CLEARED = "cleared"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True, kw_only=True)
class Observation:
    """One detection cycle's finding for a pair: its raw level (0: none) and t_in."""

    level: int
    t_in_s: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertEvent:
    """A transition, for the audit log and the parties' feeds."""

    alert_id: str
    kind: AlertEventKind
    at_s: float
    level: int
    party: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Alert:
    """One alert between two aircraft (see the module docstring for the states)."""

    alert_id: str
    aircraft: tuple[str, str]
    parties: frozenset[str]
    state: AlertState
    level: int
    recent: tuple[int, ...]
    last_seen_s: float | None
    raised_at_s: float | None = None
    level_since_s: float | None = None
    below_since_s: float | None = None
    highest_level: int = 0
    predicted_los_at_s: float | None = None
    los_at_s: float | None = None
    acknowledged_by: frozenset[str] = frozenset()
    ended_at_s: float | None = None

    @property
    def warning_time_s(self) -> float | None:
        """Time from raising to the actual (or else predicted) loss of separation."""
        if self.raised_at_s is None:
            return None
        los = self.los_at_s if self.los_at_s is not None else self.predicted_los_at_s
        return None if los is None else los - self.raised_at_s


_UNSEEN = -1
"""A window slot with no observation in it (DAIDALUS's -1)."""


def confirmed_level(recent: tuple[int, ...], confirm_m: int) -> int:
    """The highest level that at least ``confirm_m`` of the recent raw levels reach."""
    ordered = sorted(recent, reverse=True)
    return max(0, ordered[confirm_m - 1]) if len(ordered) >= confirm_m else 0


def next_window(
    recent: tuple[int, ...],
    last_seen_s: float | None,
    level: int,
    now_s: float,
    profile: AlertProfile,
) -> tuple[tuple[int, ...], bool]:
    """The M-of-N window after observing ``level``, and whether it restarted.

    A window restarts when the pair was never observed or not within ``reset_s``: the
    observation then fills M slots, so it is confirmed at once.

    Examples:
        >>> from skypact.alerting.levels import default_profile
        >>> p = default_profile()  # 2 of 3, reset after 30 s
        >>> next_window((), None, 2, 0.0, p)
        ((2, -1, 2), True)
        >>> next_window((0, 0, 0), 10.0, 2, 11.0, p)
        ((0, 0, 2), False)
    """
    m, n = profile.confirm_m, profile.confirm_n
    fresh = last_seen_s is None or now_s - last_seen_s > profile.reset_s
    if fresh:
        recent = (level,) * m + (_UNSEEN,) * (n - m)
    return (*recent, level)[-n:], fresh


def start(
    *,
    alert_id: str,
    aircraft: tuple[str, str],
    parties: frozenset[str],
    recent: tuple[int, ...] = (),
    last_seen_s: float | None = None,
) -> Alert:
    """A new pending alert for a pair (nothing confirmed yet).

    Args:
        recent, last_seen_s: the pair's M-of-N window so far and when it was last
            observed (None: never, so its first observation restarts the window).
    """
    return Alert(
        alert_id=alert_id,
        aircraft=aircraft,
        parties=parties,
        state=AlertState.PENDING,
        level=0,
        recent=recent,
        last_seen_s=last_seen_s,
    )


def observe(
    alert: Alert, obs: Observation, now_s: float, profile: AlertProfile
) -> tuple[Alert | None, tuple[AlertEvent, ...]]:
    """The alert after one detection cycle, and what happened.

    Returns ``(None, ())`` when a pending alert has seen nothing for a whole window: it
    is forgotten (it was never shown to anyone).

    Raises:
        IllegalTransitionError: the alert is cleared or expired.
    """
    if alert.state in (AlertState.CLEARED, AlertState.EXPIRED):
        raise IllegalTransitionError(alert.alert_id, alert.state, "observe")
    if not 0 <= obs.level <= profile.top:
        raise ValueError(f"observed level {obs.level} outside 0..{profile.top}")
    recent, fresh = next_window(
        alert.recent, alert.last_seen_s, obs.level, now_s, profile
    )
    confirmed = confirmed_level(recent, profile.confirm_m)
    alert = replace(alert, recent=recent, last_seen_s=now_s)
    los_now = obs.level > 0 and obs.t_in_s == 0.0

    if alert.state is AlertState.PENDING:
        if confirmed == 0:
            quiet = len(recent) == profile.confirm_n and max(recent) <= 0
            return (None, ()) if quiet else (alert, ())
        predicted = None if obs.t_in_s is None else now_s + obs.t_in_s
        raised = replace(
            alert,
            state=AlertState.ACTIVE,
            level=confirmed,
            raised_at_s=now_s,
            level_since_s=now_s,
            highest_level=confirmed,
            predicted_los_at_s=predicted,
            los_at_s=now_s if los_now else None,
        )
        return raised, (_event(raised, AlertEventKind.RAISED, now_s),)

    if los_now and alert.los_at_s is None:
        alert = replace(alert, los_at_s=now_s)
    if fresh:
        return _restart(alert, confirmed, now_s)
    if confirmed > alert.level:
        return _rise(alert, confirmed, now_s)
    if confirmed == alert.level:
        return replace(alert, below_since_s=None), ()

    below_since = alert.below_since_s if alert.below_since_s is not None else now_s
    alert = replace(alert, below_since_s=below_since)
    shown_s = now_s - (
        alert.level_since_s if alert.level_since_s is not None else now_s
    )
    if shown_s < profile.persistence_s or now_s - below_since < profile.hysteresis_s:
        return alert, ()
    if confirmed == 0:
        return _clear(alert, now_s)
    down = replace(alert, level=confirmed, below_since_s=None)
    return down, (_event(down, AlertEventKind.LEVEL_DOWN, now_s),)


def _restart(
    alert: Alert, confirmed: int, now_s: float
) -> tuple[Alert, tuple[AlertEvent, ...]]:
    """An active alert seen again after a gap: it shows what is confirmed now."""
    if confirmed == 0:
        return _clear(alert, now_s)
    if confirmed > alert.level:
        return _rise(alert, confirmed, now_s)
    restarted = replace(alert, level=confirmed, level_since_s=now_s, below_since_s=None)
    if confirmed == alert.level:
        return restarted, ()
    return restarted, (_event(restarted, AlertEventKind.LEVEL_DOWN, now_s),)


def _rise(
    alert: Alert, confirmed: int, now_s: float
) -> tuple[Alert, tuple[AlertEvent, ...]]:
    """Level-up: shown from now, acknowledgements reset (a new one is needed)."""
    up = replace(
        alert,
        level=confirmed,
        level_since_s=now_s,
        below_since_s=None,
        highest_level=max(alert.highest_level, confirmed),
        acknowledged_by=frozenset(),
    )
    return up, (_event(up, AlertEventKind.LEVEL_UP, now_s),)


def _clear(alert: Alert, now_s: float) -> tuple[Alert, tuple[AlertEvent, ...]]:
    cleared = replace(
        alert, state=AlertState.CLEARED, level=0, ended_at_s=now_s, below_since_s=None
    )
    return cleared, (_event(cleared, AlertEventKind.CLEARED, now_s),)


def acknowledge(
    alert: Alert, party: str, now_s: float
) -> tuple[Alert, tuple[AlertEvent, ...]]:
    """A party involved acknowledges the alert at its current level.

    Acknowledging again at the same level changes nothing (no event).

    Raises:
        IllegalTransitionError: the alert is not active, or the party is not involved.
    """
    if alert.state is not AlertState.ACTIVE:
        raise IllegalTransitionError(alert.alert_id, alert.state, "acknowledge")
    if party not in alert.parties:
        raise IllegalTransitionError(
            alert.alert_id, alert.state, "acknowledge", f"{party!r} is not involved"
        )
    if party in alert.acknowledged_by:
        return alert, ()
    acked = replace(alert, acknowledged_by=alert.acknowledged_by | {party})
    return acked, (_event(acked, AlertEventKind.ACKNOWLEDGED, now_s, party=party),)


def expire(
    alert: Alert, now_s: float, profile: AlertProfile
) -> tuple[Alert | None, tuple[AlertEvent, ...]]:
    """Expire an alert whose pair has not been observed for ``expiry_s``.

    A pending alert is simply forgotten (``None``); an active one becomes expired.
    Alerts seen recently, or already final, are returned unchanged.
    """
    if alert.state in (AlertState.CLEARED, AlertState.EXPIRED):
        return alert, ()
    if alert.last_seen_s is not None and now_s - alert.last_seen_s < profile.expiry_s:
        return alert, ()
    if alert.state is AlertState.PENDING:
        return None, ()
    expired = replace(alert, state=AlertState.EXPIRED, level=0, ended_at_s=now_s)
    return expired, (_event(expired, AlertEventKind.EXPIRED, now_s),)


def _event(
    alert: Alert, kind: AlertEventKind, at_s: float, *, party: str | None = None
) -> AlertEvent:
    return AlertEvent(
        alert_id=alert.alert_id, kind=kind, at_s=at_s, level=alert.level, party=party
    )
