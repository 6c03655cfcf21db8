"""The embeddable agent panel in headless Chromium: framed by the demo help desk (signed in by
a host-minted token, on another site with third-party storage blocked), on its own from a URL,
and refused on hosts outside the allow-list.

The server, browser and pages are tests/console/conftest.py's; skipped without Playwright
or Chromium (tests/console/browsing.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.console.browsing import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DESKTOP,
    horizontal_overflow,
    new_context,
    require_browser,
    screenshot,
    watch_errors,
)

require_browser()

from playwright.sync_api import Browser, Page, expect  # noqa: E402 - after the skip


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
    errors = watch_errors(page)
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
    context = new_context(browser, server, DESKTOP)
    page = context.new_page()
    errors = watch_errors(page)
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
    assert horizontal_overflow(phone) <= 0
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
