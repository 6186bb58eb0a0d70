"""``inbox-agent cases spam`` and ``inbox-agent blocked list|lift``: spam / block sender from the terminal.

The same functions as the case page and the blocked-senders page (desk/spam.py, blocklist.py), so the
same limits hold: a case under way is not closed, an address in the customer registry is never
blocked, and mail to a case's verified address goes out whatever is blocked. The actor is the
officer account of ``--as`` / ``$INBOX_AGENT_OFFICER`` (as for every decision in the terminal),
and what is said comes from the catalogue in that officer's language, times in Amsterdam.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from .app import config_option, main
from .cases_cmds import _act, actor_option, cases, columns, officer_words, reader_option

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..desk.context import Desk

@cases.command()
@config_option
@actor_option
@click.argument("reference")
@click.option("--reason", required=True, help="Why this is spam (kept in the audit trail).")
@click.option("--block", is_flag=True, help="Block the sender's address too: its later mail opens no case.")
def spam(config_path: Path | None, actor: str | None, reference: str, reason: str, block: bool) -> None:
    """Close a case as spam: no answer is sent; --block blocks its sender too."""
    from ..desk import spam as closing
    from ..desk.case_views import get_case

    def work(session: Session, desk: Desk) -> str:
        closing.close_as_spam(session, desk, reference, reason=reason, block=block)
        case, t = get_case(session, reference), officer_words(session, desk.actor)
        if block:
            return t("cli.spam_blocked", case=case.reference, address=case.requester_email)
        return t("cli.spam", case=case.reference)

    click.echo(_act(config_path, reference, actor, work))


@main.group()
def blocked() -> None:
    """Senders blocked with "spam / block sender": list them, or lift a block."""


@blocked.command("list")
@config_option
@reader_option
def list_(config_path: Path | None, actor: str | None) -> None:
    """Every block, the ones in force first: address, case, who blocked it and when, lifted or not, why."""
    from .. import blocklist

    def work(session: Session, desk: Desk) -> str:
        t = officer_words(session, desk.actor)
        rows = blocklist.blocks(session)
        if not rows:
            return t("blocked.none")
        return columns([[t("blocked.address"), t("blocked.case"), t("blocked.by"), t("blocked.state"),
                         t("blocked.reason")]] + [
            [r.address, r.case_reference or "-", f"{r.blocked_by}, {t.when(r.blocked_at)}",
             t("blocked.lifted", who=r.lifted_by, when=t.when(r.lifted_at)) if r.lifted_at else t("blocked.active"),
             r.reason] for r in rows])

    click.echo(_act(config_path, None, actor, work, decides=False))


@blocked.command()
@config_option
@actor_option
@click.argument("address")
@click.option("--shop", default=None, help="Only the block in this shop (default: every shop that has one).")
def lift(config_path: Path | None, actor: str | None, address: str, shop: str | None) -> None:
    """Lift the block on ADDRESS: its mail opens cases again (what was stopped stays stopped)."""
    from .. import blocklist

    def work(session: Session, desk: Desk) -> str:
        blocklist.lift_address(session, address, shop=shop, actor=desk.actor, now=desk.now)
        return officer_words(session, desk.actor)("done.lifted", address=address)

    click.echo(_act(config_path, None, actor, work))
