"""The lead's desk in headless Chromium: incidents at risk, repeat victims and the approvals
waiting, with live timers and an escalated plan that stays visible; axe at 1280 and 390 px; and
the agent panel showing the customer's earlier incidents beside the plans.

Its own server (werkzeug in a thread) on a fresh SQLite file seeded like `remedy init`, and
its own data: an accepted plan whose fix is an hour overdue, a customer failed twice, a plan
waiting for a lead past escalate_after and one just asked for. Skipped like the other
browser tests (tests/console/browsing.py) when Playwright or Chromium is missing (unless
REMEDY_REQUIRE_BROWSER=1).
"""

from __future__ import annotations

import importlib.util
import os
import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from remedy import create_app
from remedy.cli import cli
from remedy.extensions import db
from remedy.store.tables import ApprovalRequest, utcnow

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

if importlib.util.find_spec("playwright") is None or not CHROMIUM.exists():
    if os.environ.get("REMEDY_REQUIRE_BROWSER") == "1":
        pytest.fail("browser tests required: playwright or chromium missing", pytrace=False)
    pytest.skip("playwright or chromium missing", allow_module_level=True)

from axe_playwright_python.sync_playwright import Axe  # noqa: E402 - after skip
from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

expect.set_options(timeout=20_000)


def _cli(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _decide(
    client: Any,
    key: str,
    customer: str,
    minutes_ago: int,
    approver: str | None = None,
    accept: bool = True,
    **incident: Any,
) -> str:
    """A decision of team emea for an incident reported `minutes_ago`; its first plan of
    `approver`'s tier accepted."""
    body = {
        "incident": {
            "customer_id": customer,
            "severity": 3,
            "fault_type": "company",
            "customer_value": "1200.00",
            "loss_amount": "60.00",
            "currency": "EUR",
            "category": "delivery",
            "channel": "chat",
            "locale": "en-GB",
            "reported_at": (utcnow() - timedelta(minutes=minutes_ago)).isoformat(),
            **incident,
        },
        "team": "emea",
    }
    headers = {"Authorization": f"Bearer {key}"}
    answer = client.post("/v1/recommendations", json=body, headers=headers)
    assert answer.status_code == 201, answer.json
    decision = answer.json
    if accept:
        plan = next(p for p in decision["plans"] if p["approver"] == approver)
        accepted = client.post(
            f"/v1/decisions/{decision['decision_id']}/accept",
            json={"plan_id": plan["plan_id"]},
            headers=headers,
        )
        assert accepted.status_code == 200, accepted.json
    return decision["decision_id"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("lead")
    env = {
        "REMEDY_DATABASE_URL": f"sqlite:///{folder / 'remedy.sqlite'}",
        "REMEDY_MODEL_DIR": str(folder / "models"),
        "REMEDY_LOG_LEVEL": "WARNING",
    }
    admin = _cli(env, "init").split("keep it safe): ")[1].split()[0]
    keys = {
        "admin": admin,
        "agent": _cli(env, "keys", "create", "--role", "agent", "--team", "emea").strip(),
        "lead": _cli(env, "keys", "create", "--role", "lead", "--team", "emea").strip(),
    }
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": env["REMEDY_DATABASE_URL"],
            "MODEL_DIR": env["REMEDY_MODEL_DIR"],
            "EXPLORATION_RATE": Decimal(0),
            "RATE_LIMIT": "",
            "LOG_LEVEL": "WARNING",
        }
    )
    client = app.test_client()
    agent = keys["agent"]
    seeded = {
        "overdue": _decide(client, agent, "c-late", 120, external_id="T-late"),
        "first": _decide(client, agent, "c-rep", 3000, external_id="T-rep-1"),
        "second": _decide(client, agent, "c-rep", 200, external_id="T-rep-2"),
    }
    big = {"severity": 5, "loss_amount": "950.00", "customer_value": "5000.00"}
    seeded["escalated"] = _decide(
        client,
        agent,
        "c-esc",
        40,
        "lead",
        external_id="T-esc",
        channel="social",
        reach=25000,
        **big,
    )
    with db.database(app).unit_of_work() as session:  # asked 20 minutes ago: escalated
        session.execute(
            sa.update(ApprovalRequest)
            .where(ApprovalRequest.decision_id == seeded["escalated"])
            .values(requested_at=utcnow() - timedelta(minutes=20))
        )
    seeded["fresh"] = _decide(client, agent, "c-fresh", 5, "lead", external_id="T-fresh", **big)

    from werkzeug.serving import make_server

    web = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=web.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"url": f"http://127.0.0.1:{web.server_port}", **keys, **seeded}
    finally:
        web.shutdown()
        thread.join(timeout=10)
        web.server_close()
        db.database(app).dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def _open(browser: Browser, server: dict[str, Any], viewport: dict[str, int]):
    context = browser.new_context(base_url=server["url"], viewport=viewport)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
    page.on(
        "console",
        lambda m: errors.append(m.text) if m.type == "error" else None,
    )
    return context, page, errors


