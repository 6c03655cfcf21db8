"""What only a real server shows: broken framing and refused bodies under gunicorn alone
(`--front none`) answer in the envelope and close the connection cleanly (they used to be 500,
or 'keep-alive' and then a dropped connection); behind the nginx front, the front refuses broken
framing itself and a 413 of the app leaves the connection usable (the front read the body)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from remedy.cli.front import nginx_binary
from tests.cli.driving import run, server_log, start_serve, wait_for


def serving(folder: Path, *options: str) -> Iterator[tuple[int, str]]:
    """`remedy serve` on a fresh SQLite database: its port and an admin key."""
    env = {
        "REMEDY_DATABASE_URL": f"sqlite:///{folder / 'serve.sqlite'}",
        "REMEDY_INSTANCE_PATH": str(folder / "instance"),
    }
    admin = run(env, "init").output.split("keep it safe): ")[1].split()[0]
    process, port = start_serve(env, 1, *options)
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", process)
        yield port, admin
    finally:
        process.terminate()
        process.wait(timeout=30)
        server_log(process)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, str]]:
    """gunicorn alone."""
    yield from serving(tmp_path_factory.mktemp("served"), "--front", "none")


@pytest.fixture(scope="module")
def fronted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, str]]:
    """gunicorn behind the nginx front."""
    if nginx_binary() is None:
        pytest.skip("nginx is not installed")
    yield from serving(tmp_path_factory.mktemp("fronted"), "--front", "nginx")


def exchange(port: int, request: bytes) -> tuple[str, dict[str, str], dict, bool]:
    """Send raw bytes; return the status line, headers, JSON body, and whether the server
    closed the connection after its answer (EOF within 10 s, not a reset)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        data = b""
        closed = False
        while True:
            chunk = connection.recv(65536)
            if not chunk:
                closed = True
                break
            data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = [
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ]
            if length and len(body) >= length[0] and b"close" not in head.lower():
                break  # a whole answer on a connection the server keeps open
    head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = head.decode().split("\r\n")
    headers = {name.lower(): value.strip() for name, value in (x.split(":", 1) for x in lines)}
    return status, headers, json.loads(body), closed


def post(key: str, body: bytes, *extra: bytes) -> bytes:
    """A POST /v1/recommendations request's head (`extra` header lines), then `body`."""
    head = [
        b"POST /v1/recommendations HTTP/1.1",
        b"Host: test",
        b"Authorization: Bearer " + key.encode(),
        b"Content-Type: application/json",
        *extra,
    ]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


@pytest.mark.parametrize(
    ("chunks", "problem"),
    [
        (b"ZZ\r\n{}\r\n0\r\n\r\n", "InvalidChunkSize"),
        (b"2\r\n{}XX0\r\n\r\n", "ChunkMissingTerminator"),
    ],
)
def test_malformed_chunking_is_400_in_the_envelope_and_closes(served, chunks, problem):
    port, key = served
    status, headers, body, closed = exchange(port, post(key, chunks, b"Transfer-Encoding: chunked"))
    assert status.split()[1] == "400", body
    assert problem in body["errors"]["_request"][0]
    assert headers["connection"] == "close" and closed


def test_a_413_says_close_and_closes(served):
    port, key = served
    big = b'{"a": "' + b"x" * (100 * 1024) + b'"}'
    status, headers, body, closed = exchange(port, post(key, big, b"Content-Length: %d" % len(big)))
    assert status.split()[1] == "413" and body["code"] == 413
    assert headers["connection"] == "close" and closed


def test_surrogates_and_long_integers_are_422_over_the_wire(served):
    port, key = served
    text = b'{"incident": {"customer_id": "\\ud800"}, "limit": ' + b"1" * 5000 + b"}"
    status, headers, body, closed = exchange(
        port, post(key, text, b"Content-Length: %d" % len(text), b"Connection: close")
    )
    assert status.split()[1] == "422"
    assert set(body["errors"]) == {"incident.customer_id", "limit"}


def test_behind_the_front_broken_framing_is_refused_before_gunicorn(fronted):
    port, key = fronted
    request = post(key, b"ZZ\r\n{}\r\n0\r\n\r\n", b"Transfer-Encoding: chunked")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 400") and b"Connection: close" in answer


def test_behind_the_front_a_413_leaves_the_connection_usable(fronted):
    """The front read the whole body, so the connection can carry the next request."""
    port, key = fronted
    big = b'{"a": "' + b"x" * (100 * 1024) + b'"}'
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(post(key, big, b"Content-Length: %d" % len(big)))
        connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    first, _, second = answer.partition(b"HTTP/1.1 200")
    assert first.startswith(b"HTTP/1.1 413") and b'"code":413' in first
    assert b'{"status":"ok"}' in second


@pytest.mark.parametrize("setup", ["served", "fronted"])
def test_script_name_and_forwarded_headers_from_a_client_are_not_trusted(request, setup):
    """gunicorn used to take SCRIPT_NAME (and X-Forwarded-*) from any loopback peer, which
    rewrote the console's root; now only the front, whose own headers replace the client's."""
    port, _ = request.getfixturevalue(setup)
    head = (
        b"GET /console/ HTTP/1.1\r\nHost: test\r\nSCRIPT_NAME: /evil\r\n"
        b"X-Forwarded-Proto: https\r\nX-Forwarded-Host: evil.example\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(head)
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    assert b"/evil" not in answer and b"evil.example" not in answer
    assert b"/console/" in answer  # the page names its root: unchanged


def test_the_front_closes_a_body_that_stalls_past_its_deadline(tmp_path_factory):
    """A body that stops arriving is cut at the front's body deadline, never reaching a
    gunicorn thread; health answers meanwhile."""
    if nginx_binary() is None:
        pytest.skip("nginx is not installed")
    server = serving(tmp_path_factory.mktemp("deadline"), "--front", "nginx", "--body-timeout", "1")
    port, key = next(server)
    try:
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
            connection.sendall(post(key, b'{"incident": ', b"Content-Length: 1000"))
            try:
                while connection.recv(65536):  # nginx's 408, if any, then EOF at the deadline
                    pass
            except ConnectionResetError:
                pass  # reset_timedout_connection: the front resets it instead
        waited = time.monotonic() - started
        assert waited < 8, f"a stalled body held its connection for {waited:.1f} s"
    finally:
        server.close()
