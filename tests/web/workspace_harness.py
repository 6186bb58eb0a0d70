"""What the browser tests share: the test officer and the served workspace's address."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page

from inbox_agent.config import REPO_ROOT

from agent_harness import Agent

SCREENSHOTS = REPO_ROOT / "test-output" / "screenshots"
OFFICER, PASSWORD = "marieke", "correct horse battery staple"


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


def run_agent(agent: Agent) -> None:
    """``agent.run_once()`` in its own thread: Playwright's sync API keeps an event loop
    marked as running in the test's thread, where ``asyncio.run`` refuses to start."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(agent.run_once).result()
