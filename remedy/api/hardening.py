"""Request-level guards that no single view should have to remember.

- A JSON body may nest at most MAX_JSON_DEPTH levels: the raw bytes are scanned before any
  parser recurses into them (json.loads raises RecursionError near 1,000 levels, which fits in
  the 64 KB body limit and used to answer 500). Deeper is 400 in the envelope.
- A request line (path and query) longer than MAX_URL_BYTES is 414 in the envelope.
  `remedy serve` lets gunicorn read lines up to 8190 bytes so that those between this limit
  and gunicorn's are answered here; longer lines get gunicorn's own HTML 414
  (docs/deployment.md).
"""

from __future__ import annotations

import re

from flask import Flask, request
from flask_smorest import abort

MAX_JSON_DEPTH = 32
MAX_URL_BYTES = 4096

_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))


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


def register_guards(app: Flask) -> None:
    """Install the request guards."""
    app.before_request(refuse_long_url)
    app.before_request(refuse_deep_json)
