"""Fixtures of the reliability tests (issue 7): the classifier, figures for the report.

Each test records what it tried and counted with ``figures(name, **numbers)``; the figures are
printed at the end of the run (the table in docs/reliability.md is copied from there) and written
as JSON to ``$INBOX_AGENT_RELIABILITY_REPORT`` when that is set.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from inbox_agent.classify import Classifier
from inbox_agent.config import REPO_ROOT

_FIGURES: dict[str, dict[str, Any]] = {}


@pytest.fixture(scope="session")
def classifier() -> Classifier:
    return Classifier.load(REPO_ROOT / "classifiers")


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> Callable[..., None]:
    def record(**numbers: Any) -> None:
        _FIGURES.setdefault(request.node.name, {}).update(numbers)
        for key, value in numbers.items():
            request.node.user_properties.append((key, value))

    return record


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _FIGURES:
        return
    terminalreporter.section("reliability figures")
    for test, numbers in _FIGURES.items():
        terminalreporter.write_line(f"{test}: " + ", ".join(f"{k}={v}" for k, v in numbers.items()))
    target = os.environ.get("INBOX_AGENT_RELIABILITY_REPORT")
    if target:
        Path(target).write_text(json.dumps(_FIGURES, indent=2, default=str), encoding="utf-8")
