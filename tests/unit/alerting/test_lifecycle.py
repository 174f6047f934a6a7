"""The alert lifecycle: confirmation, persistence, hysteresis, acknowledgement, expiry."""

from __future__ import annotations

import pytest

from skypact.alerting.levels import AlertProfile, AlertThresholds
from skypact.alerting.lifecycle import (
    Alert,
    AlertEventKind,
    AlertState,
    Observation,
    acknowledge,
    confirmed_level,
    expire,
    observe,
    start,
)
from skypact.errors import ConfigError, IllegalTransitionError

PROFILE = AlertProfile(
    levels=tuple(
        AlertThresholds(
            severity=k, name=n, lookahead_s=look, horizontal_m=5556.0, vertical_m=304.8
        )
        for k, n, look in (
            (1, "advisory", 300.0),
            (2, "caution", 120.0),
            (3, "warning", 60.0),
        )
    ),
    confirm_m=2,
    confirm_n=3,
    persistence_s=5.0,
    hysteresis_s=10.0,
    expiry_s=30.0,
)


def new(now=0.0, *, recent=()) -> Alert:
    """An alert for a pair observed (at level 0) one cycle before ``now``."""
    return start(
        alert_id="a1",
        aircraft=("ae01", "ru01"),
        parties=frozenset({"usa", "rus"}),
        recent=recent,
        last_seen_s=now - 1.0,
    )


def run(levels, *, t0=0.0, alert=None, t_in=None, profile=PROFILE):
    """Feed one raw level per second; returns the alert and all events."""
    alert = alert or new(t0)
    events: list = []
    for k, level in enumerate(levels):
        now = t0 + k
        tin = t_in(now) if callable(t_in) else t_in
        alert, evs = observe(alert, Observation(level=level, t_in_s=tin), now, profile)
        events += evs
        if alert is None or alert.state in (AlertState.CLEARED, AlertState.EXPIRED):
            break
    return alert, events


class TestConfirmation:
    @pytest.mark.parametrize(
        ("recent", "expected"),
        [
            ((), 0),
            ((1,), 0),
            ((1, 1), 1),
            ((1, 0, 1), 1),
            ((3, 1, 0), 1),
            ((3, 2, 3), 3),
        ],
    )
    def test_confirmed_level_is_m_of_n(self, recent, expected):
        assert confirmed_level(recent, 2) == expected

    def test_a_single_detection_raises_nothing(self):
        alert, events = run([2, 0, 0, 0])
        assert alert is None  # forgotten: never shown
        assert events == []

    def test_two_of_three_raise(self):
        alert, events = run([2, 0, 2], t_in=40.0)
        assert alert is not None
        assert alert.state is AlertState.ACTIVE
        assert [(e.kind, e.at_s, e.level) for e in events] == [
            (AlertEventKind.RAISED, 2.0, 2)
        ]
        assert alert.predicted_los_at_s == 42.0

    def test_a_pair_never_observed_before_is_confirmed_at_once(self):
        fresh = start(alert_id="a1", aircraft=("ae01", "ru01"), parties=frozenset())
        _alert, events = run([2], alert=fresh)
        assert [(e.kind, e.at_s, e.level) for e in events] == [
            (AlertEventKind.RAISED, 0.0, 2)
        ]

    def test_the_window_outlives_an_alert(self):
        # The last alert ended with 2 of its last 3 cycles at 0: one more detection
        # makes 2 of 3 again, so the pair's next alert is raised at once.
        alert, events = run([2], alert=new(recent=(2, 0)))
        assert [e.kind for e in events] == [AlertEventKind.RAISED]
        assert alert.recent == (2, 0, 2)


class TestReset:
    def test_a_gap_longer_than_reset_restarts_the_shown_level(self):
        alert, _ = run([3, 3, 3])
        # Seen again after 40 s (> reset_s = 30) at level 1: shown at once, no
        # persistence or hysteresis from before the gap.
        alert, events = run([1], t0=42.0, alert=alert)
        assert [(e.kind, e.level) for e in events] == [(AlertEventKind.LEVEL_DOWN, 1)]
        alert, events = run([0], t0=80.0, alert=alert)
        assert [e.kind for e in events] == [AlertEventKind.CLEARED]

    def test_a_gap_within_reset_keeps_the_window(self):
        alert, _ = run([3, 3, 3])
        alert, events = run([0], t0=20.0, alert=alert)
        assert events == []
        assert alert.recent == (3, 3, 0)


