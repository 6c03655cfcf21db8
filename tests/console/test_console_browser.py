"""The web console end to end in headless Chromium: sign in, agent, finance and models pages.

One real server per module (werkzeug in a thread) on a fresh SQLite file seeded like
`remedy init` (catalog, rules, caps, starter pools, the bundled model, keys per role), one
browser per module, a fresh browser context (so a fresh sessionStorage) per test. SQLite only:
the pages call the same API the PostgreSQL-backed API tests cover.

Needs Playwright from PyPI and Debian's chromium at /usr/bin/chromium (`.ci/run` installs both);
never `playwright install`. Skipped when either is missing, unless REMEDY_REQUIRE_BROWSER=1
(as in CI), which turns the skip into a failure. Each page's full-page screenshot is written to
test-artifacts/screenshots/<page>.png at the repository root.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from remedy import create_app
from remedy.cli import cli
from remedy.extensions import db
from remedy.services import app_services
from remedy.services.integrations import IntegrationService
from remedy.services.model_registry import ModelRegistry, bundled_folders
from remedy.whatif.service import WhatIfService
from remedy.whatif.suggest import suggest_caps

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
DEMO = ROOT / "docs" / "panel-demo"
# REMEDY_DOCS_SCREENSHOTS=1 also writes the panel's screenshots to docs/img/ (for the README).
DOCS_IMAGES = ROOT / "docs" / "img"
SECOND_MODEL = "sim-4-console"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def _missing() -> str | None:
    """Say what the browser tests lack, if anything."""
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (pip install playwright; it is in the test extra)"
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


if (_reason := _missing()) is not None:
    if os.environ.get("REMEDY_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests required (REMEDY_REQUIRE_BROWSER=1): {_reason}", pytrace=False)
    pytest.skip(_reason, allow_module_level=True)

from axe_playwright_python.sync_playwright import Axe  # noqa: E402 - after skip
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright  # noqa: E402

# A page's first recommendation loads the model in the serving worker; on a busy 2-core machine
# that and the answer can take longer than Playwright's 5 s default, which is a timeout, not a
# failure of the page. Assertions still fail when the text never comes.
expect.set_options(timeout=20_000)

# Chromium logs every non-2xx fetch as a console error; the tests provoke 4xx (and a gateway's
# 502) on purpose, so those network lines are expected, as is the refusal to frame the panel
# on a host the allow-list does not name. Anything else on the console (a JS error) fails.
EXPECTED_NETWORK_ERROR = re.compile(
    r"^(Failed to load resource: the server responded with a status of (4\d\d|502)"
    r"|Framing '[^']*' violates the following Content Security Policy directive: \"frame-ancestors)"
)


def _cli(env: dict[str, str], *args: str) -> str:
    """Run the `remedy` command in-process and return its output."""
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _second_model(folder: Path) -> Path:
    """The bundled model under another version name, so there is something to promote."""
    target = folder / SECOND_MODEL
    shutil.copytree(bundled_folders()[-1], target)
    card = json.loads((target / "card.json").read_text())
    card["version"] = SECOND_MODEL
    (target / "card.json").write_text(json.dumps(card))
    return target


def _incident(customer: str, severity: int, loss: str, value: str = "5000.00") -> dict[str, Any]:
    """An incident in EUR as the API takes it."""
    return {
        "customer_id": customer,
        "severity": severity,
        "fault_type": "company",
        "customer_value": value,
        "loss_amount": loss,
        "currency": "EUR",
        "category": "delivery",
        "channel": "chat",
        "locale": "en-GB",
    }


def _desk_module() -> Any:
    """docs/panel-demo/host_server.py: the demo help desk's backend (serves it, mints tokens)."""
    spec = importlib.util.spec_from_file_location("panel_demo_host", DEMO / "host_server.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def desk() -> Iterator[Any]:
    """The demo help desk and its token-minting backend on a port of its own (minting is set
    once the app has an integration). Reached as http://127.0.0.1:<port> (a named origin of
    the allow-list) and as http://desk.localhost:<port> (another site than the panel's
    127.0.0.1, allowed by the wildcard http://*.localhost:<port>; Chromium resolves *.localhost
    to loopback itself)."""
    http_server = _desk_module().make_server("127.0.0.1", 0)
    thread = threading.Thread(target=http_server.serve_forever, daemon=True)
    thread.start()
    try:
        yield http_server
    finally:
        http_server.shutdown()
        http_server.server_close()


@pytest.fixture(scope="module")
def demo_host(desk: Any) -> str:
    """The demo help desk at a concrete origin of the allow-list."""
    return f"http://127.0.0.1:{desk.server_port}"


@pytest.fixture(scope="module")
def wild_host(desk: Any) -> str:
    """The demo help desk on another site, allowed only by the wildcard entry."""
    return f"http://desk.localhost:{desk.server_port}"


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, desk: Any, demo_host: str
) -> Iterator[dict[str, Any]]:
    """Serve a seeded app on a free port; return its base URL, a key per role and the app.

    The panel may be framed by the demo help desk's origin, any one-label subdomain of
    localhost on its port, and this one's; an integration of team emea lets the desk's backend
    sign its agent in.
    """
    wildcard = f"http://*.localhost:{desk.server_port}"
    folder = tmp_path_factory.mktemp("console")
    env = {
        "REMEDY_DATABASE_URL": f"sqlite:///{folder / 'remedy.sqlite'}",
        "REMEDY_MODEL_DIR": str(folder / "models"),
        "REMEDY_LOG_LEVEL": "WARNING",
    }
    admin = _cli(env, "init").split("keep it safe): ")[1].split()[0]
    keys = {
        "admin": admin,
        "agent": _cli(env, "keys", "create", "--role", "agent").strip(),
        "finance": _cli(env, "keys", "create", "--role", "finance").strip(),
        "lead": _cli(env, "keys", "create", "--role", "lead", "--team", "emea").strip(),
    }
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": env["REMEDY_DATABASE_URL"],
            "MODEL_DIR": env["REMEDY_MODEL_DIR"],
            "EXPLORATION_RATE": Decimal(0),  # the first plan shown is the best: stable pages
            "RATE_LIMIT": "",
            "LOG_LEVEL": "WARNING",
            "PANEL_FRAME_ANCESTORS": f"'self' {demo_host} {wildcard}",
        }
    )
    with db.database(app).unit_of_work() as session:
        ModelRegistry(session).register(_second_model(folder), "test")
        secret, integration = IntegrationService(session).create(
            "demo desk", "emea", [demo_host, wildcard], "test"
        )
        desk.minting = {
            "integration": integration.id,
            "secret": secret,
            "agent": "agent-7",
            "team": "emea",
        }
    # Logged decisions for the what-if to replay: severity 2 follows the default caps, which
    # the sweep varies; losses differ so the curve has a shape.
    client = app.test_client()
    for number, loss in enumerate(["40.00", "90.00", "150.00", "260.00", "35.00", "120.00"]):
        response = client.post(
            "/v1/recommendations",
            json={
                "incident": {
                    **_incident(f"seed-{number}", 2, loss),
                    "touchpoint": ("courier", "billing_run")[number % 2],  # the audit's
                },
                "team": "emea",
            },
            headers={"Authorization": f"Bearer {admin}"},
        )
        assert response.status_code == 201, response.json

    from werkzeug.serving import make_server

    web = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=web.serve_forever, daemon=True)
    thread.start()
    # What-if replays are jobs: a worker beside the web server runs them, as `remedy serve`'s.
    from remedy.services.job_runner import JobRunner

    jobs = JobRunner(
        db.database(app), app_services.jobs(app), app.config, app_services.services(app), poll=0.2
    )
    worker = threading.Thread(target=jobs.run, daemon=True)
    worker.start()
    try:
        yield {"url": f"http://127.0.0.1:{web.server_port}", "app": app, **keys}
    finally:
        jobs.stop()
        worker.join(timeout=30)
        web.shutdown()
        thread.join(timeout=10)
        web.server_close()
        db.database(app).dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the module."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _watch(page: Page) -> list[str]:
    """Collect JavaScript errors and unexpected console errors of `page`."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    page.on(
        "console",
        lambda message: (
            errors.append(f"console: {message.text}")
            if message.type == "error" and not EXPECTED_NETWORK_ERROR.match(message.text)
            else None
        ),
    )
    return errors


def _context(browser: Browser, server: dict[str, Any], viewport: dict[str, int]):
    """A fresh browser context (fresh sessionStorage) on the app."""
    context = browser.new_context(base_url=server["url"], viewport=viewport)
    context.set_default_timeout(15_000)
    return context


@pytest.fixture
def page(browser: Browser, server: dict[str, Any]) -> Iterator[Page]:
    """A desktop page in a fresh context; fails the test if the page logged a JavaScript error."""
    context = _context(browser, server, DESKTOP)
    page = context.new_page()
    errors = _watch(page)
    yield page
    context.close()
    assert errors == [], errors


@pytest.fixture
def phone(browser: Browser, server: dict[str, Any]) -> Iterator[Page]:
    """A phone-sized page (390 x 844) in a fresh context, watched like `page`."""
    context = _context(browser, server, PHONE)
    page = context.new_page()
    errors = _watch(page)
    yield page
    context.close()
    assert errors == [], errors


def sign_in(page: Page, key: str) -> None:
    """Sign in on the sign-in page with `key`."""
    page.goto("/console/")
    page.get_by_label("API key", exact=True).fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Signed in", exact=True)).to_be_visible()


def screenshot(page: Page, name: str, docs: bool = False, full_page: bool = True) -> None:
    """Keep a screenshot as a test artifact (and in docs/img/ when asked to)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)
    if docs and os.environ.get("REMEDY_DOCS_SCREENSHOTS") == "1":
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS_IMAGES / f"{name}.png"), full_page=full_page)


