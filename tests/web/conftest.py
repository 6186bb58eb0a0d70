"""Fixtures for the officer workspace: one headless Chromium per session, the app served by uvicorn.

The ``agent`` fixture is the integration tests' own (real Dovecot and SMTP sink), imported
rather than repeated so both suites test the same agent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from integration.conftest import agent  # noqa: F401  (a fixture, used by name)
from playwright.sync_api import Browser, Page, sync_playwright
from workspace_harness import Workspace, add_test_officer, serve

from inbox_agent.config import Settings, load_settings
from inbox_agent.db.session import Database
from inbox_agent.fictitious_shop import FICTITIOUS_SHOP
from inbox_agent.web import create_app

from agent_harness import SECRET, Agent

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture
def workspace(agent: Agent) -> Iterator[Workspace]:  # noqa: F811
    """The workspace over the agent's database, with one officer account."""
    add_test_officer(agent.db)
    with serve(create_app(agent.settings, agent.db)) as url:
        yield Workspace(url)


@pytest.fixture
def site(tmp_path: Path, migrated_sqlite: Callable[[Path], str]) -> Iterator[tuple[Settings, Database]]:
    """Settings and a migrated SQLite database with one officer, for tests that need no mail servers."""
    settings = load_settings(None, imap={"username": "shop"}, smtp={"from_address": "privacy@shop.example"},
                             database={"url": migrated_sqlite(tmp_path / "web.sqlite")}, secret_key=SECRET,
                             shop=FICTITIOUS_SHOP)
    db = Database(settings.database.url)
    add_test_officer(db)
    yield settings, db
    db.dispose()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Per module, not per session: sync Playwright keeps an event loop running in this thread while it
    lives, and any later test calling ``asyncio.run`` would fail, whatever order pytest picks."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context per test: no cookies carried over."""
    context = browser.new_context(viewport={"width": 1360, "height": 900}, locale="nl-NL")
    yield context.new_page()
    context.close()
