"""The agent page in headless Chromium: recommend, accept, and what a refusal, a field error,
a slow answer, a double click, a gateway's error page and a blocked budget look like.

The server, browser and pages are tests/console/conftest.py's; skipped without Playwright
or Chromium (tests/console/browsing.py).
"""

from __future__ import annotations

import re

from tests.console.browsing import (
    fill_incident,
    incident_body,
    require_browser,
    screenshot,
    sign_in,
)

require_browser()

from playwright.sync_api import Route, expect  # noqa: E402 - after the skip


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
        json={"incident": incident_body("other", 4, "80.00", "2400.00"), "team": "tiny"},
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
