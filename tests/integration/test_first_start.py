"""First start on a real mailbox (issue 14, part 1): old mail is history, never answered; backfill on purpose.

A shop's copy of its mailbox: 200 mails from 2023-2025 (29 privacy requests answered by hand long
ago), 6 of the last 30 days (2 privacy requests), then 3 new requests after the agent started.
"""

from __future__ import annotations

import email
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.policy import default as default_policy
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from inbox_agent.classify import Classifier
from inbox_agent.cli import main
from inbox_agent.config import ImapSettings
from inbox_agent.db.tables import Case, FolderState, Outbox, StoredMessage
from inbox_agent.sandbox import DovecotServer, SmtpSink

from agent_harness import Agent, agent_settings, config_text, request_mail

pytestmark = pytest.mark.integration

OLD_REQUESTS = 29
OLD_OTHER = 171
RECENT_REQUESTS = 2
RECENT_OTHER = 4
PRIVACY = [
    "Graag wil ik dat jullie al mijn gegevens verwijderen, ik ben geen klant meer.",
    "Ik wil graag inzage in alle persoonsgegevens die jullie van mij hebben.",
    "Please delete my account and all personal data you hold about me.",
]
OTHER = [
    "Wanneer wordt mijn bestelling bezorgd? Ik wacht al een week.",
    "Hebben jullie deze trui ook in maat 116?",
    "Kan ik mijn bestelling nog ruilen voor een andere kleur?",
]


@pytest.fixture
def history_agent(
    tmp_path: Path, dovecot: DovecotServer, imap_account: ImapSettings, smtp_sink: SmtpSink, classifier: Classifier
) -> Iterator[Agent]:
    """The agent as a shop configures it: the default ``existing_mail = "history"``."""
    imap = imap_account.model_copy(update={"existing_mail": "history"})
    agent = Agent(agent_settings(tmp_path, imap, smtp_sink), classifier, dovecot.account(imap.username), smtp_sink)
    yield agent
    agent.db.dispose()


def _seed_old_mailbox(agent: Agent, dovecot: DovecotServer, now: datetime) -> None:
    """200 mails of 2023-2025 and 6 of the last 30 days, privacy requests among them, on one connection."""
    mails: list[tuple[bytes, datetime]] = []
    start = datetime(2023, 1, 9, 10, tzinfo=UTC)
    for i in range(OLD_REQUESTS + OLD_OTHER):
        when = start + timedelta(days=i * 5)
        sender = f"oud{i}@example.org"
        is_request = i % 7 == 0
        if is_request:
            agent.add_customer(sender, f"Oude Klant {i}", customer_id=str(1000 + i))
        body = PRIVACY[i % 3] if is_request else OTHER[i % 3]
        mails.append((request_mail(body, sender=sender, subject=f"bericht {i}"), when))
    for i in range(RECENT_REQUESTS + RECENT_OTHER):
        body = PRIVACY[i] if i < RECENT_REQUESTS else OTHER[i % 3]
        mails.append(
            (
                request_mail(body, sender=f"recent{i}@example.org", subject=f"recent {i}"),
                now - timedelta(days=3 + 4 * i),
            )
        )
    with dovecot.imap_client(agent.peer.user) as client:
        for raw, when in mails:
            client.append("INBOX", raw, msg_time=when)


