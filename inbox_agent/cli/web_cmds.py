"""``inbox-agent web`` and ``inbox-agent officer add``: the officer workspace and its accounts."""

from __future__ import annotations

import getpass
import sys
from datetime import UTC, datetime
from pathlib import Path

import click
import uvicorn

from .. import accounts
from ..config import Settings
from ..db.session import Database, SchemaOutdated
from ..runtime import open_database, setup_logging
from ..web import create_app
from .app import config_option, main, settings_or_exit


def _database(settings: Settings) -> Database:
    try:
        return open_database(settings)
    except SchemaOutdated as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


@main.command()
@config_option
def web(config_path: Path | None) -> None:
    """Serve the officer workspace on web.host:web.port (127.0.0.1 unless configured)."""
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
    """Accounts of the people who log in to the workspace."""


def _read_password() -> str:
    """From standard input when it is not a terminal (scripts), else asked twice without echo."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Password again: ") != first:
        click.echo("error: the passwords differ", err=True)
        sys.exit(1)
    return first


@officer.command("add")
@config_option
@click.argument("name")
@click.option("--language", type=click.Choice(accounts.LANGUAGES), default="nl", show_default=True,
              help="Language of the workspace for this officer.")
def add(config_path: Path | None, name: str, language: str) -> None:
    """Add an officer; the password is read from standard input or asked for."""
    settings = settings_or_exit(config_path)
    password = _read_password()
    db = _database(settings)
    try:
        with db.transaction() as session:
            accounts.add_officer(session, name, password, language=language, now=datetime.now(UTC))
    except accounts.AccountError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    finally:
        db.dispose()
    click.echo(f"officer {name.strip()} added; log in at {settings.web.base_url}")
