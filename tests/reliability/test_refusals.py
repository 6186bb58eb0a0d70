"""A server that refuses one operation is not an outage (Cyrus, issue 18).

Cyrus keeps a user's folders under INBOX. and answers CREATE "Privacy" with NO, and it refuses
a folder's 101st keyword while PERMANENTFLAGS still says \\*. The old daemon treated both like a
lost connection: it logged in again about every 0.6 s, never reached IDLE and never recorded a
poll. Now "Privacy" resolves to INBOX.Privacy, and a refusal waits out its own backoff (at most
one attempt per step, not reset by a login) while new mail is read and acknowledged at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from reliability_kit import REQUESTS, FakeClock, run_forever_during, wait_until
from sqlalchemy import select

from inbox_agent import faults, health, metrics
from inbox_agent.classify import Classifier
from inbox_agent.cli import main
from inbox_agent.config import ImapSettings
from inbox_agent.daemon import Daemon
from inbox_agent.db.tables import ImapFault, StoredMessage
from inbox_agent.sandbox import CyrusServer, SmtpSink

from agent_harness import Agent, agent_settings, config_text, request_mail

pytestmark = pytest.mark.integration
ACK_WAIT = 15
"""Seconds an acknowledgement may take. The backoff runs on the test's fake clock, so an ack held
up behind the refused operation's retry never comes and fails this wait. How fast the acks come
is a figure (ack_seconds_max), not an assertion: it moves with the machine's load."""
REFUSED_FOLDER = "user.someone-else"
"""Another user's folder: Cyrus refuses to create it for this one (NO Permission denied)."""


def _agent(tmp_path: Path, cyrus: CyrusServer, imap: ImapSettings, sink: SmtpSink, classifier: Classifier) -> Agent:
    return Agent(agent_settings(tmp_path, imap, sink), classifier, cyrus.account(imap.username), sink)


def _fault(agent: Agent, operation: str) -> ImapFault | None:
    with agent.db.transaction() as session:
        fault = session.get(ImapFault, ("default", operation))
        if fault is not None:
            session.expunge(fault)
        return fault


def _ack_seconds(agent: Agent, sender: str) -> float:
    """Deliver a request from ``sender`` and return how long until its acknowledgement reached SMTP."""
    agent.add_customer(sender, customer_id=sender)
    started = time.monotonic()
    agent.deliver(request_mail(REQUESTS[0], sender=sender))
    wait_until(lambda: bool(agent.sent_to(sender)), ACK_WAIT, f"the ack to {sender}", interval=0.01)
    return time.monotonic() - started


def test_privacy_on_cyrus_moves_mail_to_inbox_privacy(
    tmp_path: Path, cyrus: CyrusServer, make_account: Callable[..., ImapSettings], smtp_sink: SmtpSink,
    classifier: Classifier,
) -> None:
    agent = _agent(tmp_path, cyrus, make_account(cyrus, move_privacy_to="Privacy"), smtp_sink, classifier)
    agent.add_customer("klant@example.org")
    agent.deliver(request_mail(REQUESTS[0]))

    counters = agent.run_once()

    assert counters.refused == 0
    assert agent.peer.uids() == []
    assert len(agent.peer.uids("INBOX.Privacy")) == 1
    with agent.db.transaction() as session:
        assert [m.folder for m in session.scalars(select(StoredMessage))] == ["INBOX.Privacy"]
    agent.db.dispose()


