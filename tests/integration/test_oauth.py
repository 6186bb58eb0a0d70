"""OAuth2 logins against real servers: Dovecot's oauth2 passdb, an aiosmtpd checking bearer tokens,
and a local token endpoint that issues, expires and refuses tokens."""

from __future__ import annotations

import asyncio
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from inbox_agent import oauth
from inbox_agent.cli import main
from inbox_agent.config import ImapSettings, SmtpSettings
from inbox_agent.fictitious_shop import shop_toml
from inbox_agent.mailbox import ImapMailbox, MailboxLoginError, MailboxUnreachable, check_mailbox
from inbox_agent.sandbox import DovecotServer, free_port
from inbox_agent.smtp import SmtpSession
from inbox_agent.smtp import check_login as check_smtp

from oauth_servers import TokenServer, oauth_dovecot, oauth_smtp, token_server

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning"),
    pytest.mark.filterwarnings("ignore:Session.login_data is deprecated"),
]


@pytest.fixture
def tokens() -> Iterator[TokenServer]:
    with token_server() as server:
        yield server


@pytest.fixture
def oauth_imap(tokens: TokenServer) -> Iterator[DovecotServer]:
    with oauth_dovecot(tokens) as server:
        yield server


def _files(tokens: TokenServer, folder: Path, user: str = "info") -> dict[str, Any]:
    secret, refresh = folder / "client.secret", folder / "refresh.token"
    secret.write_text(tokens.client_secret + "\n")
    oauth.write_private(refresh, tokens.issue_refresh_token(user))
    return {
        "auth": "oauth2",
        "oauth_token_url": f"{tokens.url}/token",
        "oauth_client_id": tokens.client_id,
        "oauth_client_secret_file": secret,
        "oauth_refresh_token_file": refresh,
    }


def check_login(settings: ImapSettings) -> str | None:
    """What check-config says about this mailbox."""
    return check_mailbox(settings).problem


def _imap(dovecot: DovecotServer, tokens: TokenServer, folder: Path, **extra: Any) -> ImapSettings:
    return ImapSettings(
        host=dovecot.host,
        port=dovecot.port,
        username="info",
        security="none",
        timeout_seconds=10,
        **(_files(tokens, folder) | extra),
    )


@pytest.mark.parametrize("mechanism", ["XOAUTH2", "OAUTHBEARER"])
def test_imap_login_with_an_access_token(
    oauth_imap: DovecotServer, tokens: TokenServer, tmp_path: Path, mechanism: str
) -> None:
    settings = _imap(oauth_imap, tokens, tmp_path, oauth_mechanism=mechanism)
    with ImapMailbox(settings) as box:
        assert box.select() > 0
    with ImapMailbox(settings) as box:  # the second login reuses the token
        box.select()
    assert len(tokens.refresh_requests) == 1 and tokens.introspections == 2
    assert f"method={mechanism}" in oauth_imap.log_file.read_text()
    assert check_login(settings) is None


def test_a_rejected_access_token_is_replaced_once(
    oauth_imap: DovecotServer, tokens: TokenServer, tmp_path: Path
) -> None:
    settings = _imap(oauth_imap, tokens, tmp_path)
    with ImapMailbox(settings) as box:
        box.select()
    tokens.expire_access_tokens()  # revoked early: our clock still counts it as valid
    with ImapMailbox(settings) as box:
        box.select()
    assert len(tokens.refresh_requests) == 2


def test_a_rotated_refresh_token_is_stored_0600(oauth_imap: DovecotServer, tokens: TokenServer, tmp_path: Path) -> None:
    tokens.rotate = True
    settings = _imap(oauth_imap, tokens, tmp_path)
    assert settings.oauth_refresh_token_file is not None
    first = settings.oauth_refresh_token_file.read_text().strip()
    assert check_login(settings) is None
    stored = settings.oauth_refresh_token_file.read_text().strip()
    assert stored != first and stored in tokens.refresh_tokens
    assert stat.S_IMODE(settings.oauth_refresh_token_file.stat().st_mode) == 0o600


