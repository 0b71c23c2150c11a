"""Real-browser tests: Playwright drives Debian's chromium against a live afest server.

The live server has its own temporary SQLite file database, migrated with Alembic and seeded
with the demo data, served by werkzeug in a thread on a random local port. The browser tests
run in the SQLite pass of `make test`; in the PostgreSQL pass they are skipped (they exercise
the pages, not the engine, and would only repeat themselves).

Helpers for other areas: `login(page, email)`, `assert_axe_clean(page)` (axe-core from npm,
installed by `make test` into tests/browser/node_modules) and the `page`/`live_server`
fixtures. Mark browser tests with `@pytest.mark.browser`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from werkzeug.serving import make_server

from tests.conftest import KEPT_FILES, PASSWORD, alembic_config

HERE = Path(__file__).resolve().parent
AXE = HERE / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 810, "height": 1080}  # an iPad-sized tablet, portrait


def pytest_collection_modifyitems(config, items):
    if not os.environ.get("AFEST_TEST_DATABASE_URL"):
        return
    skip = pytest.mark.skip(reason="browser tests run once, in the SQLite pass")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


def _require_tools() -> None:
    missing = []
    if not Path(CHROMIUM).exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium; `make test` does it)")
    if not AXE.exists():
        missing.append(f"{AXE} (npm ci --prefix tests/browser; `make test` does it)")
    if missing:
        pytest.fail("browser test tools missing: " + ", ".join(missing))


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[str]:
    """Base URL of afest served from a fresh, seeded SQLite file database."""
    from afest import create_app, demo
    from afest.core.database import database

    path = tmp_path_factory.mktemp("live") / "afest.sqlite"
    app = create_app(
        {
            "DATABASE_URL": f"sqlite:///{path}",
            "ENV": "testing",
            "TESTING": False,
            "RATELIMIT_ENABLED": False,
            # the funding claims' files where the authorization table's objects put them
            "CLAIMS_DIR": KEPT_FILES.setdefault("claims", str(tmp_path_factory.mktemp("claims"))),
            "ATTACHMENTS_URL": KEPT_FILES.setdefault(
                "attachments", str(tmp_path_factory.mktemp("attachments"))
            ),
        }
    )
    db = database(app)
    with db.engine.begin() as conn:
        command.upgrade(alembic_config(conn), "heads")
    with app.app_context(), db.session(write=True) as session:  # its files where it keeps them
        demo.seed(session)
        session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    _require_tools()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser, live_server):
    """A fresh touch tablet (810×1080) on the live server; fails on any CSP violation."""
    context = browser.new_context(
        base_url=live_server, viewport=VIEWPORT, has_touch=True, locale="fr-FR"
    )
    context.set_default_timeout(15_000)
    tab = context.new_page()
    problems: list[str] = []
    tab.on(
        "console",
        lambda msg: (
            problems.append(msg.text)
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )
    tab.on("pageerror", lambda exc: problems.append(f"JS error: {exc}"))
    yield tab
    context.close()
    assert not problems, problems


def login(page, email: str, password: str = PASSWORD) -> None:
    """Sign in through the login form, as a person would."""
    page.goto("/connexion")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").tap()
    page.wait_for_url(lambda url: "/connexion" not in url)


def logout(page) -> None:
    page.get_by_role("button", name="Se déconnecter").tap()
    page.wait_for_url("**/connexion")


def assert_axe_clean(page) -> None:
    """Run axe-core on the page as it is now; zero violations allowed.

    The script is evaluated through the DevTools protocol, which the page's CSP does not
    govern, so the CSP stays enforced for everything the application itself loads.
    """
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "async () => { const r = await axe.run(document, {resultTypes: ['violations']});"
        " return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)})); }"
    )
    assert result == [], f"axe violations on {page.url}: {result}"
