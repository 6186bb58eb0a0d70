"""Secrets and privacy in logs: no password, API key, secret or message text in any log line.

The agent runs with every secret configured (IMAP and SMTP passwords, secret_key, WooCommerce
keys, the web secret) over mail whose bodies, subjects and names carry unique sentences, through
the paths that log the most: requests from known and unknown senders, a robot, an order question,
an unparseable mail, a mail over the size limit, a refused SMTP login, a refused IMAP login and a
lost IMAP connection.

Two layers are checked. Every record this package logs, at DEBUG, before any masking: our code
must not write those values at all. And the daemon's real output (``logs.setup``, text and JSON,
third-party loggers as configured there) as an operator's journal would hold it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from reliability_kit import REQUESTS, SMTP_PASSWORD, WEB_SECRET, CountingStop

from inbox_agent import logs
from inbox_agent.classify import Classifier
from inbox_agent.config import Settings
from inbox_agent.daemon import Daemon
from inbox_agent.runtime import secrets_of
from inbox_agent.sandbox import DovecotServer, SmtpSink

from agent_harness import SECRET, Agent, agent_settings, request_mail

pytestmark = pytest.mark.integration
IMAP_PASSWORD = "imap-Pw-93be2f1c7d"
WOO_KEY, WOO_SECRET = "ck_4f1d8e2a9b7c6d5e", "cs_0a9b8c7d6e5f4a3b"
SENTENCES = [
    "Mijn geheime zin is: de blauwe olifant danst om middernacht op het dak.",
    "Le code secret est: la girafe orange chante sous la pluie.",
    "Unter uns: der grüne Pinguin fährt heimlich Fahrrad.",
]
SUBJECT = "Onderwerp-Zebra-Kompas"
NAME = "Henriette Zilverpapier"


def _forbidden() -> list[str]:
    return [IMAP_PASSWORD, SMTP_PASSWORD, SECRET, WOO_KEY, WOO_SECRET, WEB_SECRET, SUBJECT, NAME,
            *SENTENCES, *(s.split(": ", 1)[1] for s in SENTENCES)]


def _settings(tmp_path: Path, imap_port: int, sink: SmtpSink, password: str = SMTP_PASSWORD,
              **extra: object) -> Settings:
    from inbox_agent.config import ImapSettings

    tmp_path.mkdir(parents=True, exist_ok=True)
    imap = ImapSettings(host="127.0.0.1", port=imap_port, username="winkel", password=SecretStr(IMAP_PASSWORD),
                        security="none", timeout_seconds=5)
    return agent_settings(
        tmp_path, imap, sink,
        smtp={"host": sink.host, "port": sink.port, "security": "none", "from_address": "privacy@shop.example",
              "username": "agent", "password": password},
        woocommerce={"consumer_key": WOO_KEY, "consumer_secret": WOO_SECRET},
        web={"secret_key": WEB_SECRET},
        policy={"trusted_authserv_ids": ["mx.shop.example"], "max_message_bytes": 20_000},
        **extra,
    )


def _scenario(tmp_path: Path, server: DovecotServer, classifier: Classifier) -> None:
    """Every noisy path once; raises nothing."""
    with SmtpSink(auth=("agent", SMTP_PASSWORD)) as sink:
        good = _settings(tmp_path / "good", server.port, sink)
        agent = Agent(good, classifier, server.account("winkel"), sink)
        agent.add_customer("bekend@example.org", NAME, customer_id="1")
        for n, sentence in enumerate(SENTENCES):
            agent.deliver(request_mail(f"{REQUESTS[n]}\n{sentence}", sender="bekend@example.org" if n == 0
                                       else f"onbekend{n}@example.org", name=NAME, subject=SUBJECT))
        agent.deliver(request_mail(f"Ik ben afwezig. {SENTENCES[0]}", subject=SUBJECT, name=NAME,
                                   headers={"Auto-Submitted": "auto-replied"}))
        agent.deliver(request_mail(f"Wanneer wordt bestelling 123 geleverd? {SENTENCES[1]}", subject=SUBJECT))
        agent.deliver(f"{SENTENCES[2]} no headers at all\r\n\r\n{SENTENCES[0]}".encode())
        agent.deliver(request_mail(REQUESTS[1] + "\n" + SENTENCES[1] * 600, subject=SUBJECT, name=NAME))
        agent.run_once()
        assert len(sink.messages) >= 4
        # The SMTP server refuses the password: retried later, logged as a warning.
        wrong = _settings(tmp_path / "good", server.port, sink, password="wrong-" + SMTP_PASSWORD)
        agent.deliver(request_mail(f"{REQUESTS[2]}\n{SENTENCES[2]}", sender="derde@example.org", name=NAME,
                                   subject=SUBJECT))
        asyncio.run(Daemon(wrong, agent.db, classifier).run_once())
        agent.db.dispose()
    # The IMAP server refuses the password, then is not there at all: the mailbox runner logs and retries.
    wrong_imap = _settings(tmp_path / "imap", server.port, sink).model_copy(deep=True)
    assert wrong_imap.imap is not None
    wrong_imap.imap.password = SecretStr("wrong-" + IMAP_PASSWORD)
    agent_db = Agent(wrong_imap, classifier, server.account("winkel"), sink).db
    for settings in (wrong_imap, _settings(tmp_path / "gone", 1, sink)):
        daemon = Daemon(settings, agent_db, classifier)
        daemon.stop = stop = CountingStop(attempts=1)
        asyncio.run(daemon.watch(settings.all_mailboxes(), pause=stop.nap))
    agent_db.dispose()


@pytest.fixture
def server() -> Iterator[DovecotServer]:
    with DovecotServer() as dovecot:  # own server: the wrong password below would slow the shared one
        dovecot.add_user("winkel", IMAP_PASSWORD)
        yield dovecot


def test_no_secret_or_message_text_in_any_log_record(
    tmp_path: Path, server: DovecotServer, classifier: Classifier, caplog: pytest.LogCaptureFixture,
    figures: Callable[..., None],
) -> None:
    caplog.set_level(logging.DEBUG)
    _scenario(tmp_path, server, classifier)
    ours = [r for r in caplog.records if r.name.startswith("inbox_agent")]
    production = [r for r in caplog.records if r.levelno >= logging.WARNING or r.name.startswith("inbox_agent")]
    leaks = []
    for record in production:
        text = record.getMessage() + (logging.Formatter().formatException(record.exc_info) if record.exc_info else "")
        leaks += [(record.name, record.levelname, secret[:20]) for secret in _forbidden() if secret in text]
    assert not leaks, leaks
    assert any("SMTP login refused" in r.getMessage() for r in ours)
    assert any("wrong username or password" in r.getMessage() for r in ours)
    assert any("quarantined" in r.getMessage() for r in ours)
    figures(records_checked=len(production), records_of_inbox_agent=len(ours), leaks=len(leaks))


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_the_daemons_own_log_output_holds_no_secret_or_message_text(
    tmp_path: Path, server: DovecotServer, classifier: Classifier, capsys: pytest.CaptureFixture[str], fmt: str,
    figures: Callable[..., None],
) -> None:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    settings = _settings(tmp_path / "setup", server.port, SmtpSink(auth=("agent", SMTP_PASSWORD)))
    try:
        logs.setup(fmt, level=logging.DEBUG, secrets=secrets_of(settings))
        _scenario(tmp_path, server, classifier)
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    output = capsys.readouterr().err
    assert "SMTP login refused" in output and "quarantined" in output
    leaks = [secret[:20] for secret in _forbidden() if secret in output]
    assert not leaks, leaks
    figures(format=fmt, log_lines=output.count("\n"), leaks=len(leaks))
