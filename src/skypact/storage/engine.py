"""Database engines and schema migrations.

Two backends are supported:

- **SQLite** (the embedded default, ``sqlite:///path/to/skypact.db``): a file, in WAL
  journal mode with ``synchronous=FULL`` (an acknowledgement to a client means the data
  is committed and survives a power cut), foreign keys enforced and a busy timeout so
  that concurrent writers wait for each other instead of failing. SQLAlchemy, not the
  ``sqlite3`` module, emits ``BEGIN``: a plain (deferred) one for reads and
  ``BEGIN IMMEDIATE`` for connections carrying the :data:`WRITE` execution option, so a
  write transaction holds SQLite's write lock from its first statement (its reads cannot
  go stale) and writers are serialised.
- **PostgreSQL** (production, ``postgresql://user@host/db``): always through the
  psycopg 3 driver (``postgresql+psycopg``).

Migrations are Alembic's, shipped inside the package (``skypact/storage/migrations``) and
configured in code: no ``alembic.ini`` is needed. :func:`migrate` brings a database to
the newest revision; :func:`check_at_head` is what a repository calls before using one.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from skypact.errors import ConfigError, MigrationError, StorageError

__all__ = [
    "BUSY_TIMEOUT_S",
    "MIGRATIONS_DIR",
    "WRITE",
    "alembic_config",
    "check_at_head",
    "current_revision",
    "default_url",
    "head_revision",
    "make_engine",
    "migrate",
]

_log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
"""Where the Alembic environment (``env.py``, ``versions/``) is shipped."""

WRITE = "skypact_write"
"""Execution option marking a connection whose transactions write (SQLite: IMMEDIATE)."""

BUSY_TIMEOUT_S = 30.0
"""How long a SQLite connection waits for another writer's lock before failing."""

_MIGRATION_LOCK_KEY = 0x5350_4D49_4752
"""PostgreSQL advisory lock taken while migrating, so two migrators run one at a time."""


def default_url(data_dir: str | os.PathLike[str]) -> str:
    """The URL of the default SQLite database in a data directory.

    >>> default_url("/var/lib/skypact")
    'sqlite:////var/lib/skypact/skypact.db'
    """
    return f"sqlite:///{Path(data_dir) / 'skypact.db'}"


def make_engine(url: str) -> sa.Engine:
    """An engine for a SQLite file or a PostgreSQL server (see the module docstring).

    Args:
        url: ``sqlite:///relative/path.db``, ``sqlite:////absolute/path.db`` (the parent
            directory is created) or ``postgresql://user:password@host:port/database``
            (``postgres://`` and ``postgresql+psycopg://`` are accepted too).

    Raises:
        ConfigError: the URL is malformed, names another database system or driver,
            or an in-memory SQLite database (which cannot be shared between
            connections, so it cannot hold SkyPact's data).
    """
    try:
        parsed = sa.make_url(url)
    except ArgumentError as exc:
        raise ConfigError("storage.url", url, "not a database URL") from exc
    shown = parsed.render_as_string(hide_password=True)
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        return _sqlite_engine(parsed, shown)
    if parsed.drivername in ("postgres", "postgresql", "postgresql+psycopg"):
        return sa.create_engine(
            parsed.set(drivername="postgresql+psycopg"), pool_pre_ping=True
        )
    raise ConfigError(
        "storage.url",
        shown,
        "SkyPact stores data in SQLite (sqlite:///path) or PostgreSQL (postgresql://...)",
    )


def _sqlite_engine(url: sa.URL, shown: str) -> sa.Engine:
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        raise ConfigError(
            "storage.url", shown, "SQLite needs a file path (sqlite:///path/skypact.db)"
        )
    Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(
        url,
        connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False},
    )
    sa.event.listen(engine, "connect", _sqlite_connect)
    sa.event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: object) -> None:
    # Take BEGIN away from the sqlite3 module (which would skip it before SELECTs and
    # DDL): SQLAlchemy emits it in _sqlite_begin. See SQLAlchemy's SQLite dialect notes.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    finally:
        cursor.close()


