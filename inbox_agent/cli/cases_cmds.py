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

    from ..desk.case_views import CaseDetail, MailView
    from ..desk.context import Desk
    from ..web.i18n import Words

T = TypeVar("T")
actor_option = click.option("--as", "actor", envvar="INBOX_AGENT_OFFICER", default=None,
                            help="Officer account deciding (default: $INBOX_AGENT_OFFICER, else the login name).")
reader_option = click.option("--as", "actor", envvar="INBOX_AGENT_OFFICER", default=None,
                             help="Officer account whose language is used (default: $INBOX_AGENT_OFFICER, "
                                  "else the login name).")
json_option = click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")


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
         action: Callable[[Session, Desk], T], *, decides: bool = True) -> T:
    """Run one officer action in one transaction; print OfficerError as one line and exit 1 (EXIT_DECLINED).

    A decision (``decides``) needs an active officer account as its actor. A refusal is said in
    the language of that officer's account (the first language when no account has the name).
    """
    from .. import accounts, officer_error
    from ..desk import case_views
    from ..runtime import officer_desk, open_database

    settings = settings_or_exit(config_path)
    db = open_database(settings)
    now = datetime.now(UTC)
    name = actor or getpass.getuser()
    words: Words | None = None
    try:
        with db.transaction() as session:
            words = officer_words(session, name)
            if decides:
                try:
                    name = accounts.active_officer(session, name).name
                except accounts.AccountError as exc:
                    raise officer_error.OfficerError("actor", error=exc) from None
            shop = case_views.get_case(session, reference).shop if reference else settings.all_mailboxes()[0].name
            return action(session, officer_desk(settings, shop, name, now))
    except officer_error.OfficerError as exc:
        click.echo(words("cli.error", error=words.error(exc)) if words else f"error: {exc}", err=True)
        sys.exit(EXIT_DECLINED)
    finally:
        db.dispose()


def _decide(config_path: Path | None, reference: str, actor: str | None,
            action: Callable[[Session, Desk], object], key: str, **params: object) -> None:
    """Take one decision on a case (as ``_act``) and say ``key`` of it in the officer's language (``case``:
    the case's reference)."""
    from ..desk.case_views import get_case

    def work(s: Session, d: Desk) -> str:
        action(s, d)
        return officer_words(s, d.actor)(key, case=get_case(s, reference).reference, **params)

    click.echo(_act(config_path, reference, actor, work))


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
@reader_option
@click.option("--all", "include_closed", is_flag=True, help="Include closed cases.")
@json_option
def list_(config_path: Path | None, actor: str | None, include_closed: bool, as_json: bool) -> None:
    """Open cases, what needs you first (drafts, overdue, due soon, tasks; waiting for the customer last)."""
    from .. import case_list
    from ..web.i18n import translator

    settings = settings_or_exit(config_path)
    now, view, soon = datetime.now(UTC), "all" if include_closed else "mine", settings.policy.remind_days_before_target
    name = actor or getpass.getuser()
    rows = case_list.read(settings.database.url, view, now, soon)
    language = case_list.language(settings.database.url, name) if rows is not None else None
    if rows is None or language is None:  # not a SQLite file: through SQLAlchemy
        from .. import accounts
        from ..runtime import open_database
        from ..workqueue import CaseQuery, find

        db = open_database(settings)
        try:
            with db.transaction() as session:
                rows = find(session, now, CaseQuery(view=view), soon_days=soon, per_page=10**9).rows
                language = accounts.language_of(session, name)
        finally:
            db.dispose()
    t = translator(language)

    def text() -> str:
        if not rows:
            return t("cli.no_cases")
        return columns([[t("case.reference"), t("case.state"), t("dash.days_left"), t("case.target"), t("case.legal"),
                         t("case.rights")]] + [
            [r.reference, t.code("state", r.state), "" if r.closed else t.days_left(r.days_left),
             t.day(r.extended or r.target), t.day(r.extended or r.legal),
             t.codes("right", r.rights) or t("case.no_rights")] for r in rows])

    _emit(rows, as_json, text)


def _files(t: Words, mail: MailView) -> str:
    sizes = []
    for path in map(Path, mail.attachments):
        size = path.stat().st_size if path.exists() else None
        said = t("cli.file_missing") if size is None else t("cli.file_empty") if size == 0 else t.size(size)
        sizes.append(f"{path.name} ({said})")
    return ", ".join(sizes) or t("cli.no_files")


def _draft_text(t: Words, mail: MailView) -> list[str]:
    return [t("cli.draft", mail=mail.id, kind=t.code("kind", mail.kind), to=mail.to),
            f"{t('mail.subject')}: {mail.subject}", f"{t('mail.attachments')}: {_files(t, mail)}", "",
            mail.body_text.rstrip(), t("cli.draft_end")]