def test_sign_in_lists_the_pages_of_the_role_and_sign_out_forgets_the_key(page, server):
    page.goto("/console/agent")
    expect(page.get_by_role("alert")).to_contain_text("You are not signed in")
    expect(page.get_by_role("button", name="Recommend plans")).to_be_hidden()

    page.goto("/console/")
    page.get_by_label("API key", exact=True).fill("rmd_nope_nope")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#api-key-error")).to_have_text("That key is unknown or revoked.")
    expect(page.get_by_label("API key", exact=True)).to_have_attribute("aria-invalid", "true")

    sign_in(page, server["agent"])
    pages = page.locator("#page-list")
    expect(pages.get_by_role("link")).to_have_text(["Agent"])
    nav = page.get_by_role("navigation", name="Console pages")
    expect(nav.get_by_role("link", name="Finance")).to_be_hidden()
    page.goto("/console/finance")  # the page refuses the role, and the API would too
    expect(page.get_by_role("alert")).to_contain_text("needs a key with role finance or admin")
    page.get_by_role("button", name="Sign out").click()

    sign_in(page, server["admin"])
    expect(page.locator("#signed-in-summary")).to_contain_text("Role admin")
    expect(pages.get_by_role("link")).to_have_text(
        ["Agent", "Approvals", "Lead desk", "Reports", "Finance", "Models"]
    )
    expect(page.get_by_role("status").first).to_contain_text("Signed in: admin key")
    screenshot(page, "sign-in")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in with an API key")).to_be_visible()
    assert page.evaluate("sessionStorage.length") == 0
    page.goto("/console/models")
    expect(page.get_by_role("alert")).to_contain_text("You are not signed in")


def fill_incident(page: Page, **fields: str) -> None:
    """Fill the incident form's labelled fields."""
    labels = {
        "customer_id": "Customer id",
        "severity": "Severity (1-5)",
        "customer_value": "Customer value (annual)",
        "loss_amount": "Loss amount",
        "locale": "Locale",
        "team": "Team (optional)",
        "external_id": "Ticket id (optional)",
    }
    for name, value in fields.items():
        page.get_by_label(labels[name], exact=True).fill(value)


def test_agent_recommends_accepts_and_sees_conflicts_and_field_errors_explained(page, server):
    sign_in(page, server["agent"])
    page.get_by_role("navigation", name="Console pages").get_by_role("link", name="Agent").click()
    expect(page.get_by_role("heading", name="Agent: recommend a remedy")).to_be_visible()

    fill_incident(page, severity="9", loss_amount="-1")
    page.get_by_role("button", name="Recommend plans").click()
    severity = page.get_by_label("Severity (1-5)")
    expect(severity).to_have_attribute("aria-invalid", "true")
    expect(severity).to_be_focused()  # the first field in error
    expect(page.locator("#severity-error")).to_contain_text("less than or equal to 5")
    summary = page.locator("#incident-error")
    expect(summary).to_contain_text("Please correct these 2 fields:")
    expect(summary.get_by_role("link", name="Severity (1-5)")).to_have_attribute(
        "href", "#severity"
    )
    expect(summary).not_to_contain_text("incident.")  # labels, not API paths
    # The summary sits above the form, not under its submit button.
    summary_box = summary.bounding_box()
    form_box = page.locator("#incident-form").bounding_box()
    assert summary_box and form_box and summary_box["y"] < form_box["y"]

    fill_incident(page, customer_id="c-42", severity="4", customer_value="2400.00")
    fill_incident(page, loss_amount="80.00", locale="fr-FR", team="emea", external_id="T-1")
    page.get_by_role("button", name="Recommend plans").click()
    plans = page.locator("article.plan")
    expect(plans.first).to_be_visible()
    expect(summary).to_be_hidden()
    expect(severity).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#plans")).to_have_attribute("aria-live", "polite")
    expect(page.locator("#plans")).to_contain_text("best first for ticket T-1")
    first = plans.first
    expect(first.get_by_role("heading", level=3)).to_have_text(re.compile(r"^Plan 1\b"))
    facts = first.locator("dl.card-facts").first
    # The agent reads in their browser's language (en-US here), the customer hears French.
    expect(facts).to_contain_text("Sincere apology")  # the catalog's label, not "apology"
    expect(facts).to_contain_text("Personal call from a manager")
    expect(first.locator("details.talking ol")).to_have_attribute("lang", "fr")
    expect(facts).not_to_contain_text("contact_manager")
    expect(first.locator("dd.cost")).to_have_text(re.compile(r"^\d+\.\d\d EUR$"))
    expect(facts).to_contain_text("Reply by")
    expect(facts).to_contain_text(re.compile(r"\(within \d+ (minutes|hours?)\)"))
    # Model numbers, reasons and rules wait behind a disclosure.
    why = first.locator("details.why")
    expect(why.locator("ul.reasons")).to_be_hidden()
    why.locator("summary").click()
    expect(why.locator("ul.reasons")).to_contain_text("comes first")  # plain words, en-US
    expect(why.locator("ul.reasons")).not_to_contain_text("P(stay)")  # finance's numbers
    expect(why).to_contain_text("Chance the customer stays")
    expect(why.locator("ul.rules")).to_contain_text("Apologise whenever we or a partner")
    expect(page.locator("#decision-details")).to_contain_text(
        "Plans may cost at most 320.00 EUR, set by a multiple of the loss"
    )

    accept = first.get_by_role("button", name="Accept plan 1")
    accept.click()
    result = first.locator(".card-result")  # next to the plan acted on
    expect(result).to_contain_text("Plan 1 accepted: reserved")
    expect(result).to_contain_text("EUR from pool default/")
    expect(first.get_by_role("button", name="Accepted")).to_be_disabled()
    expect(plans.nth(1).get_by_role("button", name="Accept plan 2")).to_be_disabled()
    screenshot(page, "agent")


def test_a_double_click_on_accept_accepts_once(page, server):
    sign_in(page, server["agent"])
    page.goto("/console/agent")
    fill_incident(page, customer_id="c-double", severity="4", loss_amount="80.00")
    page.get_by_role("button", name="Recommend plans").click()
    first = page.locator("article.plan").first
    accepts: list[str] = []
    page.on("request", lambda r: accepts.append(r.url) if r.url.endswith("/accept") else None)
    first.get_by_role("button", name="Accept plan 1").dblclick()
    expect(first.locator(".card-result")).to_contain_text("Plan 1 accepted: reserved")
    expect(first.locator(".card-result")).not_to_contain_text("Not accepted")
    assert len(accepts) == 1, accepts


