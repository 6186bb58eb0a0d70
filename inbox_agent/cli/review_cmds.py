"""``inbox-agent review list|open|dismiss``: the officer's "to check" list (see inbox_agent/review.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .app import config_option, main, settings_or_exit
from .cases_cmds import _act, actor_option

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..desk import Desk


@main.group()
def review() -> None:
    """Human mail that looks privacy-related but matched no request: to check by hand."""


@review.command("list")
@config_option
@click.option("--days", type=click.IntRange(min=1), default=30, show_default=True, help="How far back to look.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_(config_path: Path | None, days: int, as_json: bool) -> None:
    """Mail to check, newest first: no case was opened and nothing was sent."""
    from ..review import to_check
    from ..runtime import open_database

    settings = settings_or_exit(config_path)
    db = open_database(settings)
    try:
        with db.transaction() as session:
            items = to_check(session, datetime.now(UTC) - timedelta(days=days))
    finally:
        db.dispose()
    if as_json:
        click.echo(json.dumps([i.model_dump(mode="json") for i in items], ensure_ascii=False))
        return
    if not items:
        click.echo(f"nothing to check in the last {days} days")
        return
    click.echo(f"{'message':>8}  {'received':<16}  {'lang':<5} {'from':<32} subject")
    for i in items:
        click.echo(f"{i.message:>8}  {i.received_at:%Y-%m-%d %H:%M}  {i.language:<5} {i.sender or '-':<32} {i.subject}")


@review.command("open")
@config_option
@click.argument("message", type=int)
@click.option("--right", "rights", multiple=True, required=True,
              type=click.Choice(["access", "rectification", "erasure", "restriction", "portability", "objection"]),
              help="A right the mail asks for (repeat for several).")
@actor_option
def open_(config_path: Path | None, message: int, rights: tuple[str, ...], actor: str | None) -> None:
    """Open a case from a listed mail, as if it had been recognised (deadline from its arrival)."""
    from .. import review as to_check
    from ..runtime import officer_desk

    def work(session: Session, desk: Desk) -> str:
        box = to_check.mailbox_of(session, message, desk.now)
        own = officer_desk(desk.settings, box, desk.actor, desk.now)
        return to_check.open_case(session, own, message, list(rights)).reference

    click.echo(f"case {_act(config_path, None, actor, work)} opened from mail {message}")


@review.command("dismiss")
@config_option
@click.argument("message", type=int)
@click.option("--reason", required=True, help="Why this is not a request (kept in the audit trail).")
@actor_option
def dismiss(config_path: Path | None, message: int, reason: str, actor: str | None) -> None:
    """Take a mail off the list: not a request."""
    from .. import review as to_check

    _act(config_path, None, actor,
         lambda session, desk: to_check.dismiss(session, message, reason=reason, actor=desk.actor, now=desk.now))
    click.echo(f"mail {message} taken off the list")