def test_check_config_names_the_step_that_failed(
    oauth_imap: DovecotServer, tokens: TokenServer, tmp_path: Path
) -> None:
    (tmp_path / "a").mkdir()
    unreachable = _imap(oauth_imap, tokens, tmp_path / "a", oauth_token_url=f"http://127.0.0.1:{free_port()}/token")
    assert "token endpoint" in (check_login(unreachable) or "") and "unreachable" in (check_login(unreachable) or "")
    with pytest.raises(MailboxUnreachable):  # retryable: the daemon tries again soon
        ImapMailbox(unreachable).connect()

    (tmp_path / "b").mkdir()
    revoked = _imap(oauth_imap, tokens, tmp_path / "b")
    assert revoked.oauth_refresh_token_file is not None
    tokens.revoke(revoked.oauth_refresh_token_file.read_text().strip())
    problem = check_login(revoked) or ""
    assert "refused the refresh token" in problem and "invalid_grant: AADSTS70008" in problem
    assert "oauth login" in problem and "\r" not in problem
    with pytest.raises(MailboxLoginError):
        ImapMailbox(revoked).connect()

    (tmp_path / "c").mkdir()
    wrong_user = ImapSettings(**(_imap(oauth_imap, tokens, tmp_path / "c").model_dump() | {"username": "someone"}))
    problem = check_login(wrong_user) or ""
    assert "IMAP login failed for user someone" in problem and "rejected the OAuth access token" in problem


@pytest.mark.parametrize("mechanism", ["XOAUTH2", "OAUTHBEARER"])
def test_smtp_sends_with_a_bearer_token_and_replaces_a_rejected_one(
    tokens: TokenServer, tmp_path: Path, mechanism: str
) -> None:
    with oauth_smtp(tokens) as (port, server):
        settings = SmtpSettings(
            host="127.0.0.1",
            port=port,
            security="none",
            username="info",
            from_address="info@shop.example",
            oauth_mechanism=mechanism,
            **_files(tokens, tmp_path),
        )

        async def send_two() -> None:
            async with SmtpSession(settings) as smtp:
                await smtp.send(b"Subject: one\r\n\r\nbody\r\n", recipient="a@example.org")
            tokens.expire_access_tokens()
            async with SmtpSession(settings) as smtp:
                await smtp.send(b"Subject: two\r\n\r\nbody\r\n", recipient="a@example.org")

        asyncio.run(send_two())
        assert len(server.received) == 2
        assert server.logins == [(mechanism, "info")] * 2 and server.rejected == 1
        assert len(tokens.refresh_requests) == 2
        assert asyncio.run(check_smtp(settings)) is None
        tokens.expire_access_tokens()
        tokens.down = True
        problem = asyncio.run(check_smtp(settings)) or ""
        assert problem.startswith("smtp: login failed for user info") and "token endpoint" in problem


def _oauth_login(tokens: TokenServer, *args: str) -> Result:
    """``inbox-agent oauth login ARGS`` against the local endpoints."""
    endpoints = ["--token-url", f"{tokens.url}/token", "--device-code-url", f"{tokens.url}/devicecode"]
    return CliRunner().invoke(main, ["oauth", "login", *args, *endpoints])


def test_oauth_login_runs_the_device_code_flow_and_stores_the_refresh_token_0600(
    tokens: TokenServer, tmp_path: Path
) -> None:
    secret = tmp_path / "client.secret"
    secret.write_text(tokens.client_secret)
    target = tmp_path / "oauth" / "refresh.token"
    result = _oauth_login(tokens, "--provider", "microsoft", "--client-id", tokens.client_id,
                          "--client-secret-file", str(secret), "--refresh-token-file", str(target))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "ABCD-EFGH" in result.output and f"{tokens.url}/device" in result.output
    stored = target.read_text().strip()
    assert stored in tokens.refresh_tokens and stored not in result.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600

    refused = _oauth_login(tokens, "--client-id", "nobody", "--refresh-token-file", str(target), "--scope", "mail")
    assert refused.exit_code == 1 and "invalid_client" in refused.output
    assert target.read_text().strip() == stored

    google = _oauth_login(tokens, "--provider", "google", "--flow", "device", "--client-id", tokens.client_id,
                          "--refresh-token-file", str(target))  # fmt: skip
    assert google.exit_code == 1 and "invalid_scope" in google.output and "--flow loopback" in google.output


