"""Request-level guards and response headers that no single view should have to remember.

- A JSON body may nest at most MAX_JSON_DEPTH levels: the raw bytes are scanned before any
  parser recurses into them (json.loads raises RecursionError near 1,000 levels, which fits in
  the 64 KB body limit and used to answer 500). Deeper is 400 in the envelope.
- A body sent chunked is 413 once it reaches the size limit (werkzeug would cut it short), and
  400 when its chunk framing is malformed (gunicorn's InvalidChunkSize used to escape as 500).
- A JSON body's text is checked before any view parses it: a string holding a lone surrogate
  escape ("\\ud800": valid JSON, but no UTF-8 encodes it, so the database driver raised
  UnicodeEncodeError) or an integer longer than MAX_INTEGER_DIGITS (Python refuses to convert
  past 4,300 digits, a ValueError inside json.loads) is 422 naming the field.
- A request line (path and query) longer than MAX_URL_BYTES is 414 in the envelope.
  `remedy serve` lets gunicorn read lines up to 8190 bytes so that those between this limit
  and gunicorn's are answered here; longer lines get gunicorn's own HTML 414
  (docs/deployment.md).
- The API docs (/docs, where users paste keys, and /openapi.json) get a Content-Security-Policy
  that lets Swagger UI's own files from /docs/static/ run and nothing else (its one inline
  script is allowed by its SHA-256), are never framed, and every answer says nosniff. Of
  /docs/static/ only the files /docs loads are served (DOCS_ASSETS), with the same headers
  (nothing runs from them but under /docs's policy); the bundle's stock pages are 404.
- `no_store` marks answers that carry a secret (a new API key): no cache may keep them.
- A body must arrive within BODY_DEADLINE_SECONDS (REMEDY_BODY_DEADLINE) under gunicorn,
  front or not, else 408 and the connection closes (remedy/api/body_deadline.py).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, Response, g, request
from flask_smorest import abort
from gunicorn.http.errors import ParseException
from werkzeug.exceptions import BadRequest

from remedy.api.body_deadline import with_body_deadline
from remedy.extensions import bulk_limit

MAX_JSON_DEPTH = 32
# No number remedy takes needs more digits (counts and ids fit 64 bits; money travels as
# strings): a longer integer is refused before Python spends quadratic time converting it.
MAX_INTEGER_DIGITS = 100
MAX_URL_BYTES = 4096
# Answers given before the body was read whole: the connection closes after them.
CLOSING_STATUSES = frozenset({408, 413})
DOCS_ENDPOINTS = frozenset(
    {"api-docs.openapi_swagger_ui", "api-docs.openapi_json", "swagger_static"}
)
# The files of the Swagger UI bundle that /docs loads; the bundle's own pages (index.html,
# which fetches the petstore spec from the internet, oauth2-redirect.html) and the rest are 404.
DOCS_ASSETS = frozenset(
    {
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
        "favicon-16x16.png",
        "favicon-32x32.png",
    }
)

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


class _LongInteger:
    """Stands in for an integer too long to convert, so the refusal can name its field."""

    def __init__(self, digits: int) -> None:
        """Remember how many digits it had."""
        self.digits = digits


def _bounded_int(text: str) -> int | _LongInteger:
    """Convert a JSON integer, or mark it when it has more than MAX_INTEGER_DIGITS digits."""
    digits = len(text) - text.startswith("-")
    return _LongInteger(digits) if digits > MAX_INTEGER_DIGITS else int(text)


def _encodable(text: str) -> bool:
    """Whether `text` can be written as UTF-8 (a lone surrogate cannot)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _printable(text: str) -> str:
    """`text` with any lone surrogate written as its escape, for an error's field path."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def unreadable_values(value: Any, path: str = "") -> dict[str, list[str]]:
    """Name every string that is not valid Unicode and every over-long integer in `value`.

    `value` is JSON parsed with `_bounded_int`; paths are dotted as the error envelope's
    (`incident.customer_id`, `rules.0.when`); a bad object key is named by its own path.
    """
    found: dict[str, list[str]] = {}
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = ((str(index), item) for index, item in enumerate(value))
    elif isinstance(value, str) and not _encodable(value):
        return {
            path or "_request": [
                "must be valid Unicode text: a lone surrogate escape "
                "(\\ud800-\\udfff without its pair) is not a character"
            ]
        }
    elif isinstance(value, _LongInteger):
        return {
            path or "_request": [
                f"an integer may have at most {MAX_INTEGER_DIGITS} digits "
                f"(this one has {value.digits})"
            ]
        }
    else:
        return found
    for key, item in items:
        child = f"{path}.{_printable(key)}" if path else _printable(key)
        if not _encodable(key):
            found.setdefault(child, []).append(
                "this key is not valid Unicode text: a lone surrogate escape is not a character"
            )
        for field, messages in unreadable_values(item, child).items():
            found.setdefault(field, []).extend(messages)
    return found


def refuse_unreadable_json() -> None:
    """Answer 422 naming each field whose JSON text no view could use (see the module doc).

    The body is parsed here once more with a bounded integer hook (at most the 64 KB body
    limit: well under a millisecond); a body that is not JSON at all is left to the view's
    parser, which answers 400.
    """
    if request.method not in ("POST", "PUT", "PATCH") or not request.is_json:
        return
    try:
        parsed = json.loads(request.get_data(cache=True), parse_int=_bounded_int)
    except ValueError:
        return
    errors = unreadable_values(parsed)
    if errors:
        abort(422, errors=errors)


class MalformedBody(BadRequest):
    """The body's transfer framing (its chunks) could not be read: nothing was parsed."""

    description = "The request body's chunked encoding is malformed."

    def __init__(self, what: str) -> None:
        """Say what gunicorn's parser found, in the envelope's `_request`."""
        super().__init__()
        message = f"{self.description} ({what}); the connection is closed."
        self.data = {
            "message": message,
            "errors": {"_request": [message]},
            "headers": {"Connection": "close"},
        }