def test_a_slow_accept_and_a_slow_recommendation_leave_nothing_clickable_twice(page, server):
    sign_in(page, server["agent"])
    page.goto("/console/agent")
    fill_incident(page, customer_id="c-slow", severity="4", loss_amount="80.00")
    page.get_by_role("button", name="Recommend plans").click()
    plans = page.locator("article.plan")
    expect(plans.first).to_be_visible()

    held: list[Route] = []  # the API's answer waits until the test lets it through
    page.route("**/v1/decisions/*/accept", lambda route: held.append(route))
    first = plans.first
    first.get_by_role("button", name="Accept plan 1").click()
    busy = first.get_by_role("button", name="Accepting…")
    expect(busy).to_be_disabled()
    expect(plans.nth(1).get_by_role("button", name="Accept plan 2")).to_be_disabled()
    expect(first.locator(".card-result")).to_contain_text("Accepting plan 1…")
    busy.dispatch_event("click")  # a click on the disabled button does nothing
    assert len(held) == 1
    held[0].continue_()
    expect(first.locator(".card-result")).to_contain_text("Plan 1 accepted: reserved")
    page.unroute("**/v1/decisions/*/accept")

    # A new recommendation: the old plans go at once, so none can be accepted meanwhile.
    page.route("**/v1/recommendations", lambda route: held.append(route))
    fill_incident(page, customer_id="c-slow-2")
    page.get_by_role("button", name="Recommend plans").click()
    expect(page.locator("#plans")).to_have_attribute("aria-busy", "true")
    expect(page.locator("#plans")).to_contain_text("Getting plans…")
    expect(plans).to_have_count(0)
    expect(page.get_by_role("button", name="Recommend plans")).to_be_disabled()
    held[1].continue_()
    expect(plans.first.get_by_role("button", name="Accept plan 1")).to_be_enabled()
    expect(page.locator("#plans")).not_to_have_attribute("aria-busy", "true")


def test_a_gateway_error_page_is_summarised_not_printed(page, server):
    sign_in(page, server["agent"])
    page.goto("/console/agent")
    page.route(
        "**/v1/recommendations",
        lambda route: route.fulfill(
            status=502,
            content_type="text/html",
            body="<html><head><title>502 Bad Gateway</title></head><body><center>"
            "<h1>502 Bad Gateway</h1></center><hr><center>nginx/1.25.3</center></body></html>",
        ),
    )
    page.get_by_role("button", name="Recommend plans").click()
    alert = page.locator("#incident-error")
    expect(alert).to_contain_text("The gateway answered 502 Bad Gateway instead of the service")
    expect(alert).not_to_contain_text("nginx")
    expect(alert).not_to_contain_text("<")
    expect(alert).to_be_focused()


def test_when_no_plan_fits_the_blocker_is_said_first_in_plain_words(page, server):
    api = server["app"].test_client()
    admin = {"Authorization": f"Bearer {server['admin']}"}
    pool = {"period": "month", "limit": "0.00", "currency": "EUR"}
    assert api.put("/v1/budgets/spent", json=pool, headers=admin).status_code == 200
    sign_in(page, server["agent"])
    page.goto("/console/agent")
    fill_incident(page, customer_id="c-blocked", severity="4", loss_amount="80.00", team="spent")
    page.get_by_role("button", name="Recommend plans").click()
    # Never nothing: an apology within what is left, flagged with the pool and who lifts it.
    expect(page.locator("article.plan")).to_have_count(1)
    blocker = page.locator("article.plan .blocker")
    expect(blocker).to_have_attribute("data-blocked-by", "pool")
    expect(blocker).to_contain_text("Only this can be offered now.")
    expect(blocker).to_contain_text("finance can raise the team's pool")
    expect(page.locator("#decision-details, #plans")).not_to_have_count(0)


def test_agent_sees_which_budget_limit_a_refused_accept_would_break(page, server):
    api = server["app"].test_client()
    admin = {"Authorization": f"Bearer {server['admin']}"}
    pool = {"period": "month", "limit": "120.00", "currency": "EUR"}
    assert api.put("/v1/budgets/tiny", json=pool, headers=admin).status_code == 200
    sign_in(page, server["agent"])
    page.goto("/console/agent")
    page.get_by_label("Severity (1-5)").fill("4")
    page.get_by_label("Customer value (annual)").fill("2400.00")
    page.get_by_label("Loss amount").fill("80.00")
    page.get_by_label("Team (optional)").fill("tiny")
    page.get_by_role("button", name="Recommend plans").click()
    first = page.locator("article.plan").first
    expect(first.locator("dd.cost")).to_have_text(
        "83.33 EUR"
    )  # fits the 120.00 EUR pool, twice it does not

    # Meanwhile another agent spends most of the pool.
    other = api.post(
        "/v1/recommendations",
        json={"incident": _incident("other", 4, "80.00", "2400.00"), "team": "tiny"},
        headers=admin,
    ).json
    taken = api.post(
        f"/v1/decisions/{other['decision_id']}/accept",
        json={"plan_id": other["plans"][0]["plan_id"]},
        headers=admin,
    )
    assert taken.status_code == 200, taken.json

    first.get_by_role("button", name="Accept plan 1").click()
    alert = first.locator(".card-result").get_by_role("alert")
    expect(alert).to_contain_text("Not accepted: the plan does not fit the budget. (409 Conflict)")
    expect(alert).to_contain_text("pool tiny/")
    expect(alert).to_contain_text("would exceed the limit of €120.00")
    # Another plan may still fit: a refusal for the budget leaves the buttons usable.
    expect(first.get_by_role("button", name="Accept plan 1")).to_be_enabled()

    first.get_by_role("button", name="Accept plan 1").click()  # a second click: refused again
    expect(alert).to_contain_text("Not accepted: the plan does not fit the budget.")


MONEY = re.compile(r"^-?[€$£¥][\d,]+(\.\d\d)?$")  # Intl.NumberFormat, en-US (Chromium's default)


def test_finance_sees_pools_caps_history_and_a_what_if_chart(page, server):
    sign_in(page, server["finance"])
    page.get_by_role("link", name="Finance").first.click()
    expect(page.get_by_role("heading", name="Finance: budgets, caps and what-if")).to_be_visible()

    pools = page.locator("#pools")
    eur = (
        pools.locator("tbody").get_by_role("row").filter(has_text="EUR").filter(has_text="default")
    )
    expect(eur).to_have_count(1)
    expect(eur.locator("td.remaining")).to_have_text(MONEY)
    expect(eur.get_by_role("img")).to_have_attribute("aria-label", re.compile("of the period gone"))
    total = pools.locator("tfoot tr").filter(has_text="Total EUR")
    expect(total).to_have_count(1)
    expect(total.locator("td.num").first).to_have_text(MONEY)

    expect(page.locator("#caps")).to_contain_text(re.compile(r"Active: version \d+, by "))
    amounts = page.locator("#caps").get_by_role("table", name="Amounts per currency")
    eur_caps = amounts.get_by_role("row").filter(has_text="EUR")
    expect(eur_caps).to_contain_text(re.compile(r"1,000\.00"))  # the agent decides up to
    expect(eur_caps).to_contain_text(re.compile(r"5,000\.00"))  # a team lead approves up to
    expect(page.locator("#caps")).to_contain_text("waiting longer than PT15M goes to finance")
    history = page.locator("#caps-history").get_by_role("row")
    expect(history.nth(1)).to_contain_text("active")
    governing = page.get_by_role("table", name=re.compile("Which override governs each slice"))
    low = governing.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name="2", exact=True)
    )
    expect(low.filter(has_text="company").first).to_contain_text("2 (default)")  # the seeded ones
    expect(low.filter(has_text="company").first).to_contain_text("multiple of the loss")
    page.locator("#governing summary").click()
    quiet = page.get_by_role("table", name="Slices without logged incidents")
    severe = quiet.get_by_role("row").filter(
        has=page.get_by_role("rowheader", name="5", exact=True)
    )
    expect(severe.filter(has_text="company").first).to_contain_text("(override 2)")

    today = datetime.now(UTC).date()  # a range around today, safe across midnight
    page.get_by_label("From (UTC day)", exact=True).fill((today - timedelta(days=1)).isoformat())
    page.get_by_label("To (UTC day, exclusive)", exact=True).fill(
        (today + timedelta(days=2)).isoformat()
    )
    page.get_by_label("Setting to sweep").select_option("incident_caps.default.loss_multiple")
    page.get_by_label("Sweep from").fill("0.5")
    page.get_by_label("Sweep to").fill("2")
    page.get_by_label("Steps").fill("4")
    page.get_by_role("button", name="Run what-if").click()
    result = page.locator("#whatif-result")
    expect(result.get_by_role("heading", level=3)).to_contain_text(
        re.compile(r"Replay of \d+ decision\(s\)")  # the seeded six, and any the agent made
    )
    chart = result.get_by_role("img", name=re.compile(r"Spend against expected net value \(EUR\)"))
    expect(chart).to_be_visible()
    expect(chart.locator("circle")).to_have_count(4)
    expect(chart.locator("path.today")).to_have_count(1)  # today's setting, marked
    sweep = result.get_by_role("table", name="Sweep", exact=True)
    expect(sweep.locator("tbody tr th")).to_have_text(["0.5", "1", "1.5", "2 (today)"])
    expect(sweep.locator("tbody tr").first.locator("td").nth(4)).to_have_text(re.compile(r"^\d+$"))

    page.get_by_label("To (UTC day, exclusive)", exact=True).fill("2020-01-01")  # before "from"
    page.get_by_role("button", name="Run what-if").click()
    expect(page.locator("#whatif-error")).to_contain_text("The what-if could not run")
    page.get_by_label("To (UTC day, exclusive)", exact=True).fill("2099-01-01")
    page.get_by_role("button", name="Run what-if").click()
    expect(chart).to_be_visible()
    screenshot(page, "finance")


