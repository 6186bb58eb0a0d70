"""The whole agent against the session Dovecot and a fresh SMTP sink: the ``agent`` fixture."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from inbox_agent.classify import Classifier
from inbox_agent.config import ImapSettings
from inbox_agent.sandbox import DovecotServer, SmtpSink

from agent_harness import Agent, agent_settings


@pytest.fixture
def agent(tmp_path: Path, dovecot: DovecotServer, imap_account: ImapSettings, smtp_sink: SmtpSink,
          classifier: Classifier, migrated_sqlite: Callable[[Path], str]) -> Iterator[Agent]:
    migrated_sqlite(tmp_path / "agent.sqlite")  # where agent_settings puts it; Agent's own upgrade finds it at head
    a = Agent(agent_settings(tmp_path, imap_account, smtp_sink), classifier,
              dovecot.account(imap_account.username), smtp_sink)
    yield a
    a.db.dispose()
