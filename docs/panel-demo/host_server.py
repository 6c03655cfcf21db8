"""The demo help desk's backend: serves the demo page and mints panel sign-in tokens.

A help desk's own backend knows which agent is signed in; this demo has one agent (`--agent`).
It signs, with the integration's secret (from `POST /v1/integrations`, shown once), a token the
panel exchanges for a short-lived session key: HS256, `iss` the integration id, `aud`
"remedy-panel", `sub` the agent, `team`, `exp` two minutes ahead. The secret never reaches the
browser; the token does, and is worth little: it expires in minutes.

    python docs/panel-demo/host_server.py --port 8001 --integration ID --secret SECRET --team emea

The browser tests run the same server (tests/console/conftest.py, for
tests/console/test_panel_browser.py).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt

HERE = Path(__file__).resolve().parent


def mint(integration: str, secret: str, agent: str, team: str, minutes: int = 2) -> str:
    """A panel sign-in token for `agent`, as any host's backend would sign it."""
    now = datetime.now(UTC)
    claims = {
        "iss": integration,
        "aud": "remedy-panel",
        "sub": agent,
        "team": team,
        "iat": now,
        "exp": now + timedelta(minutes=minutes),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


class DeskHandler(http.server.SimpleHTTPRequestHandler):
    """Serve the demo page; POST /token answers {"token"} for the signed-in agent (the
    server's `minting`: integration, secret, agent, team)."""

    def do_POST(self) -> None:  # noqa: N802 - the http.server naming
        """Mint a token (same-origin requests only: another site may not sign our agent in)."""
        own = f"http://{self.headers.get('Host', '')}"
        if self.path != "/token" or self.headers.get("Origin") != own:
            self.send_error(403)
            return
        body = json.dumps({"token": mint(**self.server.minting)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        """Quiet."""


def make_server(address: str, port: int, **minting: str) -> http.server.ThreadingHTTPServer:
    """A server for the demo folder whose /token signs with `minting` (integration, secret,
    agent, team; set or change `server.minting` later)."""
    server = http.server.ThreadingHTTPServer(
        (address, port), functools.partial(DeskHandler, directory=str(HERE))
    )
    server.minting = minting  # type: ignore[attr-defined]
    return server


def main() -> None:
    """Serve until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--integration", default=os.environ.get("REMEDY_INTEGRATION_ID"))
    parser.add_argument("--secret", default=os.environ.get("REMEDY_INTEGRATION_SECRET"))
    parser.add_argument("--team", required=True)
    parser.add_argument("--agent", default="agent-7")
    args = parser.parse_args()
    if not args.integration or not args.secret:
        parser.error("give --integration and --secret (from POST /v1/integrations)")
    server = make_server(
        args.address,
        args.port,
        integration=args.integration,
        secret=args.secret,
        agent=args.agent,
        team=args.team,
    )
    print(f"demo help desk on http://{args.address}:{args.port}/")
    server.serve_forever()


if __name__ == "__main__":
    main()
