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
from remedy.services.model_registry import ModelRegistry, bundled_folders

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
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
SECOND_MODEL = "sim-2-console"


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

from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402 - after skip

# Chromium logs every non-2xx fetch as a console error; the tests provoke 4xx on purpose, so
# those network lines are expected. Anything else on the console (a JS error) fails the test.
EXPECTED_NETWORK_ERROR = re.compile(
    r"^Failed to load resource: the server responded with a status of 4\d\d"
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


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Serve a seeded app on a free port; return its base URL, a key per role and the app."""
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
    }
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": env["REMEDY_DATABASE_URL"],
            "MODEL_DIR": env["REMEDY_MODEL_DIR"],
            "EXPLORATION_RATE": Decimal(0),  # the first plan shown is the best: stable pages
            "RATE_LIMIT": "",
            "LOG_LEVEL": "WARNING",
        }
    )
    with db.database(app).unit_of_work() as session:
        ModelRegistry(session).register(_second_model(folder), "test")
    # Logged decisions for the what-if to replay: severity 2 follows the default caps, which
    # the sweep varies; losses differ so the curve has a shape.
    client = app.test_client()
    for number, loss in enumerate(["40.00", "90.00", "150.00", "260.00", "35.00", "120.00"]):
        response = client.post(
            "/v1/recommendations",
            json={"incident": _incident(f"seed-{number}", 2, loss), "team": "emea"},
            headers={"Authorization": f"Bearer {admin}"},
        )
        assert response.status_code == 201, response.json

    from werkzeug.serving import make_server

    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"url": f"http://127.0.0.1:{http.server_port}", "app": app, **keys}
    finally:
        http.shutdown()
        thread.join(timeout=10)
        http.server_close()
        db.database(app).dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the module."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, server: dict[str, Any]) -> Iterator[Page]:
    """A page in a fresh context; fails the test if the page logged a JavaScript error."""
    context = browser.new_context(base_url=server["url"], viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
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
    yield page
    context.close()
    assert errors == [], errors


def sign_in(page: Page, key: str) -> None:
    """Sign in on the sign-in page with `key`."""
    page.goto("/console/")
    page.get_by_label("API key", exact=True).fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Signed in", exact=True)).to_be_visible()


def screenshot(page: Page, name: str) -> None:
    """Keep a full-page screenshot as a test artifact."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


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
    expect(pages.get_by_role("link")).to_have_text(["Agent", "Finance", "Models"])
    expect(page.get_by_role("status").first).to_contain_text("Signed in: admin key")
    screenshot(page, "sign-in")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in with an API key")).to_be_visible()
    assert page.evaluate("sessionStorage.length") == 0
    page.goto("/console/models")
    expect(page.get_by_role("alert")).to_contain_text("You are not signed in")


def test_agent_recommends_accepts_and_sees_conflicts_and_field_errors_explained(page, server):
    sign_in(page, server["agent"])
    page.get_by_role("navigation", name="Console pages").get_by_role("link", name="Agent").click()
    expect(page.get_by_role("heading", name="Agent: recommend a remedy")).to_be_visible()

    page.get_by_label("Severity (1-5)").fill("9")
    page.get_by_role("button", name="Recommend plans").click()
    expect(page.get_by_label("Severity (1-5)")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#severity-error")).to_contain_text("less than or equal to 5")
    expect(page.locator("#incident-error")).to_contain_text("Please correct the fields")

    page.get_by_label("Customer id").fill("c-42")
    page.get_by_label("Severity (1-5)").fill("4")
    page.get_by_label("Customer value (annual)").fill("2400.00")
    page.get_by_label("Loss amount").fill("80.00")
    page.get_by_label("Locale").fill("fr-FR")
    page.get_by_label("Team (optional)").fill("emea")
    page.get_by_role("button", name="Recommend plans").click()
    plans = page.locator("article.plan")
    expect(plans.first).to_be_visible()
    expect(page.get_by_label("Severity (1-5)")).not_to_have_attribute("aria-invalid", "true")
    assert plans.count() >= 1
    first = plans.first
    expect(first.get_by_role("heading", level=3)).to_contain_text("Plan 1: apology")
    expect(first.locator("dd.cost")).to_have_text(re.compile(r"^\d+\.\d\d EUR$"))
    expect(first.locator("ul.reasons")).to_contain_text("expected net value")
    expect(first.get_by_role("table")).to_contain_text("Cost to us")
    expect(page.locator("#decision-details")).to_contain_text(
        "Cap 320.00 EUR, set by loss_multiple"
    )

    first.get_by_role("button", name="Accept plan 1").click()
    result = page.locator("#accept-result")
    expect(result).to_contain_text("Plan 1 accepted: reserved")
    expect(result).to_contain_text("EUR from pool default/")

    first.get_by_role("button", name="Accept plan 1").click()  # the same decision again
    expect(result.get_by_role("alert")).to_contain_text(
        "Not accepted: the decision was already acted on. (409 Conflict)"
    )
    expect(result).to_contain_text("This decision is already reserved, so it cannot be accepted")
    screenshot(page, "agent")


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
    expect(first.locator("dd.cost")).to_have_text("83.33 EUR")  # fits the 120.00 EUR pool

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
    alert = page.locator("#accept-result").get_by_role("alert")
    expect(alert).to_contain_text("Not accepted: the plan does not fit the budget. (409 Conflict)")
    expect(alert).to_contain_text("pool tiny/")
    expect(alert).to_contain_text("would exceed the limit of 120.00 EUR")


def test_finance_sees_pools_caps_history_and_a_what_if_chart(page, server):
    sign_in(page, server["finance"])
    page.get_by_role("link", name="Finance").first.click()
    expect(page.get_by_role("heading", name="Finance: budgets, caps and what-if")).to_be_visible()

    pools = page.locator("#pools")
    eur = pools.get_by_role("row").filter(has_text="EUR").filter(has_text="default")
    expect(eur).to_have_count(1)
    expect(eur.locator("td.remaining")).to_have_text(re.compile(r"^\d+\.\d\d EUR$"))
    expect(eur.get_by_role("img")).to_have_attribute("aria-label", re.compile("of the period gone"))

    expect(page.locator("#caps")).to_contain_text("Active: version 1, by init")
    history = page.locator("#caps-history").get_by_role("row")
    expect(history).to_have_count(2)  # the header and version 1
    expect(history.nth(1)).to_contain_text("init")
    expect(history.nth(1)).to_contain_text("active")

    today = datetime.now(UTC).date()  # a range around today, safe across midnight
    page.get_by_label("From (UTC day)").fill((today - timedelta(days=1)).isoformat())
    page.get_by_label("To (UTC day, exclusive)").fill((today + timedelta(days=2)).isoformat())
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
    sweep = result.get_by_role("table", name="Sweep", exact=True)
    expect(sweep.locator("tbody tr th")).to_have_text(["0.5", "1", "1.5", "2"])
    expect(sweep.locator("tbody tr").first).to_contain_text(" EUR")

    page.get_by_label("To (UTC day, exclusive)").fill("2020-01-01")  # before "from": refused
    page.get_by_role("button", name="Run what-if").click()
    expect(page.locator("#whatif-error")).to_contain_text("The what-if could not run")
    page.get_by_label("To (UTC day, exclusive)").fill("2099-01-01")
    page.get_by_role("button", name="Run what-if").click()
    expect(chart).to_be_visible()
    screenshot(page, "finance")


def test_models_lists_versions_shows_a_card_and_promotes_after_confirmation(page, server):
    sign_in(page, server["admin"])
    page.get_by_role("link", name="Models").first.click()
    versions = page.locator("#versions")
    current = versions.get_by_role("row").filter(has_text="in use")
    expect(current).to_have_count(1)
    expect(current.get_by_role("rowheader")).to_have_text("sim-2")
    expect(versions.get_by_role("row").filter(has_text=SECOND_MODEL)).to_contain_text("available")
    expect(versions).not_to_contain_text("null")

    page.get_by_role("button", name="Card of sim-2", exact=True).click()
    expect(page.get_by_role("heading", name="Model card: sim-2")).to_be_visible()
    expect(page.locator("#card")).to_contain_text("HistGradientBoostingClassifier")
    expect(page.locator("#card").get_by_role("row").filter(has_text="auc")).to_contain_text("0.7")

    questions: list[str] = []

    def answer(dialog: Any, accept: bool) -> None:
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, False))
    page.get_by_role("button", name=f"Promote {SECOND_MODEL}").click()
    expect(page.locator("#models-result")).to_contain_text(f"Promotion of {SECOND_MODEL} cancelled")
    expect(current.get_by_role("rowheader")).to_have_text("sim-2")

    page.once("dialog", lambda dialog: answer(dialog, True))
    page.get_by_role("button", name=f"Promote {SECOND_MODEL}").click()
    expect(page.locator("#models-result")).to_contain_text(f"Model {SECOND_MODEL} is now in use")
    expect(current.get_by_role("rowheader")).to_have_text(SECOND_MODEL)
    expect(versions.get_by_role("row").filter(has_text="sim-2").first).to_be_visible()
    expect(page.get_by_role("button", name="Promote sim-2", exact=True)).to_be_visible()
    expect(page.locator("#promotions").get_by_role("row").nth(1)).to_contain_text(
        "promoted from the console"
    )
    assert all(f"Promote model {SECOND_MODEL}?" in q for q in questions) and len(questions) == 2
    screenshot(page, "models")
