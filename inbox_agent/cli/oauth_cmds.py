"""``inbox-agent oauth login``: sign in once and keep the refresh token.

Run it on the mail host as the service user. The device-code flow (Microsoft's default) prints a
code to enter at the provider's sign-in page; the loopback flow (Google's default: Google refuses
the mail scope in its device-code flow) prints an address to open in a browser on this machine,
which comes back to http://127.0.0.1:<free port>/. It waits, and writes the refresh token to
``--refresh-token-file`` with mode 0600. A daemon
whose logins were paused by a refused token picks the new file up by itself.
"""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from .. import oauth
from ..config import MailLogin
from .app import main, settings_or_exit


@main.group("oauth")
def oauth_group() -> None:
    """OAuth2 logins for Microsoft 365 and Google mailboxes."""


def _section(config_path: Path, mailbox: str | None) -> MailLogin:
    """The config section whose OAuth settings fill in what the options leave out."""
    settings = settings_or_exit(config_path)
    if mailbox is not None:
        return settings.mailbox(mailbox).imap
    sections: list[MailLogin] = [box.imap for box in settings.all_mailboxes()] + [settings.smtp]
    return next((s for s in sections if s.auth == "oauth2"), settings.smtp)


@oauth_group.command("login")
@click.option(
    "--provider",
    type=click.Choice(sorted(oauth.PROVIDERS)),
    default=None,
    help="Preset endpoints and scopes (default: the config section's oauth_provider).",
)
@click.option("--client-id", default=None, help="The app (client) id registered with the provider.")
@click.option(
    "--client-secret-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File holding the client secret (Google; confidential Microsoft apps).",
)
@click.option(
    "--refresh-token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where the refresh token is written (mode 0600).",
)
@click.option("--scope", default=None, help="Scopes to ask for (default: the provider's).")
@click.option("--token-url", default=None, help="Token endpoint (default: the provider's).")
@click.option(
    "--device-code-url",
    envvar="INBOX_AGENT_OAUTH_DEVICE_CODE_URL",
    default=None,
    help="Device-code endpoint (default: the provider's).",
)
@click.option(
    "--authorization-url",
    envvar="INBOX_AGENT_OAUTH_AUTHORIZATION_URL",
    default=None,
    help="Authorization endpoint for the loopback flow (default: the provider's).",
)
@click.option(
    "--flow",
    type=click.Choice(["loopback", "device"]),
    default=None,
    help="loopback: a browser on this machine (Google's default); device: a code to enter (Microsoft's default).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Take the options left out from this config's oauth_* keys.",
)
@click.option("--mailbox", default=None, help="With --config: the [[mailboxes]] entry to sign in for.")
def login(
    provider: str | None,
    client_id: str | None,
    client_secret_file: Path | None,
    refresh_token_file: Path | None,
    scope: str | None,
    token_url: str | None,
    device_code_url: str | None,
    authorization_url: str | None,
    flow: str | None,
    config_path: Path | None,
    mailbox: str | None,
) -> None:
    """Sign in (loopback or device-code flow) and store the refresh token."""
    if config_path is not None:
        section = _section(config_path, mailbox)
        provider = provider or section.oauth_provider
        client_id = client_id or section.oauth_client_id
        client_secret_file = client_secret_file or section.oauth_client_secret_file
        refresh_token_file = refresh_token_file or section.oauth_refresh_token_file
        scope = scope or section.oauth_scope
        token_url = token_url or section.oauth_token_url
    preset = oauth.PROVIDERS.get(provider or "")
    token_url = token_url or (preset.token_url if preset else None)
    device_code_url = device_code_url or (preset.device_code_url if preset else None)
    authorization_url = authorization_url or (preset.authorization_url if preset else None)
    flow = flow or (preset.flow if preset else "device")
    endpoint = (
        ("--provider or --device-code-url", device_code_url)
        if flow == "device"
        else ("--provider or --authorization-url", authorization_url)
    )
    scope = scope or (preset.scope if preset else None)
    missing = [
        name
        for name, value in (
            ("--client-id", client_id),
            ("--refresh-token-file", refresh_token_file),
            ("--provider or --token-url", token_url),
            endpoint,
            ("--provider or --scope", scope),
        )
        if not value
    ]
    if missing:
        click.echo(f"oauth login: missing {', '.join(missing)}", err=True)
        sys.exit(2)
    assert client_id and refresh_token_file and token_url and endpoint[1] and scope  # checked just above
    try:
        secret = client_secret_file.read_text(encoding="utf-8").strip() if client_secret_file else None
        sign_in = (
            functools.partial(oauth.device_login, device_code_url=endpoint[1])
            if flow == "device"
            else (functools.partial(oauth.loopback_login, authorization_url=endpoint[1]))
        )
        sign_in(
            token_url=token_url,
            client_id=client_id,
            scope=scope,
            client_secret=secret,
            refresh_file=refresh_token_file,
            show=click.echo,
        )
    except (oauth.OAuthError, OSError) as exc:
        click.echo(f"oauth login: {exc}", err=True)
        if provider == "google" and "invalid_scope" in str(exc):
            click.echo(
                "oauth login: Google allows no mail scope in its device-code flow: use --flow loopback "
                "(the default for google)",
                err=True,
            )
        sys.exit(1)
    click.echo(f"refresh token stored in {refresh_token_file} (mode 0600)")
