"""kill -9 during the first poll of a mailbox that already holds mail (issue 14, part 1).

The first visit decides that the mail already in the folder is history (``inbound.start_here``),
in the same transaction as the folder's UIDVALIDITY. A kill before that commit must let the next
start decide again on the same mail; a kill after it, while the old mail is still being stored
chunk by chunk, must leave the rest history too. Either way: the old mail is history, none of it
answered, none lost, none stored twice; the mail that arrives after the start is handled as new.

The daemon runs in a forked child (the agent's own code, its classifier already loaded, so a
start costs no import time) with small fetch chunks, and the test SIGKILLs it at chosen moments.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from reliability_kit import message_ids, scalar, wait_until

from inbox_agent import daemon
from inbox_agent.classify import Classifier
from inbox_agent.config import ImapSettings, Settings
from inbox_agent.db.session import Database
from inbox_agent.sandbox import DovecotServer, SmtpSink

from agent_harness import Agent, agent_settings, request_mail

pytestmark = pytest.mark.integration
OLD_MAILS = 400
CHUNK = 40
"""``daemon.FETCH_CHUNK`` for the test: the old mail is stored in ten transactions."""
NEW_REQUESTS = 3
STORED = "select count(*) from message"
LEASED = "select count(*) from folder_state where lease_owner is not null"
DECIDED = "select history_below_uid from folder_state where mailbox = 'default' and folder = 'INBOX'"
REQUEST = "Ik wil graag inzage in alle persoonsgegevens die jullie van mij hebben."


def _seed(dovecot: DovecotServer, user: str) -> None:
    """400 mails of 2024-2025, every fifth a privacy request answered by hand long ago."""
    start = datetime(2024, 1, 8, 9, tzinfo=UTC)
    with dovecot.imap_client(user) as client:
        for i in range(OLD_MAILS):
            body = REQUEST if i % 5 == 0 else "Wanneer wordt mijn bestelling bezorgd?"
            client.append("INBOX", request_mail(body, sender=f"oud{i}@example.org", subject=f"oud {i}"),
                          msg_time=start + timedelta(days=i))


def _poll(settings: Settings, classifier: Classifier) -> None:
    """The child: one run of the daemon on its own database connection, until it is killed."""
    db = Database(settings.database.url)
    asyncio.run(daemon.Daemon(settings, db, classifier).run_once())
    os._exit(0)


def test_kill_9_during_the_first_poll_leaves_the_old_mail_history_and_answers_none(
    tmp_path: Path, dovecot: DovecotServer, imap_account: ImapSettings, smtp_sink: SmtpSink,
    classifier: Classifier, monkeypatch: pytest.MonkeyPatch, figures: Callable[..., None],
) -> None:
    monkeypatch.setattr(daemon, "FETCH_CHUNK", CHUNK)
    imap = imap_account.model_copy(update={"existing_mail": "history"})
    agent = Agent(agent_settings(tmp_path, imap, smtp_sink), classifier, dovecot.account(imap.username), smtp_sink)
    db_file = tmp_path / "agent.sqlite"
    _seed(dovecot, imap.username)
    moments: list[tuple[bool, int]] = []
    fork = multiprocessing.get_context("fork")
    # 1: as soon as it holds the folder, at or before the decision; 2: once the first chunk is in;
    # 3: with half of the old mail stored and the rest still to come.
    for what, ready in (("the folder leased", lambda: scalar(db_file, LEASED) == 1),
                        ("a first chunk stored", lambda: int(scalar(db_file, STORED) or 0) > 0),
                        ("half stored", lambda: int(scalar(db_file, STORED) or 0) >= OLD_MAILS // 2)):
        child = fork.Process(target=_poll, args=(agent.settings, classifier))
        child.start()
        wait_until(ready, 60, what, interval=0.002)
        assert child.pid is not None and child.is_alive(), f"the poll ended before: {what}"
        os.kill(child.pid, signal.SIGKILL)
        child.join()
        moments.append((scalar(db_file, DECIDED) is not None, int(scalar(db_file, STORED) or 0)))
    assert any(0 < stored < OLD_MAILS for _, stored in moments), f"no kill while half stored: {moments}"

    agent.run_once()  # the restart: the rest of the old mail, still history
    for i in range(NEW_REQUESTS):
        agent.deliver(request_mail(REQUEST, sender=f"nieuw{i}@example.org", subject=f"nieuw {i}"))
    agent.run_once()
    agent.db.dispose()

    assert scalar(db_file, STORED) == OLD_MAILS + NEW_REQUESTS  # none lost
    assert scalar(db_file, "select count(distinct sha256) from message") == OLD_MAILS + NEW_REQUESTS  # none twice
    assert scalar(db_file, "select count(*) from message where status = 'history'") == OLD_MAILS
    assert scalar(db_file, "select count(*) from message where status = 'history' and case_id is not null") == 0
    assert scalar(db_file, 'select count(*) from "case"') == NEW_REQUESTS
    customers = {address for mail in smtp_sink.messages for address in mail.rcpt_tos
                 if address != "officer@shop.example"}
    assert customers == {f"nieuw{i}@example.org" for i in range(NEW_REQUESTS)}  # nothing about old mail
    assert max(message_ids(smtp_sink.messages).values()) == 1
    figures(kills=len(moments), decided_and_stored_at_kills=moments, old_mails=OLD_MAILS, history=OLD_MAILS,
            cases=NEW_REQUESTS)
