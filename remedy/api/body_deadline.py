"""A request body is read against one deadline, whatever serves the app.

`remedy serve` puts nginx in front of gunicorn, and nginx reads each body whole against its
own timeouts before gunicorn sees it. A deployment that runs gunicorn directly (`gunicorn
'remedy:create_app()'`, `wsgi.py`) has no such front: gunicorn reads the body lazily, inside
the app's first `read()`, from a blocking socket with no timeout, so a client that sends half a
body and stalls (or trickles a byte a second) holds that request thread for as long as it
likes. A handful of such clients, no key needed, hold every thread.

So the body of each request must arrive within BODY_DEADLINE_SECONDS (REMEDY_BODY_DEADLINE) of
the request reaching the app, however it is cut into packets: every `recv` gunicorn makes for
the body is given only what is left of that deadline as its socket timeout (a timeout per read
alone would let a trickle of one byte per read go on for ever). Past the deadline the request
is 408 in the envelope with `Connection: close`, the thread is free, and the connection closes.

The socket is reached through gunicorn's own body reader (`wsgi.input` is its `Body`, whose
reader holds the `SocketUnreader`); with any other server (the test client, Flask's
development server) no deadline is set. tests/cli/test_body_deadline.py runs it under a real
gunicorn. What no app can bound is the time a client takes to send its *headers*: gunicorn
parses them before the app runs. gunicorn 27's gthread worker waits for a connection's first
byte in its poller (5 s, then it parks the connection without a thread), but once bytes arrive
it reads the headers in a thread without a deadline; only a front (nginx's
`client_header_timeout`, as `remedy serve` runs) bounds that (docs/deployment.md).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from werkzeug.exceptions import RequestTimeout


class BodyDeadlinePassed(RequestTimeout):
    """The body did not arrive in time: nothing was parsed, the connection is closed."""

    def __init__(self, seconds: float) -> None:
        """Say how long the body had, in the envelope's `_request`."""
        super().__init__()
        message = f"The request body did not arrive within {seconds:g} s; the connection is closed."
        self.data = {
            "message": message,
            "errors": {"_request": [message]},
            "headers": {"Connection": "close"},
        }


class DeadlineSocket:
    """A socket whose every `recv` is given what is left of one deadline as its timeout.

    Everything else (fileno, send, ...) is the socket's own.
    """

    def __init__(self, sock: Any, deadline: float, seconds: float) -> None:
        """Wrap `sock` until the monotonic time `deadline` (`seconds` after the start)."""
        self.sock = sock
        self.deadline = deadline
        self.seconds = seconds

    def recv(self, size: int, *flags: int) -> bytes:
        """Receive like the socket, but never past the deadline."""
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise BodyDeadlinePassed(self.seconds)
        previous = self.sock.gettimeout()
        self.sock.settimeout(remaining)
        try:
            return self.sock.recv(size, *flags)
        except TimeoutError as error:
            raise BodyDeadlinePassed(self.seconds) from error
        finally:
            self.sock.settimeout(previous)

    def __getattr__(self, name: str) -> Any:
        """Anything but `recv` is the socket's."""
        return getattr(self.sock, name)


def _socket_unreader(stream: Any) -> Any | None:
    """gunicorn's `SocketUnreader` behind its body stream, or None for any other server.

    A body of known length (`LengthReader`) or read to EOF (`EOFReader`) holds the unreader;
    a chunked one (`ChunkedReader`) reaches it through its request.
    """
    reader = getattr(stream, "reader", None)
    unreader = getattr(reader, "unreader", None) or getattr(
        getattr(reader, "req", None), "unreader", None
    )
    return unreader if hasattr(unreader, "sock") and hasattr(unreader, "chunk") else None


def has_body(environ: dict[str, Any]) -> bool:
    """Whether the request says a body follows (a length above zero, or chunks)."""
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        return True
    try:
        return int(environ.get("CONTENT_LENGTH") or 0) > 0
    except ValueError:
        return False


def with_body_deadline(
    server_input: Any, environ: dict[str, Any], seconds: float, call: Callable[[], Any]
) -> Any:
    """Run `call` (the app) with the reads of `server_input` (the server's own `wsgi.input`)
    bounded by `seconds` from now, when the request has a body.

    The unreader gets its own socket back when the app returns: gunicorn's drain of an unread
    body and the next request on a kept-alive connection have their own limits.
    """
    unreader = _socket_unreader(server_input) if seconds > 0 else None
    if unreader is None or not has_body(environ):
        return call()
    sock = unreader.sock
    unreader.sock = DeadlineSocket(sock, time.monotonic() + seconds, seconds)
    try:
        return call()
    finally:
        unreader.sock = sock
