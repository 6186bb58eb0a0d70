"""The daemon on an OAuth2 mailbox (issue 17): tokens expire during IDLE, refresh tokens get revoked.

Dovecot checks every XOAUTH2 login by token introspection at the local token endpoint; the test
kicks the daemon's IMAP session (as Microsoft 365 ends a session whose token ran out) and
watches it log in again with a fresh token, or, with a revoked refresh token, say so once and
wait, without a crash or a login loop, until ``oauth login`` writes a new one.
"""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from reliability_kit import run_forever_during, wait_until
from sqlalchemy import func, select

from inbox_agent import oauth
from inbox_agent.classify import Classifier
from inbox_agent.daemon import Daemon
from inbox_agent.db.tables import Outbox, StoredMessage
from inbox_agent.sandbox import DovecotServer, SmtpSink

from agent_harness import Agent, agent_settings, request_mail
from oauth_servers import TokenServer, oauth_dovecot, oauth_smtp, token_server

pytestmark = pytest.mark.integration

LIFETIME = 3.0
"""Seconds an access token counts as valid here (the endpoint says REFRESH_MARGIN more)."""


@pytest.fixture
def tokens() -> Iterator[TokenServer]:
    with token_server(lifetime=oauth.REFRESH_MARGIN + LIFETIME) as server:
        yield server


@pytest.fixture
def oauth_imap(tokens: TokenServer) -> Iterator[DovecotServer]:
    with oauth_dovecot(tokens) as server:
        server.add_user("info", "peer-password-1")  # the shop's people read the mailbox with a password
        yield server


@pytest.fixture
def agent(tmp_path: Path, tokens: TokenServer, oauth_imap: DovecotServer, classifier: Classifier) -> Iterator[Agent]:
    secret, refresh = tmp_path / "client.secret", tmp_path / "oauth" / "refresh.token"
    secret.write_text(tokens.client_secret)
    oauth.write_private(refresh, tokens.issue_refresh_token("info"))
    imap = oauth_imap.settings(
        "info",
        password=None,
        auth="oauth2",
        oauth_token_url=f"{tokens.url}/token",
        oauth_client_id=tokens.client_id,
        oauth_client_secret_file=secret,
        oauth_refresh_token_file=refresh,
        idle_seconds=30,
    )
    with SmtpSink() as sink:
        a = Agent(agent_settings(tmp_path, imap, sink), classifier, oauth_imap.account("info"), sink)
        yield a
        a.db.dispose()


def _stored(agent: Agent) -> int:
    with agent.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(StoredMessage)) or 0)


def _kick(dovecot: DovecotServer) -> None:
    """End the user's IMAP sessions, as a provider does when their token expires."""
    assert dovecot.directory is not None
    subprocess.run(
        ["doveadm", "-c", str(dovecot.directory / "dovecot.conf"), "kick", "info"],
        check=True,
        capture_output=True,
        timeout=10,
    )


def _no_tokens_in(caplog: pytest.LogCaptureFixture, tokens: TokenServer) -> None:
    text = caplog.text
    for token in [*tokens.access_tokens, *tokens.refresh_tokens, tokens.client_secret]:
        assert token not in text


