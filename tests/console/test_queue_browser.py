"""The approvals queue (/console/approvals) in headless Chromium: a lead approves (after a
refused reject without a reason) at 390 and 1280 px, and the agent's page sees the answer.

Its severity-5 incidents share the package's server with the finance page's tests, which find
the severity-5 slice in whichever table it lands, so the modules run in any order. The server,
browser and pages are tests/console/conftest.py's; skipped without Playwright or Chromium
(tests/console/browsing.py).
"""

from __future__ import annotations

import re

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
from playwright.sync_api import expect  # noqa: E402 - after the skip


def test_a_lead_approves_from_the_queue_and_the_agent_page_sees_the_answer(browser, server):
    agent_context = new_context(browser, server, DESKTOP)
    agent = agent_context.new_page()
    agent_errors = watch_errors(agent)
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
    other_id, _ = pending_plan(server, "c-lead-other")  # a second, older-first neighbour

    for viewport, name in ((PHONE, "phone-approvals-lead"), (DESKTOP, "approvals")):
        lead_context = new_context(browser, server, viewport)
        lead = lead_context.new_page()
        lead_errors = watch_errors(lead)
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
        assert horizontal_overflow(lead) <= 0
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
