"""The repository: every read and write SkyPact makes to its database, with its audit.

Abridged contents of :class:`Repository`:

- audit: :meth:`~Repository.append_audit`, :meth:`~Repository.audit_records`,
  :meth:`~Repository.audit_head`, :meth:`~Repository.verify_audit`;
- agreements: :meth:`~Repository.store_agreement`, :meth:`~Repository.agreements`;
- tokens: :meth:`~Repository.create_token`, :meth:`~Repository.authenticate`,
  :meth:`~Repository.revoke_token`, :meth:`~Repository.tokens`;
- reports: :meth:`~Repository.store_report_batch`, :meth:`~Repository.reports`,
  :meth:`~Repository.count_reports`, :meth:`~Repository.report_batch_sha256`;
- track history: :meth:`~Repository.store_track_history`,
  :meth:`~Repository.track_history`;
- alerts: :meth:`~Repository.upsert_alert`, :meth:`~Repository.record_alert_ack`,
  :meth:`~Repository.alerts`, :meth:`~Repository.alert`,
  :meth:`~Repository.alert_events`;
- messages and channels: :meth:`~Repository.store_message`,
  :meth:`~Repository.record_message_event`, :meth:`~Repository.messages`,
  :meth:`~Repository.message`, :meth:`~Repository.message_events`,
  :meth:`~Repository.store_channel_state`, :meth:`~Repository.channels`,
  :meth:`~Repository.channel_events`.

**Audit in the same transaction.** Every state-changing method runs in one transaction
that also appends its audit record(s) (STYLE.md B7): the change and its record are
committed together or not at all. Appends are serialised so that ``seq`` is gap-free
and follows commit order: on SQLite by the write transaction itself (``BEGIN
IMMEDIATE`` holds the database's write lock), on PostgreSQL by locking the single
``audit_head`` row (``SELECT ... FOR UPDATE``) first thing in every audited
transaction. There is no method that updates or deletes an audit record.

**Units.** Stored reports and track history keep the aviation units they arrive in
(``altitude_ft``, ``groundspeed_kt``, ``vertical_rate_fpm``) and WGS84 degrees; every
time is float epoch seconds (``*_s``).

**Errors.** Database failures are wrapped once: a write that contradicts a stored one
(a replayed batch, a duplicate key) raises :class:`~skypact.errors.ConflictingWriteError`,
a missing record :class:`~skypact.errors.NotFoundError`, anything else
:class:`~skypact.errors.StorageError`; a database not at the newest schema revision is
refused with :class:`~skypact.errors.MigrationError` when the repository is built.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import re
import secrets
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain
from operator import attrgetter
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd
import pydantic_core
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from skypact.alerting.lifecycle import Alert, AlertEvent
from skypact.audit.model import (
    AuditRecord,
    AuditSigner,
    ChainReport,
    canonical_json,
    seal,
    verify_chain,
)
from skypact.errors import (
    AuthenticationError,
    ConflictingWriteError,
    InvalidStateError,
    MissingColumnError,
    NotFoundError,
    StorageError,
)
from skypact.parties.model import Principal, Role
from skypact.storage import schema
from skypact.storage.engine import WRITE, check_at_head

__all__ = [
    "REPORT_COLUMNS",
    "REPORT_INPUT_COLUMNS",
    "SERVER_ACTOR",
    "TRACK_HISTORY_COLUMNS",
    "AlertEventRow",
    "AlertRow",
    "AuditHead",
    "BatchReceipt",
    "ChannelEventRow",
    "ChannelRow",
    "IssuedToken",
    "MessageEventRow",
    "MessageRow",
    "Repository",
    "StoredAgreement",
    "TokenInfo",
    "TrackPoint",
]

_log = logging.getLogger(__name__)

SERVER_ACTOR = "server"
"""The audit actor of changes SkyPact makes by itself (alert transitions, ...)."""

REPORT_INPUT_COLUMNS: Mapping[str, str] = {
    "timestamp": "timestamp_s",
    "icao24": "icao24",
    "latitude": "latitude",
    "longitude": "longitude",
    "altitude": "altitude_ft",
    "groundspeed": "groundspeed_kt",
    "track": "track_deg",
    "vertical_rate": "vertical_rate_fpm",
    "callsign": "callsign",
    "squawk": "squawk",
    "source": "source",
    "accepted": "accepted",
    "reason": "reason",
}
"""A report batch's columns (the traffic convention) and the stored column of each."""

REPORT_COLUMNS = (
    "batch_id",
    "party",
    "icao24",
    "timestamp_s",
    "latitude",
    "longitude",
    "altitude_ft",
    "groundspeed_kt",
    "track_deg",
    "vertical_rate_fpm",
    "callsign",
    "squawk",
    "source",
    "accepted",
    "reason",
)
"""The columns of :meth:`Repository.reports`, in order."""

_REPORT_FLOATS = (
    "latitude",
    "longitude",
    "altitude_ft",
    "groundspeed_kt",
    "track_deg",
    "vertical_rate_fpm",
)
_REPORT_TEXTS = ("callsign", "squawk", "source", "reason")
_REPORT_PG_TYPES = {
    name: "bool"
    if name == "accepted"
    else "float8"
    if name == "timestamp_s" or name in _REPORT_FLOATS
    else "text"
    for name in REPORT_COLUMNS
}
"""The PostgreSQL type of each of REPORT_COLUMNS, for a binary COPY."""
_HASHED_REPORT_COLUMNS = REPORT_COLUMNS[2:]
"""What a batch's ``sha256`` covers: every stored column but the batch and party."""

TRACK_HISTORY_COLUMNS = (
    "party",
    "icao24",
    "t_s",
    "latitude",
    "longitude",
    "altitude_ft",
    "groundspeed_kt",
    "track_deg",
    "vertical_rate_fpm",
)
"""The columns of the track history, in :meth:`Repository.track_history`'s order."""

_TRACK_REQUIRED = TRACK_HISTORY_COLUMNS[:5]
_TRACK_PG_TYPES = {
    name: "text" if name in ("party", "icao24") else "float8"
    for name in TRACK_HISTORY_COLUMNS
}
"""The PostgreSQL type of each of TRACK_HISTORY_COLUMNS, for a binary COPY."""
_TRACK_SCRATCH = "track_history_in"
"""The temporary table a track history write is copied into on PostgreSQL."""

_SQLITE_ROWS_PER_STATEMENT = 64
"""Rows per INSERT statement of a bulk insert on SQLite (see :func:`_sqlite_insert`)."""

_PLAIN_JSON_FLOAT_MIN = 1e-4
"""The smallest magnitude (but 0) at which pydantic-core writes a float as Python's
``repr`` does; see :func:`_rows_json`."""

_TOKEN_ID = re.compile(r"[0-9a-f]{16}")
_TOKEN_SECRET = re.compile(r"[A-Za-z0-9_-]{16,128}")
_NO_HASH = "0" * 64
"""Compared against when a token id is unknown, so that both paths do the same work."""


# --------------------------------------------------------------------------- records


class AuditHead(NamedTuple):
    """The last audit record's place and hash, as the ``audit_head`` row keeps it.

    A named tuple (not a dataclass) because it is exactly the ``head`` argument of
    :func:`skypact.audit.model.verify_chain`.
    """

    seq: int
    hash: str


