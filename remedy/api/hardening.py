"""Request-level guards and response headers that no single view should have to remember.

- A JSON body may nest at most MAX_JSON_DEPTH levels: the raw bytes are scanned before any
  parser recurses into them (json.loads raises RecursionError near 1,000 levels, which fits in
  the 64 KB body limit and used to answer 500). Deeper is 400 in the envelope.
- A body sent chunked is 413 once it reaches the size limit (werkzeug would cut it short).
- A request line (path and query) longer than MAX_URL_BYTES is 414 in the envelope.
  `remedy serve` lets gunicorn read lines up to 8190 bytes so that those between this limit
  and gunicorn's are answered here; longer lines get gunicorn's own HTML 414
  (docs/deployment.md).
- The API docs (/docs, where users paste keys, and /openapi.json) get a Content-Security-Policy
  that lets Swagger UI's own files from /docs/static/ run and nothing else (its one inline
  script is allowed by its SHA-256), are never framed, and every answer says nosniff.
- `no_store` marks answers that carry a secret (a new API key): no cache may keep them.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, Response, g, request
from flask_smorest import abort

MAX_JSON_DEPTH = 32
MAX_URL_BYTES = 4096
DOCS_ENDPOINTS = frozenset({"api-docs.openapi_swagger_ui", "api-docs.openapi_json"})

_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)

# Swagger UI: its scripts and stylesheet from /docs/static/, its inline start-up script by
# hash, the spec fetched from this origin, icons as data: URIs. React sets inline styles
# through the DOM (allowed without 'unsafe-inline'); tests/api/test_docs_browser.py
# checks that it renders with no violation.
DOCS_POLICY = (
    "default-src 'none'; script-src 'self' {hashes}; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
SPEC_POLICY = "default-src 'none'; frame-ancestors 'none'"

F = TypeVar("F", bound=Callable[..., Any])


def json_depth(body: bytes, limit: int) -> int:
    """Return how deep JSON text nests, counting no further than `limit` + 1.

    Strings are dropped first (brackets inside them do not nest); what remains is only
    brackets, so even a 64 KB body of them is scanned in a few milliseconds.
    """
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for byte in brackets:
        if byte in b"[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        else:
            depth -= 1
    return deepest


def refuse_long_stream() -> None:
    """Answer 413 for a body sent without a length (chunked) that reaches the size limit.

    werkzeug stops reading such a stream at MAX_CONTENT_LENGTH without an error, so the body
    would be parsed cut short (a misleading 400). A body of exactly the limit is refused too:
    there is no telling it from a longer one.
    """
    limit = request.max_content_length
    if request.method not in ("POST", "PUT", "PATCH") or request.content_length is not None:
        return
    if limit is not None and len(request.get_data(cache=True)) >= limit:
        message = f"The request body may be at most {limit - 1} bytes when sent without a length."
        abort(413, message=message, errors={"_request": [message]})


def refuse_deep_json() -> None:
    """Answer 400 before any parser sees a JSON body nested deeper than MAX_JSON_DEPTH."""
    if request.method not in ("POST", "PUT", "PATCH") or not request.is_json:
        return
    if json_depth(request.get_data(cache=True), MAX_JSON_DEPTH) > MAX_JSON_DEPTH:
        message = f"The JSON body nests deeper than {MAX_JSON_DEPTH} levels."
        abort(400, message=message, errors={"_request": [message]})


def refuse_long_url() -> None:
    """Answer 414 in the envelope for a path and query longer than MAX_URL_BYTES."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or ""
    length = max(len(raw), len(request.path) + len(request.query_string) + 1)
    if length > MAX_URL_BYTES:
        message = f"The path and query may be at most {MAX_URL_BYTES} bytes."
        abort(414, message=message, errors={"_request": [message]})


def no_store(view: F) -> F:
    """Mark a view whose answer carries a secret: no cache may store it."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g.no_store = True
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def security_headers(response: Response) -> Response:
    """Add nosniff everywhere, no-store where a secret is carried, and lock the docs down."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    if g.get("no_store"):
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    if request.endpoint in DOCS_ENDPOINTS:
        if request.endpoint == "api-docs.openapi_swagger_ui":
            policy = DOCS_POLICY.format(hashes=" ".join(_inline_script_hashes(response)))
        else:
            policy = SPEC_POLICY
        response.headers["Content-Security-Policy"] = policy
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _inline_script_hashes(response: Response) -> list[str]:
    """CSP sources ('sha256-...') for the inline scripts of an HTML answer."""
    html = response.get_data(as_text=True)
    return [
        "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(html)
    ]


def register_guards(app: Flask) -> None:
    """Install the request guards and the response headers."""
    app.before_request(refuse_long_url)
    app.before_request(refuse_long_stream)
    app.before_request(refuse_deep_json)
    app.after_request(security_headers)
