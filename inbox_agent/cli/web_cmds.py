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


def _read_password() -> str:
    """From standard input when it is not a terminal (scripts), else asked twice without echo."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        click.echo("error: the passwords differ", err=True)
        sys.exit(1)
    return first


def _accounts(config_path: Path | None, work: Callable[[Session], T],
              audit: tuple[str | Callable[[T], str], str] | None = None) -> tuple[T, Settings]:
    """``work`` on the accounts in one transaction, recorded as ``audit`` (action, account) when it changes one
    (the action may be read from what ``work`` returned); an AccountError is one line and exit 1."""
    from .. import accounts

    settings = settings_or_exit(config_path)
    db = _database(settings)
    try:
        with db.transaction() as session:
            done = work(session)
            if audit is not None:
                action, target = audit
                accounts.audit(session, actor=CLI_ACTOR, action=action if isinstance(action, str)
                               else action(done), target=target, now=datetime.now(UTC))
            return done, settings
    except accounts.AccountError as exc:
        click.echo(f"error: {exc}", err=True)
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
def add(config_path: Path | None, name: str, language: str, admin: bool) -> None:
    """Add an officer; the password is read from standard input or asked for."""
    from .. import accounts

    password = _read_password()
    _, settings = _accounts(config_path, lambda s: accounts.add_officer(s, name, password, language=language,
                                                                        now=datetime.now(UTC), admin=admin),
                            (accounts.added, name))
    click.echo(f"officer {name.strip()} added; log in at {settings.web.base_url}")


@officer.command("list")
@config_option
def list_(config_path: Path | None) -> None:
    """The accounts: name, language, role, since when, and whether disabled."""
    from .. import accounts
    from ..deadlines import AMSTERDAM

    def rows(session: Session) -> list[str]:
        return [f"{o.name:<24} {o.language:<3} {o.role:<8} since {o.created_at.astimezone(AMSTERDAM):%Y-%m-%d}"
                + ("  disabled" if accounts.is_disabled(o) else "") for o in accounts.list_officers(session)]

    lines, _ = _accounts(config_path, rows)
    click.echo("\n".join(lines) if lines else "no officer accounts; add one with `inbox-agent officer add NAME`")


@officer.command("history")
@config_option
@reader_option
def history(config_path: Path | None, actor: str | None) -> None:
    """Every change to an account, newest first: when (Amsterdam time), who, what, which account."""
    from .. import accounts

    def rows(session: Session) -> str:
        t = officer_words(session, actor or getpass.getuser())
        changes = accounts.history(session)
        if not changes:
            return t("history.none")
        return columns([[t("timeline.when"), t("timeline.who"), t("timeline.what"), t("history.account")]] + [
            [t.when(e.at), t.actor(e.actor), t.code("account_event", e.action), e.target] for e in changes])

    click.echo(_accounts(config_path, rows)[0])


@officer.command("disable")
@config_option
@click.argument("name")
@click.option("--enable", is_flag=True, help="Enable the account again (with its old password).")
def disable(config_path: Path | None, name: str, enable: bool) -> None:
    """Disable an account: no login, and every session it holds ends at once."""
    from .. import accounts

    _accounts(config_path, lambda s: accounts.set_disabled(s, name, not enable, datetime.now(UTC)),
              ("enabled" if enable else "disabled", name))
    click.echo(f"officer {name} {'enabled' if enable else 'disabled; its sessions have ended'}")


@officer.command("remove")
@config_option
@click.argument("name")
def remove(config_path: Path | None, name: str) -> None:
    """Delete an account; the audit trail keeps the name on everything it did."""
    from .. import accounts

    _accounts(config_path, lambda s: accounts.remove_officer(s, name, datetime.now(UTC)), ("removed", name))
    click.echo(f"officer {name} removed")


@officer.command("reset-password")
@config_option
@click.argument("name")
def reset_password(config_path: Path | None, name: str) -> None:
    """Give an account a new password (standard input or asked); every session ends; a disabled account is enabled."""
    from .. import accounts

    password = _read_password()
    ended, _ = _accounts(config_path, lambda s: accounts.set_password(s, name, password, datetime.now(UTC)),
                         ("password_reset", name))
    click.echo(f"officer {name}: new password set; {ended} session(s) ended")