@dataclass(frozen=True, slots=True, kw_only=True)
class IssuedToken:
    """A new API token: give :attr:`token` to its holder once; it is never shown again.

    Only the SHA-256 of :attr:`secret` is stored.
    """

    token_id: str
    secret: str = field(repr=False)

    @property
    def token(self) -> str:
        """What the holder presents: ``"<token_id>.<secret>"``."""
        return f"{self.token_id}.{self.secret}"


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenInfo:
    """A stored token, without anything that would let one use it."""

    token_id: str
    party: str
    role: Role
    label: str
    created_at_s: float
    expires_at_s: float | None
    revoked_at_s: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredAgreement:
    """One version of an agreement file, as loaded."""

    agreement_id: str
    version: int
    file_sha256: str
    raw: bytes = field(repr=False)
    signatures_json: str
    loaded_at_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchReceipt:
    """What was stored of a report batch.

    Attributes:
        batch_id: the server's id of the batch.
        rows: how many reports it held (all stored, accepted or not).
        accepted: how many of them were accepted.
        rejected: the number of rejected reports per reason.
    """

    batch_id: str
    rows: int
    accepted: int
    rejected: Mapping[str, int]


@dataclass(frozen=True, slots=True, kw_only=True)
class TrackPoint:
    """One state of a track, for the history (aviation units, as reports arrive)."""

    party: str
    icao24: str
    t_s: float
    latitude: float
    longitude: float
    altitude_ft: float | None = None
    groundspeed_kt: float | None = None
    track_deg: float | None = None
    vertical_rate_fpm: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertRow:
    """An alert as stored (:meth:`from_alert` makes one from the lifecycle's Alert)."""

    alert_id: str
    aircraft_a: str
    aircraft_b: str
    parties: frozenset[str]
    state: str
    level: int
    highest_level: int
    raised_at_s: float | None
    ended_at_s: float | None
    updated_at_s: float

    @classmethod
    def from_alert(cls, alert: Alert, *, updated_at_s: float) -> AlertRow:
        """The stored form of an alert of :mod:`skypact.alerting.lifecycle`."""
        return cls(
            alert_id=alert.alert_id,
            aircraft_a=alert.aircraft[0],
            aircraft_b=alert.aircraft[1],
            parties=frozenset(alert.parties),
            state=str(alert.state),
            level=alert.level,
            highest_level=alert.highest_level,
            raised_at_s=alert.raised_at_s,
            ended_at_s=alert.ended_at_s,
            updated_at_s=updated_at_s,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertEventRow:
    """An alert transition as stored (``role``: the acknowledging person's role)."""

    alert_id: str
    kind: str
    at_s: float
    level: int
    party: str | None = None
    role: str | None = None

    @classmethod
    def from_event(cls, event: AlertEvent, *, role: str | None = None) -> AlertEventRow:
        """The stored form of an event of :mod:`skypact.alerting.lifecycle`."""
        return cls(
            alert_id=event.alert_id,
            kind=str(event.kind),
            at_s=event.at_s,
            level=event.level,
            party=event.party,
            role=role,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageRow:
    """A deconfliction-line message as stored (the body is any JSON object)."""

    message_id: str
    kind: str
    sender: str
    recipients: tuple[str, ...]
    body: Mapping[str, Any]
    language: str
    text: str
    translation: str | None
    sent_at_s: float
    deadline_s: float | None = None
    in_reply_to: str | None = None
    channel_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MessageEventRow:
    """Something that happened to a message for one party (delivered, acknowledged,
    escalated at ``step``, ...)."""

    message_id: str
    kind: str
    at_s: float
    party: str
    role: str | None = None
    step: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelRow:
    """A deconfliction-line channel's current state, and who changed it last and why."""

    channel_id: str
    parties: frozenset[str]
    state: str
    changed_at_s: float
    changed_by: str
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelEventRow:
    """One change of a channel's state."""

    channel_id: str
    state: str
    at_s: float
    changed_by: str
    reason: str | None = None


class _Entry(NamedTuple):
    actor: str
    kind: str
    payload: object


# ----------------------------------------------------------------------- repository


def _reason(exc: SQLAlchemyError) -> str:
    """The database's own words, without SQLAlchemy's echo of statement and rows."""
    text = str(exc.orig) if isinstance(exc, DBAPIError) else str(exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def _sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _json(value: object) -> str:
    return canonical_json(value)


class Repository:
    """SkyPact's database, with the audit chain written alongside every change.

    Args:
        engine: from :func:`skypact.storage.engine.make_engine`; the database must be
            migrated to the newest revision.
        signer: the server's audit key, which signs every record.
        clock: epoch seconds now (the audit records' ``at_s``, tokens' ``created_at_s``).
        audit_page_size: how many audit records one query reads.

    Raises:
        MigrationError: the database is not at the newest revision (the message names
            both and says to run ``skypact db migrate``).
        StorageError: the database cannot be read.
    """

    def __init__(
        self,
        engine: sa.Engine,
        signer: AuditSigner,
        clock: Callable[[], float],
        *,
        audit_page_size: int = 1000,
    ) -> None:
        if audit_page_size < 1:
            raise ValueError("audit_page_size must be at least 1")
        check_at_head(engine)
        self._engine = engine
        self._signer = signer
        self._clock = clock
        self._page = audit_page_size
        self._postgres = engine.dialect.name == "postgresql"
        self._unit = threading.local()

    @property
    def engine(self) -> sa.Engine:
        """The engine the repository uses."""
        return self._engine

    # ------------------------------------------------------------------ transactions

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Make every write of this thread inside the block one transaction.

        The service's cycle writes its alert transitions, notices and escalations this
        way: one commit (one fsync) per cycle instead of one per record. Either all of
        them are committed, or (on an error) none.
        """
        if getattr(self._unit, "connection", None) is not None:
            yield  # already inside one
            return
        with self._writing("a unit of work") as connection:
            self._unit.connection = connection
            try:
                yield
            finally:
                self._unit.connection = None

    @contextmanager
    def _writing(self, what: str, *, audited: bool = True) -> Iterator[sa.Connection]:
        """One write transaction; audited ones hold the audit lock from the start."""
        shared = getattr(self._unit, "connection", None)
        if shared is not None:
            yield shared
            return
        try:
            with self._engine.connect() as connection:
                connection.execution_options(**{WRITE: True})
                with connection.begin():
                    if audited:
                        self._head_locked(connection)
                    yield connection
        except IntegrityError as exc:
            raise ConflictingWriteError(f"{what}: {_reason(exc)}") from exc
        except SQLAlchemyError as exc:
            raise StorageError(f"{what}: {_reason(exc)}") from exc

    @contextmanager
    def _reading(self, what: str) -> Iterator[sa.Connection]:
        try:
            with self._engine.connect() as connection:
                yield connection
        except SQLAlchemyError as exc:
            raise StorageError(f"{what}: {_reason(exc)}") from exc

    def _head_locked(self, connection: sa.Connection) -> AuditHead:
        head = schema.audit_head
        row = connection.execute(
            sa.select(head.c.seq, head.c.hash).where(head.c.id == 1).with_for_update()
        ).one_or_none()
        if row is None:
            raise StorageError(
                "the audit_head row is missing: the database was altered outside SkyPact"
            )
        return AuditHead(int(row.seq), str(row.hash))

    def _append(
        self, connection: sa.Connection, entries: Sequence[_Entry]
    ) -> list[AuditRecord]:
        """Seal and insert audit records (at least one) in the caller's transaction."""
        seq, prev_hash = self._head_locked(connection)
        records = []
        for entry in entries:
            record = seal(
                seq=seq + 1,
                prev_hash=prev_hash,
                at_s=self._clock(),
                actor=entry.actor,
                kind=entry.kind,
                payload=entry.payload,
                signer=self._signer,
            )
            records.append(record)
            seq, prev_hash = record.seq, record.hash
        connection.execute(
            sa.insert(schema.audit),
            [
                {
                    "seq": r.seq,
                    "at_s": r.at_s,
                    "actor": r.actor,
                    "kind": r.kind,
                    "payload": r.payload,
                    "prev_hash": r.prev_hash,
                    "hash": r.hash,
                    "signature": r.signature,
                }
                for r in records
            ],
        )
        connection.execute(
            sa.update(schema.audit_head)
            .where(schema.audit_head.c.id == 1)
            .values(seq=seq, hash=prev_hash)
        )
        return records

    # ------------------------------------------------------------------------- audit

    def append_audit(self, actor: str, kind: str, payload: object) -> AuditRecord:
        """Append one audit record on its own (a refused login, a release, ...).

        Args:
            actor: who caused it (``"server"``, ``"usa/duty-officer"``).
            kind: what it records.
            payload: any JSON value; stored as canonical JSON.

        Raises:
            TypeError, ValueError: the payload is not JSON (NaN included).
        """
        canonical_json(payload)  # refuse a bad payload before opening a transaction
        with self._writing(f"audit {kind}") as connection:
            (record,) = self._append(connection, [_Entry(actor, kind, payload)])
        return record

    def audit_records(
        self, after_seq: int = 0, limit: int | None = None
    ) -> Iterator[AuditRecord]:
        """The audit records after ``after_seq`` (at most ``limit``), in ``seq`` order.

        Read lazily, one page (``audit_page_size`` records) per query and connection:
        nothing stays open between pages, so an abandoned iterator holds nothing.
        """
        remaining = limit
        while remaining is None or remaining > 0:
            size = self._page if remaining is None else min(self._page, remaining)
            with self._reading("read the audit log") as connection:
                page = self._audit_page(connection, after_seq, size)
            yield from page
            if len(page) < size:
                return
            after_seq = page[-1].seq
            if remaining is not None:
                remaining -= len(page)

    def _audit_page(
        self, connection: sa.Connection, after_seq: int, size: int
    ) -> list[AuditRecord]:
        audit = schema.audit
        rows = connection.execute(
            sa.select(audit)
            .where(audit.c.seq > after_seq)
            .order_by(audit.c.seq)
            .limit(size)
        ).all()
        return [
            AuditRecord(
                seq=int(row.seq),
                at_s=float(row.at_s),
                actor=row.actor,
                kind=row.kind,
                payload=row.payload,
                prev_hash=row.prev_hash,
                hash=row.hash,
                signature=row.signature,
            )
            for row in rows
        ]

    def _audit_snapshot(self, connection: sa.Connection) -> Iterator[AuditRecord]:
        """Every record, page by page, in the caller's (snapshot) transaction."""
        after_seq = 0
        while True:
            page = self._audit_page(connection, after_seq, self._page)
            yield from page
            if len(page) < self._page:
                return
            after_seq = page[-1].seq

    def audit_head(self) -> AuditHead | None:
        """The last record's (seq, hash) as the ``audit_head`` row keeps it; None if
        nothing was ever appended."""
        with self._reading("read the audit head") as connection:
            return self._head(connection)

    def _head(self, connection: sa.Connection) -> AuditHead | None:
        head = schema.audit_head
        row = connection.execute(
            sa.select(head.c.seq, head.c.hash).where(head.c.id == 1)
        ).one_or_none()
        if row is None:
            raise StorageError(
                "the audit_head row is missing: the database was altered outside SkyPact"
            )
        return None if row.seq == 0 else AuditHead(int(row.seq), str(row.hash))

    def verify_audit(self) -> ChainReport:
        """Re-check the whole chain (hashes, signatures, links, head) in one snapshot.

        Uses the signer's public key and the ``audit_head`` row, read in the same
        transaction as the records (REPEATABLE READ on PostgreSQL; SQLite's read
        transaction is a snapshot in WAL mode) so that concurrent appends cannot make
        a sound chain look truncated.
        """
        with self._reading("verify the audit log") as connection:
            if self._postgres:
                connection.execution_options(isolation_level="REPEATABLE READ")
            head = self._head(connection)
            records = self._audit_snapshot(connection)
            report = verify_chain(records, self._signer.public_key, head=head)
        if not report.ok:
            _log.warning("audit chain does not verify: %s", report.detail)
        return report

    # -------------------------------------------------------------------- agreements

    def store_agreement(
        self,
        agreement_id: str,
        version: int,
        file_sha256: str,
        raw: bytes,
        signatures_json: str,
        *,
        actor: str = SERVER_ACTOR,
    ) -> None:
        """Store one version of an agreement file and its signatures (idempotent).

        Storing the same bytes again changes nothing; the same bytes with other
        signatures (a party has signed since) replace the signatures, audited as
        ``agreement-signatures``.

        Args:
            signatures_json: the signatures as JSON text (stored canonicalised).

        Raises:
            ValueError: ``file_sha256`` is not the SHA-256 of ``raw``, or
                ``signatures_json`` is not JSON.
            ConflictingWriteError: this version is stored with other bytes.
        """
        if hashlib.sha256(raw).hexdigest() != file_sha256:
            raise ValueError("file_sha256 is not the SHA-256 of the agreement's bytes")
        signatures = json.loads(signatures_json)
        signatures_text = _json(signatures)
        table = schema.agreements
        key = (table.c.agreement_id == agreement_id) & (table.c.version == version)
        what = f"store agreement {agreement_id} v{version}"
        payload = {
            "agreement_id": agreement_id,
            "version": version,
            "file_sha256": file_sha256,
            "signatures": signatures,
        }
        with self._writing(what) as connection:
            row = connection.execute(
                sa.select(
                    table.c.file_sha256, table.c.raw, table.c.signatures_json
                ).where(key)
            ).one_or_none()
            if row is None:
                connection.execute(
                    sa.insert(table).values(
                        agreement_id=agreement_id,
                        version=version,
                        file_sha256=file_sha256,
                        raw=raw,
                        signatures_json=signatures_text,
                        loaded_at_s=self._clock(),
                    )
                )
                self._append(connection, [_Entry(actor, "agreement", payload)])
            elif row.file_sha256 != file_sha256 or bytes(row.raw) != raw:
                raise ConflictingWriteError(
                    f"agreement {agreement_id} version {version} is already stored with "
                    f"other content (sha256 {row.file_sha256}, not {file_sha256})"
                )
            elif row.signatures_json != signatures_text:
                connection.execute(
                    sa.update(table).where(key).values(signatures_json=signatures_text)
                )
                self._append(
                    connection, [_Entry(actor, "agreement-signatures", payload)]
                )

    def agreements(self) -> list[StoredAgreement]:
        """Every stored agreement version, by id then version."""
        table = schema.agreements
        with self._reading("read agreements") as connection:
            rows = connection.execute(
                sa.select(table).order_by(table.c.agreement_id, table.c.version)
            ).all()
        return [
            StoredAgreement(
                agreement_id=row.agreement_id,
                version=int(row.version),
                file_sha256=row.file_sha256,
                raw=bytes(row.raw),
                signatures_json=row.signatures_json,
                loaded_at_s=float(row.loaded_at_s),
            )
            for row in rows
        ]

    # ------------------------------------------------------------------------ tokens

    def create_token(
        self,
        party: str,
        role: Role | str,
        *,
        label: str = "",
        expires_at_s: float | None = None,
        actor: str = SERVER_ACTOR,
    ) -> IssuedToken:
        """Issue an API token for a party and role (audited as ``token-created``).

        The secret comes from :func:`secrets.token_urlsafe` (32 bytes); only its
        SHA-256 is stored, and neither it nor its hash is written to the audit chain.

        Raises:
            ValueError: an empty party or an unknown role.
        """
        if not party:
            raise ValueError("a token acts for a party; party is empty")
        role = Role(role)
        token_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        with self._writing(f"create a token for {party}") as connection:
            connection.execute(
                sa.insert(schema.tokens).values(
                    token_id=token_id,
                    token_hash=_sha256_hex(secret),
                    party=party,
                    role=str(role),
                    label=label,
                    created_at_s=self._clock(),
                    expires_at_s=expires_at_s,
                    revoked_at_s=None,
                )
            )
            payload = {
                "token_id": token_id,
                "party": party,
                "role": str(role),
                "label": label,
                "expires_at_s": expires_at_s,
            }
            self._append(connection, [_Entry(actor, "token-created", payload)])
        return IssuedToken(token_id=token_id, secret=secret)

    def authenticate(self, token: str | None, now_s: float) -> Principal:
        """The principal a presented token stands for.

        Args:
            token: ``"<token_id>.<secret>"`` as :meth:`create_token` issued it.
            now_s: the time to judge expiry at, epoch seconds.

        Raises:
            AuthenticationError: with ``reason`` ``"missing"``, ``"malformed"``,
                ``"unknown"`` (no such token, or a wrong secret: the two are not told
                apart), ``"revoked"`` or ``"expired"``.
        """
        if not token:
            raise AuthenticationError("missing")
        token_id, dot, secret = token.partition(".")
        if not (
            dot and _TOKEN_ID.fullmatch(token_id) and _TOKEN_SECRET.fullmatch(secret)
        ):
            raise AuthenticationError("malformed")
        table = schema.tokens
        with self._reading("authenticate") as connection:
            row = connection.execute(
                sa.select(table).where(table.c.token_id == token_id)
            ).one_or_none()
        stored = _NO_HASH if row is None else str(row.token_hash)
        matches = hmac.compare_digest(_sha256_hex(secret), stored)
        if row is None or not matches:
            raise AuthenticationError("unknown")
        if row.revoked_at_s is not None:
            raise AuthenticationError("revoked")
        if row.expires_at_s is not None and now_s >= row.expires_at_s:
            raise AuthenticationError("expired")
        return Principal(row.party, Role(row.role), row.token_id)

    def revoke_token(
        self, token_id: str, *, at_s: float | None = None, actor: str = SERVER_ACTOR
    ) -> None:
        """Revoke a token from ``at_s`` (now by default); revoking it again changes
        nothing.

        Raises:
            NotFoundError: no such token.
        """
        table = schema.tokens
        with self._writing(f"revoke token {token_id}") as connection:
            row = connection.execute(
                sa.select(table.c.party, table.c.role, table.c.revoked_at_s).where(
                    table.c.token_id == token_id
                )
            ).one_or_none()
            if row is None:
                raise NotFoundError("token", token_id)
            if row.revoked_at_s is not None:
                return
            when_s = self._clock() if at_s is None else at_s
            connection.execute(
                sa.update(table)
                .where(table.c.token_id == token_id)
                .values(revoked_at_s=when_s)
            )
            payload = {
                "token_id": token_id,
                "party": row.party,
                "role": row.role,
                "revoked_at_s": when_s,
            }
            self._append(connection, [_Entry(actor, "token-revoked", payload)])

    def tokens(self, party: str | None = None) -> list[TokenInfo]:
        """The stored tokens (of one party, or all), oldest first; never their hashes."""
        table = schema.tokens
        query = sa.select(table).order_by(table.c.created_at_s, table.c.token_id)
        if party is not None:
            query = query.where(table.c.party == party)
        with self._reading("read tokens") as connection:
            rows = connection.execute(query).all()
        return [
            TokenInfo(
                token_id=row.token_id,
                party=row.party,
                role=Role(row.role),
                label=row.label,
                created_at_s=float(row.created_at_s),
                expires_at_s=row.expires_at_s,
                revoked_at_s=row.revoked_at_s,
            )
            for row in rows
        ]

    # ----------------------------------------------------------------------- reports

    def store_report_batch(
        self,
        party: str,
        client_batch_id: str,
        received_at_s: float,
        rows: pd.DataFrame | Sequence[Mapping[str, Any]],
        *,
        actor: str | None = None,
    ) -> BatchReceipt:
        """Store a party's batch of reports, all of them, with one audit record.

        One transaction holds the batch row, every report (accepted or not, in the
        given order) and an audit record ``kind="reports"`` whose payload has the
        batch's id, party, client batch id, counts, rejections per reason and the
        ``sha256`` of the stored rows (see :meth:`report_batch_sha256`).

        Args:
            party: whose reports they are.
            client_batch_id: the client's id of the batch; a party can store each only
                once (replay protection).
            received_at_s: when the server received the batch.
            rows: a DataFrame or a list of mappings with the columns of
                :data:`REPORT_INPUT_COLUMNS` (the traffic convention: ``timestamp`` in
                epoch seconds or timezone-aware datetimes, ``altitude`` in ft,
                ``groundspeed`` in kt, ``vertical_rate`` in ft/min, plus ``accepted``
                (default True) and ``reason``). ``timestamp`` and ``icao24`` are
                required; other missing columns or values are stored as NULL.
            actor: the audit actor (default: the party).

        Raises:
            ConflictingWriteError: the party already stored ``client_batch_id``.
            MissingColumnError: ``timestamp`` or ``icao24`` is absent.
            InvalidStateError: a ``timestamp`` or ``icao24`` value is missing.
        """
        if not party or not client_batch_id:
            raise ValueError("a report batch needs a party and a client batch id")
        batch = _report_columns(rows)
        accepted = int(np.count_nonzero(batch.accepted))
        reasons = batch.values["reason"]
        rejected = Counter(
            reasons[k] or "unspecified"
            for k in np.flatnonzero(~batch.accepted).tolist()
        )
        rejected_by_reason = dict(sorted(rejected.items()))
        batch_id = uuid.uuid4().hex
        digest = hashlib.sha256(_rows_json(batch.rows(), batch.floats)).hexdigest()
        count = len(batch.accepted)
        payload = {
            "batch_id": batch_id,
            "party": party,
            "client_batch_id": client_batch_id,
            "received_at_s": received_at_s,
            "rows": count,
            "accepted": accepted,
            "rejected": rejected_by_reason,
            "sha256": digest,
        }
        batches = schema.report_batches
        what = f"store report batch {client_batch_id!r} of {party}"
        with self._writing(what) as connection:
            earlier = connection.execute(
                sa.select(batches.c.batch_id).where(
                    (batches.c.party == party)
                    & (batches.c.client_batch_id == client_batch_id)
                )
            ).scalar_one_or_none()
            if earlier is not None:
                raise ConflictingWriteError(
                    f"{party} already sent batch {client_batch_id!r} (stored as "
                    f"{earlier}): a replay is refused"
                )
            connection.execute(
                sa.insert(batches).values(
                    batch_id=batch_id,
                    party=party,
                    client_batch_id=client_batch_id,
                    received_at_s=received_at_s,
                    rows=count,
                    accepted=accepted,
                    rejected_json=_json(rejected_by_reason),
                )
            )
            self._insert_reports(connection, batch_id, party, batch)
            self._append(connection, [_Entry(actor or party, "reports", payload)])
        _log.info(
            "stored batch %s of %s: %d reports, %d accepted",
            batch_id,
            party,
            count,
            accepted,
        )
        return BatchReceipt(
            batch_id=batch_id,
            rows=count,
            accepted=accepted,
            rejected=rejected_by_reason,
        )

    def _insert_reports(
        self,
        connection: sa.Connection,
        batch_id: str,
        party: str,
        batch: _ReportColumns,
    ) -> None:
        """Bulk insert of a batch's reports, in order.

        The driver's own bulk path, past SQLAlchemy's per-row parameter processing
        (the values are already plain floats, strings, bools and None): binary COPY
        on PostgreSQL, executemany on SQLite. A column that is NULL in every row is
        left out of the statement (NULL is its default): the SQLite driver looks up an
        adapter for every None (and bool) it binds, which costs more than binding a
        float, and for the same reason ``accepted`` goes to SQLite as the integer 0 or
        1 it stores for a bool anyway.
        """
        n = len(batch.accepted)
        if not n:
            return
        columns: dict[str, list[Any]] = {
            "batch_id": [batch_id] * n,
            "party": [party] * n,
        }
        for name in _HASHED_REPORT_COLUMNS:
            if not _all_null(batch.values[name]):
                columns[name] = batch.values[name]
        if self._postgres:
            _copy_in(connection, "reports", columns, _REPORT_PG_TYPES)
        else:
            columns["accepted"] = batch.accepted.astype(np.int64).tolist()
            _sqlite_insert(connection, "reports", columns)

    def report_batch_sha256(self, batch_id: str) -> str:
        """The SHA-256 of a batch's stored reports, as its audit record has it.

        It is the SHA-256 of the canonical JSON of the list of rows, in stored order,
        each row the list of the values of ``icao24`` .. ``reason`` of
        :data:`REPORT_COLUMNS` (NULL as null). An auditor compares it with the
        ``sha256`` of the batch's ``reports`` audit record.

        Raises:
            NotFoundError: no such batch.
        """
        reports = schema.reports
        columns = [reports.c[name] for name in _HASHED_REPORT_COLUMNS]
        with self._reading(f"read batch {batch_id}") as connection:
            known = connection.execute(
                sa.select(schema.report_batches.c.batch_id).where(
                    schema.report_batches.c.batch_id == batch_id
                )
            ).scalar_one_or_none()
            if known is None:
                raise NotFoundError("report batch", batch_id)
            rows = connection.execute(
                sa.select(*columns)
                .where(reports.c.batch_id == batch_id)
                .order_by(reports.c.id)
            ).all()
        return _sha256_hex(_json([list(row) for row in rows]))

    def reports(
        self, party: str | None = None, since_s: float | None = None
    ) -> pd.DataFrame:
        """Stored reports (of a party, from ``since_s`` on), in the order stored.

        Returns:
            A DataFrame with the columns :data:`REPORT_COLUMNS` (missing values NaN).
        """
        table = schema.reports
        query = sa.select(*[table.c[name] for name in REPORT_COLUMNS]).order_by(
            table.c.id
        )
        if party is not None:
            query = query.where(table.c.party == party)
        if since_s is not None:
            query = query.where(table.c.timestamp_s >= since_s)
        with self._reading("read reports") as connection:
            rows = connection.execute(query).all()
        frame = pd.DataFrame.from_records(
            [tuple(row) for row in rows], columns=list(REPORT_COLUMNS)
        )
        for name in ("timestamp_s", *_REPORT_FLOATS):
            frame[name] = frame[name].astype("float64")
        frame["accepted"] = frame["accepted"].astype(bool)
        return frame

    def count_reports(self, party: str | None = None) -> int:
        """How many reports are stored (of a party, or in all)."""
        table = schema.reports
        query = sa.select(sa.func.count()).select_from(table)
        if party is not None:
            query = query.where(table.c.party == party)
        with self._reading("count reports") as connection:
            return int(connection.execute(query).scalar_one())

    # ----------------------------------------------------------------- track history

    def store_track_history(self, points: pd.DataFrame | Iterable[TrackPoint]) -> None:
        """Add track states to the history; a state already stored (same party,
        aircraft and time) is kept as it was.

        Args:
            points: :class:`TrackPoint` records, or a DataFrame with the columns of
                :data:`TRACK_HISTORY_COLUMNS`.
        """
        columns = _track_columns(points)
        if not columns["party"]:
            return
        names = ", ".join(columns)
        with self._writing("store track history", audited=False) as connection:
            if not self._postgres:
                _sqlite_insert(
                    connection,
                    "track_history",
                    columns,
                    suffix=" ON CONFLICT DO NOTHING",
                )
                return
            # COPY into a scratch table, then one INSERT ... SELECT: far less of
            # this process's time than executemany (even pipelined), which spends
            # it per row. The scratch table has no constraints, so that a bad row
            # fails in the INSERT, as a database error SQLAlchemy wraps.
            connection.exec_driver_sql(
                f"CREATE TEMPORARY TABLE {_TRACK_SCRATCH} ON COMMIT DROP AS "
                f"SELECT {names} FROM track_history WITH NO DATA"
            )
            _copy_in(connection, _TRACK_SCRATCH, columns, _TRACK_PG_TYPES)
            connection.exec_driver_sql(
                f"INSERT INTO track_history ({names}) "
                f"SELECT {names} FROM {_TRACK_SCRATCH} ON CONFLICT DO NOTHING"
            )
            connection.exec_driver_sql(f"DROP TABLE {_TRACK_SCRATCH}")

    def track_history(
        self,
        party: str | None = None,
        icao24: str | None = None,
        since_s: float | None = None,
    ) -> pd.DataFrame:
        """Stored track states, by party, aircraft and time.

        Returns:
            A DataFrame with the columns :data:`TRACK_HISTORY_COLUMNS`.
        """
        table = schema.track_history
        query = sa.select(*[table.c[name] for name in TRACK_HISTORY_COLUMNS]).order_by(
            table.c.party, table.c.icao24, table.c.t_s
        )
        if party is not None:
            query = query.where(table.c.party == party)
        if icao24 is not None:
            query = query.where(table.c.icao24 == icao24)
        if since_s is not None:
            query = query.where(table.c.t_s >= since_s)
        with self._reading("read track history") as connection:
            rows = connection.execute(query).all()
        frame = pd.DataFrame.from_records(
            [tuple(row) for row in rows], columns=list(TRACK_HISTORY_COLUMNS)
        )
        for name in TRACK_HISTORY_COLUMNS[2:]:
            frame[name] = frame[name].astype("float64")
        return frame

    # ------------------------------------------------------------------------ alerts

    def upsert_alert(
        self,
        alert: AlertRow,
        events: Sequence[AlertEventRow] = (),
        *,
        actor: str = SERVER_ACTOR,
    ) -> None:
        """Insert or update an alert and add its new events, one audit record each.

        An alert's state changes only through its events (the lifecycle emits one per
        transition), so each event is audited (``kind="alert"``); an upsert without
        events only refreshes the stored row and is not audited.

        Raises:
            ValueError: an event belongs to another alert.
        """
        for event in events:
            if event.alert_id != alert.alert_id:
                raise ValueError(
                    f"event of alert {event.alert_id} passed with alert {alert.alert_id}"
                )
        table = schema.alerts
        values = {
            "aircraft_a": alert.aircraft_a,
            "aircraft_b": alert.aircraft_b,
            "parties_json": _json(sorted(alert.parties)),
            "state": alert.state,
            "level": alert.level,
            "highest_level": alert.highest_level,
            "raised_at_s": alert.raised_at_s,
            "ended_at_s": alert.ended_at_s,
            "updated_at_s": alert.updated_at_s,
        }
        with self._writing(f"store alert {alert.alert_id}") as connection:
            exists = connection.execute(
                sa.select(table.c.alert_id).where(table.c.alert_id == alert.alert_id)
            ).scalar_one_or_none()
            if exists is None:
                connection.execute(
                    sa.insert(table).values(alert_id=alert.alert_id, **values)
                )
            else:
                connection.execute(
                    sa.update(table)
                    .where(table.c.alert_id == alert.alert_id)
                    .values(**values)
                )
            self._insert_alert_events(connection, alert, events, actor)

    def _insert_alert_events(
        self,
        connection: sa.Connection,
        alert: AlertRow,
        events: Sequence[AlertEventRow],
        actor: str,
    ) -> None:
        if not events:
            return
        connection.execute(
            sa.insert(schema.alert_events),
            [
                {
                    "alert_id": e.alert_id,
                    "kind": e.kind,
                    "at_s": e.at_s,
                    "level": e.level,
                    "party": e.party,
                    "role": e.role,
                }
                for e in events
            ],
        )
        self._append(
            connection,
            [
                _Entry(
                    actor,
                    "alert",
                    {
                        "alert_id": alert.alert_id,
                        "event": e.kind,
                        "at_s": e.at_s,
                        "level": e.level,
                        "party": e.party,
                        "role": e.role,
                        "state": alert.state,
                        "aircraft": [alert.aircraft_a, alert.aircraft_b],
                        "parties": sorted(alert.parties),
                    },
                )
                for e in events
            ],
        )

    def record_alert_ack(
        self, alert_id: str, party: str, role: Role | str, at_s: float
    ) -> AlertEventRow:
        """Record a party's acknowledgement of an alert at its current level.

        Adds an ``acknowledged`` event and its audit record (actor ``party/role``).

        Raises:
            NotFoundError: no such alert.
        """
        role_text = str(Role(role))
        table = schema.alerts
        with self._writing(f"acknowledge alert {alert_id}") as connection:
            row = connection.execute(
                sa.select(table).where(table.c.alert_id == alert_id)
            ).one_or_none()
            if row is None:
                raise NotFoundError("alert", alert_id)
            alert = _alert_row(row)
            event = AlertEventRow(
                alert_id=alert_id,
                kind="acknowledged",
                at_s=at_s,
                level=alert.level,
                party=party,
                role=role_text,
            )
            connection.execute(
                sa.update(table)
                .where(table.c.alert_id == alert_id)
                .values(updated_at_s=max(alert.updated_at_s, at_s))
            )
            self._insert_alert_events(
                connection, alert, [event], f"{party}/{role_text}"
            )
        return event

    def alerts(
        self, *, active_only: bool = False, party: str | None = None
    ) -> list[AlertRow]:
        """Stored alerts (only ``active`` ones, only those involving a party), oldest
        change first."""
        table = schema.alerts
        query = sa.select(table).order_by(table.c.updated_at_s, table.c.alert_id)
        if active_only:
            query = query.where(table.c.state == "active")
        with self._reading("read alerts") as connection:
            rows = connection.execute(query).all()
        found = [_alert_row(row) for row in rows]
        if party is not None:
            found = [alert for alert in found if party in alert.parties]
        return found

    def alert(self, alert_id: str) -> AlertRow:
        """One alert.

        Raises:
            NotFoundError: no such alert.
        """
        table = schema.alerts
        with self._reading(f"read alert {alert_id}") as connection:
            row = connection.execute(
                sa.select(table).where(table.c.alert_id == alert_id)
            ).one_or_none()
        if row is None:
            raise NotFoundError("alert", alert_id)
        return _alert_row(row)

    def alert_events(self, alert_id: str) -> list[AlertEventRow]:
        """An alert's events, in the order stored.

        Raises:
            NotFoundError: no such alert.
        """
        self.alert(alert_id)
        table = schema.alert_events
        with self._reading(f"read events of alert {alert_id}") as connection:
            rows = connection.execute(
                sa.select(table)
                .where(table.c.alert_id == alert_id)
                .order_by(table.c.id)
            ).all()
        return [
            AlertEventRow(
                alert_id=row.alert_id,
                kind=row.kind,
                at_s=float(row.at_s),
                level=int(row.level),
                party=row.party,
                role=row.role,
            )
            for row in rows
        ]

    # ---------------------------------------------------------------------- messages

    def store_message(self, message: MessageRow, *, actor: str | None = None) -> None:
        """Store a message as sent, with its audit record (``kind="message"``).

        Raises:
            ConflictingWriteError: a message with this id is already stored.
            TypeError, ValueError: the body is not JSON.
        """
        body_json = _json(dict(message.body))
        payload = {
            "message_id": message.message_id,
            "kind": message.kind,
            "sender": message.sender,
            "recipients": list(message.recipients),
            "body": dict(message.body),
            "language": message.language,
            "text": message.text,
            "translation": message.translation,
            "sent_at_s": message.sent_at_s,
            "deadline_s": message.deadline_s,
            "in_reply_to": message.in_reply_to,
            "channel_id": message.channel_id,
        }
        table = schema.messages
        with self._writing(f"store message {message.message_id}") as connection:
            exists = connection.execute(
                sa.select(table.c.message_id).where(
                    table.c.message_id == message.message_id
                )
            ).scalar_one_or_none()
            if exists is not None:
                raise ConflictingWriteError(
                    f"message {message.message_id} is already stored"
                )
            connection.execute(
                sa.insert(table).values(
                    message_id=message.message_id,
                    kind=message.kind,
                    sender=message.sender,
                    recipients_json=_json(list(message.recipients)),
                    body_json=body_json,
                    language=message.language,
                    text=message.text,
                    translation=message.translation,
                    sent_at_s=message.sent_at_s,
                    deadline_s=message.deadline_s,
                    in_reply_to=message.in_reply_to,
                    channel_id=message.channel_id,
                )
            )
            self._append(
                connection, [_Entry(actor or message.sender, "message", payload)]
            )

    def record_message_event(
        self, event: MessageEventRow, *, actor: str | None = None
    ) -> None:
        """Record what happened to a message for a party (``kind="message-event"``).

        Raises:
            NotFoundError: no such message.
        """
        default_actor = (
            event.party if event.role is None else f"{event.party}/{event.role}"
        )
        with self._writing(f"record an event of message {event.message_id}") as conn:
            exists = conn.execute(
                sa.select(schema.messages.c.message_id).where(
                    schema.messages.c.message_id == event.message_id
                )
            ).scalar_one_or_none()
            if exists is None:
                raise NotFoundError("message", event.message_id)
            values = {
                "message_id": event.message_id,
                "kind": event.kind,
                "at_s": event.at_s,
                "party": event.party,
                "role": event.role,
                "step": event.step,
            }
            conn.execute(sa.insert(schema.message_events).values(**values))
            self._append(
                conn, [_Entry(actor or default_actor, "message-event", values)]
            )

    def messages(self, party: str | None = None) -> list[MessageRow]:
        """Stored messages (sent by or to a party, or all), in the order sent."""
        table = schema.messages
        with self._reading("read messages") as connection:
            rows = connection.execute(
                sa.select(table).order_by(table.c.sent_at_s, table.c.message_id)
            ).all()
        found = [_message_row(row) for row in rows]
        if party is not None:
            found = [m for m in found if m.sender == party or party in m.recipients]
        return found

    def message(self, message_id: str) -> MessageRow:
        """One message.

        Raises:
            NotFoundError: no such message.
        """
        table = schema.messages
        with self._reading(f"read message {message_id}") as connection:
            row = connection.execute(
                sa.select(table).where(table.c.message_id == message_id)
            ).one_or_none()
        if row is None:
            raise NotFoundError("message", message_id)
        return _message_row(row)

    def message_events(self, message_id: str) -> list[MessageEventRow]:
        """A message's events, in the order stored.

        Raises:
            NotFoundError: no such message.
        """
        self.message(message_id)
        table = schema.message_events
        with self._reading(f"read events of message {message_id}") as connection:
            rows = connection.execute(
                sa.select(table)
                .where(table.c.message_id == message_id)
                .order_by(table.c.id)
            ).all()
        return [
            MessageEventRow(
                message_id=row.message_id,
                kind=row.kind,
                at_s=float(row.at_s),
                party=row.party,
                role=row.role,
                step=None if row.step is None else int(row.step),
            )
            for row in rows
        ]

    # ---------------------------------------------------------------------- channels

    def store_channel_state(
        self, channel: ChannelRow, *, actor: str | None = None
    ) -> None:
        """Set a channel's state (creating the channel), with a channel event and its
        audit record (``kind="channel"``; actor: ``changed_by`` by default)."""
        table = schema.channels
        values = {
            "parties_json": _json(sorted(channel.parties)),
            "state": channel.state,
            "changed_at_s": channel.changed_at_s,
            "changed_by": channel.changed_by,
            "reason": channel.reason,
        }
        payload = {
            "channel_id": channel.channel_id,
            "parties": sorted(channel.parties),
            "state": channel.state,
            "changed_at_s": channel.changed_at_s,
            "changed_by": channel.changed_by,
            "reason": channel.reason,
        }
        with self._writing(f"store channel {channel.channel_id}") as connection:
            exists = connection.execute(
                sa.select(table.c.channel_id).where(
                    table.c.channel_id == channel.channel_id
                )
            ).scalar_one_or_none()
            if exists is None:
                connection.execute(
                    sa.insert(table).values(channel_id=channel.channel_id, **values)
                )
            else:
                connection.execute(
                    sa.update(table)
                    .where(table.c.channel_id == channel.channel_id)
                    .values(**values)
                )
            connection.execute(
                sa.insert(schema.channel_events).values(
                    channel_id=channel.channel_id,
                    state=channel.state,
                    at_s=channel.changed_at_s,
                    changed_by=channel.changed_by,
                    reason=channel.reason,
                )
            )
            self._append(
                connection, [_Entry(actor or channel.changed_by, "channel", payload)]
            )

    def channels(self) -> list[ChannelRow]:
        """Every channel's current state, by id."""
        table = schema.channels
        with self._reading("read channels") as connection:
            rows = connection.execute(
                sa.select(table).order_by(table.c.channel_id)
            ).all()
        return [
            ChannelRow(
                channel_id=row.channel_id,
                parties=frozenset(json.loads(row.parties_json)),
                state=row.state,
                changed_at_s=float(row.changed_at_s),
                changed_by=row.changed_by,
                reason=row.reason,
            )
            for row in rows
        ]

    def channel_events(self, channel_id: str) -> list[ChannelEventRow]:
        """A channel's changes of state, in the order stored (empty for an unknown
        channel)."""
        table = schema.channel_events
        with self._reading(f"read events of channel {channel_id}") as connection:
            rows = connection.execute(
                sa.select(table)
                .where(table.c.channel_id == channel_id)
                .order_by(table.c.id)
            ).all()
        return [
            ChannelEventRow(
                channel_id=row.channel_id,
                state=row.state,
                at_s=float(row.at_s),
                changed_by=row.changed_by,
                reason=row.reason,
            )
            for row in rows
        ]


# --------------------------------------------------------------------- row helpers


def _alert_row(row: sa.Row[Any]) -> AlertRow:
    return AlertRow(
        alert_id=row.alert_id,
        aircraft_a=row.aircraft_a,
        aircraft_b=row.aircraft_b,
        parties=frozenset(json.loads(row.parties_json)),
        state=row.state,
        level=int(row.level),
        highest_level=int(row.highest_level),
        raised_at_s=row.raised_at_s,
        ended_at_s=row.ended_at_s,
        updated_at_s=float(row.updated_at_s),
    )


def _message_row(row: sa.Row[Any]) -> MessageRow:
    return MessageRow(
        message_id=row.message_id,
        kind=row.kind,
        sender=row.sender,
        recipients=tuple(json.loads(row.recipients_json)),
        body=json.loads(row.body_json),
        language=row.language,
        text=row.text,
        translation=row.translation,
        sent_at_s=float(row.sent_at_s),
        deadline_s=row.deadline_s,
        in_reply_to=row.in_reply_to,
        channel_id=row.channel_id,
    )


def _sqlite_insert(
    connection: sa.Connection,
    table: str,
    columns: Mapping[str, list[Any]],
    *,
    suffix: str = "",
) -> None:
    """Insert rows given column by column (lists of one length), in order.

    ``INSERT INTO {table} (...) VALUES (...), (...), ...{suffix}`` with
    _SQLITE_ROWS_PER_STATEMENT rows per statement, in one executemany: about a fifth
    less time than one row per statement, as the driver steps and resets a statement
    per parameter set. 64 rows of at most 15 columns stay under 999 parameters, the
    oldest SQLite's limit.
    """
    width = len(columns)
    values = tuple(chain.from_iterable(zip(*columns.values(), strict=True)))
    if not values:
        return
    head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
    one = f"({', '.join('?' * width)})"
    size = _SQLITE_ROWS_PER_STATEMENT * width
    whole = len(values) - len(values) % size
    if whole:
        connection.exec_driver_sql(
            head + ", ".join([one] * _SQLITE_ROWS_PER_STATEMENT) + suffix,
            [values[k : k + size] for k in range(0, whole, size)],
        )
    if whole < len(values):
        connection.exec_driver_sql(
            head + one + suffix,
            [values[k : k + width] for k in range(whole, len(values), width)],
        )


def _copy_in(
    connection: sa.Connection,
    table: str,
    columns: Mapping[str, list[Any]],
    types: Mapping[str, str],
) -> None:
    """PostgreSQL's binary COPY of rows given column by column, in order (``types``:
    each column's PostgreSQL type)."""
    driver = connection.connection.driver_connection
    assert driver is not None
    with (
        driver.cursor() as cursor,
        cursor.copy(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)"
        ) as copy,
    ):
        copy.set_types([types[name] for name in columns])
        for row in zip(*columns.values(), strict=True):
            copy.write_row(row)


def _missing(value: object) -> bool:
    return (
        value is None
        or value is pd.NA
        or value is pd.NaT
        or (isinstance(value, float) and math.isnan(value))
    )


def _all_null(values: list[Any]) -> bool:
    # list.count compares by identity first: quick on a column of Nones, and only
    # reached when the first value is None
    return bool(values) and values[0] is None and values.count(None) == len(values)


def _float_array(series: pd.Series[Any]) -> npt.NDArray[np.float64]:
    """A column as float64, NaN where missing (text that is no number raises)."""
    if series.dtype == np.dtype(np.float64):
        return series.to_numpy()
    return pd.to_numeric(series, errors="raise").to_numpy(
        dtype=np.float64, na_value=np.nan
    )


def _nullable(values: npt.NDArray[np.float64]) -> list[float | None]:
    """Python floats, None where NaN."""
    gaps = np.isnan(values)
    if gaps.all():
        return [None] * len(values)
    floats: list[float | None] = values.tolist()
    for k in np.flatnonzero(gaps).tolist():
        floats[k] = None
    return floats


_TEXT_TYPES = {str, type(None)}


def _texts(series: pd.Series[Any]) -> list[str | None]:
    """A column as str (other values through ``str``), None where missing."""
    values: list[Any] = series.tolist()
    if set(map(type, values)) <= _TEXT_TYPES:
        return values  # the common case, told apart sooner than by isna
    gaps = series.isna().to_numpy()
    if gaps.all():
        return [None] * len(series)
    for k in np.flatnonzero(gaps).tolist():
        values[k] = None
    if not set(map(type, values)) <= _TEXT_TYPES:
        values = [v if v is None or type(v) is str else str(v) for v in values]
    return values


def _accepted(series: pd.Series[Any]) -> npt.NDArray[np.bool_]:
    """The ``accepted`` column; a missing value means accepted."""
    if series.dtype == np.dtype(np.bool_):
        return series.to_numpy(dtype=np.bool_)
    if isinstance(series.dtype, pd.BooleanDtype):
        return series.to_numpy(dtype=np.bool_, na_value=True)
    return np.array(
        [True if _missing(v) else bool(v) for v in series.tolist()], dtype=np.bool_
    )


def _epoch_seconds(series: pd.Series[Any]) -> pd.Series[Any]:
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        epoch = pd.Timestamp(0, tz="UTC")
        seconds: pd.Series[float] = (
            series.dt.tz_convert("UTC") - epoch
        ).dt.total_seconds()
        return seconds
    if pd.api.types.is_datetime64_dtype(series.dtype):
        raise TypeError("timestamps must be timezone-aware (UTC) or epoch seconds")
    return series


@dataclass(frozen=True, slots=True, kw_only=True)
class _ReportColumns:
    """A batch's reports in stored form, column by column.

    Attributes:
        values: the values of each of _HASHED_REPORT_COLUMNS (None is NULL).
        floats: the float columns (``timestamp_s`` and _REPORT_FLOATS, NaN where
            NULL), for :func:`_rows_json`.
        accepted: the ``accepted`` column.
    """

    values: dict[str, list[Any]]
    floats: list[npt.NDArray[np.float64]]
    accepted: npt.NDArray[np.bool_]

    def rows(self) -> list[tuple[Any, ...]]:
        """The values of _HASHED_REPORT_COLUMNS, row by row (what ``sha256`` covers)."""
        return list(zip(*(self.values[c] for c in _HASHED_REPORT_COLUMNS), strict=True))


def _report_columns(rows: pd.DataFrame | Sequence[Mapping[str, Any]]) -> _ReportColumns:
    """A batch's rows in stored form (see _ReportColumns)."""
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame.from_records(rows)
    n = len(frame)
    if n == 0:
        return _ReportColumns(
            values={name: [] for name in _HASHED_REPORT_COLUMNS},
            floats=[],
            accepted=np.zeros(0, dtype=np.bool_),
        )
    for required in ("timestamp", "icao24"):
        if required not in frame.columns:
            raise MissingColumnError(required)
    stamps_s = _float_array(_epoch_seconds(frame["timestamp"]))
    for name, gaps in (
        ("timestamp", np.isnan(stamps_s)),
        ("icao24", frame["icao24"].isna().to_numpy()),
    ):
        if gaps.any():
            k = int(np.flatnonzero(gaps)[0])
            raise InvalidStateError(
                column=name, row=frame.index[k], value=None, reason="missing"
            )
    values: dict[str, list[Any]] = {
        "timestamp_s": stamps_s.tolist(),
        "icao24": _texts(frame["icao24"]),
    }
    floats = [stamps_s]
    accepted = np.ones(n, dtype=np.bool_)
    for source, target in REPORT_INPUT_COLUMNS.items():
        if target in values:
            continue
        if target == "accepted":
            if source in frame.columns:
                accepted = _accepted(frame[source])
            values[target] = accepted.tolist()
        elif source not in frame.columns:
            values[target] = [None] * n
        elif target in _REPORT_FLOATS:
            floats.append(_float_array(frame[source]))
            values[target] = _nullable(floats[-1])
        else:
            values[target] = _texts(frame[source])
    return _ReportColumns(values=values, floats=floats, accepted=accepted)


def _rows_json(
    rows: list[tuple[Any, ...]], floats: Sequence[npt.NDArray[np.float64]]
) -> bytes:
    """``canonical_json(rows).encode()``, the same bytes, sooner when it can be.

    Most of canonical_json's time on a batch goes to writing its floats (Python's
    ``repr``, about 0.4 µs for a float of 17 digits). pydantic-core's ``to_json``
    writes the same bytes about six times sooner for rows of str, None, bool and
    finite floats, except for floats of magnitude below 1e-4 (it writes ``1e-7`` and
    ``0.00001`` where ``repr`` writes ``1e-07`` and ``1e-05``) and non-finite ones
    (canonical_json refuses them). So it is used only when every float of the rows
    (``floats``: NaN stands for None) is 0 or finite of magnitude at least 1e-4;
    otherwise, or when it fails (a lone surrogate), canonical_json writes them and
    raises what it raises. tests/integration/storage/test_report_digest.py checks
    that both give the same bytes.
    """
    if all(_plain_json_floats(values) for values in floats):
        try:
            return pydantic_core.to_json(rows)
        except pydantic_core.PydanticSerializationError:
            pass
    return _json(rows).encode()


def _plain_json_floats(values: npt.NDArray[np.float64]) -> bool:
    """Whether pydantic-core writes these floats as ``repr`` does (see _rows_json)."""
    magnitude = np.abs(values)
    tiny = (magnitude > 0.0) & (magnitude < _PLAIN_JSON_FLOAT_MIN)
    return not (tiny.any() or np.isinf(magnitude).any())


def _track_columns(
    points: pd.DataFrame | Iterable[TrackPoint],
) -> dict[str, list[Any]]:
    """Track states column by column, by name of TRACK_HISTORY_COLUMNS (None is
    NULL). An optional column that a DataFrame lacks, or has no value in, is left
    out (NULL is its default).

    Raises:
        MissingColumnError: a DataFrame lacks one of the required columns.
    """
    if not isinstance(points, pd.DataFrame):
        rows = list(map(attrgetter(*TRACK_HISTORY_COLUMNS), points))
        return {
            name: [row[k] for row in rows]
            for k, name in enumerate(TRACK_HISTORY_COLUMNS)
        }
    columns: dict[str, list[Any]] = {}
    for name in TRACK_HISTORY_COLUMNS:
        if name not in points.columns:
            if name in _TRACK_REQUIRED:
                raise MissingColumnError(name)
            continue
        if name in ("party", "icao24"):
            values: list[Any] = _texts(points[name])
        else:
            values = _nullable(_float_array(points[name]))
        if name in _TRACK_REQUIRED or not _all_null(values):
            columns[name] = values
    return columns