def _section(title: str, rows: list[list[str]]) -> list[str]:
    """A titled block of ``cases show``, its rows indented as columns (nothing when it has none)."""
    return ["", f"{title}:", columns([["", *row] for row in rows])] if rows else []


@cases.command()
@config_option
@reader_option
@click.argument("reference")
@json_option
def show(config_path: Path | None, actor: str | None, reference: str, as_json: bool) -> None:
    """One case: deadlines, identity, the customer's mail, drafts, timeline, tasks."""
    from ..desk import case_views

    def load(s: Session, d: Desk) -> tuple[CaseDetail, list[str], Words]:
        detail, t = case_views.case_detail(s, reference, d.now), officer_words(s, d.actor)
        texts = []
        for m in detail.messages:
            parsed = case_views.read_message(s, reference, m["id"])
            when = t.when(m["received"])
            texts.append(t("cli.mail_received", when=when, sender=parsed.from_.email if parsed.from_ else "?")
                         + f"\n{t('mail.subject')}: {parsed.subject}\n\n{parsed.text.rstrip()}" if parsed
                         else t("cli.mail_purged", when=when))
        return detail, texts, t

    detail, texts, t = _act(config_path, reference, actor, load, decides=False)

    def text() -> str:
        identity = t.code("identity", detail.identity) + (
            f" ({t.code('method', detail.identity_method)})" if detail.identity_method else "")
        facts = [[t("case.rights"), t.codes("right", detail.rights) or t("case.no_rights")],
                 [t("case.requester"), detail.requester or t("case.anonymised")],
                 [t("case.identity"), identity],
                 [t("case.proof"), t.code("proof", detail.proof) if detail.proof else t("cli.no_proof")],
                 [t("case.received"), t.when(detail.received)],
                 [t("case.target"), t.day(detail.target)], [t("case.legal"), t.day(detail.legal)]]
        facts += [[t("case.extended"), t.day(detail.extended)]] if detail.extended else []
        facts += [] if detail.closed else [[t("dash.days_left"), t.days_left(detail.days_left)]]
        lines = [f"{detail.reference}  ({t.code('state', detail.state)})",
                 columns([[f"{label}:", value] for label, value in facts]), "", *texts]
        for mail in detail.mails:
            if mail.status == "draft":
                lines += ["", *_draft_text(t, mail)]
        lines += _section(t("timeline.title"), [[t.when(e.at), t.actor(e.actor), t.event(e),
                                                 t.sentence("reason", e.reason)] for e in detail.events])
        lines += _section(t("mails.title"), [[f"#{m.id}", t.code("kind", m.kind), t.code("status", m.status), m.to,
                                              m.subject] for m in detail.mails])
        lines += _section(t("tasks.title"), [[f"#{k.id}", t.code("status", k.status), t.task(k.title)]
                                             for k in detail.tasks])
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
    from ..desk import case_views, officer

    detail, t = _act(config_path, reference, actor,
                     lambda s, d: (case_views.case_detail(s, reference, d.now), officer_words(s, d.actor)))
    drafts = [m for m in detail.mails if m.status == "draft" and (mail_id is None or m.id == mail_id)]
    if not drafts:
        missing = t("cli.no_draft", case=detail.reference, mail=mail_id) if mail_id is not None else t(
            "cli.no_drafts", case=detail.reference)
        click.echo(t("cli.error", error=missing), err=True)
        sys.exit(1)
    if len(drafts) > 1 and not every:
        click.echo(t("cli.error", error=t("cli.many_drafts", case=detail.reference, count=len(drafts))), err=True)
        for m in drafts:
            click.echo(t("cli.draft_choice", mail=m.id, kind=t.code("kind", m.kind), to=m.to, subject=m.subject),
                       err=True)
        sys.exit(1)
    for mail in drafts:
        click.echo("\n".join(_draft_text(t, mail)))
        if not yes and not click.confirm(t("cli.send_draft", mail=mail.id, to=mail.to), default=False):
            click.echo(t("cli.not_approved", mail=mail.id))
            continue
        def approve_one(s: Session, d: Desk, m: MailView = mail) -> list[int]:
            return officer.approve(s, d, reference, m.id, version=m.version)

        ids = _act(config_path, reference, actor, approve_one)
        click.echo(t("cli.approved", case=detail.reference, mails=", ".join(map(str, ids))))


@cases.command()
@config_option
@actor_option
@click.argument("reference")
@click.option("--reason", required=True, help="Why the request is refused (sent to the customer).")
def reject(config_path: Path | None, actor: str | None, reference: str, reason: str) -> None:
    """Refuse the request: a reasoned refusal is drafted for approval."""
    from ..desk import officer

    _decide(config_path, reference, actor, lambda s, d: officer.refuse(s, d, reference, reason=reason), "cli.refused")


