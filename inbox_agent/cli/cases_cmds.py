"""``inbox-agent cases ...``: the officer's actions from the terminal (same functions as the web page).

Imports of the case machinery happen inside the commands, so ``--help`` and ``cases list``
start without loading the webshop client, the templates or the classifier. A decision is
taken as an officer account (``--as NAME`` or ``$INBOX_AGENT_OFFICER``, else the login name
if it is an account): the audit trail names a person the workspace knows. Times are
Amsterdam time, as the deadlines are.
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .app import EXIT_DECLINED, config_option, main, settings_or_exit

if TYPE_CHECKING:
    from pydantic import BaseModel
    from sqlalchemy.orm import Session

    from ..desk import Desk
    from ..officer import CaseDetail, MailView
    from ..web.i18n import Words

T = TypeVar("T")
actor_option = click.option("--as", "actor", envvar="INBOX_AGENT_OFFICER", default=None,
                            help="Officer account deciding (default: $INBOX_AGENT_OFFICER, else the login name).")
reader_option = click.option("--as", "actor", envvar="INBOX_AGENT_OFFICER", default=None,
                             help="Officer account whose language is used (default: $INBOX_AGENT_OFFICER, "
                                  "else the login name).")
json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")


def _when(moment: datetime) -> str:
    from ..deadlines import AMSTERDAM

    return f"{moment.astimezone(AMSTERDAM):%Y-%m-%d %H:%M}"


def _day(moment: datetime) -> str:
    from ..deadlines import AMSTERDAM

    return f"{moment.astimezone(AMSTERDAM):%Y-%m-%d}"


def _days(days: int) -> str:
    return f"{-days} days overdue" if days < -1 else "1 day overdue" if days == -1 else f"{days}"


def officer_words(session: Session, name: str) -> Words:
    """The catalogue in the language of the officer account ``name`` (the first language when none has it)."""
    from .. import accounts
    from ..web.i18n import translator

    return translator(accounts.language_of(session, name))


def columns(rows: list[list[str]]) -> str:
    """Rows as aligned columns, two spaces apart (the last column as it is), one line each: a cell's own
    line breaks (a reason typed in the page's text box) become spaces."""
    rows = [[" ".join(cell.split()) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join("  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]]).rstrip()
                     for row in rows)


def _act(config_path: Path | None, reference: str | None, actor: str | None,
         action: Callable[[Session, Desk], T], *, decides: bool = True, speaks: bool = False) -> T:
    """Run one officer action in one transaction; print OfficerError as one line and exit 1 (EXIT_DECLINED).

    A decision (``decides``) needs an active officer account as its actor. An action that
    ``speaks`` says its refusal in the language of that officer's account (else in English).
    """
    from .. import accounts, officer
    from ..runtime import officer_desk, open_database

    settings = settings_or_exit(config_path)
    db = open_database(settings)
    now = datetime.now(UTC)
    name = actor or getpass.getuser()
    words: Words | None = None
    try:
        with db.transaction() as session:
            if speaks:
                words = officer_words(session, name)
            if decides:
                try:
                    name = accounts.active_officer(session, name).name
                except accounts.AccountError as exc:
                    raise officer.OfficerError("actor", error=exc) from None
            shop = officer.get_case(session, reference).shop if reference else settings.all_mailboxes()[0].name
            return action(session, officer_desk(settings, shop, name, now))
    except officer.OfficerError as exc:
        click.echo(words("cli.error", error=words.error(exc)) if words else f"error: {exc}", err=True)
        sys.exit(EXIT_DECLINED)
    finally:
        db.dispose()


def _emit(value: BaseModel | list[Any], as_json: bool, text: Callable[[], str]) -> None:
    if as_json:
        data = [v.model_dump(mode="json") for v in value] if isinstance(value, list) else value.model_dump(mode="json")
        click.echo(json.dumps(data, ensure_ascii=False, indent=None if isinstance(value, list) else 2))
    else:
        click.echo(text())


PROOF_WORDS = {
    "proven": "sender proven by the trusted mail host",
    "unproven": "sender not proven (access, portability and objection only)",
    "doubt": "the trusted mail host failed the sender",
    "code": "code returned from the known address",
    "order": "order number and postcode",
    "officer": "confirmed by the officer",
}
"""What a case's identity rests on, said for ``cases show``."""


@main.group()
def cases() -> None:
    """List, inspect and decide privacy cases."""


@cases.command("list")
@config_option
@click.option("--all", "include_closed", is_flag=True, help="Include closed cases.")
@json_option
def list_(config_path: Path | None, include_closed: bool, as_json: bool) -> None:
    """Open cases, what needs you first (drafts, overdue, due soon, tasks; waiting for the customer last)."""
    from .. import case_list

    settings = settings_or_exit(config_path)
    now, view, soon = datetime.now(UTC), "all" if include_closed else "mine", settings.policy.remind_days_before_target
    rows = case_list.read(settings.database.url, view, now, soon)
    if rows is None:  # not a SQLite file: through SQLAlchemy
        from ..runtime import open_database
        from ..workqueue import CaseQuery, find

        db = open_database(settings)
        try:
            with db.transaction() as session:
                rows = find(session, now, CaseQuery(view=view), soon_days=soon, per_page=10**9).rows
        finally:
            db.dispose()

    def text() -> str:
        if not rows:
            return "no open cases"
        lines = [f"{'reference':<16} {'state':<24} {'days left':>16}  {'target':<10}  {'legal':<10}  rights"]
        for r in rows:
            left = "" if r.closed else _days(r.days_left)
            lines.append(f"{r.reference:<16} {r.state:<24} {left:>16}  {_day(r.extended or r.target):<10}  "
                         f"{_day(r.extended or r.legal):<10}  {', '.join(r.rights) or '(question)'}")
        return "\n".join(lines)

    _emit(rows, as_json, text)


def _files(mail: MailView) -> str:
    sizes = []
    for path in map(Path, mail.attachments):
        size = path.stat().st_size if path.exists() else None
        sizes.append(f"{path.name} ({'MISSING' if size is None else 'EMPTY' if size == 0 else f'{size:,} bytes'})")
    return ", ".join(sizes) or "none"


def _draft_text(mail: MailView) -> list[str]:
    return [f"--- draft #{mail.id} ({mail.kind}) to {mail.to}", f"subject: {mail.subject}",
            f"attachments: {_files(mail)}", "", mail.body_text.rstrip(), "--- end of draft"]


@cases.command()
@config_option
@click.argument("reference")
@json_option
def show(config_path: Path | None, reference: str, as_json: bool) -> None:
    """One case: deadlines, identity, the customer's mail, drafts, timeline, tasks."""
    from .. import officer

    def load(s: Session, d: Desk) -> tuple[CaseDetail, list[str]]:
        detail = officer.case_detail(s, reference, d.now)
        texts = []
        for m in detail.messages:
            parsed = officer.read_message(s, reference, m["id"])
            texts.append(f"--- mail received {_when(m['received'])}" + (
                f" from {parsed.from_.email if parsed.from_ else '?'}\nsubject: {parsed.subject}\n\n"
                f"{parsed.text.rstrip()}" if parsed else " (content purged after retention)"))
        return detail, texts

    detail, texts = _act(config_path, reference, None, load, decides=False)

    def text() -> str:
        lines = [
            f"{detail.reference}  ({detail.state})",
            f"rights:    {', '.join(detail.rights) or '(privacy question, no right)'}",
            f"from:      {detail.requester or '(anonymised)'}",
            f"identity:  {detail.identity}" + (f" via {detail.identity_method}" if detail.identity_method else ""),
            f"proof:     {PROOF_WORDS.get(detail.proof or '', detail.proof or '(none recorded)')}",
            f"received:  {_when(detail.received)} (Amsterdam)",
            f"target:    {_day(detail.target)}   legal: {_day(detail.legal)}"
            + (f"   extended: {_day(detail.extended)}" if detail.extended else "")
            + ("" if detail.closed else f"   days left: {_days(detail.days_left)}"),
            "",
        ]
        lines += texts
        for mail in detail.mails:
            if mail.status == "draft":
                lines += ["", *_draft_text(mail)]
        lines += ["", "timeline:"]
        lines += [f"  {_when(e.at)}  {e.actor:<10} {e.kind:<16} {e.to_state or '':<22} {e.reason or ''}"
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
@click.option("--mail", "mail_id", type=int, default=None, help="The draft to approve (see `cases show`).")
@click.option("--all", "every", is_flag=True, help="Approve every draft of the case, one after the other.")
@click.option("--yes", is_flag=True, help="Do not ask; approve what is shown.")
def approve(config_path: Path | None, actor: str | None, reference: str, mail_id: int | None, every: bool,
            yes: bool) -> None:
    """Approve a draft: it is shown (recipient, subject, attachments), confirmed, then sent."""
    from .. import officer

    detail = _act(config_path, reference, actor, lambda s, d: officer.case_detail(s, reference, d.now))
    drafts = [m for m in detail.mails if m.status == "draft" and (mail_id is None or m.id == mail_id)]
    if not drafts:
        which = f"draft {mail_id}" if mail_id is not None else "drafts"
        click.echo(f"error: case {detail.reference} has no {which} waiting for approval", err=True)
        sys.exit(1)
    if len(drafts) > 1 and not every:
        click.echo(f"error: case {detail.reference} has {len(drafts)} drafts; approve one with --mail N "
                   f"(or all with --all):", err=True)
        for m in drafts:
            click.echo(f"  --mail {m.id}  {m.kind} to {m.to}: {m.subject}", err=True)
        sys.exit(1)
    for mail in drafts:
        click.echo("\n".join(_draft_text(mail)))
        if not yes and not click.confirm(f"send draft #{mail.id} to {mail.to}?", default=False):
            click.echo(f"draft #{mail.id} not approved")
            continue
        def approve_one(s: Session, d: Desk, m: MailView = mail) -> list[int]:
            return officer.approve(s, d, reference, m.id, version=m.version)

        ids = _act(config_path, reference, actor, approve_one)
        click.echo(f"{detail.reference}: approved mail {', '.join(map(str, ids))}; it goes out with the next send")


@cases.command()
@config_option
@actor_option
@click.argument("reference")
@click.option("--reason", required=True, help="Why the request is refused (sent to the customer).")
def reject(config_path: Path | None, actor: str | None, reference: str, reason: str) -> None:
    """Refuse the request: a reasoned refusal is drafted for approval."""
    from .. import officer

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
    from .. import officer

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
    from .. import officer

    body = body_file.read()

    def action(s: Session, d: Desk) -> None:
        current = next((m for m in officer.case_detail(s, reference, d.now).mails if m.id == mail_id), None)
        if current is None:
            raise officer.OfficerError("no_draft", case=reference, mail=mail_id)
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
    from .. import officer

    until = _act(config_path, reference, actor, lambda s, d: officer.extend(s, d, reference, reason=reason))
    click.echo(f"{reference}: extended until {_day(until)}; notice queued")


@cases.command("confirm-identity")
@config_option
@actor_option
@click.argument("reference")
@click.option("--method", type=click.Choice(["phone", "in_person", "letter"]), required=True,
              help="How you checked it yourself.")
@click.option("--reason", required=True, help="What was checked (kept in the audit trail).")
def confirm_identity(config_path: Path | None, actor: str | None, reference: str, method: str, reason: str) -> None:
    """Confirm the identity by hand (e.g. a call to the known number); results go to the known address."""
    from .. import officer

    _act(config_path, reference, actor,
         lambda s, d: officer.confirm_identity(s, d, reference, method=method, reason=reason))
    click.echo(f"{reference}: identity confirmed ({method}); the results are drafted for approval")


@cases.command()
@config_option
@actor_option
@click.argument("reference")
@click.option("--reason", required=True)
@click.option("--withdrawn", is_flag=True, help="The customer withdrew the request.")
@click.option("--skip-open-steps", is_flag=True,
              help="Skip the open steps with the reason; a held result then says only what was done.")
def close(config_path: Path | None, actor: str | None, reference: str, reason: str, withdrawn: bool,
          skip_open_steps: bool) -> None:
    """Close a case by hand (e.g. answered by phone, or withdrawn)."""
    from .. import officer

    _act(config_path, reference, actor, lambda s, d: officer.close(s, d, reference, reason=reason, withdrawn=withdrawn,
                                                                   skip_open_steps=skip_open_steps))
    click.echo(f"{reference}: closed")


@cases.command()
@config_option
@actor_option
@click.argument("reference")
def redraft(config_path: Path | None, actor: str | None, reference: str) -> None:
    """Draft the results again (after a draft was discarded)."""
    from .. import officer

    _act(config_path, reference, actor, lambda s, d: officer.redraft(s, d, reference))
    click.echo(f"{reference}: results drafted")


@cases.command()
@config_option
@actor_option
@click.argument("task_id", type=int)
@click.option("--done", is_flag=True, help="The task is done.")
@click.option("--skip", "skip_reason", default=None, metavar="REASON", help="Skip the task, with this reason.")
@click.option("--note", default=None, help="A note to keep with a task marked done.")
def task(config_path: Path | None, actor: str | None, task_id: int, done: bool, skip_reason: str | None,
         note: str | None) -> None:
    """Mark a checklist task (e.g. an Art. 19 notification) --done, or --skip it with a reason."""
    from .. import officer

    if done == (skip_reason is not None):
        raise click.UsageError("say either --done or --skip REASON")
    _act(config_path, None, actor,
         lambda s, d: officer.finish_task(s, d, task_id, done=done, reason=skip_reason if not done else note))
    click.echo(f"task {task_id}: {'done' if done else 'skipped'}")


@cases.command()
@config_option
@actor_option
@click.argument("reference")
@click.option("--set", "pairs", multiple=True, required=True, metavar="FIELD=VALUE",
              help="A correction, e.g. --set last_name=Jansen --set billing.postcode='7741 AB'.")
def rectify(config_path: Path | None, actor: str | None, reference: str, pairs: tuple[str, ...]) -> None:
    """Apply a correction in the webshop and registry; the result draft lists what changed."""
    from .. import officer

    changes: dict[str, str] = {}
    for pair in pairs:
        field, eq, value = pair.partition("=")
        if not eq:
            raise click.BadParameter(f"{pair!r} is not FIELD=VALUE", param_hint="--set")
        changes[field.strip()] = value
    done = _act(config_path, reference, actor, lambda s, d: officer.rectify(s, d, reference, changes))
    click.echo(f"{reference}: corrected ({'; '.join(done) or 'task created'}); result draft updated")
