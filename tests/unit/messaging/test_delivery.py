"""Delivery, acknowledgement and escalation of messages on the Syria 2015 line."""

# The Russian texts are Cyrillic, not Latin look-alikes:
# ruff: noqa: RUF001

from __future__ import annotations

from pathlib import Path

import pytest

from skypact.agreement.document import parse_agreement
from skypact.agreement.schema import EscalationRole, EscalationStep, GroundLine
from skypact.errors import ConfigError, MessageStateError
from skypact.messaging.delivery import (
    DeliveryState,
    DeliveryStatus,
    MessageEvent,
    MessageEventKind,
    acknowledge,
    compose,
    deliver,
    escalate_due,
    next_due_s,
    start,
)
from skypact.messaging.model import (
    FreeText,
    Language,
    LinkTest,
    Message,
    MessageKind,
    OperationsNotice,
)

EXAMPLE = Path(__file__).resolve().parents[3] / "examples/agreements/syria-2015.toml"
T0 = 1445342400.0  # 2015-10-20 12:00Z
DUTY = EscalationRole.DUTY_OFFICER
SENIOR = EscalationRole.SENIOR_OFFICER
COMMAND = EscalationRole.COMMAND
Kind = MessageEventKind


@pytest.fixture(scope="module")
def line() -> GroundLine:
    return parse_agreement(
        EXAMPLE.read_bytes(), source=str(EXAMPLE)
    ).content.ground_line


def notification(line: GroundLine, recipients=("rus", "syr")) -> Message:
    return compose(
        message_id="m-1",
        sender="usa",
        recipients=frozenset(recipients),
        body=OperationsNotice(
            area=((34.6, 38.3), (34.9, 38.9), (34.3, 38.9)),
            floor_ft=15000.0,
            ceiling_ft=30000.0,
            starts_at_s=T0 + 3600.0,
            ends_at_s=T0 + 4 * 3600.0,
        ),
        language=Language.EN,
        sent_at_s=T0,
        ack_deadline_s=line.ack_deadline_s,
    )


def sent(line: GroundLine, recipients=("rus", "syr")) -> DeliveryStatus:
    status, _ = start(notification(line, recipients), line.escalation)
    return status


def summary(events) -> list[tuple]:
    """Events as (kind, seconds after sending, party, role) for easy reading."""
    return [(e.kind, e.at_s - T0, e.party, e.role) for e in events]


class TestCompose:
    def test_the_syria_line_gives_two_minutes_to_acknowledge(self, line):
        message = notification(line)
        assert message.kind is MessageKind.NOTIFICATION
        assert message.deadline_s == T0 + 120.0
        assert message.text.startswith("NOTIFICATION OF PLANNED OPERATIONS")
        assert message.translation is not None
        assert message.translation.startswith("УВЕДОМЛЕНИЕ О ПЛАНИРУЕМЫХ ПОЛЁТАХ")

    def test_free_text_is_sent_without_translation(self, line):
        message = compose(
            message_id="m-2",
            sender="rus",
            recipients=frozenset({"usa"}),
            body=FreeText(text="Прошу подтвердить время.", language=Language.RU),
            language=Language.RU,
            sent_at_s=T0,
            ack_deadline_s=line.ack_deadline_s,
            in_reply_to="m-1",
        )
        assert message.translation is None
        assert message.text == "СООБЩЕНИЕ\nПрошу подтвердить время."
        assert message.in_reply_to == "m-1"

    @pytest.mark.parametrize("deadline_s", [0.0, -5.0, float("nan")])
    def test_a_deadline_must_be_positive(self, deadline_s):
        with pytest.raises(ConfigError, match="ack_deadline_s"):
            compose(
                message_id="m",
                sender="usa",
                recipients=frozenset({"rus"}),
                body=LinkTest(nonce="n"),
                language=Language.EN,
                sent_at_s=T0,
                ack_deadline_s=deadline_s,
            )