@cases.command("reject-draft")
@config_option
@actor_option
@click.argument("reference")
@click.option("--mail", "mail_id", type=int, required=True)
@click.option("--reason", required=True)
def reject_draft(config_path: Path | None, actor: str | None, reference: str, mail_id: int, reason: str) -> None:
    """Discard one draft without sending it."""
    from ..desk import officer

    _decide(config_path, reference, actor, lambda s, d: officer.reject_draft(s, d, reference, mail_id, reason=reason),
            "cli.draft_discarded", mail=mail_id)


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
    from .. import officer_error
    from ..desk import case_views, officer

    body = body_file.read()

    def action(s: Session, d: Desk) -> None:
        current = next((m for m in case_views.case_detail(s, reference, d.now).mails if m.id == mail_id), None)
        if current is None:
            raise officer_error.OfficerError("no_draft", case=reference, mail=mail_id)
        officer.edit_draft(s, d, reference, mail_id, subject=subject or current.subject, body=body)

    _decide(config_path, reference, actor, action, "cli.draft_updated", mail=mail_id)


@cases.command()
@config_option
@actor_option
@click.argument("reference")
@click.option("--reason", required=True, help="Complexity or number of requests (sent to the customer).")
def extend(config_path: Path | None, actor: str | None, reference: str, reason: str) -> None:
    """Extend the deadline by up to two months; the notice goes out now."""
    from ..desk import case_views, officer

    def work(s: Session, d: Desk) -> str:
        until, t = officer.extend(s, d, reference, reason=reason), officer_words(s, d.actor)
        return t("cli.extended", case=case_views.get_case(s, reference).reference, day=t.day(until))

    click.echo(_act(config_path, reference, actor, work))


@cases.command("confirm-identity")
@config_option
@actor_option
@click.argument("reference")
@click.option("--method", type=click.Choice(["phone", "in_person", "letter"]), required=True,
              help="How you checked it yourself.")
@click.option("--reason", required=True, help="What was checked (kept in the audit trail).")
def confirm_identity(config_path: Path | None, actor: str | None, reference: str, method: str, reason: str) -> None:
    """Confirm the identity by hand (e.g. a call to the known number); results go to the known address."""
    from ..desk import officer

    _decide(config_path, reference, actor,
            lambda s, d: officer.confirm_identity(s, d, reference, method=method, reason=reason),
            "cli.identity_confirmed")


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
    from ..desk import officer

    _decide(config_path, reference, actor, lambda s, d: officer.close(
        s, d, reference, reason=reason, withdrawn=withdrawn, skip_open_steps=skip_open_steps), "cli.closed")


@cases.command()
@config_option
@actor_option
@click.argument("reference")
def redraft(config_path: Path | None, actor: str | None, reference: str) -> None:
    """Draft the results again (after a draft was discarded)."""
    from ..desk import officer

    _decide(config_path, reference, actor, lambda s, d: officer.redraft(s, d, reference), "cli.redrafted")


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
    from ..desk import officer

    if done == (skip_reason is not None):
        raise click.UsageError("say either --done or --skip REASON")
    def work(s: Session, d: Desk) -> str:
        officer.finish_task(s, d, task_id, done=done, reason=skip_reason if not done else note)
        return officer_words(s, d.actor)("cli.task_done" if done else "cli.task_skipped", task=task_id)

    click.echo(_act(config_path, None, actor, work))


@cases.command()
@config_option
@actor_option
@click.argument("reference")
@click.option("--set", "pairs", multiple=True, required=True, metavar="FIELD=VALUE",
              help="A correction, e.g. --set last_name=Jansen --set billing.postcode='7741 AB'.")
def rectify(config_path: Path | None, actor: str | None, reference: str, pairs: tuple[str, ...]) -> None:
    """Apply a correction in the webshop and registry; the result draft lists what changed."""
    from ..desk import case_views, officer

    changes: dict[str, str] = {}
    for pair in pairs:
        field, eq, value = pair.partition("=")
        if not eq:
            raise click.BadParameter(f"{pair!r} is not FIELD=VALUE", param_hint="--set")
        changes[field.strip()] = value
    def work(s: Session, d: Desk) -> str:
        done, t = officer.rectify(s, d, reference, changes), officer_words(s, d.actor)
        case = case_views.get_case(s, reference).reference
        return t("cli.rectified", case=case, done="; ".join(t.sentence("note", n) for n in done) or t("cli.task_made"))

    click.echo(_act(config_path, reference, actor, work))