class FramedInput:
    """`wsgi.input` whose framing errors become 400 instead of escaping the app as 500.

    gunicorn reads a chunked body lazily, inside the app's first read, and raises its parser's
    errors (InvalidChunkSize, ChunkMissingTerminator) from there. The connection cannot carry
    another request after such a body, and gunicorn closes it when it fails to read the next.
    """

    def __init__(self, stream: Any) -> None:
        """Wrap the server's input stream."""
        self._stream = stream

    def _guarded(self, read: Callable[..., Any], *args: Any) -> Any:
        try:
            return read(*args)
        except ParseException as error:
            raise MalformedBody(type(error).__name__) from error

    def read(self, *args: Any) -> bytes:
        """Read like the server's stream."""
        return self._guarded(self._stream.read, *args)

    def readline(self, *args: Any) -> bytes:
        """Read a line like the server's stream."""
        return self._guarded(self._stream.readline, *args)

    def readlines(self, *args: Any) -> list[bytes]:
        """Read lines like the server's stream."""
        return self._guarded(self._stream.readlines, *args)

    def __iter__(self) -> Any:
        """Iterate lines like the server's stream."""
        return iter(self.readline, b"")


class GuardInput:
    """WSGI middleware: a `FramedInput` for the app, and `Connection: close` kept honest.

    gunicorn drops hop-by-hop headers an app sets and decides keep-alive itself, so a 413
    whose body was never read (or a body with broken framing) was answered `Connection:
    keep-alive` and then the connection dropped when gunicorn could not parse what followed.
    When the app answers `Connection: close`, the server's response object (gunicorn's
    `start_response` is its bound method) is told to close, so it says so and closes cleanly.
    """

    def __init__(self, wsgi_app: Callable[..., Any], body_deadline: float = 0) -> None:
        """Wrap `wsgi_app`; bodies must arrive within `body_deadline` seconds (0: no limit)."""
        self.wsgi_app = wsgi_app
        self.body_deadline = body_deadline

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """Serve the request with the guarded input stream, its body under the deadline."""
        server_input = environ.get("wsgi.input")
        if server_input is not None:
            environ["wsgi.input"] = FramedInput(server_input)

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if any(n.lower() == "connection" and v.lower() == "close" for n, v in headers):
                server_response = getattr(start_response, "__self__", None)
                if callable(getattr(server_response, "force_close", None)):
                    server_response.force_close()  # type: ignore[union-attr]
            return start_response(status, headers, exc_info)

        return with_body_deadline(
            server_input, environ, self.body_deadline, lambda: self.wsgi_app(environ, start)
        )


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
    if response.status_code in CLOSING_STATUSES:
        # The body was not (or could not be) read whole: the connection cannot carry another
        # request, so say so and close (GuardInput tells gunicorn).
        response.headers["Connection"] = "close"
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


def widen_bulk_body() -> None:
    """Give a bulk endpoint (extensions.mark_bulk) its own body limit, before any guard reads
    the body; every other route keeps MAX_CONTENT_LENGTH."""
    limit = bulk_limit(request.endpoint)
    if limit is not None:
        request.max_content_length = limit


def register_guards(app: Flask) -> None:
    """Install the request guards and the response headers."""
    app.wsgi_app = GuardInput(  # type: ignore[method-assign]
        app.wsgi_app, body_deadline=app.config.get("BODY_DEADLINE_SECONDS", 0)
    )
    app.before_request(widen_bulk_body)  # first: the guards below read the body
    app.before_request(refuse_long_url)
    app.before_request(refuse_long_stream)
    app.before_request(refuse_deep_json)
    app.before_request(refuse_unreadable_json)
    app.after_request(security_headers)
