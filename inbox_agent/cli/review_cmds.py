"""``inbox-agent review list|open|dismiss``: the officer's "to check" list (see inbox_agent/review.py)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from .app import config_option, main
from .cases_cmds import _act, actor_option, columns, officer_words, reader_option

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..desk.context import Desk
    from ..web.i18n import Words


@main.group()
def review() -> None:
    """Human mail that looks privacy-related but matched no request: to check by hand."""


@review.command("list")
@config_option
@reader_option
@click.option("--days", type=click.IntRange(min=1), default=30, show_default=True, help="How far back to look.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_(config_path: Path | None, actor: str | None, days: int, as_json: bool) -> None:
    """Mail to check, newest first: no case was opened and nothing was sent."""
    from ..config import LANGUAGES
    from ..review import ReviewItem, to_check

    def work(session: Session, desk: Desk) -> tuple[list[ReviewItem], Words]:
        return to_check(session, desk.now - timedelta(days=days)), officer_words(session, desk.actor)

    items, t = _act(config_path, None, actor, work, decides=False)
    if as_json:
        click.echo(json.dumps([i.model_dump(mode="json") for i in items], ensure_ascii=False))
    elif not items:
        click.echo(t("cli.review_none", days=days))
    else:
        click.echo(columns([[t("cli.message"), t("case.received"), t("mail.language"), t("mail.from"),
                             t("mail.subject")]] + [
            [str(i.message), t.when(i.received_at),
             t.code("language", i.language) if i.language in LANGUAGES else t("review.other_language"),
             i.sender or t("review.no_sender"), i.subject] for i in items]))


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
    from ..desk import from_review
    from ..runtime import officer_desk

    def work(session: Session, desk: Desk) -> str:
        box = to_check.mailbox_of(session, message, desk.now)
        own = officer_desk(desk.settings, box, desk.actor, desk.now)

        reference = from_review.open_case(session, own, message, list(rights)).reference
        return officer_words(session, desk.actor)("cli.review_opened", case=reference, mail=message)

    click.echo(_act(config_path, None, actor, work))


@review.command("dismiss")
@config_option
@click.argument("message", type=int)
@click.option("--reason", required=True, help="Why this is not a request (kept in the audit trail).")
@actor_option
def dismiss(config_path: Path | None, message: int, reason: str, actor: str | None) -> None:
    """Take a mail off the list: not a request."""
    from .. import review as to_check

    def work(session: Session, desk: Desk) -> str:
        to_check.dismiss(session, message, reason=reason, actor=desk.actor, now=desk.now)
        return officer_words(session, desk.actor)("cli.review_dismissed", mail=message)

    click.echo(_act(config_path, None, actor, work))