class TestPersistence:
    NO_HOLD = AlertProfile(
        levels=PROFILE.levels, confirm_m=2, confirm_n=3, persistence_s=5.0,
        hysteresis_s=0.0,
    )  # fmt: skip

    def test_a_risen_level_is_shown_for_persistence_s(self):
        _alert, events = run([3, 3] + [0] * 10, profile=self.NO_HOLD)
        # Raised at t = 1; confirmed 0 from t = 3 but shown until t = 6.
        assert [(e.kind, e.at_s) for e in events] == [
            (AlertEventKind.RAISED, 1.0),
            (AlertEventKind.CLEARED, 6.0),
        ]

    def test_persistence_counts_from_the_last_rise_not_the_last_drop(self):
        _alert, events = run([3, 3, 3, 3, 3, 3, 3, 1, 1, 0, 0, 0], profile=self.NO_HOLD)
        # 3 from t = 1; 1 confirmed at t = 8 (shown 7 s > 5 s: drops at once); 0
        # confirmed at t = 10 drops at once too, 2 s after the drop to 1.
        assert [(e.kind, e.at_s, e.level) for e in events] == [
            (AlertEventKind.RAISED, 1.0, 3),
            (AlertEventKind.LEVEL_DOWN, 8.0, 1),
            (AlertEventKind.CLEARED, 10.0, 0),
        ]


class TestLevelsAndClearing:
    def test_level_up_is_immediate_once_confirmed(self):
        alert, events = run([1, 1, 3, 3])
        assert [e.kind for e in events] == [
            AlertEventKind.RAISED,
            AlertEventKind.LEVEL_UP,
        ]
        assert alert.level == 3

    def test_level_down_waits_for_hysteresis_and_persistence(self):
        alert, events = run([2, 2] + [1] * 20)
        downs = [e for e in events if e.kind is AlertEventKind.LEVEL_DOWN]
        assert len(downs) == 1
        # Confirmed 1 from t = 3 (2 of the last 3 at 1); 10 s of hysteresis -> t = 13.
        assert downs[0].at_s == 13.0
        assert alert.level == 1

    def test_clearing_after_hysteresis(self):
        alert, events = run([2, 2, 2] + [0] * 20)
        assert events[-1].kind is AlertEventKind.CLEARED
        assert events[-1].at_s == 14.0  # confirmed 0 from t = 4 (2 of 3 zeros)
        assert alert.state is AlertState.CLEARED
        assert alert.ended_at_s == 14.0

    def test_a_return_within_hysteresis_keeps_the_alert(self):
        alert, events = run([2, 2, 2, 0, 0, 0, 0, 2, 2, 2])
        assert [e.kind for e in events] == [AlertEventKind.RAISED]
        assert alert.level == 2
        assert alert.below_since_s is None

    def test_observing_a_cleared_alert_is_illegal(self):
        alert, _ = run([2, 2, 2] + [0] * 20)
        with pytest.raises(IllegalTransitionError) as info:
            observe(alert, Observation(level=2), 100.0, PROFILE)
        assert (info.value.state, info.value.event) == ("cleared", "observe")


class TestWarningTime:
    def test_predicted_then_actual_loss_of_separation(self):
        # Raised at t = 1 with t_in 49 s (LoS predicted at 50); actual LoS seen at 45.
        alert, _ = run([2, 2], t_in=49.0)
        assert alert.warning_time_s == 49.0
        alert, _ = run([3, 3], t0=45.0, alert=alert, t_in=0.0)
        assert alert.los_at_s == 45.0
        assert alert.warning_time_s == 44.0


class TestAcknowledgement:
    def test_each_party_once_and_reset_on_level_up(self):
        alert, _ = run([1, 1])
        alert, events = acknowledge(alert, "usa", 2.0)
        assert [(e.kind, e.party) for e in events] == [
            (AlertEventKind.ACKNOWLEDGED, "usa")
        ]
        alert, events = acknowledge(alert, "usa", 3.0)
        assert events == ()
        alert, events = run([3, 3], t0=4.0, alert=alert)
        assert events[0].kind is AlertEventKind.LEVEL_UP
        assert alert.acknowledged_by == frozenset()

    def test_only_involved_parties_and_active_alerts(self):
        alert, _ = run([1, 1])
        with pytest.raises(IllegalTransitionError, match="not involved"):
            acknowledge(alert, "gbr", 2.0)
        pending, _ = run([1])
        with pytest.raises(IllegalTransitionError):
            acknowledge(pending, "usa", 1.0)


class TestExpiry:
    def test_unobserved_active_alert_expires(self):
        alert, _ = run([2, 2])
        same, events = expire(alert, 20.0, PROFILE)
        assert (same, events) == (alert, ())
        gone, events = expire(alert, 31.0, PROFILE)
        assert gone is not None
        assert gone.state is AlertState.EXPIRED
        assert events[0].kind is AlertEventKind.EXPIRED

    def test_unobserved_pending_alert_is_forgotten(self):
        pending, _ = run([2])
        assert expire(pending, 40.0, PROFILE) == (None, ())


def test_profile_validation():
    with pytest.raises(ConfigError):
        AlertProfile(levels=PROFILE.levels, confirm_m=4, confirm_n=3)
    with pytest.raises(ConfigError):
        AlertProfile(levels=())
