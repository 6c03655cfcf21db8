"""Alembic environment: the URL comes from the caller's config or REMEDY_DATABASE_URL."""

from __future__ import annotations

import os

from alembic import context

from remedy.store.session import make_engine
from remedy.store.tables import Base

config = context.config
target_metadata = Base.metadata


def database_url() -> str:
    """Return the URL set by `remedy.store.migrate` or, for the alembic CLI, the environment."""
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("REMEDY_DATABASE_URL")
    if not url:
        raise SystemExit("set REMEDY_DATABASE_URL to the database to migrate")
    return url


def run_migrations_offline() -> None:
    """Emit SQL without connecting."""
    context.configure(url=database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate over a live connection (batch mode so SQLite can alter tables)."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(database_url())
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    """Configure the context on a connection and run the migrations."""
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