def test_first_start_makes_history_of_old_mail_and_opens_cases_only_for_new_mail(
    history_agent: Agent, dovecot: DovecotServer, caplog: pytest.LogCaptureFixture
) -> None:
    agent = history_agent
    now = datetime.now(UTC)
    _seed_old_mailbox(agent, dovecot, now)
    assert sum(1 for i in range(200) if i % 7 == 0) == OLD_REQUESTS  # the mix really holds 29 old requests

    with caplog.at_level(logging.WARNING, logger="inbox_agent"):
        counters = agent.run_once()
    assert agent.sink.messages == []
    (made,) = counters.first_starts
    assert (made.total, made.recent, made.privacy) == (206, 6, RECENT_REQUESTS)
    assert made.oldest is not None and made.oldest.year == 2023
    assert any(
        "206 mail(s) were already there" in r.getMessage() and "2 of the 6" in r.getMessage() for r in caplog.records
    )
    with agent.db.transaction() as session:
        assert session.scalars(select(Case)).all() == []
        statuses = {m.status for m in session.scalars(select(StoredMessage))}
    assert statuses == {"history"}
    assert "$PrivacyTriaged" not in agent.peer.flags(1)  # not ours: other people's mail keeps its flags

    new = ["nieuw1@example.org", "nieuw2@example.org", "nieuw3@example.org"]
    for i, sender in enumerate(new):
        agent.add_customer(sender, f"Nieuwe Klant {i}", customer_id=str(5000 + i))
        agent.deliver(request_mail(PRIVACY[i], sender=sender, subject="privacy"))
    second = agent.run_once()
    assert second.first_starts == []  # reported once
    with agent.db.transaction() as session:
        cases = session.scalars(select(Case)).all()
    assert len(cases) == 3
    assert sorted(c.requester_email or "" for c in cases) == new
    customer_mail = [m for m in agent.sink.messages if "officer@shop.example" not in m.rcpt_tos]
    assert {r for m in customer_mail for r in m.rcpt_tos} == set(new)
    with agent.db.transaction() as session:
        acks = session.scalars(select(Outbox.case_id).where(Outbox.kind == "ack", Outbox.status == "sent")).all()
    assert sorted(acks) == sorted(c.id for c in cases)  # one acknowledgement each, none about old mail


def test_a_uidvalidity_change_is_not_a_first_start(history_agent: Agent, dovecot: DovecotServer) -> None:
    agent = history_agent
    agent.deliver(request_mail(PRIVACY[0], sender="oud@example.org"))
    agent.run_once()
    with agent.db.transaction() as session:  # the server renumbered the folder (a restore, a migration)
        session.execute(update(FolderState).values(uidvalidity=FolderState.uidvalidity + 1))
    agent.add_customer("nieuw@example.org", "Nieuwe Klant")
    agent.deliver(request_mail(PRIVACY[1], sender="nieuw@example.org"))
    agent.run_once()
    with agent.db.transaction() as session:
        cases = session.scalars(select(Case)).all()
        statuses = sorted(m.status for m in session.scalars(select(StoredMessage)))
    assert [c.requester_email for c in cases] == ["nieuw@example.org"]  # new mail is new; old stays history
    assert statuses == ["history", "processed"]


def test_backfill_brings_a_period_in_with_its_real_dates(
    history_agent: Agent, dovecot: DovecotServer, tmp_path: Path
) -> None:
    agent = history_agent
    now = datetime.now(UTC)
    agent.add_customer("laat@example.org", "Lotte Laat")
    agent.add_customer("vers@example.org", "Vera Vers")
    with dovecot.imap_client(agent.peer.user) as client:
        client.append("INBOX", request_mail(PRIVACY[1], sender="laat@example.org"), msg_time=now - timedelta(days=45))
        client.append("INBOX", request_mail(PRIVACY[1], sender="vers@example.org"), msg_time=now - timedelta(days=5))
        client.append(
            "INBOX", request_mail(PRIVACY[0], sender="te-oud@example.org"), msg_time=now - timedelta(days=400)
        )
    agent.run_once()
    assert agent.sink.messages == []

    config = tmp_path / "config.toml"
    imap = agent.settings.imap
    assert imap is not None
    config.write_text(
        config_text(tmp_path, imap, agent.sink.port)
        .replace('existing_mail = "process"', "")
        .replace(str(tmp_path / "agent.sqlite"), agent.settings.database.url.removeprefix("sqlite:///"))
    )
    since = (now - timedelta(days=60)).date().isoformat()
    runner = CliRunner()
    dry = runner.invoke(main, ["backfill", "--since", since, "--dry-run", "--config", str(config)])
    assert dry.exit_code == 0, dry.output
    assert "would bring in 2 mail(s)" in dry.output and "2 look like privacy requests" in dry.output
    with agent.db.transaction() as session:
        assert {m.status for m in session.scalars(select(StoredMessage))} == {"history"}

    done = runner.invoke(main, ["backfill", "--since", since, "--config", str(config)])
    assert done.exit_code == 0, done.output
    assert "brought in 2 mail(s)" in done.output
    agent.run_once()
    with agent.db.transaction() as session:
        cases = {c.requester_email: c for c in session.scalars(select(Case))}
        overdue_alerts = session.scalars(select(Outbox).where(Outbox.kind == "officer_overdue")).all()
    assert set(cases) == {"laat@example.org", "vers@example.org"}
    late = cases["laat@example.org"]
    assert late.received_at.date() == (now - timedelta(days=45)).date()  # the clock runs from arrival
    assert late.deadline_target < now
    assert [a.case_id for a in overdue_alerts] == [late.id]  # straight to the officer
    (ack,) = [m for m in agent.sent_to("laat@example.org") if b"ontvangen" in m.raw or b"binnengekomen" in m.raw]
    text = email.message_from_bytes(ack.raw, policy=default_policy).get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Je mail van" in text and "binnengekomen" in text and "die datum is voorbij" in text
    assert "zo snel mogelijk" in text and "sturen je uiterlijk" not in text  # no promise of a past date
    (fresh,) = [m for m in agent.sent_to("vers@example.org") if b"binnengekomen" in m.raw]
    text = email.message_from_bytes(fresh.raw, policy=default_policy).get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "sturen je uiterlijk" in text and "die datum is voorbij" not in text


