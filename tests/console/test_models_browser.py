"""The models page in headless Chromium: the versions, a version's card (policy values and
calibration from the card), and a promotion and a rollback, each after a reason and a
confirmation.

The server, browser and pages are tests/console/conftest.py's; skipped without Playwright
or Chromium (tests/console/browsing.py).
"""

from __future__ import annotations

import json
import re
from typing import Any

from remedy.services.model_registry import bundled_folders
from tests.console.browsing import (
    SECOND_MODEL,
    require_browser,
    screenshot,
    sign_in,
)

require_browser()

from playwright.sync_api import expect  # noqa: E402 - after the skip


def test_models_lists_versions_shows_a_card_and_promotes_after_confirmation(page, server):
    sign_in(page, server["admin"])
    page.get_by_role("link", name="Models").first.click()
    versions = page.locator("#versions")
    current = versions.get_by_role("row").filter(has_text="in use")
    expect(current).to_have_count(1)
    expect(current.get_by_role("rowheader")).to_have_text("sim-4")
    expect(versions.get_by_role("row").filter(has_text=SECOND_MODEL)).to_contain_text("available")
    expect(current.locator("td.last-promotion")).to_contain_text("day-one model bundled")
    expect(versions).not_to_contain_text("null")

    page.get_by_role("button", name="Card of sim-4", exact=True).click()
    expect(page.get_by_role("heading", name="Model card: sim-4")).to_be_visible()
    card = page.locator("#card")
    expect(card).to_contain_text("HistGradientBoostingClassifier")
    expect(card.get_by_role("row").filter(has_text="auc")).to_contain_text("0.7")
    values = page.get_by_role("table", name=re.compile("^Policy values"))
    model_dr = values.get_by_role("row").filter(has_text="model").filter(has_text="doubly_robust")
    newest = json.loads((bundled_folders()[-1] / "card.json").read_text())
    dr = next(
        e
        for e in newest["metrics"]["policy_values"]["offpolicy"]["model"]
        if e["method"] == "doubly_robust"
    )
    expect(model_dr).to_contain_text(f"{dr['value']:.1f}")
    # the 95% interval from the card
    expect(model_dr).to_contain_text(f"{dr['low']:.1f} to {dr['high']:.1f}")
    expect(
        card.get_by_role("img", name=re.compile("^Policy values with 95% intervals"))
    ).to_be_visible()
    bins = len(newest["metrics"]["holdout"]["retention"]["calibration"])
    expect(page.get_by_role("table", name="Calibration bins").locator("tbody tr")).to_have_count(
        bins
    )
    calibration = card.get_by_role("img", name=re.compile("^Calibration"))
    expect(calibration.locator("circle")).to_have_count(bins)

    questions: list[str] = []

    def answer(dialog: Any, accept: bool) -> None:
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    reason = page.get_by_label("Why (for a promotion or a rollback)")
    page.get_by_role("button", name=f"Promote {SECOND_MODEL}").click()  # no reason yet
    expect(reason).to_have_attribute("aria-invalid", "true")
    expect(reason).to_be_focused()
    assert questions == []
    reason.fill("better calibrated on the last month")
    page.once("dialog", lambda dialog: answer(dialog, False))
    page.get_by_role("button", name=f"Promote {SECOND_MODEL}").click()
    expect(page.locator("#models-result")).to_contain_text(f"Promotion of {SECOND_MODEL} cancelled")
    expect(current.get_by_role("rowheader")).to_have_text("sim-4")

    page.once("dialog", lambda dialog: answer(dialog, True))
    page.get_by_role("button", name=f"Promote {SECOND_MODEL}").click()
    expect(page.locator("#models-result")).to_contain_text(f"Model {SECOND_MODEL} is now in use")
    expect(page.locator("#models-result")).to_be_focused()  # not lost with the old table
    expect(current.get_by_role("rowheader")).to_have_text(SECOND_MODEL)
    expect(current.locator("td.last-promotion")).to_contain_text("better calibrated")
    expect(page.get_by_role("button", name="Promote sim-4", exact=True)).to_be_visible()
    expect(page.locator("#promotions").get_by_role("row").nth(1)).to_contain_text(
        "better calibrated on the last month"
    )
    assert all(f"Promote model {SECOND_MODEL}?" in q for q in questions) and len(questions) == 2

    reason.fill("serving errors since the promotion")
    page.once("dialog", lambda dialog: answer(dialog, True))
    page.get_by_role("button", name="Roll back to the previous model").click()
    expect(page.locator("#models-result")).to_contain_text("Rolled back: model sim-4 is now in use")
    expect(page.locator("#models-result")).to_be_focused()
    expect(current.get_by_role("rowheader")).to_have_text("sim-4")
    expect(page.locator("#promotions").get_by_role("row").nth(1)).to_contain_text(
        f"rollback from {SECOND_MODEL}: serving errors since the promotion"
    )
    assert questions[-1].startswith(f"Roll back from {SECOND_MODEL}?")
    screenshot(page, "models")
