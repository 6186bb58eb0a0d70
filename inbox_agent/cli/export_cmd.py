"""``inbox-agent cases export REF``: the officer opens the package before she approves sending it.

The package is the one the result draft will attach (built when the draft was made), copied
out so she can read it, with what it holds per source: an empty webshop part is then seen
before the customer gets it, not after.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import click

from .app import config_option, settings_or_exit
from .cases_cmds import cases


@cases.command("export")
@config_option
@click.argument("reference")
@click.option("--output", "output", type=click.Path(file_okay=False, path_type=Path), default=Path("."),
              show_default=True, help="Folder to copy the package(s) to.")
def export(config_path: Path | None, reference: str, output: Path) -> None:
    """Copy the access/portability package of a case and say what it holds per source."""
    from sqlalchemy import select

    from ..db.tables import Outbox, Task
    from ..desk.case_views import get_case
    from ..exports import summarise
    from ..officer_error import OfficerError
    from ..runtime import open_database

    settings = settings_or_exit(config_path)
    db = open_database(settings)
    try:
        with db.transaction() as session:
            try:
                case = get_case(session, reference)
            except OfficerError as exc:
                click.echo(f"error: {exc}", err=True)
                sys.exit(1)
            packages = [Path(p) for row in session.scalars(select(Outbox).where(
                Outbox.case_id == case.id, Outbox.status.in_(("draft", "queued", "held")))) for p in row.attachments]
            warnings = list(session.scalars(select(Task.title).where(
                Task.case_id == case.id, Task.kind == "check_export", Task.status == "open")))
            reference = case.reference
    finally:
        db.dispose()
    if not packages:
        click.echo(f"error: case {reference} has no package waiting to be sent (no access or portability "
                   "draft, or it was sent already)", err=True)
        sys.exit(1)
    output.mkdir(parents=True, exist_ok=True)
    for package in packages:
        if not package.is_file():
            click.echo(f"error: {package.name} is missing from {package.parent}; redraft the case", err=True)
            sys.exit(1)
        target = output / package.name
        shutil.copyfile(package, target)
        target.chmod(0o600)  # personal data
        held = ", ".join(f"{source} {count}" for source, count in summarise(package).items())
        click.echo(f"{target}: {held}")
    for warning in warnings:
        click.echo(f"WARNING: {warning}")
