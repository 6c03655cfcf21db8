"""What goes wrong talking to the service: `RemedyError` and how long to wait before a retry."""

from __future__ import annotations

import email.utils
import json
import urllib.error
from datetime import UTC, datetime
from email.message import Message
from typing import Any, cast

RETRYABLE = frozenset({429, 503})


class RemedyError(Exception):
    """A non-2xx answer: `status` and the error `envelope` {code, status, message, errors}."""

    def __init__(self, status: int, envelope: dict[str, Any], headers: Message | None = None):
        """Keep the HTTP status, the envelope and the response headers (case-insensitive)."""
        self.status = status
        self.envelope = envelope
        self.headers = headers if headers is not None else Message()
        super().__init__(f"{status}: {self.message}")

    @property
    def message(self) -> str:
        """The envelope's message."""
        return str(self.envelope.get("message", ""))

    @property
    def errors(self) -> dict[str, list[str]]:
        """Messages by dotted field path ("incident.severity"), or by limit ("limit")."""
        return cast(dict[str, list[str]], self.envelope.get("errors") or {})


class JobFailed(RemedyError):
    """A job (a what-if) ended `failed`: its error as an envelope (status 422: the service
    refused what the job asked, e.g. a range too large), and the `job` itself."""

    def __init__(self, job: dict[str, Any]) -> None:
        """Keep the failed job; its error is the envelope."""
        error = job.get("error") or {}
        envelope = {
            "code": 422,
            "status": "Unprocessable Entity",
            "message": error.get("message", "the job failed"),
            "errors": error.get("errors") or {},
        }
        super().__init__(422, envelope)
        self.job = job


def _summary(status: int, reason: str, content_type: str) -> dict[str, Any]:
    """An envelope for an answer that is not one (a proxy's HTML page): say what came back."""
    kind = content_type.split(";")[0].strip() or "no content type"
    message = f"the server answered {status} {reason} with a {kind} body, not the API's JSON"
    return {"code": status, "status": reason, "message": message, "errors": {}}


def retry_delay(header: str | None, attempt: int, now: datetime | None = None) -> float:
    """Seconds to wait: `Retry-After` as seconds or an HTTP date, else 0.5 s doubling."""
    if header:
        header = header.strip()
        if header.isdigit():
            return float(header)
        try:
            when = email.utils.parsedate_to_datetime(header)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            moment = now or datetime.now(UTC)
            return max(0.0, (when - moment).total_seconds())
    return 0.5 * 2**attempt


def error_of(answer: urllib.error.HTTPError) -> RemedyError:
    """Turn an HTTP error answer into a RemedyError with the envelope (or a summary)."""
    raw = answer.read()
    answer.close()
    content_type = answer.headers.get("Content-Type", "")
    envelope: dict[str, Any] | None = None
    if content_type.startswith("application/json"):
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict) and "message" in parsed:
            envelope = parsed
    if envelope is None:
        envelope = _summary(answer.code, answer.reason or "", content_type)
    return RemedyError(answer.code, envelope, answer.headers)
