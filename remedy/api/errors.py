"""The one error envelope: {code, status, message, errors: {field: [messages]}}.

Validation errors from webargs arrive nested by location ({"json": {"incident": {"severity":
[...]}}}); they are flattened to dotted field paths ("incident.severity") so a client can point
at the field. Domain errors map to their status; anything unexpected becomes a logged 500.
"""

from __future__ import annotations

import logging
from typing import Any

import marshmallow as ma
from flask import Flask, current_app
from flask_smorest import Api
from flask_smorest.error_handler import ErrorSchema
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed
from werkzeug.http import HTTP_STATUS_CODES

from remedy.api.ratelimit import retry_after
from remedy.api.reading import current_reader
from remedy.errors import (
    Conflict,
    DomainError,
    Forbidden,
    InvalidInput,
    LimitsExceeded,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
)
from remedy.facts import Many, fact
from remedy.presenting import Presenter

log = logging.getLogger(__name__)

_DEFAULT_MESSAGES = {
    400: "The request could not be read.",
    401: "A valid API key is required: send 'Authorization: Bearer <key>'.",
    403: "This key's role may not do this.",
    404: "Not found.",
    405: "Method not allowed on this resource.",
    413: "The request body is too large.",
    415: "Send the body as application/json.",
    422: "The request has invalid fields.",
    429: "Too many requests.",
    500: "Internal error; it has been logged.",
    503: "The service is temporarily unavailable; retry later.",
}


def flatten(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    """Flatten nested marshmallow/webargs errors into {'a.b.c': [messages]}."""
    if isinstance(errors, dict):
        flat: dict[str, list[str]] = {}
        for key, value in errors.items():
            if key == "_schema":  # marshmallow's "the object as a whole": name the object
                path = prefix
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            for field, messages in flatten(value, path).items():
                flat.setdefault(field, []).extend(messages)
        return flat
    if isinstance(errors, list | tuple):
        messages: list[str] = []
        nested: dict[str, list[str]] = {}
        for item in errors:
            if isinstance(item, dict | list):
                nested.update(flatten(item, prefix))
            else:
                messages.append(str(item))
        if messages:
            nested.setdefault(prefix or "_request", []).extend(messages)
        return nested
    return {prefix or "_request": [str(errors)]}


def _strip_location(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """Drop webargs's location prefix ('json.', 'query.', 'headers.')."""
    cleaned: dict[str, list[str]] = {}
    for field, messages in errors.items():
        location, _, rest = field.partition(".")
        if location in ("json", "query", "headers", "form", "view_args") and rest:
            field = rest
        elif location in ("json", "query", "headers", "form") and not rest:
            field = "_request"
        cleaned.setdefault(field, []).extend(messages)
    return cleaned


def envelope(code: int, status: str, message: str, errors: dict[str, list[str]] | None = None):
    """Build the error body."""
    return {"code": code, "status": status, "message": message, "errors": errors or {}}


# What did not fit, by LimitsExceeded.what: the summary's fact code.
_LIMITS_SUMMARY = {"plan": "limits_plan", "overage": "limits_overage"}


def limits_envelope(error: LimitsExceeded) -> dict[str, Any]:
    """A 409 for limits that would break, said in the reader's language (English when the
    request names none: no customer is reading), with each limit's fact beside its words."""
    reader = current_reader()
    presenter = Presenter(reader.locale or "en", finance=reader.finance)
    limits = presenter.say_all(error.limits)
    summary = fact(_LIMITS_SUMMARY[error.what], limits=Many(tuple(error.limits), "; "))
    body = envelope(409, "Conflict", presenter.say(summary) or "; ".join(limits), {"limit": limits})
    body["facts"] = {"limit": [limit.to_json() for limit in error.limits]}
    return body


class RemedyErrorSchema(ErrorSchema):
    """The error envelope, documented: flask-smorest's fields and, where an error is data (a
    409's broken limits), the facts behind the words of `errors`."""

    facts = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.Dict()),
        metadata={
            "description": "per field, the facts its messages say ({code, params}): e.g. "
            "`facts.limit` holds each broken limit's code and exact amounts"
        },
    )


class RemedyApi(Api):
    """flask-smorest's Api with remedy's error envelope."""

    ERROR_SCHEMA = RemedyErrorSchema

    def handle_http_exception(self, error: HTTPException):  # type: ignore[override]
        """Render any HTTP error in the envelope."""
        data = getattr(error, "data", None) or {}
        raw = data.get("errors") or data.get("messages") or {}
        errors = _strip_location(flatten(raw)) if raw else {}
        code = error.code or 500
        message = data.get("message") or _DEFAULT_MESSAGES.get(code) or error.description
        if code == 422 and errors:
            message = "Invalid fields: " + ", ".join(sorted(errors))
        if isinstance(error, InternalServerError) and error.original_exception is not None:
            log.error("unhandled error", exc_info=error.original_exception)
        headers = data.get("headers", {})
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            headers = {**headers, "Allow": ", ".join(error.valid_methods)}
        if code == 429:
            message = f"Too many requests for this key (limit {error.description}); retry later."
            headers = {**headers, "Retry-After": str(retry_after(current_app))}
        if code == 503:
            headers = {**headers, "Retry-After": "5"}
        return envelope(code, error.name, message, errors), code, headers


# The one place a domain error becomes an HTTP status (the most specific class wins).
STATUS: dict[type[DomainError], int] = {
    InvalidInput: 422,
    NotFound: 404,
    Conflict: 409,
    Unauthorized: 401,
    Forbidden: 403,
    ServiceUnavailable: 503,
    TooManyRequests: 429,
}


def status_of(error: DomainError) -> int:
    """Return the HTTP status of a domain error."""
    for kind in type(error).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 400


def register_error_handlers(app: Flask) -> None:
    """Map domain errors and database outages to the envelope."""

    @app.errorhandler(DomainError)
    def handle_domain_error(error: DomainError):  # type: ignore[no-untyped-def]
        """Render a domain error with its status."""
        status = status_of(error)
        headers = {"Retry-After": "5"} if status == 503 else {}
        if isinstance(error, TooManyRequests):
            headers = {"Retry-After": str(error.retry_after)}
        if isinstance(error, LimitsExceeded):
            return limits_envelope(error), status, headers
        body = envelope(status, HTTP_STATUS_CODES.get(status, "Error"), error.message, error.errors)
        return body, status, headers

    @app.errorhandler(DataError)
    def handle_data_error(error: DataError):  # type: ignore[no-untyped-def]
        """A value the schema let through but the database cannot store: the caller's fault."""
        log.warning("database refused a value: %s", getattr(error, "orig", error))
        message = "A value is out of range for storage."
        return envelope(422, "Unprocessable Entity", message, {"_request": [message]}), 422

    # SQLite's driver refuses an integer over 64 bits with OverflowError, not a DataError.
    app.register_error_handler(OverflowError, handle_data_error)

    @app.errorhandler(OperationalError)
    @app.errorhandler(PoolTimeout)
    def handle_database_down(error: OperationalError | PoolTimeout):  # type: ignore[no-untyped-def]
        """Answer 503 when the database cannot be reached, does not answer in time (a timeout
        of remedy/store/session.py) or has no free connection; nothing was committed."""
        log.warning("database unavailable: %s", getattr(error, "orig", None) or error)
        return (
            envelope(503, "Service Unavailable", _DEFAULT_MESSAGES[503]),
            503,
            {"Retry-After": "5"},
        )