def test_a_sweep_that_changes_nothing_says_why(page, server):
    sign_in(page, server["finance"])
    page.goto("/console/finance")
    today = datetime.now(UTC).date()
    page.get_by_label("From (UTC day)", exact=True).fill((today - timedelta(days=1)).isoformat())
    page.get_by_label("Setting to sweep").select_option(
        "incident_caps.overrides.3.set.loss_multiple"
    )
    page.get_by_label("Steps").fill("3")
    page.get_by_role("button", name="Run what-if").click()
    notes = page.locator("#whatif-notes")  # every seeded incident is the company's fault
    expect(notes).to_contain_text(
        "Every value of incident_caps.overrides.3.set.loss_multiple gives the same result."
    )
    expect(notes).to_contain_text("is overridden in every slice")
    expect(page.locator("#whatif-result")).to_contain_text("no curve to draw")


def test_finance_edits_a_pool_sees_its_field_errors_and_its_what_if(page, server):
    api = server["app"].test_client()
    admin = {"Authorization": f"Bearer {server['admin']}"}
    pool = {"period": "month", "limit": "1000.00", "currency": "EUR"}
    assert api.put("/v1/budgets/hot", json=pool, headers=admin).status_code == 200
    decision = api.post(
        "/v1/recommendations",
        json={"incident": _incident("hot-1", 4, "80.00", "2400.00"), "team": "hot"},
        headers=admin,
    ).json
    # The pool is then cut to that plan's cost: accepting it spends all of it, ahead of any
    # calendar.
    pool["limit"] = decision["plans"][0]["total_cost"]
    assert api.put("/v1/budgets/hot", json=pool, headers=admin).status_code == 200
    accepted = api.post(
        f"/v1/decisions/{decision['decision_id']}/accept",
        json={"plan_id": decision["plans"][0]["plan_id"]},
        headers=admin,
    )
    assert accepted.status_code == 200, accepted.json

    sign_in(page, server["finance"])
    page.goto("/console/finance")
    rows = page.locator("#pools tbody tr")
    expect(rows.first.get_by_role("rowheader")).to_have_text("hot")  # most spent ahead of time
    expect(rows.first.locator("td.risk")).to_have_text(re.compile(r"pts ahead|used up"))

    rows.filter(has_text="default").filter(has_text="EUR").get_by_role(
        "button", name="Edit default EUR"
    ).click()
    limit = page.get_by_label("Limit per period")
    expect(limit).to_be_focused()
    limit.fill("12.345")  # finer than a cent: the API refuses it, next to the field
    page.get_by_role("button", name="Save pool").click()
    expect(limit).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#pool-limit-error")).to_contain_text("more decimals than EUR allows")
    expect(limit).to_be_focused()

    limit.fill("92000000.00")
    page.get_by_role("button", name="Save pool").click()
    expect(page.locator("#pool-result")).to_contain_text("Pool default EUR saved")
    expect(page.locator("#pool-result")).to_contain_text("€92,000,000.00 per month")
    expect(limit).not_to_have_attribute("aria-invalid", "true")
    default = rows.filter(has_text="default").filter(has_text="EUR")
    expect(default.locator("td.num").first).to_have_text("€92,000,000.00")

    limit.fill("10.00")
    page.get_by_role("button", name="What-if of this pool").click()
    comparison = page.get_by_role("table", name=re.compile("Today against the pool of default"))
    expect(comparison).to_be_visible()
    expect(comparison.get_by_role("row").filter(has_text="Skipped for the pool")).to_contain_text(
        "changed"
    )


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_finance_sets_a_pool_with_a_fix_line_and_an_overdelivery_line(
    browser, server, viewport, request
):
    """The pool form's two optional lines: one without the other is refused next to the
    missing field (nothing sent), the API's own errors land next to their field, a limit
    beside the lines must be their sum; saved, the table shows both lines and **Edit** reads
    them back. The page passes axe with the errors shown and fits the width."""
    width = request.node.callspec.id
    team = f"lines-{width}"
    context = _context(browser, server, viewport)
    page = context.new_page()
    errors = _watch(page)
    sign_in(page, server["finance"])
    page.goto("/console/finance")
    expect(page.locator("#pools table")).to_be_visible()
    fix = page.get_by_label("Fix line per period (optional)")
    overdelivery = page.get_by_label("Overdelivery line per period (optional)")
    limit = page.get_by_label("Limit per period")
    save = page.get_by_role("button", name="Save pool")
    page.locator("#pool-team").fill(team)
    page.locator("#pool-currency").fill("EUR")
    expect(fix).to_have_accessible_description(re.compile("a fix line \\(refunds"))

    fix.fill("600.00")  # without its overdelivery line: refused in the page
    save.click()
    expect(overdelivery).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#pool-overdelivery-limit-error")).to_contain_text(
        "required with a fix line"
    )
    expect(overdelivery).to_be_focused()
    expect(page.locator("#pool-result")).to_be_empty()

    overdelivery.fill("400.001")  # finer than a cent: the API refuses it, next to the field
    save.click()
    expect(page.locator("#pool-overdelivery-limit-error")).to_contain_text(
        "more decimals than EUR allows"
    )
    expect(overdelivery).to_be_focused()
    overdelivery.fill("400.00")
    limit.fill("999.00")  # beside the lines, a limit must be their sum
    save.click()
    expect(page.locator("#pool-limit-error")).to_contain_text(
        "must equal fix_limit + overdelivery_limit"
    )
    expect(limit).to_have_attribute("aria-invalid", "true")
    results = Axe().run(page)  # with the field errors on screen
    violations = [
        (v["id"], [n["target"] for n in v["nodes"]][:3]) for v in results.response["violations"]
    ]
    assert violations == [], violations

    limit.fill("")
    save.click()
    said = page.locator("#pool-result")
    expect(said).to_contain_text(f"Pool {team} EUR saved")
    expect(said).to_contain_text(
        "€1,000.00 per month (fix line €600.00, overdelivery line €400.00)"
    )
    expect(limit).not_to_have_attribute("aria-invalid", "true")
    row = page.locator("#pools tbody tr").filter(has=page.get_by_role("rowheader", name=team))
    expect(row.locator("td[data-label=Limit]")).to_contain_text("€1,000.00")
    expect(row.locator("td[data-label=Limit]")).to_contain_text(
        "fix €600.00 · overdelivery €400.00"
    )
    expect(row.locator("td[data-label=Remaining]")).to_contain_text(
        "fix €600.00 · overdelivery €400.00"
    )
    expect(row.locator("td[data-label=Committed]")).to_contain_text(
        "fix €0.00 · overdelivery €0.00"
    )

    # Read back: the API holds two lines, and Edit fills them (the limit, their sum, empty).
    finance = {"Authorization": f"Bearer {server['finance']}"}
    pools = server["app"].test_client().get("/v1/budgets", headers=finance).json["pools"]
    (stored,) = [p for p in pools if (p["team"], p["currency"]) == (team, "EUR")]
    assert stored["split"] is True
    assert (stored["lines"]["fix"]["limit"], stored["lines"]["overdelivery"]["limit"]) == (
        "600.00",
        "400.00",
    )
    fix.fill("")
    overdelivery.fill("")
    row.get_by_role("button", name=f"Edit {team} EUR").click()
    expect(fix).to_be_focused()
    expect(fix).to_have_value("600.00")
    expect(overdelivery).to_have_value("400.00")
    expect(limit).to_have_value("")
    if width == "desktop":  # the what-if of the two-line pool, through the job worker
        page.get_by_role("button", name="What-if of this pool").click()
        comparison = page.get_by_role("table", name=re.compile(f"Today against the pool of {team}"))
        expect(comparison).to_be_visible()
    results = Axe().run(page)
    violations = [
        (v["id"], [n["target"] for n in v["nodes"]][:3]) for v in results.response["violations"]
    ]
    assert violations == [], violations
    assert _horizontal_overflow(page) <= 0
    screenshot(page, f"finance-pool-lines-{width}")
    context.close()
    assert errors == [], errors


