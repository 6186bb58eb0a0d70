"""Fixtures of the reliability tests (issue 7): figures for the report (the classifier is tests/conftest.py's).

Each test records what it tried and counted with ``figures(name, **numbers)``; the figures are
printed at the end of the run (the table in docs/reliability.md is copied from there) and written
as JSON to ``$INBOX_AGENT_RELIABILITY_REPORT`` when that is set. They travel as the reports' user
properties, so the summary also has them when the tests ran in pytest-xdist workers.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Callable[..., None]:
    def record(**numbers: Any) -> None:
        for key, value in numbers.items():
            request.node.user_properties.append((key, value))

    return record


def pytest_terminal_summary(terminalreporter: Any) -> None:
    found: dict[str, dict[str, Any]] = {}
    for reports in terminalreporter.stats.values():
        for report in reports:
            if getattr(report, "when", None) == "call" and report.user_properties:
                found.setdefault(report.nodeid.rsplit("::", 1)[-1], {}).update(report.user_properties)
    if not found:
        return
    terminalreporter.section("reliability figures")
    for test, numbers in found.items():
        terminalreporter.write_line(f"{test}: " + ", ".join(f"{k}={v}" for k, v in numbers.items()))
    target = os.environ.get("INBOX_AGENT_RELIABILITY_REPORT")
    if target:
        Path(target).write_text(json.dumps(found, indent=2, default=str), encoding="utf-8")
