"""``inbox-agent run``, ``check-config`` and ``db upgrade``: the operator's commands."""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
from datetime import datetime
from pathlib import Path

import click

from .. import history
from ..config import warnings
from ..daemon import Daemon
from ..db.session import Database, SchemaOutdated, current_revision, head_revision, upgrade
from ..mailbox import check_mailbox
from ..pipeline import utcnow
from ..runtime import load_classifier, open_database, setup_logging
from ..smtp import check_login as check_smtp
from .app import EXIT_REFUSED, config_option, main, settings_or_exit


@main.command()
@config_option
@click.option("--once", is_flag=True, help="Process what is waiting, drain the outbox, exit.")
def run(config_path: Path | None, once: bool) -> None:
    """Run the daemon (SIGTERM finishes the current step and exits 0).

    ``--once`` exits 4 when the server refused an operation (see ``inbox-agent health``); other
    faults end with one ``error:`` line and the exit codes of ``cli/app.py``.
    """
    settings = settings_or_exit(config_path)
    setup_logging(settings)
    for warning in warnings(settings):
        logging.getLogger("inbox_agent").warning("config: %s", warning)
    try:
        db = open_database(settings)
    except SchemaOutdated as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    # the first processing loads the classifier: after the mailboxes' logins, or when mail waits
    daemon = Daemon(settings, db, functools.partial(load_classifier, settings))
    if once:
        counters = asyncio.run(daemon.run_once())
        for report in counters.first_starts:
            if report.total:
                click.echo(report.line())
        refused = (f", {counters.refused} IMAP operation(s) refused by the server (see `inbox-agent health`)"
                   if counters.refused else "")
        click.echo(f"stored {counters.stored} new message(s), processed {counters.processed}, "
                   f"sent {counters.sent} mail(s), {counters.send_failures} send failure(s){refused}")
        db.dispose()
        if counters.refused:
            sys.exit(EXIT_REFUSED)
        return
    asyncio.run(daemon.run_forever())
    db.dispose()


@main.command("check-config")
@config_option
def check_config(config_path: Path | None) -> None:
    """Validate the config and try the IMAP and SMTP logins; one line per problem.

    Also finds or creates each ``move_privacy_to`` folder and says under which name the server
    keeps it (Cyrus: "Privacy" is "INBOX.Privacy").
    """
    settings = settings_or_exit(config_path)
    checks = [check_mailbox(box.imap) for box in settings.all_mailboxes()]
    problems = [c.problem for c in checks if c.problem]
    smtp_problem = asyncio.run(check_smtp(settings.smtp))
    if smtp_problem:
        problems.append(smtp_problem)
    try:
        db = Database(settings.database.url)
        if current_revision(db.engine) != head_revision():
            problems.append("database: schema is not up to date: run `inbox-agent db upgrade`")
        db.dispose()
    except Exception as exc:
        problems.append(f"database: cannot open {settings.database.url.split('@')[-1]}: {type(exc).__name__}")
    for line in warnings(settings):
        click.echo(f"WARNING: {line}", err=True)
    for line in problems:
        click.echo(line, err=True)
    if problems:
        sys.exit(1)
    for check in checks:
        for note in check.notes:
            click.echo(note)
    click.echo(f"ok: {len(settings.all_mailboxes())} mailbox(es), SMTP and database reachable")


@main.group()
def db() -> None:
    """Database schema management."""


@db.command("upgrade")
@config_option
def db_upgrade(config_path: Path | None) -> None:
    """Create or migrate the database schema to this version."""
    settings = settings_or_exit(config_path)
    database = Database(settings.database.url)
    upgrade(database.engine)
    click.echo(f"database at revision {current_revision(database.engine)}")
    database.dispose()


@main.command()
@click.option("--dir", "directory", type=click.Path(path_type=Path), default=Path("var/demo"),
              show_default=True, help="Where the sandbox (config, database, sent mail) is kept.")
def demo(directory: Path) -> None:
    """Run the agent end to end on an embedded sandbox (local Dovecot + SMTP sink, seeded mail)."""
    from ..demo import run_demo
    from ..sandbox import SandboxError

    try:
        report = run_demo(directory.resolve())
    except SandboxError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    click.echo("\n".join(report.lines))


LEFT_OUT = {
    history.TOO_LARGE: "over the size limit (policy.max_message_bytes) when first seen, so only its envelope was kept",
    history.PURGED: "its text was purged after the retention period (policy.body_retention_days)",
}
"""What ``backfill`` says of the mails it cannot bring in, per reason."""


@main.command()
@config_option
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), required=True,
              help="First day (YYYY-MM-DD, Amsterdam time) of the period to bring in.")
@click.option("--mailbox", "mailbox_name", default=None, help="Only this mailbox (default: all).")
@click.option("--dry-run", is_flag=True, help="Only count what would be brought in.")
def backfill(config_path: Path | None, since: datetime, mailbox_name: str | None, dry_run: bool) -> None:
    """Handle mail from before the first start, from DATE on, as if it had just arrived.

    Its deadlines run from its real arrival date: cases already overdue go to the officer at
    once, and the acknowledgement names the original date. The running daemon picks it up.
    """
    settings = settings_or_exit(config_path)
    boxes = [b for b in settings.all_mailboxes() if mailbox_name in (None, b.name)]
    if not boxes:
        click.echo(f"error: no mailbox named {mailbox_name!r}", err=True)
        sys.exit(2)
    try:
        db = open_database(settings)
    except SchemaOutdated as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    read = history.reader(load_classifier(settings))
    for box in boxes:
        plan = history.backfill(db, box.name, since.date(), utcnow(), read, dry_run=dry_run,
                                max_bytes=settings.policy.max_message_bytes)
        verb = "would bring in" if dry_run else "brought in"
        click.echo(f"mailbox {box.name}: {verb} {plan.mails} mail(s) received since {since.date()}; "
                   f"{plan.privacy} look like privacy requests and open cases")
        for reason, why in LEFT_OUT.items():
            if missing := plan.left_out_for(reason):
                click.echo(f"mailbox {box.name}: cannot bring in {len(missing)} mail(s): {why}; look at them "
                           "in the mailbox itself:")
                click.echo("\n".join(f"  {m.received_at:%Y-%m-%d %H:%M}  {m.message_id or '(no Message-ID)'}  "
                                      f"{m.size} bytes" for m in missing))
    db.dispose()
