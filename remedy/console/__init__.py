"""The web console: page shells and static files under /console/, public by design.

The pages hold no data and no privileges: their scripts call the `/v1` API with the API key the
user pasted (kept in the tab's sessionStorage; the panel keeps its key in memory only, usually a
session key its help desk signed it in with), so the console can do exactly what the key can.
No build step: plain HTML, one small ES module per page, one shared `api.js`, one CSS file.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template, request
from flask.blueprints import BlueprintSetupState

from remedy.console.framing import panel_framing

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
    {
        "console.sign_in",
        "console.agent",
        "console.approvals",
        "console.lead",
        "console.finance",
        "console.models",
        "console.reports",
        "console.panel",
        "console.static",
    }
)

# Scripts and styles come from this origin only and no inline script runs, so injected markup
# cannot read the key in sessionStorage; the scripts also render API data as text, never HTML.
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors {ancestors}"
)
CONTENT_SECURITY_POLICY = POLICY.format(ancestors="'none'")
# The agent panel (/console/panel) is made to sit in a help desk's side bar: it may be framed
# by the origins in PANEL_FRAME_ANCESTORS (REMEDY_PANEL_FRAME_ANCESTORS), and by no others.
PANEL_DEFAULTS = dict.fromkeys(
    ("external_id", "customer_id", "severity", "customer_value", "loss_amount", "currency"), ""
) | {"category": "other", "locale": "en"}
AGENT_DEFAULTS = {
    "external_id": "",
    "customer_id": "cust-1",
    "severity": "3",
    "customer_value": "1200.00",
    "loss_amount": "60.00",
    "currency": "EUR",
    "category": "delivery",
    "locale": "en-GB",
}


@blp.record_once
def _check_frame_ancestors(state: BlueprintSetupState) -> None:
    """Refuse to start with an unsafe panel framing setting (e.g. '*')."""
    panel_framing(state.app.config.get("PANEL_FRAME_ANCESTORS", "'self'"))


@blp.after_request
def _security_headers(response: Response) -> Response:
    """Lock the console's pages down: own scripts only, never framed (the panel: by a few)."""
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
    return render_template("console/agent.html", page="agent", defaults=AGENT_DEFAULTS)


@blp.get("/approvals")
def approvals() -> str:
    """Render the approvals page: a lead's or finance's queue, approve or reject with a reason."""
    return render_template("console/approvals.html", page="approvals")


@blp.get("/lead")
def lead() -> str:
    """Render the lead's desk: incidents at risk, repeat victims, the approvals waiting."""
    return render_template("console/lead.html", page="lead")


@blp.get("/panel")
def panel() -> Response:
    """Render the agent panel for a help desk's side bar (incident from the URL or the host).

    `?host=<origin>` names the host page's origin: when the allow-list's patterns allow it,
    the panel may be framed by it and talks to it only (remedy/console/framing.py)."""
    framing = panel_framing(current_app.config.get("PANEL_FRAME_ANCESTORS", "'self'"))
    host_origin = framing.host_origin(request.args.get("host"))
    sources = " ".join(framing.sources(host_origin))
    response = Response(
        render_template(
            "console/panel.html",
            page="panel",
            defaults=PANEL_DEFAULTS,
            frame_ancestors=sources,
            patterns=" ".join(map(str, framing.patterns)),
            host_origin=host_origin or "",
            pasted_keys=current_app.config.get("PANEL_PASTED_KEYS", True),
        ),
        mimetype="text/html",
    )
    response.headers["Content-Security-Policy"] = POLICY.format(ancestors=sources)
    return response


@blp.get("/finance")
def finance() -> str:
    """Render the finance page: pools, caps and their history, what-if."""
    return render_template("console/finance.html", page="finance")


@blp.get("/reports")
def reports() -> str:
    """Render the reports page: spend, failures, promises and the honesty audit, for a lead
    (its own team's) or finance, each table exportable as CSV."""
    return render_template("console/reports.html", page="reports")


@blp.get("/models")
def models() -> str:
    """Render the models page: versions, cards, promotion."""
    return render_template("console/models.html", page="models")
