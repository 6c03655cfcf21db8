"""The browser tests' fixtures: one served app, the demo help desk beside it, a browser, pages.

One real server (werkzeug in a thread, with a job worker beside it, as `remedy serve` runs
one) on a fresh SQLite file seeded like `remedy init` (catalog, rules, caps, starter pools, the
bundled model and a second version to promote, keys per role, an integration for the demo
desk), shared by the browser test modules of this package as it was by the one module they were
split from: package-scoped, so the pages see each other's decisions and pools as before. A test
module with data of its own (test_lead_browser.py, test_experiment_browser.py) overrides
`server`. One headless Chromium per module, a fresh browser context (so a fresh
sessionStorage) per test. SQLite only: the pages call the same API the PostgreSQL-backed API
tests cover. Playwright is imported inside the fixtures, so the package's tests that need no
browser run without it (tests/console/browsing.py says when the browser tests are skipped).
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import threading
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from remedy import create_app
from remedy.extensions import db
from remedy.services import app_services
from remedy.services.integrations import IntegrationService
from remedy.services.model_registry import ModelRegistry, bundled_folders
from tests.console.browsing import (
    CHROMIUM,
    CHROMIUM_ARGS,
    DEMO,
    DESKTOP,
    PHONE,
    SECOND_MODEL,
    incident_body,
    new_context,
    run_cli,
    watch_errors,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


def _second_model(folder: Path) -> Path:
    """The bundled model under another version name, so there is something to promote."""
    target = folder / SECOND_MODEL
    shutil.copytree(bundled_folders()[-1], target)
    card = json.loads((target / "card.json").read_text())
    card["version"] = SECOND_MODEL
    (target / "card.json").write_text(json.dumps(card))
    return target


def _desk_module() -> Any:
    """docs/panel-demo/host_server.py: the demo help desk's backend (serves it, mints tokens)."""
    spec = importlib.util.spec_from_file_location("panel_demo_host", DEMO / "host_server.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="package")
def desk() -> Iterator[Any]:
    """The demo help desk and its token-minting backend on a port of its own (minting is set
    once the app has an integration). Reached as http://127.0.0.1:<port> (a named origin of
    the allow-list) and as http://desk.localhost:<port> (another site than the panel's
    127.0.0.1, allowed by the wildcard http://*.localhost:<port>; Chromium resolves *.localhost
    to loopback itself)."""
    http_server = _desk_module().make_server("127.0.0.1", 0)
    thread = threading.Thread(target=http_server.serve_forever, daemon=True)
    thread.start()
    try:
        yield http_server
    finally:
        http_server.shutdown()
        http_server.server_close()


@pytest.fixture(scope="package")
def demo_host(desk: Any) -> str:
    """The demo help desk at a concrete origin of the allow-list."""
    return f"http://127.0.0.1:{desk.server_port}"


@pytest.fixture(scope="package")
def wild_host(desk: Any) -> str:
    """The demo help desk on another site, allowed only by the wildcard entry."""
    return f"http://desk.localhost:{desk.server_port}"


@pytest.fixture(scope="package")
def server(
    tmp_path_factory: pytest.TempPathFactory, desk: Any, demo_host: str
) -> Iterator[dict[str, Any]]:
    """Serve a seeded app on a free port; return its base URL, a key per role and the app.

    The panel may be framed by the demo help desk's origin, any one-label subdomain of
    localhost on its port, and this one's; an integration of team emea lets the desk's backend
    sign its agent in.
    """
    wildcard = f"http://*.localhost:{desk.server_port}"
    folder = tmp_path_factory.mktemp("console")
    env = {
        "REMEDY_DATABASE_URL": f"sqlite:///{folder / 'remedy.sqlite'}",
        "REMEDY_MODEL_DIR": str(folder / "models"),
        "REMEDY_LOG_LEVEL": "WARNING",
    }
    admin = run_cli(env, "init").split("keep it safe): ")[1].split()[0]
    keys = {
        "admin": admin,
        "agent": run_cli(env, "keys", "create", "--role", "agent").strip(),
        "finance": run_cli(env, "keys", "create", "--role", "finance").strip(),
        "lead": run_cli(env, "keys", "create", "--role", "lead", "--team", "emea").strip(),
    }
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": env["REMEDY_DATABASE_URL"],
            "MODEL_DIR": env["REMEDY_MODEL_DIR"],
            "EXPLORATION_RATE": Decimal(0),  # the first plan shown is the best: stable pages
            "RATE_LIMIT": "",
            "LOG_LEVEL": "WARNING",
            "PANEL_FRAME_ANCESTORS": f"'self' {demo_host} {wildcard}",
        }
    )
    with db.database(app).unit_of_work() as session:
        ModelRegistry(session).register(_second_model(folder), "test")
        secret, integration = IntegrationService(session).create(
            "demo desk", "emea", [demo_host, wildcard], "test"
        )
        desk.minting = {
            "integration": integration.id,
            "secret": secret,
            "agent": "agent-7",
            "team": "emea",
        }
    # Logged decisions for the what-if to replay: severity 2 follows the default caps, which
    # the sweep varies; losses differ so the curve has a shape.
    client = app.test_client()
    for number, loss in enumerate(["40.00", "90.00", "150.00", "260.00", "35.00", "120.00"]):
        response = client.post(
            "/v1/recommendations",
            json={
                "incident": {
                    **incident_body(f"seed-{number}", 2, loss),
                    "touchpoint": ("courier", "billing_run")[number % 2],  # the audit's
                },
                "team": "emea",
            },
            headers={"Authorization": f"Bearer {admin}"},
        )
        assert response.status_code == 201, response.json

    from werkzeug.serving import make_server

    web = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=web.serve_forever, daemon=True)
    thread.start()
    # What-if replays are jobs: a worker beside the web server runs them, as `remedy serve`'s.
    from remedy.services.job_runner import JobRunner

    jobs = JobRunner(
        db.database(app), app_services.jobs(app), app.config, app_services.services(app), poll=0.2
    )
    worker = threading.Thread(target=jobs.run, daemon=True)
    worker.start()
    try:
        yield {"url": f"http://127.0.0.1:{web.server_port}", "app": app, **keys}
    finally:
        jobs.stop()
        worker.join(timeout=30)
        web.shutdown()
        thread.join(timeout=10)
        web.server_close()
        db.database(app).dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, server: dict[str, Any]) -> Iterator[Page]:
    """A desktop page in a fresh context; fails the test if the page logged a JavaScript error."""
    context = new_context(browser, server, DESKTOP)
    page = context.new_page()
    errors = watch_errors(page)
    yield page
    context.close()
    assert errors == [], errors


@pytest.fixture
def phone(browser: Browser, server: dict[str, Any]) -> Iterator[Page]:
    """A phone-sized page (390 x 844) in a fresh context, watched like `page`."""
    context = new_context(browser, server, PHONE)
    page = context.new_page()
    errors = watch_errors(page)
    yield page
    context.close()
    assert errors == [], errors
