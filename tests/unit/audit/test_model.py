"""The audit chain: sealing, verification, and each kind of tampering named."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

from skypact.audit.model import (
    GENESIS_HASH,
    AuditRecord,
    AuditSigner,
    canonical_json,
    record_hash,
    seal,
    verify_chain,
)
from skypact.errors import AuditIntegrityError, SignatureError

T0_S = 1_445_299_200.0  # 2015-10-20 00:00Z


def chain_of(n: int, signer: AuditSigner) -> list[AuditRecord]:
    records: list[AuditRecord] = []
    prev = GENESIS_HASH
    for k in range(1, n + 1):
        record = seal(
            seq=k,
            prev_hash=prev,
            at_s=T0_S + k,
            actor="usa/duty-officer" if k % 2 else "server",
            kind="reports" if k % 3 else "alert",
            payload={"batch": k, "rows": 10 * k, "note": "привет"},
            signer=signer,
        )
        records.append(record)
        prev = record.hash
    return records


@pytest.fixture(scope="module")
def signer() -> AuditSigner:
    return AuditSigner.generate()


@pytest.fixture
def chain(signer) -> list[AuditRecord]:
    return chain_of(10, signer)


def renumbered(records: list[AuditRecord]) -> list[AuditRecord]:
    return [dataclasses.replace(r, seq=k) for k, r in enumerate(records, 1)]


class TestIntactChain:
    def test_verifies_with_its_head(self, chain, signer):
        report = verify_chain(chain, signer.public_key, head=(10, chain[-1].hash))
        assert report.ok
        assert report.records == 10
        assert report.head == (10, chain[-1].hash)
        assert report.problem is None
        report.raise_for_problem()  # nothing to raise

    def test_empty_chain_verifies(self, signer):
        report = verify_chain([], signer.public_key)
        assert report.ok
        assert report.head is None

    def test_links_and_hashes(self, chain):
        assert chain[0].prev_hash == GENESIS_HASH
        for before, after in itertools.pairwise(chain):
            assert after.prev_hash == before.hash
        first = chain[0]
        assert first.hash == record_hash(
            first.prev_hash, first.at_s, first.actor, first.kind, first.payload
        )

    def test_payload_is_canonical_json(self, chain):
        assert chain[0].payload == '{"batch":1,"note":"привет","rows":10}'
        assert (
            canonical_json({"b": [1.0, None], "a": True}) == '{"a":true,"b":[1.0,null]}'
        )
        with pytest.raises(ValueError, match="JSON compliant"):
            canonical_json({"x": float("nan")})

    def test_another_servers_key_does_not_verify(self, chain):
        other = AuditSigner.generate()
        report = verify_chain(chain, other.public_key)
        assert (report.ok, report.seq, report.problem) == (False, 1, "changed")


class TestTampering:
    def test_a_changed_payload(self, chain, signer):
        chain[4] = dataclasses.replace(chain[4], payload='{"batch":5,"rows":0}')
        report = verify_chain(chain, signer.public_key)
        assert (report.ok, report.seq, report.problem) == (False, 5, "changed")
        assert report.head == (4, chain[3].hash)
        with pytest.raises(AuditIntegrityError, match="audit record 5: changed") as err:
            report.raise_for_problem()
        assert (err.value.seq, err.value.problem) == (5, "changed")

    def test_a_changed_time_or_actor(self, chain, signer):
        for field, value in (("at_s", T0_S), ("actor", "rus/duty-officer")):
            tampered = list(chain)
            tampered[2] = dataclasses.replace(chain[2], **{field: value})
            report = verify_chain(tampered, signer.public_key)
            assert (report.seq, report.problem) == (3, "changed"), field

    def test_a_change_with_its_hash_recomputed(self, chain, signer):
        # The forger recomputes the hash but cannot sign it.
        old = chain[6]
        payload = '{"batch":7,"rows":1}'
        digest = record_hash(old.prev_hash, old.at_s, old.actor, old.kind, payload)
        chain[6] = dataclasses.replace(old, payload=payload, hash=digest)
        report = verify_chain(chain, signer.public_key)
        assert (report.seq, report.problem) == (7, "changed")

    def test_a_deleted_record(self, chain, signer):
        del chain[3]
        report = verify_chain(chain, signer.public_key)
        assert (report.seq, report.problem) == (4, "deleted")
        # ... also when the records after it are renumbered to hide the gap.
        report = verify_chain(renumbered(chain), signer.public_key)
        assert (report.seq, report.problem) == (4, "deleted")

    def test_an_inserted_record(self, chain, signer):
        forger = AuditSigner.generate()
        forged = seal(
            seq=4,
            prev_hash=chain[2].hash,
            at_s=T0_S + 3.5,
            actor="server",
            kind="alert",
            payload={"forged": True},
            signer=forger,
        )
        tampered = renumbered([*chain[:3], forged, *chain[3:]])
        report = verify_chain(tampered, signer.public_key)
        assert (report.seq, report.problem) == (4, "inserted")

    def test_a_record_forged_at_the_end(self, chain, signer):
        forged = seal(
            seq=11,
            prev_hash=chain[-1].hash,
            at_s=T0_S + 11,
            actor="server",
            kind="alert",
            payload={},
            signer=AuditSigner.generate(),
        )
        report = verify_chain([*chain, forged], signer.public_key)
        assert (report.seq, report.problem) == (11, "inserted")

    def test_two_records_swapped(self, chain, signer):
        chain[5], chain[6] = chain[6], chain[5]
        report = verify_chain(renumbered(chain), signer.public_key)
        assert (report.seq, report.problem) == (6, "reordered")

    def test_a_record_stored_out_of_sequence(self, chain, signer):
        chain[5] = dataclasses.replace(chain[5], seq=4)
        report = verify_chain(chain, signer.public_key)
        assert (report.seq, report.problem) == (6, "reordered")
        chain[5] = dataclasses.replace(chain[5], seq=9)
        report = verify_chain(chain, signer.public_key)
        assert (report.seq, report.problem) == (6, "deleted")

    def test_a_truncated_tail_against_the_head(self, chain, signer):
        head = (10, chain[-1].hash)
        report = verify_chain(chain[:7], signer.public_key, head=head)
        assert (report.seq, report.problem) == (8, "truncated")
        assert "head is record 10" in report.detail
        assert verify_chain(chain[:7], signer.public_key).ok  # links alone cannot tell

    def test_a_head_that_disagrees(self, chain, signer):
        report = verify_chain(chain, signer.public_key, head=(10, chain[0].hash))
        assert (report.seq, report.problem) == (10, "changed")

    def test_a_garbled_signature(self, chain, signer):
        chain[1] = dataclasses.replace(chain[1], signature="not base64!")
        report = verify_chain(chain, signer.public_key)
        assert (report.seq, report.problem) == (2, "changed")


class TestKeys:
    def test_pem_round_trip(self, signer, chain):
        again = AuditSigner.from_pem(signer.to_pem())
        assert again.public_key == signer.public_key
        assert (
            again.sign(chain[0].hash) == chain[0].signature
        )  # Ed25519 is deterministic

    @pytest.mark.parametrize(
        "pem", [b"", b"-----BEGIN PRIVATE KEY-----\nxx\n-----END PRIVATE KEY-----\n"]
    )
    def test_a_bad_key_file(self, pem):
        with pytest.raises(SignatureError, match="not a usable private key"):
            AuditSigner.from_pem(pem)

    def test_a_key_of_another_kind(self):
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        with pytest.raises(SignatureError, match="Ed25519"):
            AuditSigner.from_pem(pem)

    def test_a_bad_public_key(self, chain):
        with pytest.raises(SignatureError):
            verify_chain(chain, "ed25519:AAAA")
