"""The database schema, as SQLAlchemy Core tables (the one declaration of every column).

The Alembic migrations in :mod:`skypact.storage.migrations` create exactly these tables
(a test compares a migrated database with :data:`metadata`), and the repository reads
and writes them.

Conventions:

- times are float epoch seconds (UTC) in ``DOUBLE PRECISION`` columns named ``*_s``;
  there are no datetime columns;
- quantities carry their unit in the column name (``altitude_ft``, ``groundspeed_kt``),
  in the aviation units that reports arrive in;
- structured values (lists of parties, message bodies, signatures) are TEXT holding
  canonical JSON (sorted keys, no spaces), columns named ``*_json``;
- the ``audit`` table is append-only: the repository has no update or delete for it.
  ``audit_head`` holds one row (``id = 1``) with the last record's ``seq`` and ``hash``:
  appends lock it (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite serialises writers
  with ``BEGIN IMMEDIATE``), and verification compares it with the chain's tail to
  detect a truncated log. The migration inserts it at ``seq = 0`` with the genesis hash.
"""

from __future__ import annotations

import sqlalchemy as sa

__all__ = [
    "agreements",
    "alert_events",
    "alerts",
    "audit",
    "audit_head",
    "channel_events",
    "channels",
    "message_events",
    "messages",
    "metadata",
    "report_batches",
    "reports",
    "tokens",
    "track_history",
]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

# A 64-bit key that is SQLite's rowid (INTEGER PRIMARY KEY) on SQLite.
_BigKey = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time(name: str, *, nullable: bool = False) -> sa.Column[float]:
    return sa.Column(name, sa.Double(), nullable=nullable)


def _text(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.Text(), nullable=nullable)


def _float(name: str) -> sa.Column[float]:
    return sa.Column(name, sa.Double(), nullable=True)


agreements = sa.Table(
    "agreements",
    metadata,
    sa.Column("agreement_id", sa.Text(), primary_key=True),
    sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
    _text("file_sha256"),
    sa.Column("raw", sa.LargeBinary(), nullable=False),
    _text("signatures_json"),
    _time("loaded_at_s"),
)

tokens = sa.Table(
    "tokens",
    metadata,
    sa.Column("token_id", sa.Text(), primary_key=True),
    sa.Column("token_hash", sa.Text(), nullable=False, unique=True),
    _text("party"),
    _text("role"),
    _text("label"),
    _time("created_at_s"),
    _time("expires_at_s", nullable=True),
    _time("revoked_at_s", nullable=True),
)

report_batches = sa.Table(
    "report_batches",
    metadata,
    sa.Column("batch_id", sa.Text(), primary_key=True),
    _text("party"),
    _text("client_batch_id"),
    _time("received_at_s"),
    sa.Column("rows", sa.Integer(), nullable=False),
    sa.Column("accepted", sa.Integer(), nullable=False),
    _text("rejected_json"),
    sa.UniqueConstraint("party", "client_batch_id"),
)

reports = sa.Table(
    "reports",
    metadata,
    sa.Column("id", _BigKey, primary_key=True, autoincrement=True),
    sa.Column(
        "batch_id",
        sa.Text(),
        sa.ForeignKey("report_batches.batch_id"),
        nullable=False,
        index=True,
    ),
    _text("party"),
    _text("icao24"),
    _time("timestamp_s"),
    _float("latitude"),
    _float("longitude"),
    _float("altitude_ft"),
    _float("groundspeed_kt"),
    _float("track_deg"),
    _float("vertical_rate_fpm"),
    _text("callsign", nullable=True),
    _text("squawk", nullable=True),
    _text("source", nullable=True),
    sa.Column("accepted", sa.Boolean(), nullable=False),
    _text("reason", nullable=True),
    sa.Index(None, "party", "timestamp_s"),
)

track_history = sa.Table(
    "track_history",
    metadata,
    sa.Column("party", sa.Text(), primary_key=True),
    sa.Column("icao24", sa.Text(), primary_key=True),
    sa.Column("t_s", sa.Double(), primary_key=True),
    sa.Column("latitude", sa.Double(), nullable=False),
    sa.Column("longitude", sa.Double(), nullable=False),
    _float("altitude_ft"),
    _float("groundspeed_kt"),
    _float("track_deg"),
    _float("vertical_rate_fpm"),
)

alerts = sa.Table(
    "alerts",
    metadata,
    sa.Column("alert_id", sa.Text(), primary_key=True),
    _text("aircraft_a"),
    _text("aircraft_b"),
    _text("parties_json"),
    sa.Column("state", sa.Text(), nullable=False, index=True),
    sa.Column("level", sa.Integer(), nullable=False),
    sa.Column("highest_level", sa.Integer(), nullable=False),
    _time("raised_at_s", nullable=True),
    _time("ended_at_s", nullable=True),
    _time("updated_at_s"),
)

alert_events = sa.Table(
    "alert_events",
    metadata,
    sa.Column("id", _BigKey, primary_key=True, autoincrement=True),
    sa.Column(
        "alert_id",
        sa.Text(),
        sa.ForeignKey("alerts.alert_id"),
        nullable=False,
        index=True,
    ),
    _text("kind"),
    _time("at_s"),
    sa.Column("level", sa.Integer(), nullable=False),
    _text("party", nullable=True),
    _text("role", nullable=True),
)

channels = sa.Table(
    "channels",
    metadata,
    sa.Column("channel_id", sa.Text(), primary_key=True),
    _text("parties_json"),
    _text("state"),
    _time("changed_at_s"),
    _text("changed_by"),
    _text("reason", nullable=True),
)

channel_events = sa.Table(
    "channel_events",
    metadata,
    sa.Column("id", _BigKey, primary_key=True, autoincrement=True),
    sa.Column(
        "channel_id",
        sa.Text(),
        sa.ForeignKey("channels.channel_id"),
        nullable=False,
        index=True,
    ),
    _text("state"),
    _time("at_s"),
    _text("changed_by"),
    _text("reason", nullable=True),
)

messages = sa.Table(
    "messages",
    metadata,
    sa.Column("message_id", sa.Text(), primary_key=True),
    _text("kind"),
    sa.Column("sender", sa.Text(), nullable=False, index=True),
    _text("recipients_json"),
    _text("body_json"),
    _text("language"),
    _text("text"),
    _text("translation", nullable=True),
    _time("sent_at_s"),
    _time("deadline_s", nullable=True),
    _text("in_reply_to", nullable=True),
    _text("channel_id", nullable=True),
)

message_events = sa.Table(
    "message_events",
    metadata,
    sa.Column("id", _BigKey, primary_key=True, autoincrement=True),
    sa.Column(
        "message_id",
        sa.Text(),
        sa.ForeignKey("messages.message_id"),
        nullable=False,
        index=True,
    ),
    _text("kind"),
    _time("at_s"),
    _text("party"),
    _text("role", nullable=True),
    sa.Column("step", sa.Integer(), nullable=True),
)

audit = sa.Table(
    "audit",
    metadata,
    sa.Column("seq", _BigKey, primary_key=True, autoincrement=False),
    _time("at_s"),
    _text("actor"),
    _text("kind"),
    _text("payload"),
    _text("prev_hash"),
    _text("hash"),
    _text("signature"),
)

audit_head = sa.Table(
    "audit_head",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("seq", sa.BigInteger(), nullable=False),
    _text("hash"),
    sa.CheckConstraint("id = 1", name="single_row"),
)
