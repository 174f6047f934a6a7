"""The audit chain: append-only records, hash-chained and signed by the server.

Every report batch, alert transition, message, acknowledgement, agreement change,
release of another party's aircraft and refused request becomes one
:class:`AuditRecord`. A record's ``hash`` is SHA-256 over a fixed tag, the previous
record's hash, its time, actor and kind, and its payload (canonical JSON text, stored
exactly as hashed); ``signature`` is the server's Ed25519 signature of that hash. The
chain's order is the order of the ``prev_hash`` links; ``seq`` (1, 2, 3, ...) is where
the record is stored.

:func:`verify_chain` walks the stored records in ``seq`` order and names the first
place where the chain was tampered with:

=============  ==========================================================================
``changed``    a record's content no longer gives its hash (or its hash is not the one
               the server signed): it was edited after it was written
``inserted``   a record the server never signed (its signature does not verify), placed
               into the chain
``deleted``    a record links to a predecessor that is not there, or ``seq`` skips a
               number: records were removed
``reordered``  a record links to a predecessor that is stored after it
``truncated``  the chain ends before the head the server recorded (records removed
               from the end, which links alone cannot show)
=============  ==========================================================================

Without the server's private key nobody can write a record that verifies, so a
consistent forgery of the whole chain is impossible; removing records from the end is
detected against a head (``seq`` and hash) kept apart from the records (the database's
``audit_head`` row, and the heads the parties receive).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from skypact.agreement.schema import public_key_bytes
from skypact.errors import AuditIntegrityError, SignatureError

__all__ = [
    "GENESIS_HASH",
    "PROBLEMS",
    "AuditRecord",
    "AuditSigner",
    "ChainReport",
    "canonical_json",
    "record_hash",
    "seal",
    "verify_chain",
]

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first record."""

PROBLEMS = ("changed", "inserted", "deleted", "reordered", "truncated")
"""What :func:`verify_chain` can find, in the words of the module docstring."""

_TAG = b"skypact-audit-v1\n"


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditRecord:
    """One link of the chain (see the module docstring).

    Attributes:
        seq: the record's place, 1 for the first.
        at_s: when it was written (epoch seconds, UTC).
        actor: who caused it (``"server"``, ``"usa/duty-officer"``, ...).
        kind: what it records (``"reports"``, ``"alert"``, ``"message"``, ...).
        payload: canonical JSON text (:func:`canonical_json`), stored as hashed.
        prev_hash: the previous record's hash (:data:`GENESIS_HASH` for the first).
        hash: SHA-256 hex of this record (:func:`record_hash`).
        signature: the server's Ed25519 signature of ``hash``, base64.
    """

    seq: int
    at_s: float
    actor: str
    kind: str
    payload: str
    prev_hash: str
    hash: str
    signature: str


