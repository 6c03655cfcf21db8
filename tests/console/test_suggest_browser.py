"""Suggested caps in headless Chromium: the finance page queues the search as a job and shows
the suggestion beside today's caps, with its what-if.

The server, browser and pages are tests/console/conftest.py's; skipped without Playwright
or Chromium (tests/console/browsing.py).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from remedy.extensions import db
from remedy.services import app_services
from remedy.whatif.service import WhatIfService
from remedy.whatif.suggest import suggest_caps
from tests.console.browsing import (
    require_browser,
    sign_in,
)

require_browser()

from playwright.sync_api import expect  # noqa: E402 - after the skip


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