class TestStart:
    def test_each_recipient_is_tracked_and_the_duty_officer_called(self, line):
        status, events = start(notification(line), line.escalation)
        assert [r.party for r in status.recipients] == ["rus", "syr"]
        assert all(
            r.step == 0 and r.state is DeliveryState.SENT for r in status.recipients
        )
        assert status.state is DeliveryState.SENT
        assert summary(events) == [
            (Kind.SENT, 0.0, "rus", DUTY),
            (Kind.SENT, 0.0, "syr", DUTY),
        ]
        assert {e.step for e in events} == {0}

    def test_a_ladder_starting_later_calls_nobody_at_once(self, line):
        ladder = (EscalationStep(role=DUTY, after_s=30.0),)
        status, events = start(notification(line, ("rus",)), ladder)
        assert events[0].role is None
        assert events[0].step is None
        assert status.recipients[0].step is None
        assert next_due_s(status, ladder) == T0 + 30.0
        status, events = escalate_due(status, ladder, T0 + 30.0)
        assert summary(events) == [(Kind.ESCALATED, 30.0, "rus", DUTY)]
        # Reaching the first rung late is not an escalation above it.
        assert status.recipients[0].state is DeliveryState.SENT

    @pytest.mark.parametrize(
        "times", [(0.0, 120.0, 120.0), (60.0, 30.0), (-1.0, 10.0), (0.0, float("inf"))]
    )
    def test_a_ladder_must_rise(self, line, times):
        ladder = [EscalationStep(role=DUTY, after_s=0.0) for _ in times]
        ladder = [
            step.model_copy(update={"after_s": t})
            for step, t in zip(ladder, times, strict=True)
        ]
        with pytest.raises(ConfigError, match="ladder"):
            start(notification(line), ladder)
        with pytest.raises(ConfigError, match="ladder"):
            escalate_due(sent(line), ladder, T0 + 1.0)


class TestDeliver:
    def test_delivery_per_recipient(self, line):
        status, events = deliver(sent(line), "rus", T0 + 4.0)
        assert summary(events) == [(Kind.DELIVERED, 4.0, "rus", None)]
        assert status.recipient("rus").delivered_at_s == T0 + 4.0
        assert status.recipient("rus").state is DeliveryState.DELIVERED
        assert status.recipient("syr").state is DeliveryState.SENT
        assert status.state is DeliveryState.SENT
        status, _ = deliver(status, "syr", T0 + 9.0)
        assert status.state is DeliveryState.DELIVERED

    def test_a_repeated_receipt_changes_nothing(self, line):
        status, _ = deliver(sent(line), "rus", T0 + 4.0)
        again, events = deliver(status, "rus", T0 + 6.0)
        assert again == status
        assert events == ()

    def test_only_recipients_receive(self, line):
        with pytest.raises(MessageStateError, match="'gbr' is not a recipient") as info:
            deliver(sent(line), "gbr", T0 + 1.0)
        assert (info.value.message_id, info.value.action) == ("m-1", "deliver")
        assert info.value.state == "sent"
        with pytest.raises(MessageStateError, match="not a recipient"):
            sent(line).recipient("usa")

    def test_time_may_not_run_backwards(self, line):
        status, _ = deliver(sent(line), "rus", T0 + 10.0)
        with pytest.raises(ConfigError, match="now_s"):
            deliver(status, "syr", T0 + 9.0)
        with pytest.raises(ConfigError, match="now_s"):
            deliver(sent(line), "syr", T0 - 1.0)
        with pytest.raises(ConfigError, match="now_s"):
            deliver(sent(line), "syr", float("nan"))


class TestAcknowledge:
    def test_acknowledgement_names_who_and_proves_delivery(self, line):
        status, events = acknowledge(sent(line), "rus", DUTY, T0 + 45.0)
        assert summary(events) == [
            (Kind.DELIVERED, 45.0, "rus", None),
            (Kind.ACKNOWLEDGED, 45.0, "rus", DUTY),
        ]
        rus = status.recipient("rus")
        assert (rus.delivered_at_s, rus.acknowledged_at_s) == (T0 + 45.0, T0 + 45.0)
        assert rus.acknowledged_by is DUTY
        assert rus.state is DeliveryState.ACKNOWLEDGED

    def test_after_delivery_only_the_acknowledgement_is_new(self, line):
        status, _ = deliver(sent(line), "rus", T0 + 5.0)
        status, events = acknowledge(status, "rus", SENIOR, T0 + 50.0)
        assert summary(events) == [(Kind.ACKNOWLEDGED, 50.0, "rus", SENIOR)]
        assert status.recipient("rus").delivered_at_s == T0 + 5.0
        again, none = deliver(status, "rus", T0 + 60.0)
        assert (again, none) == (status, ())

    def test_acknowledging_twice_is_refused(self, line):
        status, _ = acknowledge(sent(line), "rus", DUTY, T0 + 45.0)
        with pytest.raises(MessageStateError, match="acknowledged it already") as info:
            acknowledge(status, "rus", COMMAND, T0 + 50.0)
        assert info.value.state == "acknowledged"

    def test_a_non_recipient_cannot_acknowledge(self, line):
        with pytest.raises(MessageStateError, match="'usa' is not a recipient"):
            acknowledge(sent(line), "usa", DUTY, T0 + 1.0)

    def test_everyone_acknowledged_is_the_end(self, line):
        status, _ = acknowledge(sent(line), "rus", DUTY, T0 + 45.0)
        status, _ = acknowledge(status, "syr", DUTY, T0 + 70.0)
        assert status.state is DeliveryState.ACKNOWLEDGED
        assert next_due_s(status, line.escalation) is None
        assert escalate_due(status, line.escalation, T0 + 1000.0) == (status, ())


