"""``inbox-agent web`` and ``inbox-agent officer ...``: the officer workspace and its accounts.

The web server and the app are imported when ``web`` runs, not when the CLI starts, so the
account commands (and every other command) do not pay for them.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from ..actors import CLI_ACTOR
from ..messages import LANGUAGES
from .app import config_option, main, settings_or_exit
from .cases_cmds import columns, officer_words, reader_option

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..config import Settings
    from ..db.session import Database
    from ..db.tables import AccountEvent
    from ..web.i18n import Words

T = TypeVar("T")


def _database(settings: Settings) -> Database:
    from ..db.session import SchemaOutdated
    from ..runtime import open_database

    try:
        return open_database(settings)
    except SchemaOutdated as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


@main.command()
@config_option
def web(config_path: Path | None) -> None:
    """Serve the officer workspace on web.host:web.port (127.0.0.1 unless configured)."""
    import uvicorn

    from ..runtime import setup_logging
    from ..web import create_app

    settings = settings_or_exit(config_path)
    setup_logging(settings)
    db = _database(settings)
    try:
        uvicorn.run(create_app(settings, db), host=settings.web.host, port=settings.web.port,
                    log_config=None, server_header=False)
    finally:
        db.dispose()


@main.group()
def officer() -> None:
    """Accounts of the people who log in to the workspace (and decide cases in the terminal)."""


def _read_password(config_path: Path | None, reader: str | None) -> str:
    """From standard input when it is not a terminal (scripts), else asked twice without echo, in the
    language of the account typing it (``--as``, else the login name; the first language if none)."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    settings = settings_or_exit(config_path)
    db = _database(settings)
    try:
        with db.transaction() as session:
            t = officer_words(session, reader or getpass.getuser())
    finally:
        db.dispose()
    first = getpass.getpass(t("cli.password_prompt"))
    if getpass.getpass(t("cli.password_again")) != first:
        click.echo(t("cli.error", error=t("cli.passwords_differ")), err=True)
        sys.exit(1)
    return first


def _accounts(config_path: Path | None, reader: str | None, work: Callable[[Session], T]) -> tuple[T, Settings, Words]:
    """``work`` on the accounts in one transaction (a change passes ``actor=CLI_ACTOR``; accounts.py records it);
    an AccountError is one line and exit 1. What is said is in the language of the account ``reader`` (``--as``,
    else the login name; the first language if none)."""
    from .. import accounts

    settings = settings_or_exit(config_path)
    db = _database(settings)
    t: Words | None = None
    try:
        with db.transaction() as session:
            t = officer_words(session, reader or getpass.getuser())
            return work(session), settings, t
    except accounts.AccountError as exc:
        click.echo(t("cli.error", error=t.error(exc)) if t else f"error: {exc}", err=True)
        sys.exit(1)
    finally:
        db.dispose()


LANGUAGE = click.option("--language", type=click.Choice(LANGUAGES), default=LANGUAGES[0], show_default=True,
                        help="Language of the workspace for this officer.")


@officer.command("add")
@config_option
@click.argument("name")
@LANGUAGE
@click.option("--admin", is_flag=True, help="May manage the accounts on the web page (the first account always may).")
@reader_option
def add(config_path: Path | None, name: str, language: str, admin: bool, actor: str | None) -> None:
    """Add an officer; the password is read from standard input or asked for."""
    from .. import accounts

    password = _read_password(config_path, actor)
    _, settings, t = _accounts(config_path, actor, lambda s: accounts.add_officer(
        s, name, password, language=language, now=datetime.now(UTC), actor=CLI_ACTOR, admin=admin))
    click.echo(t("cli.officer_added", name=name.strip(), url=settings.web.base_url))


@officer.command("list")
@config_option
@reader_option
def list_(config_path: Path | None, actor: str | None) -> None:
    """The accounts: name, language, role, since when, and whether disabled."""
    from .. import accounts

    def rows(session: Session) -> list[tuple[str, str, str, datetime, bool]]:
        return [(o.name, o.language, o.role, o.created_at, accounts.is_disabled(o))
                for o in accounts.list_officers(session)]

    found, _, t = _accounts(config_path, actor, rows)
    click.echo(columns([[t("accounts.name"), t("accounts.language"), t("accounts.role"), t("accounts.since"),
                         t("accounts.state")]] + [
        [name, t.code("language", language), t(f"accounts.role_{role}"), t.day(since),
         t("accounts.disabled" if disabled else "accounts.active")] for name, language, role, since, disabled in found])
        if found else t("cli.officer_none"))


@officer.command("history")
@config_option
@reader_option
def history(config_path: Path | None, actor: str | None) -> None:
    """Every change to an account, newest first: when (Amsterdam time), who, what, which account."""
    from .. import accounts

    def rows(session: Session) -> list[AccountEvent]:
        return accounts.history(session)

    changes, _, t = _accounts(config_path, actor, rows)
    click.echo(columns([[t("timeline.when"), t("timeline.who"), t("timeline.what"), t("history.account")]] + [
        [t.when(e.at), t.actor(e.actor), t.code("account_event", e.action), e.target] for e in changes])
        if changes else t("history.none"))


@officer.command("disable")
@config_option
@click.argument("name")
@click.option("--enable", is_flag=True, help="Enable the account again (with its old password).")
@reader_option
def disable(config_path: Path | None, name: str, enable: bool, actor: str | None) -> None:
    """Disable an account: no login, and every session it holds ends at once."""
    from .. import accounts

    _, _, t = _accounts(config_path, actor, lambda s: accounts.set_disabled(s, name, not enable, datetime.now(UTC),
                                                                            actor=CLI_ACTOR))
    click.echo(t("cli.officer_enabled" if enable else "cli.officer_disabled", name=name))


@officer.command("remove")
@config_option
@click.argument("name")
@reader_option
def remove(config_path: Path | None, name: str, actor: str | None) -> None:
    """Delete an account; the audit trail keeps the name on everything it did."""
    from .. import accounts

    _, _, t = _accounts(config_path, actor, lambda s: accounts.remove_officer(s, name, datetime.now(UTC),
                                                                              actor=CLI_ACTOR))
    click.echo(t("cli.officer_removed", name=name))


@officer.command("reset-password")
@config_option
@click.argument("name")
@reader_option
def reset_password(config_path: Path | None, name: str, actor: str | None) -> None:
    """Give an account a new password (standard input or asked); every session ends; a disabled account is enabled."""
    from .. import accounts

    password = _read_password(config_path, actor)
    ended, _, t = _accounts(config_path, actor, lambda s: accounts.set_password(s, name, password, datetime.now(UTC),
                                                                                actor=CLI_ACTOR))
    click.echo(t("cli.officer_password", name=name, ended=ended))
