"""``inbox-agent cases ...``: the officer's actions from the terminal (same functions as the web page)."""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from pydantic import BaseModel
from sqlalchemy.orm import Session

from .. import officer
from ..desk import Desk
from ..runtime import officer_desk, open_database
from .app import config_option, main, settings_or_exit

T = TypeVar("T")
actor_option = click.option("--as", "actor", default=None, help="Officer name for the audit trail (default: login).")
json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")


def _act(config_path: Path | None, reference: str | None, actor: str | None,
         action: Callable[[Session, Desk], T]) -> T:
    """Run one officer action in one transaction; print OfficerError plainly and exit 1."""
    settings = settings_or_exit(config_path)
    db = open_database(settings)
    now = datetime.now(UTC)
    try:
        with db.transaction() as session:
            shop = officer.get_case(session, reference).shop if reference else settings.all_mailboxes()[0].name
            desk = officer_desk(settings, shop, actor or getpass.getuser(), now)
            return action(session, desk)
    except officer.OfficerError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    finally:
        db.dispose()


def _emit(value: BaseModel | list[Any], as_json: bool, text: Callable[[], str]) -> None:
    if as_json:
        data = [v.model_dump(mode="json") for v in value] if isinstance(value, list) else value.model_dump(mode="json")
        click.echo(json.dumps(data, ensure_ascii=False, indent=None if isinstance(value, list) else 2))
    else:
        click.echo(text())


@main.group()
def cases() -> None:
    """List, inspect and decide privacy cases."""


@cases.command("list")
@config_option
@click.option("--all", "include_closed", is_flag=True, help="Include closed cases.")
@json_option
def list_(config_path: Path | None, include_closed: bool, as_json: bool) -> None:
    """Open cases, most urgent first."""
    rows = _act(config_path, None, None,
                lambda s, d: officer.list_cases(s, d.now, include_closed=include_closed))

    def text() -> str:
        if not rows:
            return "no open cases"
        lines = [f"{'reference':<16} {'state':<24} {'days left':>9}  {'target':<10}  rights"]
        for r in rows:
            lines.append(f"{r.reference:<16} {r.state:<24} {r.days_left:>9}  {r.target.date()!s:<10}  "
                         f"{', '.join(r.rights) or '(question)'}")
        return "\n".join(lines)

    _emit(rows, as_json, text)


@cases.command()
@config_option
@click.argument("reference")
@json_option
def show(config_path: Path | None, reference: str, as_json: bool) -> None:
    """One case: deadlines, identity, timeline, drafts."""
    detail = _act(config_path, reference, None, lambda s, d: officer.case_detail(s, reference, d.now))

    def text() -> str:
        lines = [
            f"{detail.reference}  ({detail.state})",
            f"rights:    {', '.join(detail.rights) or '(privacy question, no right)'}",
            f"from:      {detail.requester or '(anonymised)'}",
            f"identity:  {detail.identity}" + (f" via {detail.identity_method}" if detail.identity_method else ""),
            f"received:  {detail.received:%Y-%m-%d %H:%M} UTC",
            f"target:    {detail.target.date()}   legal: {detail.legal.date()}"
            + (f"   extended: {detail.extended.date()}" if detail.extended else ""),
            "", "timeline:",
        ]
        lines += [f"  {e.at:%Y-%m-%d %H:%M}  {e.actor:<10} {e.kind:<16} {e.to_state or '':<22} {e.reason or ''}"
                  for e in detail.events]
        lines += ["", "mails:"]
        lines += [f"  #{m.id:<5} {m.kind:<20} {m.status:<9} to {m.to}  {m.subject}" for m in detail.mails]
        if detail.tasks:
            lines += ["", "tasks:"]
            lines += [f"  #{t.id:<5} {t.status:<8} {t.title}" for t in detail.tasks]
        return "\n".join(lines)

    _emit(detail, as_json, text)


@cases.command()
@config_option
@actor_option
@click.argument("reference")
@click.option("--mail", "mail_id", type=int, default=None, help="Only this draft (default: all drafts).")
def approve(config_path: Path | None, actor: str | None, reference: str, mail_id: int | None) -> None:
    """Approve the draft(s) of a case: they are sent."""
    ids = _act(config_path, reference, actor, lambda s, d: officer.approve(s, d, reference, mail_id))
    click.echo(f"{reference}: approved mail(s) {', '.join(map(str, ids))}; they go out with the next send")


