"""Extension objects, created unbound here and bound to an app in create_app."""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, g
from sqlalchemy.exc import DataError, SQLAlchemyError
from sqlalchemy.orm import Session

from remedy.api.errors import envelope
from remedy.store.session import Database

log = logging.getLogger(__name__)


class DatabaseExtension:
    """One Database per app; one session per request, committed when the response is a success."""

    def init_app(self, app: Flask) -> None:
        """Create the engine and install the unit-of-work hooks."""
        app.extensions["remedy.db"] = Database(app.config["DATABASE_URL"])
        app.after_request(_commit_or_rollback)
        app.teardown_appcontext(_close_session)

    @staticmethod
    def database(app: Flask | None = None) -> Database:
        """Return the app's Database."""
        return (app or current_app).extensions["remedy.db"]


db = DatabaseExtension()


def session() -> Session:
    """Return this request's session, opening it on first use."""
    if "db_session" not in g:
        g.db_session = db.database().sessions()
    return g.db_session


def _commit_or_rollback(response: Response) -> Response:
    """Commit the request's work if it succeeded; roll back otherwise."""
    current: Session | None = g.pop("db_session", None)
    if current is None:
        return response
    try:
        if response.status_code < 400:
            current.commit()
        else:
            current.rollback()
    except (DataError, OverflowError) as error:
        # A value its column cannot hold (PostgreSQL: DataError; SQLite's driver: OverflowError):
        # the request's fault, and a retry would fail the same way, so never 503.
        current.rollback()
        log.warning("commit refused a value: %s", error)
        message = "A value is out of range for storage."
        refused = current_app.json.response(
            envelope(422, "Unprocessable Entity", message, {"_request": [message]})
        )
        refused.status_code = 422
        return refused
    except SQLAlchemyError as error:
        current.rollback()
        log.warning("commit failed: %s", error)
        failed = current_app.json.response(
            envelope(503, "Service Unavailable", "The change could not be saved; retry later.")
        )
        failed.status_code = 503
        failed.headers["Retry-After"] = "5"
        return failed
    finally:
        current.close()
    return response


def _close_session(_exc: BaseException | None) -> None:
    """Close a session left open by an error before after_request ran."""
    current: Session | None = g.pop("db_session", None)
    if current is not None:
        current.rollback()
        current.close()