def canonical_json(value: object) -> str:
    """The one JSON text of a payload: sorted keys, no spaces, UTF-8, no NaN.

    >>> canonical_json({"b": 1, "a": [1.5, "é"]})
    '{"a":[1.5,"é"],"b":1}'
    """
    return json.dumps(
        value,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def record_hash(
    prev_hash: str, at_s: float, actor: str, kind: str, payload: str
) -> str:
    """SHA-256 hex of a record's content and its link to the previous record."""
    head = json.dumps([prev_hash, float(at_s), actor, kind], ensure_ascii=False)
    digest = hashlib.sha256(_TAG)
    digest.update(head.encode())
    digest.update(b"\n")
    digest.update(payload.encode())
    return digest.hexdigest()


class AuditSigner:
    """The server's audit key (Ed25519), which signs every record's hash."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key

    @classmethod
    def generate(cls) -> AuditSigner:
        """A new random key."""
        return cls(Ed25519PrivateKey.generate())

    @classmethod
    def from_pem(cls, pem: bytes) -> AuditSigner:
        """A key from unencrypted PKCS#8 PEM (as :meth:`to_pem` writes it).

        Raises:
            SignatureError: the text is not an Ed25519 private key.
        """
        try:
            key = serialization.load_pem_private_key(pem, password=None)
        except (ValueError, TypeError) as exc:
            raise SignatureError(f"not a usable private key: {exc}") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise SignatureError("the audit key must be an Ed25519 private key")
        return cls(key)

    def to_pem(self) -> bytes:
        """The key as unencrypted PKCS#8 PEM (keep it with mode 0600)."""
        return self._key.private_bytes(
            encoding=serialization.Encoding.PEM,
            format=serialization.PrivateFormat.PKCS8,
            encryption_algorithm=serialization.NoEncryption(),
        )

    @property
    def public_key(self) -> str:
        """The public half as ``"ed25519:<base64>"``, for verifiers."""
        raw = self._key.public_key().public_bytes(
            encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw
        )
        return "ed25519:" + base64.b64encode(raw).decode()

    def sign(self, hash_hex: str) -> str:
        """The base64 signature of a record hash."""
        return base64.b64encode(self._key.sign(_TAG + bytes.fromhex(hash_hex))).decode()


def seal(
    *,
    seq: int,
    prev_hash: str,
    at_s: float,
    actor: str,
    kind: str,
    payload: object,
    signer: AuditSigner,
) -> AuditRecord:
    """The next record: ``payload`` (any JSON value) canonicalised, hashed and signed."""
    text = canonical_json(payload)
    digest = record_hash(prev_hash, at_s, actor, kind, text)
    return AuditRecord(
        seq=seq,
        at_s=float(at_s),
        actor=actor,
        kind=kind,
        payload=text,
        prev_hash=prev_hash,
        hash=digest,
        signature=signer.sign(digest),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class ChainReport:
    """What :func:`verify_chain` found.

    Attributes:
        ok: the chain verifies.
        records: how many records were read.
        seq: the first bad record, or the missing one's place; None when ok.
        problem: one of :data:`PROBLEMS`; None when ok.
        detail: a sentence for a person.
        head: the last good record's (seq, hash), None for an empty chain.
    """

    ok: bool
    records: int
    seq: int | None = None
    problem: str | None = None
    detail: str = ""
    head: tuple[int, str] | None = None

    def raise_for_problem(self) -> None:
        """Raise :class:`AuditIntegrityError` unless the chain verified."""
        if self.seq is not None and self.problem is not None:
            raise AuditIntegrityError(self.seq, self.problem, self.detail)


def _verifier(public_key: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(public_key_bytes(public_key))


def _signed(verifier: Ed25519PublicKey, record: AuditRecord) -> bool:
    try:
        signature = base64.b64decode(record.signature, validate=True)
        verifier.verify(signature, _TAG + bytes.fromhex(record.hash))
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def verify_chain(
    records: Iterable[AuditRecord],
    public_key: str,
    *,
    head: tuple[int, str] | None = None,
) -> ChainReport:
    """Check a chain read in ``seq`` order; name the first tampered place.

    Args:
        records: the stored records, in ascending ``seq``.
        public_key: the server's audit key, ``"ed25519:<base64>"``.
        head: the (seq, hash) of the last record as kept apart from the records,
            if known: a chain that stops short of it was truncated.

    Raises:
        SignatureError: ``public_key`` is not an Ed25519 public key.
    """
    try:
        verifier = _verifier(public_key)
    except (ValueError, TypeError) as exc:
        raise SignatureError(f"not an Ed25519 public key: {exc}") from exc
    chain = list(records)
    stored_at = {record.hash: k for k, record in enumerate(chain)}
    prev_hash, prev_seq = GENESIS_HASH, 0
    good: tuple[int, str] | None = None

    def bad(seq: int, problem: str, detail: str) -> ChainReport:
        return ChainReport(
            ok=False,
            records=len(chain),
            seq=seq,
            problem=problem,
            detail=detail,
            head=good,
        )

    for k, record in enumerate(chain):
        content = record_hash(
            record.prev_hash, record.at_s, record.actor, record.kind, record.payload
        )
        signed = _signed(verifier, record)
        if content != record.hash:
            return bad(
                record.seq,
                "changed",
                f"record {record.seq}'s content does not give its hash",
            )
        if not signed:
            if _is_extra(chain, k, prev_hash):
                return bad(
                    record.seq,
                    "inserted",
                    f"record {record.seq} was not signed by the server, and the "
                    "chain links past it",
                )
            return bad(
                record.seq,
                "changed",
                f"record {record.seq} is not the one the server signed",
            )
        if record.prev_hash != prev_hash:
            where = stored_at.get(record.prev_hash)
            if where is not None and where > k:
                return bad(
                    record.seq,
                    "reordered",
                    f"record {record.seq} follows record {chain[where].seq}, "
                    "which is stored after it",
                )
            return bad(
                prev_seq + 1,
                "deleted",
                f"the record before record {record.seq} (after record {prev_seq}) "
                "is missing",
            )
        if record.seq != prev_seq + 1:
            return bad(
                prev_seq + 1,
                "deleted" if record.seq > prev_seq + 1 else "reordered",
                f"record {record.seq} is stored where record {prev_seq + 1} belongs",
            )
        prev_hash, prev_seq = record.hash, record.seq
        good = (record.seq, record.hash)
    if head is not None:
        head_seq, head_hash = head
        if head_seq > prev_seq:
            return bad(
                prev_seq + 1,
                "truncated",
                f"the chain ends at record {prev_seq}, the head is record {head_seq}",
            )
        if head_seq == prev_seq and head_seq > 0 and head_hash != prev_hash:
            return bad(head_seq, "changed", f"record {head_seq} is not the head's")
    return ChainReport(
        ok=True,
        records=len(chain),
        detail=f"{len(chain)} records verify",
        head=good,
    )


def _is_extra(chain: list[AuditRecord], k: int, prev_hash: str) -> bool:
    """Whether the record at ``k`` is one too many: the chain goes on without it.

    Either the next record links to the one before ``k``, or ``k`` is the last record
    and links to its predecessor (a forged record added at the end).
    """
    if k + 1 < len(chain):
        return chain[k + 1].prev_hash == prev_hash
    return chain[k].prev_hash == prev_hash
