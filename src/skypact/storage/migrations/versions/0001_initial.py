"""The initial schema: agreements, tokens, reports, track history, alerts, messages,
channels and the audit chain.

Written out table by table (not ``metadata.create_all``) so that this revision stays what
it was when later revisions change :mod:`skypact.storage.schema`; a test checks that a
database migrated to head matches the schema module.

Revision ID: 0001
Revises:
Created: 2025-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first audit record (``skypact.audit.model.GENESIS_HASH``)."""


def _key() -> sa.types.TypeEngine[int]:
    # 64-bit on PostgreSQL, SQLite's rowid (INTEGER PRIMARY KEY) on SQLite.
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _text(name: str, *, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.Text(), nullable=nullable)


def _double(name: str, *, nullable: bool = False) -> sa.Column[float]:
    return sa.Column(name, sa.Double(), nullable=nullable)


def _event_id() -> sa.Column[int]:
    return sa.Column("id", _key(), autoincrement=True, nullable=False)


def upgrade() -> None:
    op.create_table(
        "agreements",
        _text("agreement_id"),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        _text("file_sha256"),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        _text("signatures_json"),
        _double("loaded_at_s"),
        sa.PrimaryKeyConstraint("agreement_id", "version", name="pk_agreements"),
    )
    op.create_table(
        "tokens",
        _text("token_id"),
        _text("token_hash"),
        _text("party"),
        _text("role"),
        _text("label"),
        _double("created_at_s"),
        _double("expires_at_s", nullable=True),
        _double("revoked_at_s", nullable=True),
        sa.PrimaryKeyConstraint("token_id", name="pk_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_tokens_token_hash"),
    )
    op.create_table(
        "report_batches",
        _text("batch_id"),
        _text("party"),
        _text("client_batch_id"),
        _double("received_at_s"),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        _text("rejected_json"),
        sa.PrimaryKeyConstraint("batch_id", name="pk_report_batches"),
        sa.UniqueConstraint(
            "party", "client_batch_id", name="uq_report_batches_party_client_batch_id"
        ),
    )
    op.create_table(
        "reports",
        _event_id(),
        _text("batch_id"),
        _text("party"),
        _text("icao24"),
        _double("timestamp_s"),
        _double("latitude", nullable=True),
        _double("longitude", nullable=True),
        _double("altitude_ft", nullable=True),
        _double("groundspeed_kt", nullable=True),
        _double("track_deg", nullable=True),
        _double("vertical_rate_fpm", nullable=True),
        _text("callsign", nullable=True),
        _text("squawk", nullable=True),
        _text("source", nullable=True),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        _text("reason", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_reports"),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["report_batches.batch_id"],
            name="fk_reports_batch_id_report_batches",
        ),
    )
    op.create_index("ix_reports_batch_id", "reports", ["batch_id"])
    op.create_index("ix_reports_party_timestamp_s", "reports", ["party", "timestamp_s"])
    op.create_table(
        "track_history",
        _text("party"),
        _text("icao24"),
        _double("t_s"),
        _double("latitude"),
        _double("longitude"),
        _double("altitude_ft", nullable=True),
        _double("groundspeed_kt", nullable=True),
        _double("track_deg", nullable=True),
        _double("vertical_rate_fpm", nullable=True),
        sa.PrimaryKeyConstraint("party", "icao24", "t_s", name="pk_track_history"),
    )
    op.create_table(
        "alerts",
        _text("alert_id"),
        _text("aircraft_a"),
        _text("aircraft_b"),
        _text("parties_json"),
        _text("state"),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("highest_level", sa.Integer(), nullable=False),
        _double("raised_at_s", nullable=True),
        _double("ended_at_s", nullable=True),
        _double("updated_at_s"),
        sa.PrimaryKeyConstraint("alert_id", name="pk_alerts"),
    )
    op.create_index("ix_alerts_state", "alerts", ["state"])
    op.create_table(
        "alert_events",
        _event_id(),
        _text("alert_id"),
        _text("kind"),
        _double("at_s"),
        sa.Column("level", sa.Integer(), nullable=False),
        _text("party", nullable=True),
        _text("role", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alert_events"),
        sa.ForeignKeyConstraint(
            ["alert_id"], ["alerts.alert_id"], name="fk_alert_events_alert_id_alerts"
        ),
    )
    op.create_index("ix_alert_events_alert_id", "alert_events", ["alert_id"])
    op.create_table(
        "channels",
        _text("channel_id"),
        _text("parties_json"),
        _text("state"),
        _double("changed_at_s"),
        _text("changed_by"),
        _text("reason", nullable=True),
        sa.PrimaryKeyConstraint("channel_id", name="pk_channels"),
    )
    op.create_table(
        "channel_events",
        _event_id(),
        _text("channel_id"),
        _text("state"),
        _double("at_s"),
        _text("changed_by"),
        _text("reason", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_channel_events"),
        sa.ForeignKeyConstraint(
            ["channel_id"],
            ["channels.channel_id"],
            name="fk_channel_events_channel_id_channels",
        ),
    )
    op.create_index("ix_channel_events_channel_id", "channel_events", ["channel_id"])
    op.create_table(
        "messages",
        _text("message_id"),
        _text("kind"),
        _text("sender"),
        _text("recipients_json"),
        _text("body_json"),
        _text("language"),
        _text("text"),
        _text("translation", nullable=True),
        _double("sent_at_s"),
        _double("deadline_s", nullable=True),
        _text("in_reply_to", nullable=True),
        _text("channel_id", nullable=True),
        sa.PrimaryKeyConstraint("message_id", name="pk_messages"),
    )
    op.create_index("ix_messages_sender", "messages", ["sender"])
    op.create_table(
        "message_events",
        _event_id(),
        _text("message_id"),
        _text("kind"),
        _double("at_s"),
        _text("party"),
        _text("role", nullable=True),
        sa.Column("step", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_message_events"),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.message_id"],
            name="fk_message_events_message_id_messages",
        ),
    )
    op.create_index("ix_message_events_message_id", "message_events", ["message_id"])
    op.create_table(
        "audit",
        sa.Column("seq", _key(), autoincrement=False, nullable=False),
        _double("at_s"),
        _text("actor"),
        _text("kind"),
        _text("payload"),
        _text("prev_hash"),
        _text("hash"),
        _text("signature"),
        sa.PrimaryKeyConstraint("seq", name="pk_audit"),
    )
    audit_head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        _text("hash"),
        sa.PrimaryKeyConstraint("id", name="pk_audit_head"),
        sa.CheckConstraint("id = 1", name="ck_audit_head_single_row"),
    )
    op.bulk_insert(audit_head, [{"id": 1, "seq": 0, "hash": _GENESIS_HASH}])


def downgrade() -> None:
    for table in (
        "audit_head",
        "audit",
        "message_events",
        "messages",
        "channel_events",
        "channels",
        "alert_events",
        "alerts",
        "track_history",
        "reports",
        "report_batches",
        "tokens",
        "agreements",
    ):
        op.drop_table(table)
