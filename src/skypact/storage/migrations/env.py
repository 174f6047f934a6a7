"""Alembic environment for SkyPact's shipped migrations (configured in code).

:func:`skypact.storage.engine.migrate` passes its own connection, already inside a
transaction, in ``config.attributes["connection"]``; without one (a developer running
an Alembic command on :func:`skypact.storage.engine.alembic_config` with a URL) this
environment connects to ``sqlalchemy.url`` itself. Offline (SQL script) mode is not
supported: SkyPact's migrations are applied to a live database.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from skypact.storage.engine import make_engine
from skypact.storage.schema import metadata


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    if context.is_offline_mode():
        raise RuntimeError("SkyPact's migrations run online only (skypact db migrate)")
    given = context.config.attributes.get("connection")
    if isinstance(given, sa.Connection):
        _run(given)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("alembic_config() needs a URL when no connection is given")
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()


_main()