class TestEscalation:
    def test_the_syria_ladder(self, line):
        """rus acknowledges in time; syr never does and climbs to command."""
        status, log = start(notification(line), line.escalation)
        for step in (
            lambda s: deliver(s, "rus", T0 + 5.0),
            lambda s: acknowledge(s, "rus", DUTY, T0 + 60.0),
            lambda s: escalate_due(s, line.escalation, T0 + 119.0),
            lambda s: escalate_due(s, line.escalation, T0 + 120.0),
            lambda s: escalate_due(s, line.escalation, T0 + 200.0),
            lambda s: escalate_due(s, line.escalation, T0 + 300.0),
            lambda s: escalate_due(s, line.escalation, T0 + 3600.0),
        ):
            status, events = step(status)
            log += events
        assert summary(log) == [
            (Kind.SENT, 0.0, "rus", DUTY),
            (Kind.SENT, 0.0, "syr", DUTY),
            (Kind.DELIVERED, 5.0, "rus", None),
            (Kind.ACKNOWLEDGED, 60.0, "rus", DUTY),
            (Kind.ESCALATED, 120.0, "syr", SENIOR),
            (Kind.OVERDUE, 120.0, "syr", None),
            (Kind.ESCALATED, 300.0, "syr", COMMAND),
        ]
        assert [e.step for e in log if e.kind is Kind.ESCALATED] == [1, 2]
        syr = status.recipient("syr")
        assert (syr.step, syr.overdue_at_s) == (2, T0 + 120.0)
        assert syr.state is DeliveryState.ESCALATED
        assert status.state is DeliveryState.ESCALATED
        assert status.overdue
        assert next_due_s(status, line.escalation) is None

    def test_a_late_call_climbs_every_rung_in_order(self, line):
        status, events = escalate_due(sent(line, ("syr",)), line.escalation, T0 + 400.0)
        assert summary(events) == [
            (Kind.ESCALATED, 400.0, "syr", SENIOR),
            (Kind.ESCALATED, 400.0, "syr", COMMAND),
            (Kind.OVERDUE, 400.0, "syr", None),
        ]
        assert status.last_event_at_s == T0 + 400.0

    def test_an_acknowledged_recipient_never_escalates(self, line):
        status, _ = escalate_due(sent(line), line.escalation, T0 + 130.0)
        status, _ = acknowledge(status, "rus", SENIOR, T0 + 140.0)
        status, events = escalate_due(status, line.escalation, T0 + 500.0)
        assert summary(events) == [(Kind.ESCALATED, 500.0, "syr", COMMAND)]
        rus = status.recipient("rus")
        assert rus.step == 1
        assert rus.overdue_at_s == T0 + 130.0  # it was late, and that stays known
        assert rus.state is DeliveryState.ACKNOWLEDGED

    def test_nothing_due_changes_nothing(self, line):
        status = sent(line)
        assert escalate_due(status, line.escalation, T0 + 60.0) == (status, ())
        # ... and does not hold back a receipt stamped earlier.
        delivered, _ = deliver(status, "rus", T0 + 30.0)
        assert delivered.recipient("rus").delivered_at_s == T0 + 30.0

    def test_without_a_ladder_only_the_deadline_counts(self, line):
        status, events = start(notification(line, ("rus",)), ())
        assert events[0].role is None
        assert next_due_s(status, ()) == T0 + 120.0
        status, events = escalate_due(status, (), T0 + 120.0)
        assert summary(events) == [(Kind.OVERDUE, 120.0, "rus", None)]
        assert status.recipient("rus").state is DeliveryState.SENT
        assert next_due_s(status, ()) is None

    def test_a_deadline_before_the_next_rung_is_due_first(self, line):
        message = compose(
            message_id="m-9",
            sender="usa",
            recipients=frozenset({"rus"}),
            body=LinkTest(nonce="n"),
            language=Language.EN,
            sent_at_s=T0,
            ack_deadline_s=60.0,
        )
        status, _ = start(message, line.escalation)
        assert next_due_s(status, line.escalation) == T0 + 60.0
        status, _ = escalate_due(status, line.escalation, T0 + 60.0)
        assert next_due_s(status, line.escalation) == T0 + 120.0

    def test_a_scheduler_that_wakes_only_when_due_sees_every_event(self, line):
        """Calling at next_due_s gives the events of a call every second."""
        every, lazy = sent(line), sent(line)
        every_log: list[MessageEvent] = []
        lazy_log: list[MessageEvent] = []
        for t in range(400):
            every, events = escalate_due(every, line.escalation, T0 + t)
            every_log += events
        while (due := next_due_s(lazy, line.escalation)) is not None:
            lazy, events = escalate_due(lazy, line.escalation, due)
            assert events, "a due time always has something to do"
            lazy_log += events
        assert lazy_log == every_log
        assert lazy == every
