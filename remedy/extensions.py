"""Extension objects, created unbound here and bound to an app in create_app."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from remedy.store.session import Database, Timeouts


class DatabaseExtension:
    """One Database per app; `session()` opens one session per request (the API commits it when
    the response is a success: remedy/api/unit_of_work.py)."""

    def init_app(self, app: Flask) -> None:
        """Create the engine."""
        timeouts = Timeouts(
            connect_seconds=app.config["DATABASE_CONNECT_TIMEOUT"],
            statement_ms=app.config["DATABASE_STATEMENT_TIMEOUT_MS"],
            pool_seconds=app.config["DATABASE_POOL_TIMEOUT"],
        )
        app.extensions["remedy.db"] = Database(
            app.config["DATABASE_URL"], app.config.get("DATABASE_POOL_SIZE"), timeouts
        )

    @staticmethod
    def database(app: Flask | None = None) -> Database:
        """Return the app's Database."""
        return (app or current_app).extensions["remedy.db"]


db = DatabaseExtension()


def mark_public(app: Flask, *endpoints: str) -> None:
    """Serve these endpoints without an API key and without rate limits (health, docs, the
    console's page shells): each part of the app declares its own in `create_app`."""
    app.extensions.setdefault("remedy.public_endpoints", set()).update(endpoints)


def mark_keyless(app: Flask, *endpoints: str) -> None:
    """Serve these endpoints without an API key but rate-limited per address (the panel's
    sign-in, whose body carries its own credential)."""
    app.extensions.setdefault("remedy.keyless_endpoints", set()).update(endpoints)


def mark_bulk(app: Flask, limit_bytes: int, *endpoints: str) -> None:
    """Let these endpoints take bodies up to `limit_bytes` (instead of MAX_CONTENT_LENGTH) and
    as CSV or multipart as well as JSON (a mass incident's thousands of customers)."""
    app.extensions.setdefault("remedy.bulk_endpoints", {}).update(
        dict.fromkeys(endpoints, limit_bytes)
    )


def bulk_limit(endpoint: str | None) -> int | None:
    """The body limit of a bulk endpoint, or None for every other."""
    return current_app.extensions.get("remedy.bulk_endpoints", {}).get(endpoint)


def is_keyless(endpoint: str | None) -> bool:
    """Tell whether this request's endpoint takes no API key (public or keyless)."""
    return is_public(endpoint) or endpoint in current_app.extensions.get(
        "remedy.keyless_endpoints", ()
    )


def is_public(endpoint: str | None) -> bool:
    """Tell whether this request's endpoint was marked public."""
    return endpoint in current_app.extensions.get("remedy.public_endpoints", ())


def session() -> Session:
    """Return this request's session, opening it on first use."""
    if "db_session" not in g:
        g.db_session = db.database().sessions()
    return g.db_session