@pytest.mark.parametrize("refusal", ["folder", "keyword"])
def test_a_refusal_backs_off_per_step_while_new_mail_is_acknowledged(
    tmp_path: Path, cyrus: CyrusServer, make_account: Callable[..., ImapSettings], smtp_sink: SmtpSink,
    classifier: Classifier, caplog: pytest.LogCaptureFixture, figures: Callable[..., None], refusal: str,
) -> None:
    imap = make_account(cyrus, move_privacy_to=REFUSED_FOLDER if refusal == "folder" else None)
    agent = _agent(tmp_path, cyrus, imap, smtp_sink, classifier)
    operation = "create" if refusal == "folder" else "store"
    if refusal == "keyword":  # a team's mail program has used up the folder's 100 keywords
        with cyrus.imap_client(imap.username) as client:
            client.append("INBOX", request_mail("Hallo"))
            client.select_folder("INBOX")
            client.add_flags([1], [f"$Label{n}" for n in range(100)], silent=True)
    clock = FakeClock()
    daemon = Daemon(agent.settings, agent.db, classifier, clock=clock)
    acks: list[float] = []
    attempts: list[int] = []

    def attempts_now() -> int:
        fault = _fault(agent, operation)
        return fault.attempts if fault else 0

    def scenario() -> None:
        _ack_seconds(agent, "eerste@example.org")  # the first poll, at start-up, meets the refusal
        wait_until(lambda: attempts_now() == 1, 15, f"the first refusal of {operation}")
        for n in range(3):  # within one backoff step: new mail is read and acknowledged, no new attempt
            acks.append(_ack_seconds(agent, f"binnen{n}@example.org"))
        attempts.append(attempts_now())
        for step in range(2):  # each backoff step over: exactly one attempt more
            fault = _fault(agent, operation)
            assert fault is not None
            clock.advance((fault.retry_at - clock()).total_seconds() + 1)
            acks.append(_ack_seconds(agent, f"stap{step}@example.org"))
            wait_until(lambda step=step: attempts_now() == 2 + step, 15, f"refusal {2 + step}")  # type: ignore[misc]
            acks.append(_ack_seconds(agent, f"stap{step}b@example.org"))
            attempts.append(attempts_now())

    with caplog.at_level(logging.INFO):
        run_forever_during(daemon, scenario)

    reconnects = [r.getMessage() for r in caplog.records if "retrying in" in r.getMessage()]
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING and "deferred" in r.getMessage()]
    fault = _fault(agent, operation)
    assert fault is not None
    assert attempts == [1, 2, 3], attempts  # one attempt per backoff step, none in between
    assert (fault.retry_at - fault.last_attempt_at).total_seconds() == faults.FIRST_DELAY * 4  # 30, 60, 120 s
    assert reconnects == []  # a refusal is no reason to log in again
    assert len(warnings) == 1, [w.getMessage() for w in warnings]  # one warning; later refusals are info lines

    report = health.check(agent.settings, agent.db, clock())
    [box] = report.mailboxes
    assert [r.operation for r in box.refused] == [operation]
    assert not report.healthy
    assert any(f"{operation.upper()} refused 3 time(s)" in p for p in report.problems), report.problems
    assert f'inbox_agent_imap_refusals{{mailbox="default",operation="{operation}"}} 3.0' in metrics.render(report)
    with agent.db.transaction() as session:
        messages = list(session.scalars(select(StoredMessage)))
        assert all(m.status == "processed" for m in messages)
        if refusal == "keyword":  # tracked in the database alone
            assert not any(m.keyword_set for m in messages)
            assert all("$PrivacyTriaged" not in agent.peer.flags(m.uid) for m in messages)
    agent.db.dispose()
    figures(refused=operation, acks=len(acks), ack_seconds_max=round(max(acks), 3),
            ack_seconds_median=round(sorted(acks)[len(acks) // 2], 3), attempts_per_step=attempts,
            reconnects=len(reconnects), warnings=len(warnings))


def test_run_once_with_a_refused_folder_ends_with_one_line_and_exit_4(
    tmp_path: Path, cyrus: CyrusServer, make_account: Callable[..., ImapSettings], smtp_sink: SmtpSink,
) -> None:
    imap = make_account(cyrus)
    config = tmp_path / "config.toml"
    text = config_text(tmp_path, imap, smtp_sink.port).replace(
        'existing_mail = "process"', f'existing_mail = "process"\nmove_privacy_to = "{REFUSED_FOLDER}"', 1)
    config.write_text(text, encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade", "--config", str(config)]).exit_code == 0
    cyrus.account(imap.username).append(request_mail(REQUESTS[0]))

    result = runner.invoke(main, ["run", "--once", "--config", str(config)])

    assert result.exit_code == 4, result.output
    assert "Traceback" not in result.output
    last = result.output.splitlines()[-1]
    assert last.startswith("stored 1 new message(s), processed 1, sent "), last
    assert last.endswith(", 1 IMAP operation(s) refused by the server (see `inbox-agent health`)"), last
    assert any("klant@example.org" in m.rcpt_tos for m in smtp_sink.messages)  # acknowledged all the same

    again = runner.invoke(main, ["run", "--once", "--config", str(config)])  # within the backoff: not tried,
    assert again.exit_code == 4, again.output  # but still refused, and said so
    assert again.output.splitlines()[-1].endswith(", 1 IMAP operation(s) refused by the server "
                                                  "(see `inbox-agent health`)")

    check = runner.invoke(main, ["check-config", "--config", str(config)])
    assert check.exit_code == 1
    assert f"refuses to create folder '{REFUSED_FOLDER}': Permission denied" in check.output
