"""OAuth2 settings and the token source, against a local token endpoint."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from inbox_agent import oauth
from inbox_agent.config import ConfigError, ImapSettings, load_settings
from inbox_agent.fictitious_shop import FICTITIOUS_SHOP

from oauth_servers import TokenServer, token_server

BASE: dict[str, Any] = {"secret_key": "k" * 32, "smtp": {"from_address": "info@shop.example"}, "shop": FICTITIOUS_SHOP}


def test_an_oauth2_section_says_what_it_lacks() -> None:
    with pytest.raises(ConfigError) as raised:
        load_settings(None, **BASE, imap={"username": "info", "auth": "oauth2"})
    (line,) = raised.value.problems
    assert line.startswith("imap:") and "oauth_client_id" in line and "oauth_refresh_token_file" in line
    assert "oauth_token_url or oauth_provider" in line

    with pytest.raises(ConfigError) as raised:
        load_settings(
            None,
            **BASE,
            imap={
                "username": "info",
                "auth": "oauth2",
                "oauth_provider": "microsoft",
                "oauth_client_id": "c",
                "oauth_refresh_token_fil": "/x",
            },
        )
    assert any("oauth_refresh_token_fil" in p and "unknown key" in p for p in raised.value.problems)

    with pytest.raises(ConfigError) as raised:
        load_settings(
            None,
            secret_key="k" * 32,
            shop=FICTITIOUS_SHOP,
            imap={"username": "info", "password": "p"},
            smtp={
                "from_address": "a@b.nl",
                "auth": "oauth2",
                "oauth_provider": "google",
                "oauth_client_id": "c",
                "oauth_refresh_token_file": "/x",
            },
        )
    assert any(p.startswith("smtp:") and "needs username" in p for p in raised.value.problems)


def test_presets_fill_in_the_endpoint_and_scope() -> None:
    settings = ImapSettings(
        username="info",
        auth="oauth2",
        oauth_provider="microsoft",
        oauth_client_id="c",
        oauth_refresh_token_file=Path("/nonexistent"),
    )
    source = oauth.TokenSource(settings)
    assert source.token_url == oauth.PROVIDERS["microsoft"].token_url
    assert source.scope is not None and "IMAP.AccessAsUser.All" in source.scope and "offline_access" in source.scope
    assert "SMTP.Send" in source.scope  # one token serves IMAP and SMTP
    assert oauth.PROVIDERS["google"].imap_host == "imap.gmail.com"


def test_sasl_responses() -> None:
    assert oauth.sasl_response("XOAUTH2", "info@x.nl", "T") == b"user=info@x.nl\x01auth=Bearer T\x01\x01"
    assert oauth.sasl_response("OAUTHBEARER", "a,b=c", "T") == b"n,a=a=2Cb=3Dc,\x01auth=Bearer T\x01\x01"
    assert base64.b64encode(oauth.sasl_response("XOAUTH2", "u", "t"))  # ASCII throughout


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _source(tokens: TokenServer, tmp_path: Path, clock: Clock) -> oauth.TokenSource:
    refresh = tmp_path / "refresh.token"
    oauth.write_private(refresh, tokens.issue_refresh_token("info"))
    (tmp_path / "secret").write_text(tokens.client_secret)
    settings = ImapSettings(
        username="info",
        auth="oauth2",
        oauth_token_url=f"{tokens.url}/token",
        oauth_client_id=tokens.client_id,
        oauth_client_secret_file=tmp_path / "secret",
        oauth_refresh_token_file=refresh,
    )
    return oauth.TokenSource(settings, clock=clock)


def test_tokens_are_reused_then_renewed_before_they_expire(tmp_path: Path) -> None:
    clock = Clock()
    with token_server(lifetime=600) as tokens:
        source = _source(tokens, tmp_path, clock)
        first = source.token()
        clock.now += 600 - oauth.REFRESH_MARGIN - 1
        assert source.token() == first and len(tokens.refresh_requests) == 1
        clock.now += 2  # within the margin: a login must not start with a dying token
        second = source.token()
        assert second != first and len(tokens.refresh_requests) == 2
        source.invalidate(first)  # an old token's rejection does not throw away the new one
        assert source.token() == second
        source.invalidate(second)
        assert source.token() != second and len(tokens.refresh_requests) == 3
        assert first not in repr(source) and tokens.client_secret not in repr(source)


def test_a_refused_refresh_token_is_asked_for_once_until_its_file_changes(tmp_path: Path) -> None:
    with token_server() as tokens:
        source = _source(tokens, tmp_path, Clock())
        tokens.revoke(source.refresh_file.read_text().strip())
        for _ in range(3):
            with pytest.raises(oauth.RefreshRefused, match="refused the refresh token"):
                source.token()
        assert len(tokens.refresh_requests) == 1
        oauth.write_private(source.refresh_file, tokens.issue_refresh_token("info"))
        assert source.token() and len(tokens.refresh_requests) == 2


def test_an_endpoint_outage_is_retryable_and_not_a_refusal(tmp_path: Path) -> None:
    with token_server() as tokens:
        source = _source(tokens, tmp_path, Clock())
        tokens.down = True
        with pytest.raises(oauth.TokenEndpointUnreachable) as raised:
            source.token()
        assert raised.value.retryable and "HTTP 503" in str(raised.value)
        tokens.down = False
        assert source.token()


def test_write_private_is_0600_from_the_start(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "token"
    oauth.write_private(target, "abc")
    assert target.read_text() == "abc\n" and target.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["token"]