def _sqlite_begin(connection: sa.Connection) -> None:
    immediate = connection.get_execution_options().get(WRITE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def alembic_config(url: str | None = None) -> Config:
    """An Alembic configuration for the shipped migrations (no ``alembic.ini``).

    Args:
        url: the database, for Alembic commands run without a connection of ours (a
            developer's ``command.revision(alembic_config(url), autogenerate=True)``).
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest revision this version of SkyPact ships."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships a revision
        raise MigrationError("SkyPact ships no migrations")
    return head


@contextmanager
def _engine_for(target: sa.Engine | str) -> Iterator[sa.Engine]:
    if isinstance(target, sa.Engine):
        yield target
        return
    engine = make_engine(target)
    try:
        yield engine
    finally:
        engine.dispose()


def _shown(engine: sa.Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def migrate(target: sa.Engine | str) -> str:
    """Upgrade a database to the newest revision (creating the schema if it is empty).

    Runs in one transaction (both backends have transactional DDL), under an advisory
    lock on PostgreSQL so that concurrent migrators do not collide. Safe to repeat.

    Args:
        target: an engine from :func:`make_engine`, or a URL.

    Returns:
        The database's revision afterwards (the head).

    Raises:
        MigrationError: the database is unreachable, was migrated by a newer SkyPact
            (its revision is unknown here), or a migration step failed.
    """
    with _engine_for(target) as engine:
        config = alembic_config()
        try:
            with engine.connect() as connection:
                connection.execution_options(**{WRITE: True})
                with connection.begin():
                    if engine.dialect.name == "postgresql":
                        connection.execute(
                            sa.text("SELECT pg_advisory_xact_lock(:key)"),
                            {"key": _MIGRATION_LOCK_KEY},
                        )
                    before = MigrationContext.configure(
                        connection
                    ).get_current_revision()
                    config.attributes["connection"] = connection
                    command.upgrade(config, "head")
                    after = MigrationContext.configure(
                        connection
                    ).get_current_revision()
        except (SQLAlchemyError, CommandError, RevisionError) as exc:
            raise MigrationError(
                f"cannot migrate the database {_shown(engine)}: {exc}"
            ) from exc
        if after is None:  # pragma: no cover - upgrade to head always stamps
            raise MigrationError(f"{_shown(engine)}: no revision after migrating")
        if before != after:
            _log.info("migrated %s from %s to %s", _shown(engine), before, after)
        return after


def current_revision(target: sa.Engine | str) -> str | None:
    """The database's revision, or None if it has no SkyPact schema yet.

    Raises:
        StorageError: the database cannot be read.
    """
    with _engine_for(target) as engine:
        try:
            with engine.connect() as connection:
                return MigrationContext.configure(connection).get_current_revision()
        except SQLAlchemyError as exc:
            raise StorageError(
                f"cannot read the schema revision of {_shown(engine)}: {exc}"
            ) from exc


def check_at_head(target: sa.Engine | str) -> str:
    """Refuse a database that is not at the newest revision.

    Returns:
        The head revision.

    Raises:
        MigrationError: the database is empty, older than this SkyPact (run
            ``skypact db migrate``) or newer (its revision is unknown here).
        StorageError: the database cannot be read.
    """
    head = head_revision()
    with _engine_for(target) as engine:
        current = current_revision(engine)
        where = _shown(engine)
    if current == head:
        return head
    if current is None:
        raise MigrationError(
            f"the database {where} has no SkyPact schema (no revision; head is {head}):"
            " run `skypact db migrate`"
        )
    known = ScriptDirectory.from_config(alembic_config())
    try:
        known.get_revision(current)
    except (CommandError, RevisionError):
        raise MigrationError(
            f"the database {where} is at revision {current}, unknown to this SkyPact"
            f" (head {head}): it was migrated by a newer version"
        ) from None
    raise MigrationError(
        f"the database {where} is at revision {current}, this SkyPact needs {head}:"
        " run `skypact db migrate`"
    )