def test_finance_asks_for_suggested_caps_for_a_pool(page, server):
    """The pool form's **Suggest caps for this pool** queues the search as a job; the worker
    runs it and the page shows the suggestion beside today's caps; a pool without a currency
    is refused next to the field, before anything is queued."""
    sign_in(page, server["finance"])
    page.goto("/console/finance")
    page.get_by_role("textbox", name="Team", exact=True).fill("default")
    page.get_by_role("textbox", name="Currency", exact=True).fill("")
    page.get_by_role("button", name="Suggest caps for this pool").click()
    expect(page.locator("#pool-currency-error")).to_contain_text("a currency code such as EUR")
    page.get_by_role("textbox", name="Currency", exact=True).fill("EUR")
    page.get_by_role("button", name="Suggest caps for this pool").click()
    beside = page.get_by_role("table", name="Today's caps beside the suggestion")
    expect(beside).to_be_visible(timeout=60_000)
    expect(beside.get_by_role("row").filter(has_text="Keeps within the pool")).to_contain_text(
        "yes"
    )
    expect(page.locator("#suggestion")).to_contain_text("For the pool default")
    expect(page.locator("#suggestion")).to_contain_text(
        re.compile("What the suggestion changes|The suggestion is today's caps")
    )


def test_finance_edits_caps_sees_a_field_error_in_place_and_a_what_if(page, server):
    sign_in(page, server["finance"])
    page.goto("/console/finance")
    page.get_by_text("Edit caps", exact=True).click()
    default_loss = page.locator('[id="caps.incident_caps.default.loss_multiple"]')
    expect(default_loss).to_be_visible()
    severe_loss = page.locator('[id="caps.incident_caps.overrides.2.set.loss_multiple"]')
    expect(severe_loss).to_have_value("4")
    default_loss.fill("abc")
    page.get_by_role("button", name="Save caps").click()
    expect(default_loss).to_have_attribute("aria-invalid", "true")
    expect(default_loss).to_be_focused()
    expect(page.locator('[id="caps.incident_caps.default.loss_multiple-error"]')).to_contain_text(
        "decimal"
    )
    expect(page.locator("#caps-error")).to_contain_text("The caps were not saved")
    expect(page.locator("#caps-error")).not_to_contain_text("caps: ")  # said next to the field

    default_loss.fill("2")
    severe_loss.fill("3.5")
    page.get_by_role("button", name="What-if of these caps").click()
    expect(page.get_by_role("table", name="Today against the edited caps")).to_be_visible()

    page.get_by_role("button", name="Save caps").click()
    expect(page.locator("#caps-result")).to_contain_text(re.compile(r"Caps version \d+ saved"))
    expect(page.locator("#caps-history").get_by_role("row").nth(1)).to_contain_text("active")
    governing = page.locator("#governing tr").filter(has_text="3.5 (override 2)")
    expect(governing.first).to_be_attached()  # severity 4 and 5 at the company's fault


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_finance_cockpit_reads_at_both_widths(browser, server, viewport, request):
    """The cockpit as finance opens it: pools by risk with totals, and a sweep's curve."""
    context = _context(browser, server, viewport)
    page = context.new_page()
    errors = _watch(page)
    sign_in(page, server["finance"])
    page.goto("/console/finance")
    expect(page.locator("#pools tfoot")).to_be_visible()
    expect(page.locator("#governing table").first).to_be_visible()
    today = datetime.now(UTC).date()
    page.get_by_label("From (UTC day)", exact=True).fill((today - timedelta(days=1)).isoformat())
    page.get_by_label("Sweep from").fill("0.5")
    page.get_by_label("Sweep to").fill("3")
    page.get_by_label("Steps").fill("6")
    page.get_by_role("button", name="Run what-if").click()
    chart = page.get_by_role("img", name=re.compile(r"Spend against expected net value \(EUR\)"))
    expect(chart).to_be_visible()
    assert _horizontal_overflow(page) <= 0
    width = request.node.callspec.id
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, f"finance-{width}", docs=True, full_page=False)
    page.locator("#whatif-result-heading").evaluate("(e) => e.scrollIntoView({block: 'start'})")
    screenshot(page, f"finance-whatif-{width}", docs=True, full_page=False)
    context.close()
    assert errors == [], errors


def test_a_suggestion_is_shown_beside_todays_caps_with_its_what_if(page, server):
    app = server["app"]
    now = datetime.now(UTC)
    with app.app_context():
        session = db.database(app).sessions()
        try:
            service = WhatIfService(session, app_services.scorer(app)(session))
            result = suggest_caps(
                service,
                "default",
                "EUR",
                now - timedelta(days=2),
                now + timedelta(days=1),
                rounds=1,
                factors=[Decimal("0.5"), Decimal("1"), Decimal("2")],
            )
        finally:
            session.close()
    sign_in(page, server["finance"])
    page.goto("/console/finance")
    expect(page.locator("#caps table").first).to_be_visible()
    page.evaluate(
        """async (result) => {
            const { showSuggestion } = await import("/console/static/finance_suggest.js");
            showSuggestion(result);
        }""",
        result,
    )
    beside = page.get_by_role("table", name="Today's caps beside the suggestion")
    row = beside.get_by_role("row").filter(has_text="Expected net value")
    expect(row.locator("td").first).to_have_text(
        "€" + f"{Decimal(result['today']['expected_net_value']):,.2f}"
    )
    expect(row.locator("td").nth(1)).to_have_text(
        "€" + f"{Decimal(result['suggested']['expected_net_value']):,.2f}"
    )
    if result["changes"]:
        changes = page.get_by_role("table", name="What the suggestion changes")
        expect(changes.locator("tbody tr")).to_have_count(len(result["changes"]))
        page.get_by_role("button", name="What-if of the suggested caps").click()
        expect(page.get_by_role("table", name="Today against the suggested caps")).to_be_visible()
    else:
        expect(page.locator("#suggestion")).to_contain_text("The suggestion is today's caps.")


def test_finance_reads_spend_failure_and_promise_reports(page, server):
    sign_in(page, server["finance"])
    page.goto("/console/finance")
    page.get_by_label("Spend by").select_option("category")
    page.get_by_role("button", name="Show reports").click()
    spend = page.locator("#report-spend")
    expect(spend.locator("table, p").first).to_be_visible()
    diagnose = page.get_by_role("table", name="Failures by cost to the company, costliest first")
    expect(diagnose.locator("tbody tr th").first).to_have_text(re.compile(r"^\d{4}-\d\d$"))
    expect(diagnose.locator("tbody tr").first).to_contain_text("delivery")
    expect(page.get_by_role("img", name=re.compile("Cost to the company in EUR"))).to_be_visible()
    expect(page.locator("#report-promises")).to_contain_text("The promises: answer within PT30M")


