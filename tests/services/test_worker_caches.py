"""A worker's caches ask the database nothing between changes, and never serve a stale answer:
the cache generation moves with every change, and a scheduled caps version ends the cache of
active versions when it is due (no write happens then)."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import sqlalchemy as sa

from remedy.extensions import db
from remedy.services import app_services
from remedy.services.configs import ConfigService
from remedy.services.keys import KeyService
from remedy.store import generation
from remedy.store.tables import utcnow
from tests.factories import default_document


@contextmanager
def counted(app):
    """Count the statements the app's engine runs inside the block: through SQLAlchemy, and
    the generation read on the driver's cursor when a connection is checked out."""
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    def checkout(_dbapi_connection, record, _proxy) -> None:
        if generation.AT_CHECKOUT in record.info:  # runs after the generation's listener
            statements.append(generation.READ)

    engine = db.database(app).engine
    sa.event.listen(engine, "before_cursor_execute", count)
    sa.event.listen(engine, "checkout", checkout)
    try:
        yield statements
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
        sa.event.remove(engine, "checkout", checkout)


def test_between_changes_a_request_reads_only_the_generation(app):
    provider = app_services.engines(app)
    with db.database(app).unit_of_work() as session:
        token, _ = KeyService(session).create("agent")
    principals = app_services.principals(app)
    with db.database(app).unit_of_work() as session:  # the first request loads and caches
        KeyService(session).authenticate(token, principals)
        provider.engine(session)
    with db.database(app).unit_of_work() as session, counted(app) as statements:
        assert KeyService(session).authenticate(token, principals).role == "agent"
        engine = provider.engine(session)
    assert statements == ["SELECT value FROM cache_generation WHERE id = 1"]
    assert engine.ranker.scorer.version == "heuristic-prior-1"  # no model promoted


def test_a_scheduled_caps_version_is_used_once_due_without_any_write(app):
    provider = app_services.engines(app)
    with db.database(app).unit_of_work() as session:
        before = provider.active_versions(session)["caps"]
    due = utcnow() + timedelta(hours=1)
    document = {**default_document("caps"), "effective_at": due.isoformat()}
    with db.database(app).unit_of_work() as session:
        ConfigService(session).replace("caps", document, "test")
    with db.database(app).unit_of_work() as session:
        assert provider.active_versions(session)["caps"] == before  # not yet in effect
        with counted(app) as statements:
            assert provider.active_versions(session)["caps"] == before  # cached
            assert statements == []
            later = provider.active_versions(session, now=due + timedelta(seconds=1))
        assert later["caps"] == before + 1
        assert len(statements) == 2  # the versions and the next scheduled change