def _browser_login(tokens: TokenServer, tmp_path: Path) -> tuple[subprocess.Popen[str], str]:
    """``inbox-agent oauth login --provider google`` in its own process: (process, the address it says to open)."""
    secret = tmp_path / "client.secret"
    secret.write_text(tokens.client_secret)
    command = [
        "oauth",
        "login",
        "--provider",
        "google",
        "--client-id",
        tokens.client_id,
        "--client-secret-file",
        str(secret),
        "--refresh-token-file",
        str(tmp_path / "oauth" / "refresh.token"),
        "--token-url",
        f"{tokens.url}/token",
        "--authorization-url",
        f"{tokens.url}/authorize",
    ]
    process = subprocess.Popen(
        [sys.executable, "-c", "from inbox_agent.cli import main; main()", *command],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith(tokens.url):
            return process, line.strip()
    raise AssertionError(f"no address to open (exit {process.wait()})")


def test_google_login_by_the_loopback_flow_stores_the_refresh_token_0600(tokens: TokenServer, tmp_path: Path) -> None:
    process, address = _browser_login(tokens, tmp_path)
    query = dict(httpx.URL(address).params)
    assert "https://mail.google.com/" in query["scope"] and query["code_challenge_method"] == "S256"
    assert query["redirect_uri"].startswith("http://127.0.0.1:")
    forged = httpx.get(f"{query['redirect_uri']}?code=ac-forged&state=not-ours", timeout=10)
    assert forged.status_code == 400  # a link with another state is no sign-in: the command waits on
    signed_in = httpx.get(address, follow_redirects=True, timeout=10)  # the test plays the browser
    assert signed_in.status_code == 200 and "Signed in" in signed_in.text
    output = process.communicate(timeout=30)[0]
    assert process.returncode == 0, output
    target = tmp_path / "oauth" / "refresh.token"
    stored = target.read_text().strip()
    assert stored in tokens.refresh_tokens and stored not in output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_a_declined_loopback_sign_in_says_so_and_stores_nothing(tokens: TokenServer, tmp_path: Path) -> None:
    tokens.deny = True
    process, address = _browser_login(tokens, tmp_path)
    httpx.get(address, follow_redirects=True, timeout=10)
    output = process.communicate(timeout=30)[0]
    assert process.returncode == 1 and "access_denied" in output
    assert not (tmp_path / "oauth" / "refresh.token").exists()


def test_oauth_login_takes_what_it_is_not_told_from_the_config(tokens: TokenServer, tmp_path: Path) -> None:
    (tmp_path / "client.secret").write_text(tokens.client_secret)
    target = tmp_path / "toppers.token"
    config = tmp_path / "config.toml"
    config.write_text(f"""secret_key = "{"k" * 32}"
[smtp]
from_address = "info@shop.example"
[[mailboxes]]
name = "toppers"
[mailboxes.imap]
username = "info"
auth = "oauth2"
oauth_token_url = "{tokens.url}/token"
oauth_scope = "mail"
oauth_client_id = "{tokens.client_id}"
oauth_client_secret_file = "{tmp_path / "client.secret"}"
oauth_refresh_token_file = "{target}"
{shop_toml("mailboxes.shop")}""")
    result = _oauth_login(tokens, "--config", str(config), "--mailbox", "toppers")
    assert result.exit_code == 0, result.output
    assert target.read_text().strip() in tokens.refresh_tokens
