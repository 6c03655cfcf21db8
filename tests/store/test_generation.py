"""The cache generation: which changes move it, the cache that follows it, SQLite's pragmas."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from remedy.extensions import db
from remedy.services.configs import ConfigService
from remedy.services.keys import KeyService
from remedy.services.model_registry import ModelRegistry, seed_bundled
from remedy.store import generation
from remedy.store.generation import GenerationCache
from remedy.store.session import make_engine
from tests.factories import default_document, set_pool


def generation_now(app) -> int:
    """The committed generation, read in a fresh session."""
    with db.database(app).unit_of_work() as session:
        return generation.current(session)


def test_the_migration_creates_the_counter_row(database_url):
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT id, value FROM cache_generation")).all()
    engine.dispose()
    assert len(rows) == 1 and rows[0][0] == 1 and rows[0][1] >= 0


def test_keys_configuration_and_promotions_move_it_and_nothing_else_does(app, tmp_path: Path):
    start = generation_now(app)
    with db.database(app).unit_of_work() as session:
        KeyService(session).create("agent", label="x")
    after_create = generation_now(app)
    assert after_create == start + 1
    set_pool(app, "emea", "100")  # pools are not cached: no move
    assert generation_now(app) == after_create
    with db.database(app).unit_of_work() as session:
        prefix = KeyService(session).list()[0].prefix
        KeyService(session).revoke(prefix, actor="test")
    assert generation_now(app) == after_create + 1
    with db.database(app).unit_of_work() as session:
        ConfigService(session).replace("caps", default_document("caps"), "test")
    assert generation_now(app) == after_create + 2
    with db.database(app).unit_of_work() as session:
        seed_bundled(session, tmp_path / "cache")  # registers three, promotes the newest
    moved = generation_now(app)
    assert moved > after_create + 2
    with db.database(app).unit_of_work() as session:
        ModelRegistry(session).promote("sim-2", "test")
    assert generation_now(app) == moved + 1


def test_a_rolled_back_change_does_not_move_it(app):
    start = generation_now(app)
    session = db.database(app).sessions()
    KeyService(session).create("agent")
    session.rollback()
    session.close()
    assert generation_now(app) == start


def test_a_session_reads_it_once_per_transaction(app):
    session = db.database(app).sessions()
    first = generation.current(session)
    with db.database(app).unit_of_work() as other:
        KeyService(other).create("agent")
    assert generation.current(session) == first  # the same request keeps its reading
    session.commit()
    assert generation.current(session) == first + 1  # the next one reads again
    session.close()


def test_the_cache_serves_a_value_only_under_the_generation_it_was_loaded_for():
    cache = GenerationCache(max_entries=2)
    cache.put(4, "a", "alpha")
    assert cache.get(4, "a") == "alpha"
    assert cache.get(5, "a") is None  # moved on: load again
    cache.put(5, "b", "beta")
    assert cache.get(4, "a") is None and cache.get(5, "b") == "beta"
    assert cache.get(None, "b") is None  # no counter row: nothing is cached
    cache.put(None, "c", "gamma")
    assert cache.get(5, "c") is None
    cache.put(5, "c", "gamma")
    cache.put(5, "d", "delta")  # full: starts again
    assert cache.get(5, "b") is None and cache.get(5, "d") == "delta"


def test_sqlite_connections_get_wal_busy_timeout_and_synchronous_normal(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'p.sqlite'}", pool_size=3)
    with engine.connect() as connection:
        pragma = lambda name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("busy_timeout") == 30000
        assert pragma("synchronous") == 1  # NORMAL
        assert pragma("foreign_keys") == 1
        assert pragma("temp_store") == 2  # MEMORY
    assert engine.pool.size() == 3
    engine.dispose()


def test_the_pool_holds_the_configured_connections(database_url):
    engine = make_engine(database_url, pool_size=6)
    assert engine.pool.size() == 6
    engine.dispose()


def test_a_checkout_reads_the_generation_and_replaces_a_closed_connection(database_url):
    """The pool's checkout reads the generation for the session (no statement of its own) and,
    when the server closed the connection, opens a fresh one (what pre-ping did)."""
    from sqlalchemy.orm import Session

    engine = make_engine(database_url, pool_size=1)
    with Session(engine) as session:
        value = generation.current(session)
        assert value is not None and value >= 0
        assert generation.AT_CHECKOUT not in session.connection().info  # taken, not left
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            victim = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        killer = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
        with killer.connect() as connection:
            connection.exec_driver_sql(f"SELECT pg_terminate_backend({int(victim)})")
        killer.dispose()
    with Session(engine) as session:  # the pooled connection is dead on PostgreSQL
        assert generation.current(session) == value
        assert session.connection().exec_driver_sql("SELECT 1").scalar() == 1
    engine.dispose()
