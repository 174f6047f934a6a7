"""Storage fixtures: a fresh real database per test, on SQLite and on PostgreSQL.

``database_url`` is parametrised over ``sqlite`` (a file in the test's tmp_path) and
``postgresql`` (a ``CREATE DATABASE test_<random>`` on a real server, dropped after the
test; marked ``postgres``). The server is the one ``SKYPACT_TEST_POSTGRES_URL`` names
(``eval "$(bash scripts/postgres start)"``); when that is unset, the first PostgreSQL
test starts one with ``scripts/postgres`` for the session and stops it at the end. If no
server can be had, the PostgreSQL tests fail: they are never skipped.

Other test directories use these fixtures by importing them into their own conftest::

    from tests.integration.storage.conftest import (  # noqa: F401
        database_url,
        postgres_server_url,
    )
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from skypact.audit.model import AuditSigner
from skypact.storage import Repository, make_engine, migrate

POSTGRES_SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "postgres"

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


class StepClock:
    """A clock for the repository that moves on by ``step_s`` at every reading."""

    def __init__(self, start_s: float = 1_700_000_000.0, step_s: float = 0.25) -> None:
        self.now_s = start_s
        self.step_s = step_s

    def __call__(self) -> float:
        now_s = self.now_s
        self.now_s += self.step_s
        return now_s


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """A running PostgreSQL server's URL (its ``skypact_test`` database)."""
    given = os.environ.get("SKYPACT_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    env = {k: v for k, v in os.environ.items() if k != "SKYPACT_TEST_POSTGRES_DIR"}
    started = subprocess.run(
        ["bash", str(POSTGRES_SCRIPT), "start"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    exports = dict(re.findall(r"^export (\w+)=(\S+)$", started.stdout, re.MULTILINE))
    if started.returncode != 0 or "SKYPACT_TEST_POSTGRES_URL" not in exports:
        pytest.fail(
            "no PostgreSQL server for the storage tests: `bash scripts/postgres start`"
            f" exited {started.returncode}:\n{started.stderr}",
            pytrace=False,
        )
    try:
        yield exports["SKYPACT_TEST_POSTGRES_URL"]
    finally:
        subprocess.run(
            ["bash", str(POSTGRES_SCRIPT), "stop"],
            capture_output=True,
            env={
                **env,
                "SKYPACT_TEST_POSTGRES_DIR": exports["SKYPACT_TEST_POSTGRES_DIR"],
            },
            check=False,
        )


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, empty database (SQLite file or PostgreSQL database)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'skypact.db'}"
        return
    server = sa.make_url(request.getfixturevalue("postgres_server_url"))
    name = f"test_{secrets.token_hex(6)}"
    admin = sa.create_engine(
        server.set(drivername="postgresql+psycopg"),
        isolation_level="AUTOCOMMIT",
        poolclass=NullPool,
    )
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield server.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[sa.Engine]:
    """An engine on the fresh database (not migrated)."""
    made = make_engine(database_url)
    try:
        yield made
    finally:
        made.dispose()


@pytest.fixture
def signer() -> AuditSigner:
    return AuditSigner.generate()


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture
def repo(engine: sa.Engine, signer: AuditSigner, clock: StepClock) -> Repository:
    """A repository on a freshly migrated database."""
    migrate(engine)
    return Repository(engine, signer, clock)
