"""What the console's browser tests share besides their fixtures (tests/console/conftest.py):
where Chromium is, the screen sizes, the skip when Playwright or Chromium is missing, and the
steps many pages take (sign in, fill the incident form, keep a screenshot, a plan waiting for a
lead).

Needs Playwright from PyPI and Debian's chromium at /usr/bin/chromium (`.ci/run` installs both);
never `playwright install`. A browser test module calls `require_browser()` before it imports
Playwright: the module is skipped when either is missing, unless REMEDY_REQUIRE_BROWSER=1 (as in
CI), which turns the skip into a failure. Nothing here imports Playwright at import time, so
tests/console/test_console_pages.py (no browser) runs without it. Each page's full-page
screenshot is written to test-artifacts/screenshots/<page>.png at the repository root.
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner

from remedy.cli import cli

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

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


def require_browser() -> None:
    """Skip the calling test module when Playwright or Chromium is missing (fail instead under
    REMEDY_REQUIRE_BROWSER=1); call it at module level, before importing Playwright.

    With both present, Playwright's assertions get a longer timeout: a page's first
    recommendation loads the model in the serving worker, and on a busy 2-core machine that and
    the answer can take longer than Playwright's 5 s default, which is a timeout, not a failure
    of the page. Assertions still fail when the text never comes.
    """
    if (reason := _missing()) is not None:
        if os.environ.get("REMEDY_REQUIRE_BROWSER") == "1":
            pytest.fail(
                f"browser tests required (REMEDY_REQUIRE_BROWSER=1): {reason}", pytrace=False
            )
        pytest.skip(reason, allow_module_level=True)
    from playwright.sync_api import expect

    expect.set_options(timeout=20_000)


# Chromium logs every non-2xx fetch as a console error; the tests provoke 4xx (and a gateway's
# 502) on purpose, so those network lines are expected, as is the refusal to frame the panel
# on a host the allow-list does not name. Anything else on the console (a JS error) fails.
EXPECTED_NETWORK_ERROR = re.compile(
    r"^(Failed to load resource: the server responded with a status of (4\d\d|502)"
    r"|Framing '[^']*' violates the following Content Security Policy directive: \"frame-ancestors)"
)


def run_cli(env: dict[str, str], *args: str) -> str:
    """Run the `remedy` command in-process and return its output."""
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def incident_body(
    customer: str, severity: int, loss: str, value: str = "5000.00"
) -> dict[str, Any]:
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


def watch_errors(page: Page) -> list[str]:
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


def new_context(browser: Browser, server: dict[str, Any], viewport: dict[str, int]):
    """A fresh browser context (fresh sessionStorage) on the app."""
    context = browser.new_context(base_url=server["url"], viewport=viewport)
    context.set_default_timeout(15_000)
    return context


def sign_in(page: Page, key: str) -> None:
    """Sign in on the sign-in page with `key`."""
    from playwright.sync_api import expect

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


def horizontal_overflow(page: Page) -> int:
    """How many pixels the page is wider than the viewport (0 or less: no sideways scroll)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def pending_plan(server: dict[str, Any], customer: str = "c-queue") -> tuple[str, dict[str, Any]]:
    """A decision of team emea whose plan for a team lead was accepted and waits; return its id
    and the plan."""
    api = server["app"].test_client()
    agent = {"Authorization": f"Bearer {server['agent']}"}
    decision = api.post(
        "/v1/recommendations",
        json={"incident": incident_body(customer, 5, "300.00"), "team": "emea"},
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
