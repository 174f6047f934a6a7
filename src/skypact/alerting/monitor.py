"""The live alerting loop: one call per detection cycle, alerts kept between calls.

:class:`AlertMonitor` is what :func:`skypact.analysis.replay` does at each time step,
for a picture that arrives one cycle at a time: raw levels of every monitored pair
(with the agreement's tolerances, exemptions and inhibition zones), each pair's alert
through the pure lifecycle of :mod:`skypact.alerting.lifecycle`, expiry of pairs no
longer seen, and acknowledgements. It holds no clock and does no I/O: the caller passes
the time and stores what it returns.

Aircraft are named by a key the caller chooses (the service uses ``party:icao24``, since
two parties may report the same address); ``aircraft_id`` in the states stays the
``icao24`` that the agreement's exemptions name.

Abridged contents:
    :meth:`AlertMonitor.step`, :meth:`AlertMonitor.acknowledge`,
    :meth:`AlertMonitor.alert`, :attr:`AlertMonitor.alerts` (active and pending)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from skypact.alerting.levels import AlertProfile, raw_levels
from skypact.alerting.lifecycle import (
    Alert,
    AlertEvent,
    AlertState,
    Observation,
    acknowledge,
    expire,
    observe,
    start,
)
from skypact.alerting.suppression import Suppression, apply_tolerances
from skypact.detection.base import PairFilter
from skypact.errors import IllegalTransitionError
from skypact.tracks.model import StateArrays

__all__ = ["AlertMonitor", "CycleAlerts"]

_FINAL = (AlertState.CLEARED, AlertState.EXPIRED)


@dataclass(frozen=True, slots=True, kw_only=True)
class CycleAlerts:
    """What one cycle did.

    Attributes:
        events: every transition, in order.
        changed: the alerts those transitions left (final ones included), one per alert.
        pairs: how many pairs were in conflict at some level (before confirmation).
    """

    events: tuple[AlertEvent, ...]
    changed: tuple[Alert, ...]
    pairs: int


@dataclass
class AlertMonitor:
    """Alerts between calls; see the module docstring.

    Args:
        profile: alert levels and anti-flapping parameters.
        groups: party -> monitoring group (its bloc when the agreement does not monitor
            within blocs); pairs of one group are not monitored. None: every pair.
        suppression: the agreement's tolerances, exemptions and inhibition zones.
        new_id: gives each new alert its identifier.
    """

    profile: AlertProfile
    new_id: Callable[[], str]
    groups: Mapping[str, str] | None = None
    suppression: Suppression | None = None
    _alerts: dict[tuple[str, str], Alert] = field(default_factory=dict)
    _windows: dict[tuple[str, str], tuple[tuple[int, ...], float | None]] = field(
        default_factory=dict
    )
    _by_id: dict[str, tuple[str, str]] = field(default_factory=dict)
    _before: tuple[float, frozenset[str]] = (0.0, frozenset())
    _pruned_s: float = -math.inf

    @property
    def alerts(self) -> tuple[Alert, ...]:
        """Alerts not yet final (pending ones included; only active ones are shown)."""
        return tuple(self._alerts.values())

    def alert(self, alert_id: str) -> Alert | None:
        """A current alert by its identifier, or None."""
        key = self._by_id.get(alert_id)
        return None if key is None else self._alerts.get(key)

    def step(
        self,
        states: StateArrays,
        keys: npt.NDArray[np.object_],
        now_s: float,
    ) -> CycleAlerts:
        """One detection cycle over the picture at ``now_s``.

        Args:
            states: the picture, every aircraft predicted to ``now_s``; its ``party``
                holds each aircraft's party.
            keys: each aircraft's key (same order as ``states``), unique.
        """
        parties = (
            np.full(len(states), "", dtype=object)
            if states.party is None
            else states.party
        )
        picture = states
        pairs = PairFilter.ALL
        if self.groups is not None:
            group = np.array(
                [self.groups.get(str(p), str(p)) for p in parties], dtype=object
            )
            picture = replace(states, party=group)
            pairs = PairFilter.INTER_PARTY
        index = {str(k): n for n, k in enumerate(keys.tolist())}
        seen: dict[tuple[str, str], Observation] = {}
        if len(picture) > 1:
            alerting = picture
            if self.suppression is not None:
                alerting = apply_tolerances(picture, self.suppression)
            found = raw_levels(
                alerting, self.profile, pairs=pairs, shown=self._shown(index)
            )
            keep = np.ones(len(found.i), dtype=bool)
            if self.suppression is not None and len(found.i):
                keep = ~self.suppression.suppressed(picture, found.i, found.j)
            for i, j, level, t_in in zip(
                found.i[keep].tolist(),
                found.j[keep].tolist(),
                found.level[keep].tolist(),
                found.t_in_s[keep].tolist(),
                strict=True,
            ):
                a, b = sorted((str(keys[i]), str(keys[j])))
                seen[(a, b)] = Observation(level=level, t_in_s=t_in)
        events: list[AlertEvent] = []
        changed: dict[str, Alert] = {}
        for key in [*self._alerts, *(k for k in seen if k not in self._alerts)]:
            alert = self._alerts.get(key)
            if alert is None:
                recent, last_seen = self._windows.pop(key, ((), None))
                if last_seen is None and self._before[1].issuperset(key):
                    last_seen = self._before[0]  # observed at level 0 last cycle
                alert = start(
                    alert_id=self.new_id(),
                    aircraft=key,
                    parties=frozenset(
                        {str(parties[index[key[0]]]), str(parties[index[key[1]]])}
                    ),
                    recent=recent,
                    last_seen_s=last_seen,
                )
                self._by_id[alert.alert_id] = key
            if key[0] in index and key[1] in index:
                new, happened = observe(
                    alert, seen.get(key, Observation(level=0)), now_s, self.profile
                )
            else:
                new, happened = expire(alert, now_s, self.profile)
            events.extend(happened)
            if new is None:
                self._forget(key, alert)
                continue
            if happened:
                changed[new.alert_id] = new
            if new.state in _FINAL:
                self._windows[key] = (new.recent, new.last_seen_s)
                self._forget(key, new)
            else:
                self._alerts[key] = new
        self._before = (now_s, frozenset(index))
        self._prune_windows(now_s)
        return CycleAlerts(
            events=tuple(events), changed=tuple(changed.values()), pairs=len(seen)
        )

    def acknowledge(
        self, alert_id: str, party: str, now_s: float
    ) -> tuple[Alert, tuple[AlertEvent, ...]]:
        """A party involved acknowledges a current alert.

        Raises:
            IllegalTransitionError: no current alert has that identifier, it is not
                active, or the party is not involved.
        """
        key = self._by_id.get(alert_id)
        alert = None if key is None else self._alerts.get(key)
        if key is None or alert is None:
            raise IllegalTransitionError(alert_id, "not current", "acknowledge")
        acked, events = acknowledge(alert, party, now_s)
        self._alerts[key] = acked
        return acked, events

    def _prune_windows(self, now_s: float) -> None:
        """Drop the windows of pairs not observed for longer than ``reset_s``: such a
        pair's next window restarts anyway, so a long-running service keeps only the
        recent ones (checked at most once per ``reset_s``)."""
        if now_s - self._pruned_s < self.profile.reset_s:
            return
        self._pruned_s = now_s
        stale = [
            key
            for key, (_, last_seen) in self._windows.items()
            if last_seen is None or now_s - last_seen > self.profile.reset_s
        ]
        for key in stale:
            del self._windows[key]

    def _forget(self, key: tuple[str, str], alert: Alert) -> None:
        self._alerts.pop(key, None)
        self._by_id.pop(alert.alert_id, None)

    def _shown(self, index: Mapping[str, int]) -> dict[tuple[int, int], int]:
        shown: dict[tuple[int, int], int] = {}
        for (a, b), alert in self._alerts.items():
            if alert.state is AlertState.ACTIVE and a in index and b in index:
                i, j = sorted((index[a], index[b]))
                shown[(i, j)] = alert.level
        return shown
