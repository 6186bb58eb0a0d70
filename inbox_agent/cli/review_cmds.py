"""``inbox-agent review list``: the officer's "to check" list (see inbox_agent/review.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from .app import config_option, main, settings_or_exit


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
