"""Every console page in headless Chromium: sign-in lists the pages of the key's role and
sign-out forgets the key; each page passes axe and fits the width at 1280 and 390 px.

The server, browser and pages are tests/console/conftest.py's; skipped without Playwright
or Chromium (tests/console/browsing.py).
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.console.browsing import (
    DESKTOP,
    PHONE,
    fill_incident,
    horizontal_overflow,
    new_context,
    pending_plan,
    require_browser,
    screenshot,
    sign_in,
    watch_errors,
)

require_browser()

from axe_playwright_python.sync_playwright import Axe  # noqa: E402 - after the skip
from playwright.sync_api import Page, expect  # noqa: E402 - after the skip


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
        pending_plan(server)
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
    context = new_context(browser, server, viewport)
    page = context.new_page()
    errors = watch_errors(page)
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
            "overflow": horizontal_overflow(page),
            "sticking_out": page.evaluate(STICKING_OUT),
        }
        if viewport == PHONE:
            screenshot(page, "phone-" + path.split("?")[0].strip("/").replace("/", "-"))
    context.close()
    assert errors == [], errors
    failing = {p: r for p, r in report.items() if r["violations"] or r["overflow"] > 0}
    assert failing == {}, failing
