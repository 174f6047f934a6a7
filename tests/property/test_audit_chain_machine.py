"""The audit chain always verifies while records are only appended; any single edit
of a stored record is found at that record."""

from __future__ import annotations

import dataclasses

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from skypact.audit.model import (
    GENESIS_HASH,
    AuditRecord,
    AuditSigner,
    seal,
    verify_chain,
)

SIGNER = AuditSigner.generate()

payloads = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)


class AuditChainMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[AuditRecord] = []

    @rule(
        actor=st.sampled_from(["server", "usa/duty-officer", "rus/commander"]),
        kind=st.sampled_from(["reports", "alert", "message", "ack"]),
        payload=payloads,
        dt_s=st.floats(min_value=0.0, max_value=60.0),
    )
    def append(self, actor, kind, payload, dt_s):
        last = self.records[-1] if self.records else None
        self.records.append(
            seal(
                seq=len(self.records) + 1,
                prev_hash=last.hash if last else GENESIS_HASH,
                at_s=(last.at_s if last else 1.4e9) + dt_s,
                actor=actor,
                kind=kind,
                payload=payload,
                signer=SIGNER,
            )
        )

    @precondition(lambda self: self.records)
    @rule(data=st.data())
    def an_edit_is_found_where_it_was_made(self, data):
        k = data.draw(st.integers(min_value=0, max_value=len(self.records) - 1))
        field = data.draw(st.sampled_from(["payload", "actor", "kind", "at_s"]))
        old = self.records[k]
        new_value = {
            "payload": old.payload + " ",
            "actor": old.actor + "x",
            "kind": old.kind + "x",
            "at_s": old.at_s + 1.0,
        }[field]
        tampered = list(self.records)
        tampered[k] = dataclasses.replace(old, **{field: new_value})
        report = verify_chain(tampered, SIGNER.public_key)
        assert (report.ok, report.seq, report.problem) == (False, k + 1, "changed")

    @invariant()
    def the_chain_verifies(self):
        head = (len(self.records), self.records[-1].hash) if self.records else None
        report = verify_chain(self.records, SIGNER.public_key, head=head)
        assert report.ok, report.detail
        assert report.head == head


TestAuditChain = AuditChainMachine.TestCase
