"""Ed25519 signatures over an agreement, kept beside it in a detached signature file.

What is signed: ``b"skypact-agreement-signature-v1\\n"`` + SHA-256 of the file's exact
bytes + SHA-256 of its canonical form (:func:`skypact.agreement.document.canonical_json`).
The bytes make any changed byte (a comment, a space) invalidate every signature; the
canonical form binds the meaning SkyPact read. Private keys never enter the agreement:
each party keeps its own (PKCS#8 PEM, written with mode 0600), and the agreement lists
only public keys (``signing_key = "ed25519:<base64>"``).

A version is **in force** only when every party of the agreement has a valid signature
for exactly these bytes.

The signature file (JSON, conventionally ``<agreement>.sig.json``)::

    {"agreement_id": "...", "version": 3, "file_sha256": "...", "canonical_sha256": "...",
     "signatures": [{"party": "usa", "signed_at": "2015-10-20T08:00:00Z",
                     "signature": "<base64>"}]}
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import enum
import hashlib
import json
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from skypact.agreement.document import LoadedAgreement
from skypact.agreement.schema import public_key_bytes
from skypact.errors import SignatureError

__all__ = [
    "PartySignatureStatus",
    "SignatureCheck",
    "SignatureState",
    "add_signature",
    "empty_signature_file",
    "generate_private_key",
    "load_private_key",
    "public_key_text",
    "read_signature_file",
    "signed_message",
    "verify_signatures",
]

_TAG = b"skypact-agreement-signature-v1\n"


def signed_message(agreement: LoadedAgreement) -> bytes:
    """The exact bytes each party signs."""
    return (
        _TAG
        + hashlib.sha256(agreement.raw).digest()
        + hashlib.sha256(agreement.canonical).digest()
    )


def generate_private_key() -> bytes:
    """A new Ed25519 private key as unencrypted PKCS#8 PEM."""
    return Ed25519PrivateKey.generate().private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )


def load_private_key(pem: bytes) -> Ed25519PrivateKey:
    """Read a PKCS#8 PEM Ed25519 private key.

    Raises:
        SignatureError: it is not one.
    """
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise SignatureError(f"not a readable private key: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SignatureError("the private key is not an Ed25519 key")
    return key


def public_key_text(key: Ed25519PrivateKey) -> str:
    """The ``ed25519:<base64>`` text of a private key's public half."""
    raw = key.public_key().public_bytes(
        encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw
    )
    return "ed25519:" + base64.b64encode(raw).decode()


def empty_signature_file(agreement: LoadedAgreement) -> dict[str, object]:
    """A signature file for this agreement with no signatures yet."""
    return {
        "agreement_id": agreement.content.agreement.id,
        "version": agreement.content.agreement.version,
        "file_sha256": hashlib.sha256(agreement.raw).hexdigest(),
        "canonical_sha256": hashlib.sha256(agreement.canonical).hexdigest(),
        "signatures": [],
    }


def add_signature(
    agreement: LoadedAgreement,
    signature_file: dict[str, object] | None,
    *,
    party: str,
    key: Ed25519PrivateKey,
    now: dt.datetime,
) -> dict[str, object]:
    """The signature file with ``party``'s signature added (or replaced).

    Raises:
        SignatureError: the party is not in the agreement, the key is not the one the
            agreement lists for it, or the signature file belongs to other bytes.
    """
    parties = {p.id: p for p in agreement.content.parties}
    if party not in parties:
        raise SignatureError(f"{party!r} is not a party to {agreement.source}")
    if public_key_text(key) != parties[party].signing_key:
        raise SignatureError(
            f"this private key is not the signing key {agreement.source} lists for {party!r}"
        )
    fresh = empty_signature_file(agreement)
    if signature_file is None:
        signature_file = fresh
    for field in ("agreement_id", "version", "file_sha256", "canonical_sha256"):
        if signature_file.get(field) != fresh[field]:
            raise SignatureError(
                f"the signature file is for other bytes ({field} differs): it belongs to "
                "another version of the agreement"
            )
    signature = key.sign(signed_message(agreement))
    entries = [
        entry for entry in _entries(signature_file) if entry.get("party") != party
    ]
    entries.append(
        {
            "party": party,
            "signed_at": now.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
            "signature": base64.b64encode(signature).decode(),
        }
    )
    entries.sort(key=lambda entry: str(entry["party"]))
    return {**fresh, "signatures": entries}


class SignatureState(enum.StrEnum):
    """The verdict on one party's signature."""

    VALID = "valid"
    MISSING = "missing"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True, kw_only=True)
class PartySignatureStatus:
    """One party's signature verdict."""

    party: str
    state: SignatureState
    signed_at: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SignatureCheck:
    """Every party's verdict, and whether the agreement is in force."""

    parties: tuple[PartySignatureStatus, ...]
    unknown_signers: tuple[str, ...]

    @property
    def in_force(self) -> bool:
        """True when every party has a valid signature for these exact bytes."""
        return all(p.state is SignatureState.VALID for p in self.parties)


def verify_signatures(
    agreement: LoadedAgreement, signature_file: dict[str, object] | None
) -> SignatureCheck:
    """Check every party's signature against the public key the agreement lists."""
    message = signed_message(agreement)
    by_party = {str(e.get("party")): e for e in _entries(signature_file or {})}
    statuses = []
    for party in agreement.content.parties:
        entry = by_party.get(party.id)
        if entry is None:
            statuses.append(
                PartySignatureStatus(party=party.id, state=SignatureState.MISSING)
            )
            continue
        public = Ed25519PublicKey.from_public_bytes(public_key_bytes(party.signing_key))
        try:
            public.verify(
                base64.b64decode(str(entry.get("signature", "")), validate=True),
                message,
            )
            state = SignatureState.VALID
        except (InvalidSignature, binascii.Error, ValueError):
            state = SignatureState.INVALID
        statuses.append(
            PartySignatureStatus(
                party=party.id, state=state, signed_at=str(entry.get("signed_at"))
            )
        )
    known = {p.id for p in agreement.content.parties}
    unknown = tuple(sorted(p for p in by_party if p not in known))
    return SignatureCheck(parties=tuple(statuses), unknown_signers=unknown)


def _entries(signature_file: dict[str, object]) -> list[dict[str, object]]:
    entries = signature_file.get("signatures", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise SignatureError(
            "the signature file's 'signatures' is not a list of objects"
        )
    return entries


def read_signature_file(text: str) -> dict[str, object]:
    """Parse a signature file's JSON.

    Raises:
        SignatureError: it is not a JSON object.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SignatureError(f"the signature file is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise SignatureError("the signature file is not a JSON object")
    return data
