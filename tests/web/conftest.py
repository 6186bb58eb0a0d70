"""Fixtures for the officer workspace: one headless Chromium per session, the app served by uvicorn.

The ``agent`` fixture is the integration tests' own (real Dovecot and SMTP sink), imported
rather than repeated so both suites test the same agent.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
import uvicorn
from integration.conftest import agent, classifier  # noqa: F401  (fixtures, used by name)
from playwright.sync_api import Browser, Page, sync_playwright
from workspace_harness import OFFICER, PASSWORD, Workspace

from inbox_agent.accounts import add_officer
from inbox_agent.config import Settings, load_settings
from inbox_agent.db.session import Database, upgrade
from inbox_agent.web import create_app

from agent_harness import SECRET, Agent

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def add_test_officer(db: Database) -> None:
    with db.transaction() as session:
        add_officer(session, OFFICER, PASSWORD, language="nl", now=datetime.now(UTC))


@contextmanager
def serve(settings: Settings, db: Database) -> Iterator[str]:
    """The app on a socket bound before the server starts, so the port cannot be taken meanwhile."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(create_app(settings, db), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture
def workspace(agent: Agent) -> Iterator[Workspace]:  # noqa: F811
    """The workspace over the agent's database, as ``inbox-agent web`` would serve it."""
    add_test_officer(agent.db)
    with serve(agent.settings, agent.db) as url:
        yield Workspace(url)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Settings, Database]]:
    """Settings and a migrated SQLite database with one officer, for tests that need no mail servers."""
    settings = load_settings(None, imap={"username": "shop"}, smtp={"from_address": "privacy@shop.example"},
                             database={"url": f"sqlite:///{tmp_path / 'web.sqlite'}"}, secret_key=SECRET)
    db = Database(settings.database.url)
    upgrade(db.engine)
    add_test_officer(db)
    yield settings, db
    db.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
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