def test_backfill_names_each_mail_it_cannot_bring_in_and_why(
    dovecot: DovecotServer, imap_account: ImapSettings, smtp_sink: SmtpSink, classifier: Classifier, tmp_path: Path
) -> None:
    """Before: a mail over the size limit was kept without its text and the backfill counted it as
    "purged after the retention period", with no word of which mail; now each reason is said apart,
    with the mails' dates and Message-IDs."""
    imap = imap_account.model_copy(update={"existing_mail": "history"})
    agent = Agent(agent_settings(tmp_path, imap, smtp_sink, policy={"trusted_authserv_ids": ["mx.shop.example"],
                                                                    "max_message_bytes": 20_000}),
                  classifier, dovecot.account(imap.username), smtp_sink)
    now = datetime.now(UTC)
    big = request_mail(PRIVACY[1] + "\n" + "x" * 40_000, sender="groot@example.org")
    old = request_mail(PRIVACY[1], sender="oud@example.org")
    big_id, old_id = (str(email.message_from_bytes(raw)["Message-ID"]) for raw in (big, old))
    with dovecot.imap_client(agent.peer.user) as client:
        client.append("INBOX", request_mail(PRIVACY[1], sender="vers@example.org"), msg_time=now - timedelta(days=5))
        client.append("INBOX", big, msg_time=now - timedelta(days=10))
        client.append("INBOX", old, msg_time=now - timedelta(days=20))
    try:
        agent.run_once()
        with agent.db.transaction() as session:  # as the retention purge leaves it
            session.execute(update(StoredMessage).where(StoredMessage.message_id == old_id)
                            .values(raw=None))
        config = tmp_path / "config.toml"
        config.write_text(config_text(tmp_path, imap, smtp_sink.port, extra_policy="max_message_bytes = 20000",
                                      db_url=agent.settings.database.url).replace('existing_mail = "process"', ""))
        since = (now - timedelta(days=30)).date().isoformat()
        done = CliRunner().invoke(main, ["backfill", "--since", since, "--config", str(config)])
    finally:
        agent.db.dispose()
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert "brought in 1 mail(s)" in lines[0]
    assert lines[1] == ("mailbox default: cannot bring in 1 mail(s): over the size limit (policy.max_message_bytes) "
                        "when first seen, so only its envelope was kept; look at them in the mailbox itself:")
    assert big_id in lines[2] and lines[2].endswith("bytes")
    assert lines[3].startswith("mailbox default: cannot bring in 1 mail(s): its text was purged after the retention")
    assert old_id in lines[4] and len(lines) == 5