@cases.command()
@config_option
@actor_option
@click.argument("reference")
@click.option("--reason", required=True, help="Why the request is refused (sent to the customer).")
def reject(config_path: Path | None, actor: str | None, reference: str, reason: str) -> None:
    """Refuse the request: a reasoned refusal is drafted for approval."""
    _act(config_path, reference, actor, lambda s, d: officer.refuse(s, d, reference, reason=reason))
    click.echo(f"{reference}: refusal drafted; approve it with `inbox-agent cases approve {reference}`")


@cases.command("reject-draft")
@config_option
@actor_option
@click.argument("reference")
@click.option("--mail", "mail_id", type=int, required=True)
@click.option("--reason", required=True)
def reject_draft(config_path: Path | None, actor: str | None, reference: str, mail_id: int, reason: str) -> None:
    """Discard one draft without sending it."""
    _act(config_path, reference, actor, lambda s, d: officer.reject_draft(s, d, reference, mail_id, reason=reason))
    click.echo(f"{reference}: draft {mail_id} discarded")


@cases.command()
@config_option
@actor_option
@click.argument("reference")
@click.option("--mail", "mail_id", type=int, required=True)
@click.option("--subject", default=None)
@click.option("--body-file", type=click.File("r", encoding="utf-8"), required=True,
              help="File with the new body text ('-' for standard input).")
def edit(config_path: Path | None, actor: str | None, reference: str, mail_id: int, subject: str | None,
         body_file: Any) -> None:
    """Replace the text of a draft before approving it."""
    body = body_file.read()

    def action(s: Session, d: Desk) -> None:
        current = next(m for m in officer.case_detail(s, reference, d.now).mails if m.id == mail_id)
        officer.edit_draft(s, d, reference, mail_id, subject=subject or current.subject, body=body)

    _act(config_path, reference, actor, action)
    click.echo(f"{reference}: draft {mail_id} updated")


@cases.command()
@config_option
@actor_option
@click.argument("reference")
@click.option("--reason", required=True, help="Complexity or number of requests (sent to the customer).")
def extend(config_path: Path | None, actor: str | None, reference: str, reason: str) -> None:
    """Extend the deadline by up to two months; the notice goes out now."""
    until = _act(config_path, reference, actor, lambda s, d: officer.extend(s, d, reference, reason=reason))
    click.echo(f"{reference}: extended until {until.date()}; notice queued")


@cases.command()
@config_option
@actor_option
@click.argument("reference")
@click.option("--reason", required=True)
@click.option("--withdrawn", is_flag=True, help="The customer withdrew the request.")
def close(config_path: Path | None, actor: str | None, reference: str, reason: str, withdrawn: bool) -> None:
    """Close a case by hand (e.g. answered by phone, or withdrawn)."""
    _act(config_path, reference, actor,
         lambda s, d: officer.close(s, d, reference, reason=reason, withdrawn=withdrawn))
    click.echo(f"{reference}: closed")


@cases.command()
@config_option
@actor_option
@click.argument("reference")
def redraft(config_path: Path | None, actor: str | None, reference: str) -> None:
    """Draft the results again (after a draft was discarded)."""
    _act(config_path, reference, actor, lambda s, d: officer.redraft(s, d, reference))
    click.echo(f"{reference}: results drafted")


@cases.command()
@config_option
@actor_option
@click.argument("task_id", type=int)
@click.option("--skip", "skip_reason", default=None, help="Skip the task, with this reason.")
def task(config_path: Path | None, actor: str | None, task_id: int, skip_reason: str | None) -> None:
    """Mark a checklist task (e.g. an Art. 19 notification) done, or skip it with a reason."""
    _act(config_path, None, actor,
         lambda s, d: officer.finish_task(s, d, task_id, done=skip_reason is None, reason=skip_reason))
    click.echo(f"task {task_id}: {'skipped' if skip_reason else 'done'}")


@cases.command()
@config_option
@actor_option
@click.argument("reference")
@click.option("--set", "pairs", multiple=True, required=True, metavar="FIELD=VALUE",
              help="A correction, e.g. --set last_name=Jansen --set billing.postcode='7741 AB'.")
def rectify(config_path: Path | None, actor: str | None, reference: str, pairs: tuple[str, ...]) -> None:
    """Apply a correction in the webshop and registry; the result draft lists what changed."""
    changes: dict[str, str] = {}
    for pair in pairs:
        field, eq, value = pair.partition("=")
        if not eq:
            raise click.BadParameter(f"{pair!r} is not FIELD=VALUE", param_hint="--set")
        changes[field.strip()] = value
    done = _act(config_path, reference, actor, lambda s, d: officer.rectify(s, d, reference, changes))
    click.echo(f"{reference}: corrected ({'; '.join(done) or 'task created'}); result draft updated")
