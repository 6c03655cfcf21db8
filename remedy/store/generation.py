"""The cache generation: one counter row that tells a web worker whether what it cached is stale.

Workers keep what changes rarely in memory (an API key's principal, the active catalog, rules
and caps with the engine built from them, the promoted model) and read this one row per request
instead of asking for each of them. Every ORM change to a watched table bumps the counter in the
same flush, so in the same transaction: a request that starts after a revocation, a new
configuration version or a promotion committed reads the new generation, drops what it cached
and loads again. The change takes effect on the very next request, in every worker process on
every host, and a change that rolls back invalidates nothing.

Why a counter row rather than PostgreSQL's LISTEN/NOTIFY: it works the same on SQLite and
PostgreSQL; it is transactional (no window between a commit and a notification, no notification
lost while a listening connection reconnects, no listener thread per worker); and its cost is
one primary-key read per request, which replaces the three it saves (key, active versions,
model). Writes that bypass the ORM (raw SQL, bulk `sa.update`) on a watched table must call
`bump` themselves.

That read happens when a connection is checked out of the pool (`read_at_checkout`), on the
driver's own cursor, and doubles as the check that the connection is alive (what
`pool_pre_ping` did with `SELECT 1`): on PostgreSQL the request's first round trip both pings
and reads the generation, and on both databases it skips SQLAlchemy's statement machinery,
which cost more than the read (issue 26: a `GET /v1/whoami` is little else). The value is
read before any of the request's own reads, so whatever the request then loads and caches is
at least that generation's.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, SessionTransaction

from remedy.store.tables import (
    ApiKey,
    CacheGeneration,
    ConfigVersion,
    ModelExperiment,
    ModelPromotion,
)

# Changes to rows of these classes invalidate what workers cache.
WATCHED = (ApiKey, ConfigVersion, ModelPromotion, ModelExperiment)
ROW_ID = 1
_INFO_KEY = "remedy.cache_generation"
_MISSING = object()
READ = "SELECT value FROM cache_generation WHERE id = 1"  # ROW_ID
AT_CHECKOUT = "remedy.generation_at_checkout"  # in a pooled connection's info


def current(session: Session) -> int | None:
    """The generation this session's transaction works with (read once per transaction: when
    its connection was checked out, else now).

    None when the counter row is missing (a database not migrated to 0008): callers then cache
    nothing.
    """
    value = session.info.get(_INFO_KEY, _MISSING)
    if value is _MISSING:
        connection = session.connection()
        value = connection.info.pop(AT_CHECKOUT, _MISSING)
        if value is _MISSING:
            # Plain SQL: SQLAlchemy's statement machinery would cost more than the query.
            value = connection.exec_driver_sql(READ).scalar()
        session.info[_INFO_KEY] = value
    return value  # type: ignore[return-value]


def read_at_checkout(engine: sa.Engine) -> None:
    """Read the generation whenever `engine`'s pool hands out a connection (the value waits in
    the connection's info for `current`), and replace a connection the server closed.

    On PostgreSQL the read runs in autocommit (no transaction is left open, so the session may
    still choose its isolation level). A disconnect raises `DisconnectionError`, on which the
    pool opens a fresh connection and tries again (as pre-ping did); any other error (no
    counter table yet) leaves the read to `current`.
    """
    dialect = engine.dialect
    postgres = dialect.name == "postgresql"

    @sa.event.listens_for(engine, "checkout")
    def _read(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        record.info.pop(AT_CHECKOUT, None)
        try:
            row = _read_row(dbapi_connection, postgres)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                raise sa.exc.DisconnectionError(str(error)) from error
            return
        record.info[AT_CHECKOUT] = row[0] if row is not None else None

    @sa.event.listens_for(engine, "checkin")
    def _forget(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info.pop(AT_CHECKOUT, None)


def _read_row(dbapi_connection: Any, postgres: bool) -> Any:
    """The counter row, read on the driver's cursor (autocommit on PostgreSQL)."""
    if postgres:
        dbapi_connection.autocommit = True
    try:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(READ)
            return cursor.fetchone()
        finally:
            cursor.close()
    finally:
        if postgres and not dbapi_connection.closed:
            dbapi_connection.autocommit = False


def bump(session: Session) -> None:
    """Move the generation on, in this session's transaction (the ORM does it on its own)."""
    table = CacheGeneration.__table__
    session.connection().execute(
        sa.update(table).where(table.c.id == ROW_ID).values(value=table.c.value + 1)
    )
    session.info.pop(_INFO_KEY, None)


@sa.event.listens_for(Session, "after_flush")
def _bump_on_watched_change(session: Session, _context: Any) -> None:
    """Bump the generation when this flush wrote a watched row (same transaction)."""
    changed = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(row, WATCHED) for row in changed):
        bump(session)


@sa.event.listens_for(Session, "after_transaction_end")
def _forget_generation(session: Session, transaction: SessionTransaction) -> None:
    """Read the generation again in the session's next transaction (the next request)."""
    if transaction.parent is None:
        session.info.pop(_INFO_KEY, None)


class GenerationCache:
    """Values valid for one generation, shared by a worker's threads.

    A value is served only to a request that read the same generation as the request that
    loaded it; a request that reads another generation finds nothing and loads again, and its
    `put` starts a cache for its generation. With no generation (None) nothing is cached.
    """

    def __init__(self, max_entries: int = 10_000) -> None:
        """Hold at most `max_entries` values (all are dropped when it is full)."""
        self.max_entries = max_entries
        # One tuple, replaced whole: a reader never pairs one generation with another's values.
        self._state: tuple[int | None, dict[Hashable, Any]] = (None, {})
        self._lock = threading.Lock()

    def get(self, generation: int | None, key: Hashable, default: Any = None) -> Any:
        """Return the value cached for `key` under `generation`, else `default`."""
        cached_generation, values = self._state
        if generation is None or generation != cached_generation:
            return default
        return values.get(key, default)

    def put(self, generation: int | None, key: Hashable, value: Any) -> None:
        """Cache `value` for `key` under `generation`."""
        if generation is None:
            return
        with self._lock:
            cached_generation, values = self._state
            if generation != cached_generation or len(values) >= self.max_entries:
                values = {}
                self._state = (generation, values)
            values[key] = value