def test_a_lead_reads_its_teams_reports_and_exports_each_table(page, server):
    sign_in(page, server["lead"])
    nav = page.get_by_role("navigation", name="Console pages")
    expect(nav.get_by_role("link", name="Reports")).to_be_visible()
    expect(nav.get_by_role("link", name="Finance")).to_be_hidden()
    page.goto("/console/reports")
    page.get_by_role("button", name="Show reports").click()
    audit = page.get_by_role("table", name=re.compile("^Touchpoints by cost, costliest first"))
    # The seeded touchpoints; other tests' incidents of the team (none said) add "not said".
    named = audit.locator("tbody tr").filter(has_not_text="not said")
    expect(named).to_have_count(2)
    names = sorted(named.locator("th").all_inner_texts())
    assert names == ["billing_run", "courier"], names
    expect(
        page.get_by_role("img", name=re.compile("What each touchpoint's failures cost in EUR"))
    ).to_be_visible()
    for table_ in page.locator("#reports-result table").all():  # every table can be exported
        section = table_.locator("xpath=ancestor::div[starts-with(@id, 'report-')]")
        expect(section.get_by_role("button", name=re.compile("^Export .* as CSV$"))).to_be_visible()
    with page.expect_download() as waiting:
        page.get_by_role("button", name="Export honesty audit as CSV").click()
    download = waiting.value
    assert download.suggested_filename == "honesty-audit.csv"
    lines = Path(download.path()).read_text().splitlines()
    assert lines[0].startswith("touchpoint,currency,cost,remedies,")
    said = sorted(line.split(",")[0] for line in lines[1:] if line.split(",")[0])
    assert said == ["billing_run", "courier"]
    with page.expect_download() as waiting:
        page.get_by_role("button", name="Export failures by cost as CSV").click()
    assert Path(waiting.value.path()).read_text().startswith("month,category,fault_type,")
    screenshot(page, "reports-lead")


def test_models_lists_versions_shows_a_card_and_promotes_after_confirmation(page, server):
    sign_in(page, server["admin"])
    page.get_by_role("link", name="Models").first.click()
    versions = page.locator("#versions")
    current = versions.get_by_role("row").filter(has_text="in use")
    expect(current).to_have_count(1)
    expect(current.get_by_role("rowheader")).to_have_text("sim-4")
    expect(versions.get_by_role("row").filter(has_text=SECOND_MODEL)).to_contain_text("available")
    expect(current.locator("td.last-promotion")).to_contain_text("day-one model bundled")
    expect(versions).not_to_contain_text("null")

    page.get_by_role("button", name="Card of sim-4", exact=True).click()
    expect(page.get_by_role("heading", name="Model card: sim-4")).to_be_visible()
    card = page.locator("#card")
    expect(card).to_contain_text("HistGradientBoostingClassifier")
    expect(card.get_by_role("row").filter(has_text="auc")).to_contain_text("0.7")
    values = page.get_by_role("table", name=re.compile("^Policy values"))
    model_dr = values.get_by_role("row").filter(has_text="model").filter(has_text="doubly_robust")
    newest = json.loads((bundled_folders()[-1] / "card.json").read_text())
    dr = next(
        e
        for e in newest["metrics"]["policy_values"]["offpolicy"]["model"]
        if e["method"] == "doubly_robust"
    )
    expect(model_dr).to_contain_text(f"{dr['value']:.1f}")
    # the 95% interval from the card
    expect(model_dr).to_contain_text(f"{dr['low']:.1f} to {dr['high']:.1f}")
    expect(
        card.get_by_role("img", name=re.compile("^Policy values with 95% intervals"))
    ).to_be_visible()
    bins = len(newest["metrics"]["holdout"]["retention"]["calibration"])
    expect(page.get_by_role("table", name="Calibration bins").locator("tbody tr")).to_have_count(
        bins
    )
    calibration = card.get_by_role("img", name=re.compile("^Calibration"))
    expect(calibration.locator("circle")).to_have_count(bins)

    questions: list[str] = []

    def answer(dialog: Any, accept: bool) -> None:
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    reason = page.get_by_label("Why (for a promotion or a rollback)")
    page.get_by_role("button", name=f"Promote {SECOND_MODEL}").click()  # no reason yet
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(reason).to_be_focused()
    assert questions == []
    reason.fill("better calibrated on the last month")
    page.once("dialog", lambda dialog: answer(dialog, False))
    page.get_by_role("button", name=f"Promote {SECOND_MODEL}").click()
    expect(page.locator("#models-result")).to_contain_text(f"Promotion of {SECOND_MODEL} cancelled")
    expect(current.get_by_role("rowheader")).to_have_text("sim-4")

    page.once("dialog", lambda dialog: answer(dialog, True))
    page.get_by_role("button", name=f"Promote {SECOND_MODEL}").click()
    expect(page.locator("#models-result")).to_contain_text(f"Model {SECOND_MODEL} is now in use")
    expect(page.locator("#models-result")).to_be_focused()  # not lost with the old table
    expect(current.get_by_role("rowheader")).to_have_text(SECOND_MODEL)
    expect(current.locator("td.last-promotion")).to_contain_text("better calibrated")
    expect(page.get_by_role("button", name="Promote sim-4", exact=True)).to_be_visible()
    expect(page.locator("#promotions").get_by_role("row").nth(1)).to_contain_text(
        "better calibrated on the last month"
    )
    assert all(f"Promote model {SECOND_MODEL}?" in q for q in questions) and len(questions) == 2

    reason.fill("serving errors since the promotion")
    page.once("dialog", lambda dialog: answer(dialog, True))
    page.get_by_role("button", name="Roll back to the previous model").click()
    expect(page.locator("#models-result")).to_contain_text("Rolled back: model sim-4 is now in use")
    expect(page.locator("#models-result")).to_be_focused()
    expect(current.get_by_role("rowheader")).to_have_text("sim-4")
    expect(page.locator("#promotions").get_by_role("row").nth(1)).to_contain_text(
        f"rollback from {SECOND_MODEL}: serving errors since the promotion"
    )
    assert questions[-1].startswith(f"Roll back from {SECOND_MODEL}?")
    screenshot(page, "models")


def open_demo(page: Page, server: dict[str, Any], host: str):
    """Open the demo help desk at `host` with the panel in its side bar; return the panel's
    frame."""
    page.goto(f"{host}/index.html?panel={server['url']}/console/panel")
    return page.frame_locator("iframe[title='remedy panel']")


@pytest.fixture
def blocking(browser: Browser, tmp_path: Path) -> Iterator[Any]:
    """A Chromium profile that blocks third-party cookies and storage (the setting of
    chrome://settings/cookies, written into the profile's Preferences), as a help desk's
    agents often run; one persistent context, desktop-sized, from the module's Playwright."""
    profile = tmp_path / "profile"
    (profile / "Default").mkdir(parents=True)
    (profile / "Default" / "Preferences").write_text(
        json.dumps({"profile": {"cookie_controls_mode": 1, "block_third_party_cookies": True}})
    )
    context = browser.browser_type.launch_persistent_context(
        str(profile),
        executable_path=str(CHROMIUM),
        args=CHROMIUM_ARGS,
        headless=True,
        viewport=DESKTOP,
    )
    context.set_default_timeout(15_000)
    yield context
    context.close()


def _panel_frame(page: Page, server: dict[str, Any]) -> Any:
    """The panel's frame object (for evaluating inside it)."""
    return next(f for f in page.frames if f.url.startswith(f"{server['url']}/console/panel"))


def _active(frame: Any) -> str:
    """Say what has focus inside the frame: tag, id and class."""
    return frame.evaluate(
        "() => { const e = document.activeElement;"
        " return `${e.tagName.toLowerCase()}#${e.id}.${e.className}`; }"
    )


