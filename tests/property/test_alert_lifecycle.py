"""The alert lifecycle as a state machine: no illegal transition, no flapping."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from skypact.alerting.lifecycle import (
    Alert,
    AlertEventKind,
    AlertState,
    Observation,
    acknowledge,
    expire,
    observe,
    start,
)
from skypact.errors import IllegalTransitionError
from tests.unit.alerting.test_lifecycle import PROFILE

PARTIES = ("usa", "rus", "gbr")
FINAL = (AlertState.CLEARED, AlertState.EXPIRED)
ALLOWED_AFTER = {
    None: {AlertEventKind.RAISED},
    AlertEventKind.RAISED: set(AlertEventKind) - {AlertEventKind.RAISED},
    AlertEventKind.LEVEL_UP: set(AlertEventKind) - {AlertEventKind.RAISED},
    AlertEventKind.LEVEL_DOWN: set(AlertEventKind) - {AlertEventKind.RAISED},
    AlertEventKind.ACKNOWLEDGED: set(AlertEventKind) - {AlertEventKind.RAISED},
    AlertEventKind.CLEARED: set(),
    AlertEventKind.EXPIRED: set(),
}


class AlertMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0
        self.alert: Alert | None = start(
            alert_id="a",
            aircraft=("x", "y"),
            parties=frozenset({"usa", "rus"}),
        )
        self.last_kind: AlertEventKind | None = None
        self.last_event_at = -1.0

    def record(self, events) -> None:
        for event in events:
            assert event.kind in ALLOWED_AFTER[self.last_kind], (self.last_kind, event)
            assert event.at_s >= self.last_event_at
            self.last_kind = event.kind
            self.last_event_at = event.at_s

    def live(self) -> bool:
        return self.alert is not None and self.alert.state not in FINAL

    @rule(
        level=st.integers(0, 3),
        t_in=st.one_of(st.none(), st.floats(0, 300)),
        dt=st.floats(0.5, 3),
    )
    def cycle(self, level, t_in, dt):
        self.now += dt
        if not self.live():
            assert self.alert is None or self.alert.state in FINAL
            if self.alert is not None:
                try:
                    observe(self.alert, Observation(level=level), self.now, PROFILE)
                except IllegalTransitionError:
                    return
                raise AssertionError("observing a final alert must be refused")
            return
        before = self.alert
        assert before is not None
        after, events = observe(
            before, Observation(level=level, t_in_s=t_in), self.now, PROFILE
        )
        self.record(events)
        if after is not None and after.level != before.level:
            assert events, "a level change always comes with an event"
        self.alert = after

    @rule(party=st.sampled_from(PARTIES))
    def ack(self, party):
        if self.alert is None:
            return
        legal = self.alert.state is AlertState.ACTIVE and party in self.alert.parties
        try:
            self.alert, events = acknowledge(self.alert, party, self.now)
        except IllegalTransitionError:
            assert not legal
            return
        assert legal
        self.record(events)

    @precondition(lambda self: self.alert is not None)
    @rule(gap=st.floats(0, 60))
    def silence(self, gap):
        self.now += gap
        assert self.alert is not None
        self.alert, events = expire(self.alert, self.now, PROFILE)
        self.record(events)

    @invariant()
    def consistent(self):
        a = self.alert
        if a is None:
            return
        assert 0 <= a.level <= PROFILE.top
        assert (a.state is AlertState.ACTIVE) == (a.level > 0)
        assert a.acknowledged_by <= a.parties
        assert len(a.recent) <= PROFILE.confirm_n
        if a.state is not AlertState.PENDING:
            assert a.raised_at_s is not None
            assert 1 <= a.highest_level <= PROFILE.top


TestAlertMachine = AlertMachine.TestCase


@given(
    level=st.integers(1, 3),
    length=st.integers(10, 80),
    noise=st.lists(st.tuples(st.integers(0, 79), st.integers(0, 3)), max_size=15),
)
def test_isolated_noise_never_changes_a_confirmed_level(level, length, noise):
    """A steady encounter with single-cycle dropouts or spikes shows one steady level."""
    raw = [level] * length
    hit: set[int] = set()
    for position, value in noise:
        k = position % length
        # Isolated: at most one corrupted cycle in any window of N = 3 cycles.
        if k >= 2 and not ({k - 2, k - 1, k + 1, k + 2} & hit):
            raw[k] = value
            hit.add(k)
    alert: Alert | None = start(
        alert_id="a", aircraft=("x", "y"), parties=frozenset({"p"})
    )
    kinds = []
    for t, value in enumerate(raw):
        assert alert is not None
        alert, events = observe(alert, Observation(level=value), float(t), PROFILE)
        kinds += [e.kind for e in events]
    assert kinds == [AlertEventKind.RAISED]
    assert alert is not None
    assert alert.level == level
