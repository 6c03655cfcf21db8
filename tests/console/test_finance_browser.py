"""The finance page in headless Chromium: pools (and their two lines), caps, their history and
governing overrides, edits with their field errors, and the what-if sweep's chart, at 1280 and
390 px.

The server, browser and pages are tests/console/conftest.py's; skipped without Playwright
or Chromium (tests/console/browsing.py).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.console.browsing import (
    DESKTOP,
    PHONE,
    horizontal_overflow,
    incident_body,
    new_context,
    require_browser,
    screenshot,
    sign_in,
    watch_errors,
)

require_browser()

from axe_playwright_python.sync_playwright import Axe  # noqa: E402 - after the skip
from playwright.sync_api import expect  # noqa: E402 - after the skip

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
    # severity 5 at the company's fault is governed by override 2, in whichever table its slice
    # lands: quiet until another test (the approvals queue's) logs such an incident
    slices = page.get_by_role(
        "table",
        name=re.compile(r"^(Which override governs each slice|Slices without logged incidents)"),
    )
    severe = slices.get_by_role("row").filter(
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
        json={"incident": incident_body("hot-1", 4, "80.00", "2400.00"), "team": "hot"},
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
    context = new_context(browser, server, viewport)
    page = context.new_page()
    errors = watch_errors(page)
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
    assert horizontal_overflow(page) <= 0
    screenshot(page, f"finance-pool-lines-{width}")
    context.close()
    assert errors == [], errors


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
    context = new_context(browser, server, viewport)
    page = context.new_page()
    errors = watch_errors(page)
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
    assert horizontal_overflow(page) <= 0
    width = request.node.callspec.id
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, f"finance-{width}", docs=True, full_page=False)
    page.locator("#whatif-result-heading").evaluate("(e) => e.scrollIntoView({block: 'start'})")
    screenshot(page, f"finance-whatif-{width}", docs=True, full_page=False)
    context.close()
    assert errors == [], errors
