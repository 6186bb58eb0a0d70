"""What the workspace tests share: the test officer, the app served by uvicorn, the agent's run."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
from playwright.sync_api import Page
from starlette.applications import Starlette

from inbox_agent.accounts import add_officer
from inbox_agent.actors import CLI_ACTOR
from inbox_agent.config import REPO_ROOT
from inbox_agent.db.session import Database
from inbox_agent.fictitious_shop import shop_toml

from agent_harness import SECRET, Agent

SCREENSHOTS = REPO_ROOT / "test-output" / "screenshots"
OFFICER, PASSWORD = "marieke", "correct horse battery staple"


def cli_config(folder: Path, database_url: str) -> Path:
    """A config file for the CLI over the test site's database (the fictitious shop)."""
    config = folder / "config.toml"
    config.write_text(f'secret_key = "{SECRET}"\n[imap]\nusername = "shop"\n'
                      f'[smtp]\nfrom_address = "privacy@shop.example"\n[database]\nurl = "{database_url}"\n'
                      f'{shop_toml()}')
    return config


def add_test_officer(db: Database) -> None:
    with db.transaction() as session:
        add_officer(session, OFFICER, PASSWORD, language="nl", now=datetime.now(UTC), actor=CLI_ACTOR)


@contextmanager
def serve(app: Starlette) -> Iterator[str]:
    """``app`` on 127.0.0.1, as ``inbox-agent web`` runs it; the socket is bound before the
    server starts, so no other process can take the port in between."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def run_agent(agent: Agent) -> None:
    """``agent.run_once()`` in its own thread: Playwright's sync API keeps an event loop
    marked as running in the test's thread, where ``asyncio.run`` refuses to start."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(agent.run_once).result()


@dataclass(frozen=True)
class Workspace:
    """The served app: its address and the officer who can log in."""

    url: str

    def login(self, page: Page, path: str = "/") -> None:
        """Open ``path`` logged out, log in on the page it redirects to, and land back on ``path``."""
        page.goto(self.url + path)
        page.fill("input[name=name]", OFFICER)
        page.fill("input[name=password]", PASSWORD)
        page.click("form[action='/login'] button")
        page.wait_for_url(self.url + path)

    def screenshot(self, page: Page, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path
