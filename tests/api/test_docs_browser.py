"""Swagger UI at /docs still renders under its Content-Security-Policy, in headless Chromium.

Needs Playwright and Debian's chromium at /usr/bin/chromium, like the console's browser tests;
skipped when either is missing unless REMEDY_REQUIRE_BROWSER=1. No database: the docs and the
spec are built from the schemas.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from remedy import create_app

CHROMIUM = Path("/usr/bin/chromium")

if importlib.util.find_spec("playwright") is None or not CHROMIUM.exists():
    _reason = "needs playwright and /usr/bin/chromium"
    if os.environ.get("REMEDY_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests required (REMEDY_REQUIRE_BROWSER=1): {_reason}", pytrace=False)
    pytest.skip(_reason, allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402 - after the skip

# Every violation of the page's policy, whether or not it blocked anything.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.cspViolations.push(event.violatedDirective + " " + event.blockedURI);
});
"""


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Serve the app on a free port."""
    from werkzeug.serving import make_server

    folder = tmp_path_factory.mktemp("docs")
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": f"sqlite:///{folder / 'remedy.sqlite'}",
            "MODEL_DIR": str(folder / "models"),
            "RATE_LIMIT": "",
            "LOG_LEVEL": "WARNING",
        }
    )
    http = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http.server_port}"
    finally:
        http.shutdown()
        thread.join(timeout=10)
        http.server_close()


def test_swagger_ui_renders_under_its_policy_with_no_violation(base_url):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            context = browser.new_context(base_url=base_url)
            context.add_init_script(RECORD_VIOLATIONS)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(f"uncaught: {error}"))
            page.on(
                "console",
                lambda m: (
                    errors.append(m.text)
                    if m.type == "error" and not m.location["url"].endswith("/favicon.ico")
                    else None
                ),
            )
            response = page.goto("/docs")
            assert "script-src 'self' 'sha256-" in response.headers["content-security-policy"]
            expect(page.locator(".swagger-ui .info .title")).to_contain_text("remedy")
            expect(page.locator(".opblock").first).to_be_visible()
            assert page.locator(".opblock").count() > 20
            page.locator(".opblock-summary").first.click()  # expands: React at work
            expect(page.locator(".opblock-body").first).to_be_visible()
            assert page.evaluate("window.cspViolations") == []
            assert errors == []
            # The policy holds: injected inline script is refused.
            page.evaluate(
                "() => { const s = document.createElement('script');"
                " s.textContent = 'window.injected = true'; document.body.appendChild(s); }"
            )
            assert page.evaluate("window.injected === undefined")
            assert page.evaluate("window.cspViolations") == ["script-src-elem inline"]
        finally:
            browser.close()
