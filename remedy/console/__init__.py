"""The web console: page shells and static files under /console/, public by design.

The pages hold no data and no privileges: their scripts call the `/v1` API with the API key the
user pasted (kept in the tab's sessionStorage), so the console can do exactly what the key can.
No build step: plain HTML, one small ES module per page, one shared `api.js`, one CSS file.
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template

blp = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

# Served without a key (auth) and without rate limits (like the API docs).
PUBLIC_ENDPOINTS = frozenset(
    {"console.sign_in", "console.agent", "console.finance", "console.models", "console.static"}
)

# Scripts and styles come from this origin only and no inline script runs, so injected markup
# cannot read the key in sessionStorage; the scripts also render API data as text, never HTML.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


@blp.after_request
def _security_headers(response: Response) -> Response:
    """Lock the console's pages down: own scripts only, never framed."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response


@blp.get("/")
def sign_in() -> str:
    """Render the sign-in page."""
    return render_template("console/sign_in.html", page="sign_in")


@blp.get("/agent")
def agent() -> str:
    """Render the agent page: an incident in, ranked plans out, accept one."""
    return render_template("console/agent.html", page="agent")


@blp.get("/finance")
def finance() -> str:
    """Render the finance page: pools, caps and their history, what-if."""
    return render_template("console/finance.html", page="finance")


@blp.get("/models")
def models() -> str:
    """Render the models page: versions, cards, promotion."""
    return render_template("console/models.html", page="models")
