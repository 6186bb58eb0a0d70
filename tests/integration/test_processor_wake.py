"""The processor is woken again once a poll has marked what it stored.

On PostgreSQL the processor claims pending mail ``FOR UPDATE SKIP LOCKED``, and the poll's keyword
UPDATE locks the rows it just stored: a claim made in that moment skipped them, and the processor,
its wake-up spent, slept its 5 s (with two daemons, p95 APPEND -> ack 5-6 s after a takeover).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from inbox_agent.classify import Classifier
from inbox_agent.config import ImapSettings, load_settings
from inbox_agent.daemon import Daemon
from inbox_agent.db.session import Database, upgrade
from inbox_agent.db.tables import StoredMessage
from inbox_agent.fictitious_shop import FICTITIOUS_SHOP
from inbox_agent.mailbox import ImapMailbox
from inbox_agent.sandbox import DovecotServer

from agent_harness import SECRET, request_mail

pytestmark = pytest.mark.integration

def test_a_poll_that_stored_mail_wakes_the_processor_after_its_keywords_are_set(
    tmp_path: Path, dovecot: DovecotServer, make_imap_settings: Any, classifier: Classifier
) -> None:
    imap: ImapSettings = make_imap_settings(existing_mail="process")
    settings = load_settings(None, imap=imap.model_dump(), shop=FICTITIOUS_SHOP, secret_key=SECRET,
                             smtp={"from_address": "privacy@shop.example"}, state_dir=str(tmp_path / "state"),
                             database={"url": f"sqlite:///{tmp_path / 'agent.sqlite'}"})
    db = Database(settings.database.url)
    upgrade(db.engine)
    daemon = Daemon(settings, db, classifier)
    dovecot.account(imap.username).append(request_mail("Ik wil inzage in mijn gegevens."))
    marked_at_wake: list[bool] = []

    class Loop:
        """Records, at each wake-up of the processor, whether the stored mail has its keyword yet."""

        def call_soon_threadsafe(self, _callback: object) -> None:
            with db.transaction() as session:
                marked_at_wake.append(all(session.scalars(select(StoredMessage.keyword_set))))

    daemon._loop = Loop()  # type: ignore[assignment]
    [box] = settings.all_mailboxes()
    with ImapMailbox(box.imap) as mb:
        assert daemon.poll_once(box, mb) == 1
    assert marked_at_wake[-1] is True
    db.dispose()
