"""The models page's champion/challenger section in headless Chromium, at 1280 and 390 px: the
running experiment, its arms, the decision so far and the interval over time, with the chart's
words from the API in the reader's language. Its own server (a running experiment); the browser
and pages are tests/console/conftest.py's; skipped when Playwright or Chromium is missing
(tests/console/browsing.py)."""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from remedy import create_app
from remedy.decisions.experiments import CHALLENGER, CHAMPION, compare
from remedy.extensions import db
from remedy.services.experiments import ExperimentService, sequential_plan
from remedy.services.model_registry import ModelRegistry, bundled_folders
from remedy.store.tables import ExperimentCheck, utcnow
from tests.console.browsing import DESKTOP, PHONE, require_browser, run_cli, screenshot, sign_in

require_browser()

CHALLENGER_MODEL = "sim-4-challenger"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A seeded app (like `remedy init`) with a running experiment and six checks of it, the
    comparisons computed by the sequential test on simulated outcomes (as the worker's pass
    stores them)."""
    folder = tmp_path_factory.mktemp("experiment-console")
    env = {
        "REMEDY_DATABASE_URL": f"sqlite:///{folder / 'remedy.sqlite'}",
        "REMEDY_MODEL_DIR": str(folder / "models"),
        "REMEDY_LOG_LEVEL": "WARNING",
    }
    admin = run_cli(env, "init").split("keep it safe): ")[1].split()[0]
    finance = run_cli(env, "keys", "create", "--role", "finance").strip()
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": env["REMEDY_DATABASE_URL"],
            "MODEL_DIR": env["REMEDY_MODEL_DIR"],
            "RATE_LIMIT": "",
            "LOG_LEVEL": "WARNING",
        }
    )
    target = folder / CHALLENGER_MODEL
    shutil.copytree(bundled_folders()[-1], target)
    card = json.loads((target / "card.json").read_text())
    card["version"] = CHALLENGER_MODEL
    card["metrics"]["gate"]["verdict"] = {"passed": True, "reason": "better: test"}
    (target / "card.json").write_text(json.dumps(card))
    with db.database(app).unit_of_work() as session:
        ModelRegistry(session).register(target, "test")
        experiment = ExperimentService(session).start(
            CHALLENGER_MODEL, Decimal("0.5"), "test", max_per_arm=3000, reason="browser test"
        )
        plan = sequential_plan(experiment)
        rng = np.random.default_rng(4)
        arms = [CHALLENGER if i % 2 else CHAMPION for i in range(3000)]  # stable, not hashed
        rewards = [rng.normal(520 if arm == CHALLENGER else 500, 300) for arm in arms]
        for size in (250, 500, 1000, 1500, 2000, 3000):
            found = compare(rewards[:size], arms[:size], plan)
            session.add(
                ExperimentCheck(
                    experiment_id=experiment.id,
                    at=utcnow(),
                    comparison={**found.as_dict(), "left_out": 0},
                )
            )
    from werkzeug.serving import make_server

    web = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=web.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"url": f"http://127.0.0.1:{web.server_port}", "admin": admin, "finance": finance}
    finally:
        web.shutdown()
        thread.join(timeout=10)
        web.server_close()
        db.database(app).dispose()


def _check(tab, key: str) -> None:
    from playwright.sync_api import expect

    sign_in(tab, key)
    tab.goto("/console/models")
    section = tab.locator("#experiment")
    expect(section).to_contain_text(f"{CHALLENGER_MODEL} vs sim-4")
    expect(section).to_contain_text("running")
    arms = section.get_by_role("table")
    expect(arms.get_by_role("row").filter(has_text=CHAMPION)).to_be_visible()
    expect(arms.get_by_role("row").filter(has_text=CHALLENGER)).to_be_visible()
    chart = section.get_by_role("img", name="Challenger minus champion", exact=False)
    expect(chart).to_be_visible()
    expect(chart.locator("circle")).to_have_count(6)
    expect(chart.locator("polygon.band")).to_have_count(1)
    # running and still undecided at 3,000 outcomes (a true lift of 20 on a spread of 300)
    expect(section.locator(".experiment-decision")).to_contain_text(
        "no decision yet: the interval ["
    )


def test_the_running_comparison_reads_on_a_desktop(page, server):
    _check(page, server["finance"])
    assert page.evaluate("document.documentElement.scrollWidth") <= DESKTOP["width"]
    screenshot(page, "models-experiment")


def test_the_running_comparison_reads_on_a_phone(phone, server):
    _check(phone, server["admin"])
    # the chart scales to the screen: nothing wider than the phone
    width = phone.locator("svg.experiment-chart").bounding_box()["width"]
    assert width <= PHONE["width"]
    screenshot(phone, "models-experiment-phone")
