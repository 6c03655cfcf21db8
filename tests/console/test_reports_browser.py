"""The reports in headless Chromium: finance's spend, failures and promises, and a lead's own
team's reports with each table exported as CSV.

The server, browser and pages are tests/console/conftest.py's; skipped without Playwright
or Chromium (tests/console/browsing.py).
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.console.browsing import (
    require_browser,
    screenshot,
    sign_in,
)

require_browser()

from playwright.sync_api import expect  # noqa: E402 - after the skip


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
