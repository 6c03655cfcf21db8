"""The database: one engine per app, one session per request, committed as a unit of work."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

# Registers the ORM events that bump the cache generation on every watched change.
from remedy.store import generation

# SQLite: wait this long for another writer's lock before failing (the driver's `timeout` and
# the pragma set the same handler; the pragma makes it visible to `PRAGMA busy_timeout`).
SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_PRAGMAS = (
    # Readers never block the writer nor it them; several worker processes share the file.
    "PRAGMA journal_mode=WAL",
    f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
    # In WAL mode NORMAL is safe against corruption and loses at most the last commits on a
    # power cut (not on a process crash); FULL would fsync on every commit.
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA temp_store=MEMORY",
)
DEFAULT_POOL_SIZE = 5


@dataclass(frozen=True)
class Timeouts:
    """How long anything waits for the database, so a hung server costs a bounded wait.

    A server that accepts connections but never answers used to hold every request for the
    kernel's TCP timeout (~130 s): `connect_seconds` bounds opening a connection (the whole
    handshake, PostgreSQL's startup included), `statement_ms` each statement on the server
    (PostgreSQL's `statement_timeout`; 0 is none) and `pool_seconds` the wait for a free
    connection of the pool. Each ends in an error the API answers 503 with Retry-After.
    """

    connect_seconds: float = 3.0
    statement_ms: int = 0
    pool_seconds: float = 30.0


def make_engine(
    url: str, pool_size: int | None = None, timeouts: Timeouts | None = None
) -> sa.Engine:
    """Create an engine; SQLite gets WAL, a busy timeout, synchronous=NORMAL and foreign keys.

    `pool_size` is the connections kept per process: `remedy serve` sets it to the threads of
    a worker (REMEDY_DATABASE_POOL_SIZE), so no request thread waits for a connection.
    `timeouts` default to a connect timeout only (migrations and tools may run long
    statements); the app passes the configured ones.
    """
    size = pool_size or DEFAULT_POOL_SIZE
    timeouts = timeouts or Timeouts()
    if url.startswith("sqlite"):
        # A file opens at once; the busy timeout is SQLite's wait for another writer's lock.
        engine = sa.create_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            pool_size=size,
            max_overflow=size,
            pool_timeout=timeouts.pool_seconds,
        )

        @sa.event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            """Set the pragmas above on every new SQLite connection."""
            cursor = dbapi_connection.cursor()
            for pragma in SQLITE_PRAGMAS:
                cursor.execute(pragma)
            cursor.close()

        generation.read_at_checkout(engine)
        return engine
    # PostgreSQL: a worker's threads each hold at most one connection; the overflow covers
    # the CLI and short bursts. Connections the server closed are replaced at checkout by the
    # generation read, which pings in the same round trip (remedy/store/generation.py).
    # What the URL's own query sets (?connect_timeout=, ?options=) wins over the settings.
    given = sa.engine.make_url(url).query
    connect_args: dict[str, object] = {}
    if "connect_timeout" not in given:
        connect_args["connect_timeout"] = max(1, round(timeouts.connect_seconds))
    if timeouts.statement_ms and "options" not in given:
        connect_args["options"] = f"-c statement_timeout={int(timeouts.statement_ms)}"
    engine = sa.create_engine(
        url,
        pool_size=size,
        max_overflow=size,
        pool_timeout=timeouts.pool_seconds,
        connect_args=connect_args,
    )
    generation.read_at_checkout(engine)
    return engine


def begin_write(session: Session) -> None:
    """Serialise this transaction with every other writer on SQLite, before its first read.

    PostgreSQL writers serialise on the rows they lock (`SELECT ... FOR UPDATE`). SQLite has one
    writer at a time but, with the driver's deferred transactions, two writers could both read a
    balance before either takes the write lock; `BEGIN IMMEDIATE` takes it first (waiting up to
    the busy timeout). The driver opens a transaction only before a write, so earlier reads of
    this session (authentication) have not begun one; if a write already began it, this
    transaction holds the write lock already.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    dbapi_connection = connection.connection.dbapi_connection
    if dbapi_connection is not None and not dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def begin_snapshot(session: Session) -> None:
    """Make every read of this (fresh) session's transaction see one consistent snapshot.

    Call before the session's first statement. Writers are not blocked: SQLite's WAL lets a
    read transaction keep its snapshot; PostgreSQL gets REPEATABLE READ, read only.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.connection().exec_driver_sql("BEGIN")
    else:
        session.connection(
            execution_options={"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
        )


class Database:
    """An engine and its session factory."""

    def __init__(
        self, url: str, pool_size: int | None = None, timeouts: Timeouts | None = None
    ) -> None:
        """Connect lazily to `url`, keeping up to `pool_size` connections."""
        self.url = url
        self.engine = make_engine(url, pool_size, timeouts)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """Yield a session; commit if the block succeeds, roll back if it raises."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
