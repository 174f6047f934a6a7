"""The live alerting loop (skypact analyze's replay runs on it too, tested there on
the DAIDALUS scenarios and real recordings)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from skypact.alerting.levels import default_profile
from skypact.alerting.lifecycle import AlertEventKind, AlertState
from skypact.alerting.monitor import AlertMonitor
from skypact.alerting.suppression import Suppression
from skypact.errors import IllegalTransitionError
from tests.factories import Plane, make_states, offset

LAT, LON = 35.0, 38.0


def head_on(gap_nm: float, *, parties=("usa", "rus"), ids=("a00001", "a00002")):
    """Two aircraft closing head-on at 900 kt, ``gap_nm`` apart."""
    east = offset(LAT, LON, gap_nm / 2, 90.0)
    west = offset(LAT, LON, gap_nm / 2, 270.0)
    return [
        Plane(ids[0], west[0], west[1], trk_deg=90.0, party=parties[0]),
        Plane(ids[1], east[0], east[1], trk_deg=270.0, party=parties[1]),
    ]


def keys_of(planes):
    return np.array([f"{p.party}:{p.icao24}" for p in planes], dtype=object)


def monitor(**kwargs):
    counter = itertools.count(1)
    return AlertMonitor(
        profile=default_profile(), new_id=lambda: f"T{next(counter)}", **kwargs
    )


def run(mon, planes_at, times):
    cycles = []
    for t in times:
        planes = planes_at(t)
        cycles.append(mon.step(make_states(planes), keys_of(planes), float(t)))
    return cycles


def closing(t):
    # 900 kt closure = 0.25 NM/s; 90 NM apart at t = 0 (conflict in 348 s)
    return head_on(90.0 - 0.25 * t)


class TestConflictBetweenParties:
    def test_raised_after_confirmation_and_escalating(self):
        mon = monitor()
        cycles = run(mon, closing, range(320))
        events = [e for c in cycles for e in c.events]
        kinds = [e.kind for e in events]
        assert kinds[0] is AlertEventKind.RAISED
        assert AlertEventKind.LEVEL_UP in kinds
        (alert,) = mon.alerts
        assert alert.state is AlertState.ACTIVE
        assert alert.aircraft == ("rus:a00002", "usa:a00001")
        assert alert.parties == frozenset({"usa", "rus"})
        assert alert.level == 3
        assert mon.alert(alert.alert_id) == alert
        # M of N: the first raw detection is not alerted on its own
        first_seen = next(t for t, c in enumerate(cycles) if c.pairs)
        raised_at = next(e.at_s for e in events if e.kind is AlertEventKind.RAISED)
        assert raised_at == first_seen + 1

    def test_acknowledged_by_a_party_involved_only(self):
        mon = monitor()
        run(mon, closing, range(220))
        (alert,) = mon.alerts
        acked, events = mon.acknowledge(alert.alert_id, "usa", 220.0)
        assert acked.acknowledged_by == frozenset({"usa"})
        assert [e.kind for e in events] == [AlertEventKind.ACKNOWLEDGED]
        with pytest.raises(IllegalTransitionError, match="not involved"):
            mon.acknowledge(alert.alert_id, "gbr", 100.0)
        with pytest.raises(IllegalTransitionError, match="not current"):
            mon.acknowledge("T999", "usa", 100.0)

    def test_aircraft_leaving_the_picture_expire_the_alert(self):
        mon = monitor()
        run(mon, closing, range(220))
        (alert,) = mon.alerts
        gone = run(mon, lambda t: closing(t)[:1], range(220, 420))
        ended = [a for c in gone for a in c.changed]
        assert ended[-1].state is AlertState.EXPIRED
        assert ended[-1].alert_id == alert.alert_id
        assert mon.alerts == ()
        assert mon.alert(alert.alert_id) is None

    def test_a_long_running_monitor_forgets_pairs_long_gone(self):
        # an alert that ends keeps its pair's M-of-N window for a return within
        # reset_s; past that the window is dropped, so memory stays bounded
        mon = monitor()
        run(mon, closing, range(220))
        run(mon, lambda t: closing(t)[:1], range(220, 420))
        assert mon.alerts == ()
        assert mon._windows == {}
        # the pair coming back much later is a first encounter again: confirmed
        # by M of N, not at once
        cycles = run(mon, lambda t: closing(t - 420), range(420, 700))
        first_seen = next(
            t for t, c in zip(range(420, 700), cycles, strict=True) if c.pairs
        )
        raised = [e for c in cycles for e in c.events if e.kind.value == "raised"]
        assert raised[0].at_s == first_seen + 1


class TestWhoIsMonitored:
    def test_the_same_address_from_two_parties_is_two_aircraft(self):
        mon = monitor()
        run(mon, lambda t: head_on(60 - 0.25 * t, ids=("abc123", "abc123")), range(120))
        (alert,) = mon.alerts
        assert alert.aircraft == ("rus:abc123", "usa:abc123")

    def test_a_bloc_is_not_monitored_within_itself(self):
        groups = {"usa": "coalition", "gbr": "coalition", "rus": "russian-side"}
        mon = monitor(groups=groups)
        run(mon, lambda t: head_on(60 - 0.25 * t, parties=("usa", "gbr")), range(150))
        assert mon.alerts == ()
        run(mon, lambda t: head_on(60 - 0.25 * t, parties=("usa", "rus")), range(150))
        assert len(mon.alerts) == 1

    def test_exempt_pairs_are_not_alerted(self):
        exempt = Suppression(exempt_pairs=frozenset({frozenset({"a00001", "a00002"})}))
        mon = monitor(suppression=exempt)
        cycles = run(mon, closing, range(150))
        assert all(c.pairs == 0 for c in cycles)
        assert mon.alerts == ()

    def test_one_aircraft_alone_has_no_alert(self):
        mon = monitor()
        cycles = run(mon, lambda t: closing(t)[:1], range(5))
        assert all(c.events == () and c.pairs == 0 for c in cycles)
