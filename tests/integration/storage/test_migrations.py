"""Engines and migrations, on a real SQLite file and a real PostgreSQL database."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from skypact.errors import ConfigError, MigrationError, StorageError
from skypact.storage import (
    Repository,
    check_at_head,
    current_revision,
    default_url,
    head_revision,
    make_engine,
    migrate,
)
from skypact.storage.engine import alembic_config
from skypact.storage.schema import metadata

UNREACHABLE = "postgresql://nobody@127.0.0.1:1/nothing"


class TestMigrate:
    def test_from_empty_to_head(self, engine):
        assert current_revision(engine) is None
        assert migrate(engine) == head_revision()
        assert current_revision(engine) == head_revision()

    def test_is_idempotent(self, engine):
        first = migrate(engine)
        assert migrate(engine) == first
        assert check_at_head(engine) == first

    def test_takes_a_url(self, database_url):
        assert migrate(database_url) == head_revision()
        assert current_revision(database_url) == head_revision()

    def test_seeds_the_audit_head(self, engine):
        migrate(engine)
        with engine.connect() as connection:
            rows = connection.exec_driver_sql("SELECT id, seq, hash FROM audit_head")
            assert rows.all() == [(1, 0, "0" * 64)]

    def test_downgrade_then_upgrade_again(self, engine, database_url):
        migrate(engine)
        command.downgrade(alembic_config(database_url), "base")
        assert current_revision(engine) is None
        names = set(sa.inspect(engine).get_table_names())
        assert names <= {"alembic_version"}
        assert migrate(engine) == head_revision()

    def test_alembic_commands_work_on_a_url(self, engine, database_url):
        migrate(engine)
        config = alembic_config(database_url)
        config.stdout = io.StringIO()
        command.current(config)
        assert head_revision() in config.stdout.getvalue()

    def test_alembic_commands_need_a_url_or_a_connection(self):
        with pytest.raises(RuntimeError, match="needs a URL"):
            command.current(alembic_config())

    def test_offline_mode_is_refused(self, database_url):
        with pytest.raises(RuntimeError, match="online only"):
            command.upgrade(alembic_config(database_url), "head", sql=True)

    def test_unreachable_server_is_a_migration_error(self):
        with pytest.raises(MigrationError, match="cannot migrate"):
            migrate(UNREACHABLE)

    def test_unreachable_server_has_no_readable_revision(self):
        with pytest.raises(StorageError, match="cannot read the schema revision"):
            current_revision(UNREACHABLE)

    def test_a_newer_revision_is_refused(self, engine):
        migrate(engine)
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "UPDATE alembic_version SET version_num = 'f00d'"
            )
        with pytest.raises(MigrationError, match="unknown to this SkyPact"):
            check_at_head(engine)
        with pytest.raises(MigrationError, match="f00d"):
            migrate(engine)


class TestSchema:
    def test_migrated_tables_and_columns_are_the_schema_modules(self, engine):
        migrate(engine)
        inspector = sa.inspect(engine)
        assert set(inspector.get_table_names()) == {
            *metadata.tables,
            "alembic_version",
        }
        for name, table in metadata.tables.items():
            columns = {c["name"]: c for c in inspector.get_columns(name)}
            assert list(columns) == [c.name for c in table.columns], name
            for column in table.columns:
                assert columns[column.name]["nullable"] == column.nullable, (
                    f"{name}.{column.name}"
                )
            primary = inspector.get_pk_constraint(name)["constrained_columns"]
            assert primary == [c.name for c in table.primary_key.columns], name

    def test_alembic_finds_no_difference_with_the_schema_module(self, engine):
        migrate(engine)
        with engine.connect() as connection:
            differences = compare_metadata(
                MigrationContext.configure(connection, opts={"compare_type": True}),
                metadata,
            )
        assert differences == []

    def test_times_are_double_precision(self, engine):
        migrate(engine)
        inspector = sa.inspect(engine)
        for name in metadata.tables:
            for column in inspector.get_columns(name):
                if column["name"].endswith("_s"):
                    assert isinstance(column["type"], sa.Double | sa.Float), (
                        f"{name}.{column['name']}"
                    )


class TestRepositoryRefusesUnmigratedDatabases:
    def test_empty_database(self, engine, signer, clock):
        with pytest.raises(MigrationError) as caught:
            Repository(engine, signer, clock)
        message = str(caught.value)
        assert "skypact db migrate" in message
        assert head_revision() in message
        assert "no SkyPact schema" in message

    def test_downgraded_database(self, engine, database_url, signer, clock):
        migrate(engine)
        command.downgrade(alembic_config(database_url), "base")
        with pytest.raises(MigrationError, match="skypact db migrate"):
            Repository(engine, signer, clock)

    def test_migrated_database_is_accepted(self, engine, signer, clock):
        migrate(engine)
        assert Repository(engine, signer, clock).engine is engine

    def test_page_size_must_be_positive(self, engine, signer, clock):
        migrate(engine)
        with pytest.raises(ValueError, match="audit_page_size"):
            Repository(engine, signer, clock, audit_page_size=0)


class TestEngine:
    def test_default_url_is_a_file_in_the_data_directory(self, tmp_path):
        url = default_url(tmp_path / "data")
        assert url == f"sqlite:///{tmp_path / 'data' / 'skypact.db'}"
        engine = make_engine(url)
        try:
            with engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
        finally:
            engine.dispose()
        assert (tmp_path / "data" / "skypact.db").is_file()

    def test_sqlite_is_durable_wal(self, tmp_path):
        engine = make_engine(default_url(tmp_path))
        try:
            with engine.connect() as connection:

                def pragma(name: str) -> object:
                    return connection.exec_driver_sql(f"PRAGMA {name}").scalar()

                assert pragma("journal_mode") == "wal"
                assert pragma("synchronous") == 2  # FULL
                assert pragma("foreign_keys") == 1
                assert pragma("busy_timeout") == 30_000
        finally:
            engine.dispose()

    def test_foreign_keys_are_enforced(self, engine):
        migrate(engine)
        with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO alert_events (alert_id, kind, at_s, level)"
                " VALUES ('nope', 'raised', 0.0, 1)"
            )

    @pytest.mark.parametrize(
        "url",
        [
            "postgresql://u@localhost/db",
            "postgres://u@localhost/db",
            "postgresql+psycopg://u@localhost/db",
        ],
    )
    def test_postgresql_goes_through_psycopg_3(self, url):
        engine = make_engine(url)
        try:
            assert engine.url.drivername == "postgresql+psycopg"
            assert engine.dialect.driver == "psycopg"
        finally:
            engine.dispose()

    @pytest.mark.parametrize(
        ("url", "reason"),
        [
            ("not a url", "not a database URL"),
            ("sqlite://", "file path"),
            ("sqlite:///:memory:", "file path"),
            ("mysql://u:secret@localhost/db", "SQLite .* or PostgreSQL"),
            ("postgresql+psycopg2://u@localhost/db", "SQLite .* or PostgreSQL"),
        ],
    )
    def test_other_urls_are_refused(self, url, reason):
        with pytest.raises(ConfigError, match=reason) as caught:
            make_engine(url)
        assert "secret" not in str(caught.value)