def test_the_panel_on_another_site_signs_in_through_the_host_inserts_and_accepts(
    blocking, server, wild_host
):
    """Host on desk.localhost (allowed by the wildcard), panel on 127.0.0.1, third-party
    storage blocked: sign-in by a host-minted token, ticket, plans, insert, accept, notes."""
    page = blocking.new_page()
    errors = _watch(page)
    panel = open_demo(page, server, wild_host)
    expect(panel.locator("#who")).to_have_text("agent-7 · agent · emea")
    frame = _panel_frame(page, server)
    storage = frame.evaluate(
        "() => { try { sessionStorage.length; return 'open'; } catch (e) { return e.message; } }"
    )
    assert "Access is denied" in storage  # the browser really refuses the panel any storage
    expect(page.locator("#events")).to_contain_text("panel signed in through the help desk")
    facts = panel.locator("#incident-summary")
    expect(facts).to_contain_text("TICKET-991")
    expect(facts).to_contain_text("5 of 5")
    expect(facts).to_contain_text("€300.00")  # en-GB, the customer's locale
    expect(facts).to_contain_text("threatens to leave")
    assert _active(frame).startswith("h2#incident-heading")  # signed in: the ticket to read
    expect(panel.get_by_label("Customer id")).to_be_hidden()  # a summary, not a form

    panel.get_by_role("button", name="Get plans").click()
    cards = panel.locator("article.plan")
    expect(cards.first).to_be_visible()
    assert _active(frame).startswith("article#.plan")  # focus on the result: the best plan
    screenshot(page, "panel-cross-site-plans", full_page=False)
    bottom = frame.evaluate(
        "() => document.querySelector('article.plan').getBoundingClientRect().bottom + scrollY"
    )
    assert bottom <= 760, bottom  # the best plan whole without scrolling in a 760 px frame
    text = frame.evaluate("() => document.body.innerText")
    assert not re.search(r"\bPT\d|\d{2}:\d{2}:\d{2}\.\d+|\d \b(EUR|USD)\b", text), text
    expect(cards.first.locator("dd.cost")).to_have_text(re.compile(r"^€[\d,]+\.\d\d$"))

    # Keyboard: next and previous plan, insert the talking points, accept.
    page.keyboard.press("Alt+N")
    assert frame.evaluate(
        "() => document.activeElement === document.querySelectorAll('article.plan')[1]"
    )
    page.keyboard.press("Alt+P")
    assert frame.evaluate("() => document.activeElement === document.querySelector('article.plan')")
    first = cards.first
    decision_id = first.get_attribute("data-decision-id")
    points = first.locator("details.talking li").all_text_contents()
    page.keyboard.press("Alt+I")
    expect(first.locator(".card-result")).to_contain_text("inserted into the reply")
    assert _active(frame).startswith("div#.card-result")
    reply = page.locator("#reply").input_value()
    assert reply.splitlines() == points
    assert decision_id not in reply and "remedy" not in reply.lower()

    # The agent works in the panel again, on the best plan an agent may give alone.
    alone = next(
        i for i in range(cards.count()) if cards.nth(i).locator(".badge.warn").count() == 0
    )
    chosen = cards.nth(alone)
    chosen.click(position={"x": 5, "y": 5})
    page.keyboard.press("Alt+A")
    expect(chosen.locator(".card-result")).to_contain_text(f"Plan {alone + 1} accepted")
    assert _active(frame).startswith("div#.card-result")
    note = page.locator("#notes li").first
    expect(note).to_contain_text(f"decision {decision_id}")
    expect(note).to_contain_text("accepted (reserved, €")
    assert decision_id not in page.locator("#reply").input_value()  # internal stays internal
    expect(page.locator("#events")).to_contain_text("accepted: reserved")
    screenshot(page, "panel-cross-site")
    assert errors == [], errors


def test_the_panel_in_a_help_desk_takes_the_ticket_accepts_and_sees_the_approval(
    browser, server, demo_host
):
    context = _context(browser, server, DESKTOP)
    page = context.new_page()
    errors = _watch(page)
    panel = open_demo(page, server, demo_host)
    expect(page.locator("#events")).to_contain_text("panel ready: ticket sent")
    expect(panel.locator("#who")).to_contain_text("agent-7 · agent · emea")
    panel.get_by_role("button", name="Get plans").click()
    cards = panel.locator("article.plan")
    expect(cards.first).to_be_visible()
    expect(panel.locator("#plans")).to_contain_text("best first for ticket TICKET-991")
    # The bundled tiers: the agent decides up to 1,000.00 EUR, a team lead up to 5,000.00.
    card = cards.filter(has_text="needs approval").first
    number = re.match(r"Plan (\d+)", card.get_by_role("heading", level=3).inner_text())[1]
    expect(card).to_contain_text("A team lead must approve before anything is given")

    card.get_by_role("button", name=f"Insert talking points of plan {number}").click()
    expect(card.locator(".card-result")).to_contain_text("inserted into the reply")
    first_point = card.locator("details.talking li").first.text_content()
    assert page.locator("#reply").input_value().splitlines()[0] == first_point

    card.get_by_role("button", name=f"Accept plan {number}").click()
    expect(card.locator(".card-result")).to_contain_text(f"Plan {number} sent for approval")
    expect(card.locator(".card-result")).to_contain_text("Waiting for a team lead's answer")
    accepted = page.locator("#events li").filter(has_text="accepted: pending_approval")
    expect(accepted).to_have_count(1)
    decision_id = accepted.get_attribute("data-decision-id")
    screenshot(page, "panel-desktop", docs=True)

    # Finance approves through the API; the panel sees it on its next look, and tells the host.
    api = server["app"].test_client()
    approved = api.post(
        f"/v1/decisions/{decision_id}/approve",
        json={"note": "fine"},
        headers={"Authorization": f"Bearer {server['finance']}"},
    )
    assert approved.status_code == 200, approved.json
    expect(card.locator(".card-result")).to_contain_text(f"Approved: plan {number} is reserved.")
    expect(card.locator(".card-result")).to_contain_text("Finance approved it.")
    expect(page.locator("#events")).to_contain_text("finance answered: reserved (fine)")
    expect(page.locator("#notes li").last).to_contain_text("finance answered for plan")
    context.close()
    assert errors == [], errors


def test_the_panel_takes_the_incident_from_its_url_and_a_sign_in_of_its_own(phone, server):
    query = (
        "external_id=T-55&customer_id=c-url&severity=3&fault_type=partner"
        "&customer_value=900.00&loss_amount=45.00&currency=USD&channel=email&locale=en-US"
    )
    phone.goto(f"/console/panel?{query}")
    phone.get_by_label("API key").fill(server["agent"])
    phone.get_by_role("button", name="Sign in").click()
    facts = phone.locator("#incident-summary")
    for text in ("T-55", "c-url", "3 of 5", "a partner's", "$45.00", "$900.00"):
        expect(facts).to_contain_text(text)
    phone.get_by_role("button", name="Edit").click()
    expect(phone.get_by_label("Fault type")).to_have_value("partner")
    expect(phone.get_by_label("Ticket id (optional)")).to_be_focused()
    phone.get_by_label("Loss amount").fill("50.00")
    phone.get_by_role("button", name="Done").click()
    expect(facts).to_contain_text("$50.00")
    phone.get_by_role("button", name="Get plans").click()
    first = phone.locator("article.plan").first
    expect(first.locator("dd.cost")).to_have_text(re.compile(r"^\$[\d,]+\.\d\d$"))
    expect(first.get_by_role("button", name="Copy talking points")).to_be_visible()  # no host
    first.get_by_role("button", name="Accept plan 1").click()
    expect(first.locator(".card-result")).to_contain_text("Plan 1 accepted: reserved")
    expect(first.locator(".card-result")).to_be_focused()
    assert _horizontal_overflow(phone) <= 0
    screenshot(phone, "panel-phone", docs=True)

    phone.get_by_role("button", name="Sign out").click()
    expect(phone.get_by_role("heading", name="Sign in")).to_be_visible()
    assert phone.evaluate("sessionStorage.length") == 0  # the key was never stored


def test_the_panel_refuses_hosts_and_messages_outside_the_allow_list(
    page, server, demo_host, wild_host
):
    response = page.goto("/console/panel")
    policy = response.headers["content-security-policy"]
    assert policy.endswith(f"frame-ancestors 'self' {demo_host}")  # never a wildcard
    port = demo_host.rsplit(":", 1)[1]
    allowed = page.evaluate(
        """async (origins) => {
            const { originAllowed } = await import("/console/static/panel.js");
            return origins.map((origin) => originAllowed(origin));
        }""",
        [
            demo_host,
            server["url"],
            wild_host,
            f"http://a.b.localhost:{port}",
            f"http://localhost:{port}",
            f"https://desk.localhost:{port}",
            "http://127.0.0.1:1",
            "https://evil.example",
        ],
    )
    assert allowed == [True, True, True, False, False, False, False, False]
    framed = page.request.get(f"/console/panel?host={wild_host}")
    assert framed.headers["content-security-policy"].endswith(
        f"frame-ancestors 'self' {demo_host} {wild_host}"
    )
    deeper = page.request.get(f"/console/panel?host=http://a.b.localhost:{port}")
    assert deeper.headers["content-security-policy"].endswith(f"frame-ancestors 'self' {demo_host}")
    # The demo page on origins the patterns do not allow (two labels for the one `*`, and the
    # bare localhost): the browser refuses to show the panel, which never says it is ready.
    for other in (f"http://a.b.localhost:{port}", f"http://localhost:{port}"):
        page.goto(f"{other}/index.html?panel={server['url']}/console/panel")
        page.wait_for_load_state("load")
        frame = page.frame_locator("iframe[title='remedy panel']")
        expect(frame.get_by_role("heading", name="Remedy")).to_have_count(0)
        expect(page.locator("#events")).not_to_contain_text("panel ready")


