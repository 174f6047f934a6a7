"""Message delivery as a state machine: no illegal transition, a ladder always climbed.

Random ladders, deadlines and recipients; random receipts, acknowledgements (by anyone,
legal or not), escalation calls and clock steps. Shown throughout:

- no illegal transition succeeds (a non-recipient, a second acknowledgement, a time
  before the last event), and a refused one changes nothing;
- every recipient still waiting stands at the highest rung whose ``after_s`` has passed
  at each escalation call, so it reaches the top rung once that one's time is past;
- an acknowledged recipient never escalates again, nor is it flagged overdue;
- the events of a message are in time order, and :func:`next_due_s` never names a
  time already passed.
"""

from __future__ import annotations

from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)

from skypact.agreement.schema import EscalationRole, EscalationStep
from skypact.errors import ConfigError, MessageStateError
from skypact.messaging.delivery import (
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
from skypact.messaging.model import Language, LinkTest

T0 = 1445342400.0
PARTIES = ("rus", "syr", "gbr", "usa")
SENDER = "usa"

ladders = st.lists(
    st.tuples(st.sampled_from(EscalationRole), st.integers(0, 900)),
    max_size=4,
    unique_by=lambda rung: rung[1],
).map(
    lambda rungs: tuple(
        EscalationStep(role=role, after_s=float(after_s))
        for role, after_s in sorted(rungs, key=lambda rung: rung[1])
    )
)


def rung_at(ladder: tuple[EscalationStep, ...], elapsed_s: float) -> int | None:
    reached = [k for k, step in enumerate(ladder) if step.after_s <= elapsed_s]
    return reached[-1] if reached else None


class DeliveryMachine(RuleBasedStateMachine):
    status: DeliveryStatus
    ladder: tuple[EscalationStep, ...]

    @initialize(
        ladder=ladders,
        deadline_s=st.floats(1.0, 900.0),
        recipients=st.sets(st.sampled_from(PARTIES[:3]), min_size=1),
    )
    def send(self, ladder, deadline_s, recipients):
        message = compose(
            message_id="m",
            sender=SENDER,
            recipients=frozenset(recipients),
            body=LinkTest(nonce="drill"),
            language=Language.EN,
            sent_at_s=T0,
            ack_deadline_s=deadline_s,
        )
        self.ladder = ladder
        self.recipients = frozenset(recipients)
        self.now = T0
        self.log: list[MessageEvent] = []
        self.acked: dict[str, float] = {}
        self.step_at_ack: dict[str, int | None] = {}
        self.status, events = start(message, ladder)
        assert sorted(e.party for e in events) == sorted(recipients)
        assert {e.kind for e in events} == {MessageEventKind.SENT}
        self.log += events

    def refused(self, call, error) -> None:
        before = self.status
        try:
            call()
        except error:
            assert self.status == before
            return
        raise AssertionError("an illegal transition succeeded")

    @rule(dt=st.floats(0.0, 400.0))
    def tick(self, dt):
        self.now += dt

    @rule(party=st.sampled_from(PARTIES))
    def receive(self, party):
        if party not in self.recipients:
            self.refused(
                lambda: deliver(self.status, party, self.now), MessageStateError
            )
            return
        had = self.status.recipient(party).delivered_at_s
        self.status, events = deliver(self.status, party, self.now)
        if had is not None:
            assert events == ()
            assert self.status.recipient(party).delivered_at_s == had
        else:
            assert [e.kind for e in events] == [MessageEventKind.DELIVERED]
        self.log += events

    @rule(party=st.sampled_from(PARTIES), role=st.sampled_from(EscalationRole))
    def ack(self, party, role):
        if party not in self.recipients or party in self.acked:
            self.refused(
                lambda: acknowledge(self.status, party, role, self.now),
                MessageStateError,
            )
            return
        self.status, events = acknowledge(self.status, party, role, self.now)
        assert events[-1].kind is MessageEventKind.ACKNOWLEDGED
        assert events[-1].role is role
        self.acked[party] = self.now
        self.step_at_ack[party] = self.status.recipient(party).step
        self.log += events

    @rule()
    def escalate(self):
        self.status, events = escalate_due(self.status, self.ladder, self.now)
        self.log += events
        target = rung_at(self.ladder, self.now - T0)
        for recipient in self.status.recipients:
            if recipient.party in self.acked:
                continue
            assert recipient.step == target
            assert (recipient.overdue_at_s is not None) == (
                self.now >= self.status.deadline_s
            )
        due = next_due_s(self.status, self.ladder)
        assert due is None or due > self.now

    @rule(back=st.floats(0.001, 100.0), role=st.sampled_from(EscalationRole))
    def late_clock(self, back, role):
        if self.status.last_event_at_s <= T0:
            return
        then = self.status.last_event_at_s - back
        self.refused(lambda: escalate_due(self.status, self.ladder, then), ConfigError)
        for party in self.recipients - set(self.acked):
            self.refused(
                lambda p=party: acknowledge(self.status, p, role, then), ConfigError
            )

    @rule()
    def wait_for_the_top(self):
        """Long after the last rung and the deadline, every waiting party is at the top."""
        last = self.ladder[-1].after_s if self.ladder else 0.0
        self.now = max(self.now, self.status.deadline_s, T0 + last)
        self.status, events = escalate_due(self.status, self.ladder, self.now)
        self.log += events
        for recipient in self.status.recipients:
            if recipient.party not in self.acked:
                top = len(self.ladder) - 1 if self.ladder else None
                assert recipient.step == top
                assert recipient.overdue_at_s is not None
        assert next_due_s(self.status, self.ladder) is None

    @invariant()
    def events_in_time_order(self):
        times = [e.at_s for e in self.log]
        assert times == sorted(times)
        assert self.status.last_event_at_s == times[-1]

    @invariant()
    def acknowledged_parties_are_left_alone(self):
        for party, acked_at_s in self.acked.items():
            later = [
                e
                for e in self.log
                if e.party == party
                and e.kind in (MessageEventKind.ESCALATED, MessageEventKind.OVERDUE)
                and e.at_s > acked_at_s
            ]
            assert not later
            recipient = self.status.recipient(party)
            assert recipient.step == self.step_at_ack[party]
            assert recipient.acknowledged_at_s == acked_at_s

    @invariant()
    def each_rung_and_deadline_once_per_party(self):
        for party in self.recipients:
            mine = [e for e in self.log if e.party == party]
            escalated = [e for e in mine if e.kind is MessageEventKind.ESCALATED]
            steps = [e.step for e in escalated if e.step is not None]
            assert len(steps) == len(escalated)
            assert steps == sorted(set(steps))
            overdue = [e for e in mine if e.kind is MessageEventKind.OVERDUE]
            assert len(overdue) <= 1
            kinds = [e.kind for e in mine]
            assert kinds.count(MessageEventKind.DELIVERED) <= 1
            assert kinds.count(MessageEventKind.ACKNOWLEDGED) <= 1
            if MessageEventKind.ACKNOWLEDGED in kinds:
                assert kinds.index(MessageEventKind.DELIVERED) < kinds.index(
                    MessageEventKind.ACKNOWLEDGED
                )


TestDeliveryMachine = DeliveryMachine.TestCase