def _sign_in(page: Page, key: str) -> None:
    page.goto("/console/")
    page.get_by_label("API key", exact=True).fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Signed in", exact=True)).to_be_visible()


def _axe_and_width(page: Page) -> None:
    violations = Axe().run(page).response["violations"]
    assert violations == [], [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in violations]
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, overflow


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_lead_desk_shows_risk_repeat_victims_and_live_approvals(browser, server, viewport):
    context, page, errors = _open(browser, server, viewport)
    _sign_in(page, server["lead"])
    expect(page.locator("#page-list").get_by_role("link")).to_have_text(
        ["Agent", "Approvals", "Lead desk", "Reports"]
    )
    page.goto("/console/lead")

    late = page.locator(f"#at-risk tr[data-decision-id='{server['overdue']}']")
    expect(late).to_have_attribute("data-codes", "risk_fix_overdue")
    expect(late).to_contain_text("fix overdue by 1 hour")
    expect(late.locator(".fix-left")).to_contain_text("fix overdue by 1 h")
    escalated_row = page.locator(f"#at-risk tr[data-decision-id='{server['escalated']}']")
    expect(escalated_row).to_have_attribute("data-codes", "risk_approval_waiting")

    victim = page.locator("#repeat tr[data-customer-id='c-rep']")
    expect(victim).to_contain_text("2")
    expect(page.locator("#repeat tr[data-customer-id='c-late']")).to_have_count(0)

    escalated = page.locator(f"#queue article[data-decision-id='{server['escalated']}']")
    expect(escalated.locator(".badge.escalated")).to_have_text("escalated to finance")
    expect(escalated.locator(".decides")).to_contain_text("you may still answer it")
    expect(escalated.locator(".why")).to_contain_text("always does")
    expect(escalated.locator(".customer")).to_contain_text("reach 25,000")
    expect(escalated.locator(".waited")).to_contain_text("20 min")

    fresh = page.locator(f"#queue article[data-decision-id='{server['fresh']}'] .waited")
    expect(fresh).to_be_visible()
    before = fresh.inner_text()
    page.wait_for_timeout(2200)
    assert fresh.inner_text() != before, before  # the wait ticks every second

    _axe_and_width(page)
    name = "lead-desk" if viewport == DESKTOP else "phone-lead-desk"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    context.close()
    assert errors == [], errors


def test_the_approvals_page_keeps_an_escalated_plan_for_the_lead_on_the_servers_clock(
    browser, server
):
    context, page, errors = _open(browser, server, DESKTOP)
    # This browser's clock is 10 minutes slow: the card still counts the real wait (20 min),
    # from the server's timestamps and the queue's as_of, not from the browser's clock.
    context.add_init_script("{ const real = Date.now; Date.now = () => real() - 600000; }")
    _sign_in(page, server["lead"])
    page.goto("/console/approvals")
    escalated = page.locator(f"#queue article[data-decision-id='{server['escalated']}']")
    expect(escalated).to_contain_text("escalated to finance")
    page.wait_for_timeout(1500)  # ticked since it was drawn
    expect(escalated.locator(".waited")).to_contain_text("20 min")
    expect(escalated.locator(".fix-left")).to_contain_text("fix")
    context.close()
    assert errors == [], errors


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_panel_shows_the_customers_earlier_incidents_beside_the_plans(
    browser, server, viewport
):
    context, page, errors = _open(browser, server, viewport)
    page.goto(
        "/console/panel?customer_id=c-rep&severity=3&customer_value=1200.00&loss_amount=60.00"
        "&currency=EUR&locale=en-GB&category=delivery&external_id=T-rep-3"
    )
    page.get_by_label("API key").fill(server["agent"])
    page.get_by_role("button", name="Sign in").click()
    history = page.locator("#history")
    expect(history.locator("#history-summary")).to_contain_text(re.compile(r"\d incidents before"))
    expect(history.locator("li").first).to_contain_text("ticket T-rep")
    assert history.locator("li").count() >= 2
    page.get_by_role("button", name="Get plans").click()
    expect(page.locator("article.plan").first).to_be_visible()
    decision_id = page.locator("article.plan").first.get_attribute("data-decision-id")
    expect(history.locator("li").first).to_contain_text("ticket T-rep")
    # The decision just made is not an earlier incident.
    expect(history.locator(f"li[data-decision-id='{decision_id}']")).to_have_count(0)
    _axe_and_width(page)
    context.close()
    assert errors == [], errors