def _horizontal_overflow(page: Page) -> int:
    """How many pixels the page is wider than the viewport (0 or less: no sideways scroll)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


# The elements that stick out to the right (outside a table's own scroller), for the report.
STICKING_OUT = """() => [...document.querySelectorAll("body *")]
    .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5)
    .filter((e) => !e.closest(".table-scroll") || e.matches(".table-scroll"))
    .slice(0, 5)
    .map((e) => `${e.tagName}.${e.className} ${(e.textContent || "").slice(0, 40)}`)"""


def _load(page: Page, path: str, server: dict[str, Any]) -> None:
    """Open a console page and bring it to a state that shows its content."""
    page.goto(path)
    if path == "/console/agent":
        fill_incident(page, customer_id="c-axe", severity="4", loss_amount="80.00")
        page.get_by_role("button", name="Recommend plans").click()
        expect(page.locator("article.plan").first).to_be_visible()
        page.locator("article.plan").first.locator("details.why summary").click()
        page.locator("#decision-details summary").click()
    elif path == "/console/finance":
        expect(page.locator("#pools table")).to_be_visible()
        expect(page.locator("#caps-history table")).to_be_visible()
        expect(page.locator("#governing table").first).to_be_visible()
        page.locator("#governing summary").click()
        page.get_by_text("Edit caps", exact=True).click()  # every field of the editor, too
        page.get_by_role("button", name="Show reports").click()
        expect(page.locator("#report-diagnose table")).to_be_visible()
        page.get_by_label("Steps").fill("3")
        page.get_by_role("button", name="Run what-if").click()
        expect(page.get_by_role("table", name="Sweep", exact=True)).to_be_visible()
    elif path == "/console/reports":
        page.get_by_role("button", name="Show reports").click()
        expect(page.locator("#report-audit table")).to_be_visible()
    elif path == "/console/models":
        expect(page.locator("#versions table")).to_be_visible()
        page.get_by_role("button", name="Card of sim-4", exact=True).click()
        expect(page.locator("#card table").first).to_be_visible()
    elif path == "/console/approvals":
        _pending_plan(server)
        page.get_by_label("Show").select_option("all")
        expect(page.locator("article.approval-card").first).to_be_visible()
    elif path.startswith("/console/panel"):
        page.get_by_label("API key").fill(server["agent"])  # the panel keeps keys in memory
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("button", name="Edit").click()  # the form, too
        page.get_by_role("button", name="Get plans").click()
        expect(page.locator("article.plan").first).to_be_visible()
        page.locator("article.plan").first.locator("details.why summary").click()
    else:
        expect(page.get_by_role("heading", name="Signed in", exact=True)).to_be_visible()


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_every_page_passes_axe_and_fits_the_width(browser, server, viewport):
    context = _context(browser, server, viewport)
    page = context.new_page()
    errors = _watch(page)
    sign_in(page, server["admin"])
    panel = "/console/panel?customer_id=c-axe&severity=4&customer_value=2400.00&loss_amount=80.00&currency=EUR"
    report = {}
    pages = ["/console/", "/console/agent", "/console/approvals", "/console/reports"]
    pages.append("/console/finance")
    for path in [*pages, "/console/models", panel]:
        _load(page, path, server)
        results = Axe().run(page)
        report[path] = {
            "violations": [
                (v["id"], [n["target"] for n in v["nodes"]][:3])
                for v in results.response["violations"]
            ],
            "overflow": _horizontal_overflow(page),
            "sticking_out": page.evaluate(STICKING_OUT),
        }
        if viewport == PHONE:
            screenshot(page, "phone-" + path.split("?")[0].strip("/").replace("/", "-"))
    context.close()
    assert errors == [], errors
    failing = {p: r for p, r in report.items() if r["violations"] or r["overflow"] > 0}
    assert failing == {}, failing


def _pending_plan(server: dict[str, Any], customer: str = "c-queue") -> tuple[str, dict[str, Any]]:
    """A decision of team emea whose plan for a team lead was accepted and waits; return its id
    and the plan."""
    api = server["app"].test_client()
    agent = {"Authorization": f"Bearer {server['agent']}"}
    decision = api.post(
        "/v1/recommendations",
        json={"incident": _incident(customer, 5, "300.00"), "team": "emea"},
        headers=agent,
    ).json
    plan = next(p for p in decision["plans"] if p["approver"] == "lead")
    accepted = api.post(
        f"/v1/decisions/{decision['decision_id']}/accept",
        json={"plan_id": plan["plan_id"]},
        headers=agent,
    )
    assert accepted.json["status"] == "pending_approval", accepted.json
    return decision["decision_id"], plan


def test_a_lead_approves_from_the_queue_and_the_agent_page_sees_the_answer(browser, server):
    agent_context = _context(browser, server, DESKTOP)
    agent = agent_context.new_page()
    agent_errors = _watch(agent)
    sign_in(agent, server["agent"])
    agent.goto("/console/agent")
    fill_incident(agent, customer_id="c-lead", severity="5", loss_amount="300.00", team="emea")
    agent.get_by_label("Customer value (annual)", exact=True).fill("5000.00")
    agent.get_by_role("button", name="Recommend plans").click()
    card = agent.locator("article.plan").filter(has_text="A team lead must approve").first
    number = re.match(r"Plan (\d+)", card.get_by_role("heading", level=3).inner_text())[1]
    card.get_by_role("button", name=f"Accept plan {number}").click()
    expect(card.locator(".card-result")).to_contain_text("Waiting for a team lead's answer")
    decision_id = card.get_attribute("data-decision-id")
    other_id, _ = _pending_plan(server, "c-lead-other")  # a second, older-first neighbour

    for viewport, name in ((PHONE, "phone-approvals-lead"), (DESKTOP, "approvals")):
        lead_context = _context(browser, server, viewport)
        lead = lead_context.new_page()
        lead_errors = _watch(lead)
        sign_in(lead, server["lead"])
        expect(lead.locator("#page-list").get_by_role("link")).to_have_text(
            ["Agent", "Approvals", "Lead desk", "Reports"]
        )
        lead.goto("/console/approvals")
        expect(lead.locator("#queue-status")).to_contain_text("waiting, oldest first")
        ours = lead.locator(f"article.approval-card[data-decision-id='{decision_id}']")
        expect(ours).to_contain_text("a team lead")
        expect(ours).to_contain_text("Waiting")
        assert lead.get_by_label("Show").is_hidden()  # a lead has one queue
        assert _horizontal_overflow(lead) <= 0
        violations = Axe().run(lead).response["violations"]
        assert violations == [], [(v["id"], v["nodes"][0]["target"]) for v in violations]
        screenshot(lead, name)
        if viewport == PHONE:
            lead_context.close()
            assert lead_errors == [], lead_errors
            continue
        # Reject without a reason: refused next to the field, focus on it.
        ours.get_by_role("button", name=re.compile("^Reject")).click()
        reason = ours.get_by_label("Reason (required to reject; the agent reads it)")
        expect(reason).to_have_attribute("aria-invalid", "true")
        expect(reason).to_be_focused()
        expect(ours.locator(".field-error")).to_contain_text("Say why the plan is rejected")
        reason.fill("loyal customer, the courier failed twice")
        ours.get_by_role("button", name=re.compile("^Approve")).click()
        expect(ours.locator(".card-result")).to_contain_text("Approved: the plan is reserved")
        expect(lead.locator("#queue-status")).to_contain_text("still waiting")
        neighbour = lead.locator(f"article.approval-card[data-decision-id='{other_id}']")
        expect(neighbour.get_by_role("heading", level=3)).to_be_focused()
        lead_context.close()
        assert lead_errors == [], lead_errors

    result = card.locator(".card-result")
    expect(result).to_contain_text(f"Approved: plan {number} is reserved.")
    expect(result).to_contain_text("A team lead approved it.")
    expect(result).to_contain_text("loyal customer, the courier failed twice")
    screenshot(agent, "agent-approved")
    agent_context.close()
    assert agent_errors == [], agent_errors