def test_a_token_that_expires_during_idle_is_refreshed_at_the_next_login(
    agent: Agent, tokens: TokenServer, oauth_imap: DovecotServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    def scenario() -> None:
        agent.deliver(request_mail("Please delete my account and all my personal data."))
        wait_until(lambda: _stored(agent) == 1, 15, "the first mail stored")
        time.sleep(LIFETIME + 0.5)  # the daemon sits in IDLE while its token runs out
        tokens.expire_access_tokens()
        _kick(oauth_imap)
        agent.deliver(request_mail("Bitte löschen Sie mein Konto und alle meine Daten."))
        wait_until(lambda: _stored(agent) == 2, 15, "the second mail stored after the new login")

    run_forever_during(Daemon(agent.settings, agent.db, agent.classifier), scenario)
    assert len(tokens.refresh_requests) == 2
    log = oauth_imap.log_file.read_text()
    assert log.count("method=XOAUTH2") == 2 and "auth failed" not in log  # refreshed before, not after, a refusal
    _no_tokens_in(caplog, tokens)


def test_a_revoked_refresh_token_pauses_the_mailbox_with_one_log_line_until_a_new_login(
    agent: Agent,
    tokens: TokenServer,
    oauth_imap: DovecotServer,
    caplog: pytest.LogCaptureFixture,
    figures: Callable[..., None],
) -> None:
    caplog.set_level(logging.DEBUG)
    refresh_file = agent.settings.all_mailboxes()[0].imap.oauth_refresh_token_file
    assert refresh_file is not None
    counted: dict[str, int] = {}

    def scenario() -> None:
        agent.deliver(request_mail("Please delete my account and all my personal data."))
        wait_until(lambda: _stored(agent) == 1, 15, "the first mail stored")
        tokens.revoke(refresh_file.read_text().strip())
        tokens.expire_access_tokens()
        time.sleep(LIFETIME + 0.5)
        before = len(tokens.refresh_requests)
        _kick(oauth_imap)
        time.sleep(6)  # login attempts at 0.5, 1, 2 and 4 s of backoff
        counted["refresh_requests_while_paused"] = len(tokens.refresh_requests) - before
        agent.deliver(request_mail("Bitte löschen Sie mein Konto und alle meine Daten."))
        oauth.write_private(refresh_file, tokens.issue_refresh_token("info"))  # what `oauth login` does
        counted["resumed_after_ms"] = int(
            1000 * wait_until(lambda: _stored(agent) == 2, 20, "the mailbox back after the new refresh token")
        )

    run_forever_during(Daemon(agent.settings, agent.db, agent.classifier), scenario)
    assert counted["refresh_requests_while_paused"] == 1  # one refusal, then no request until the file changed
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING and "refresh token" in r.getMessage()]
    assert len(loud) == 1, [r.getMessage() for r in loud]
    assert "refused the refresh token" in loud[0].getMessage() and "oauth login" in loud[0].getMessage()
    assert not [r for r in caplog.records if r.exc_info]
    _no_tokens_in(caplog, tokens)
    figures(**counted)


def _outbox(agent: Agent) -> list[tuple[str, int]]:
    with agent.db.transaction() as session:
        return [(row.status, row.attempts) for row in session.scalars(select(Outbox))]


def test_a_refused_smtp_refresh_token_holds_the_outbox_with_one_line_and_no_attempts(
    tmp_path: Path,
    tokens: TokenServer,
    oauth_imap: DovecotServer,
    classifier: Classifier,
    caplog: pytest.LogCaptureFixture,
    figures: Callable[..., None],
) -> None:
    caplog.set_level(logging.DEBUG)
    secret, refresh = tmp_path / "client.secret", tmp_path / "oauth" / "smtp.token"
    secret.write_text(tokens.client_secret)
    oauth.write_private(refresh, "rt-revoked-long-ago")
    imap = oauth_imap.settings("info", idle_seconds=30)
    with SmtpSink() as sink, oauth_smtp(tokens) as (port, server):
        smtp = {"host": "127.0.0.1", "port": port, "security": "none", "username": "info",
                "from_address": "privacy@shop.example", "auth": "oauth2", "oauth_token_url": f"{tokens.url}/token",
                "oauth_client_id": tokens.client_id, "oauth_client_secret_file": str(secret),
                "oauth_refresh_token_file": str(refresh)}  # fmt: skip
        agent = Agent(agent_settings(tmp_path, imap, sink, smtp=smtp), classifier, oauth_imap.account("info"), sink)
        counted: dict[str, int] = {}

        def scenario() -> None:
            for n in range(3):
                agent.deliver(request_mail("Please delete my account and all my data.", sender=f"k{n}@example.org"))
            wait_until(lambda: len(_outbox(agent)) >= 3 and len(tokens.refresh_requests) == 1, 20, "mails held")
            time.sleep(5)  # the sender looks every 2 s
            counted["refresh_requests_while_paused"] = len(tokens.refresh_requests)
            counted["attempts_while_paused"] = sum(attempts for _, attempts in _outbox(agent))
            oauth.write_private(refresh, tokens.issue_refresh_token("info"))  # what `oauth login` does
            counted["held"] = len(_outbox(agent))
            sent = lambda: {status for status, _ in _outbox(agent)} == {"sent"}  # noqa: E731
            counted["sent_after_ms"] = int(1000 * wait_until(sent, 20, "every held mail sent"))

        run_forever_during(Daemon(agent.settings, agent.db, agent.classifier), scenario)
        agent.db.dispose()
    assert counted["refresh_requests_while_paused"] == 1 and counted["attempts_while_paused"] == 0
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING and "refresh token" in r.getMessage()]
    assert len(loud) == 1, [r.getMessage() for r in loud]
    assert "mail(s) wait in the outbox" in loud[0].getMessage()
    assert len(server.received) >= counted["held"] >= 3
    _no_tokens_in(caplog, tokens)
    figures(**counted)
