"""One unit of work per API request: the request's session commits when the answer is a success
and rolls back otherwise; a value the database cannot hold is 422, any other failed commit 503
(nothing was saved either way)."""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, g
from sqlalchemy.exc import DataError, SQLAlchemyError
from sqlalchemy.orm import Session

from remedy.api.errors import envelope

log = logging.getLogger(__name__)


def register_unit_of_work(app: Flask) -> None:
    """Commit or roll back each request's session after the view has answered."""
    app.after_request(_commit_or_rollback)
    app.teardown_appcontext(_close_session)


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
