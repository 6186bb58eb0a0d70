"""``inbox-agent health`` and ``inbox-agent metrics``: what monitoring on the mail host runs."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from .. import metrics
from ..db.session import Database
from ..health import DEFAULT_MAX_POLL_AGE, DEFAULT_MAX_QUEUE_AGE, check
from ..pipeline import utcnow
from .app import config_option, main, settings_or_exit


@main.command()
@config_option
@click.option("--max-poll-age", type=click.FloatRange(min=0), default=DEFAULT_MAX_POLL_AGE, show_default=True,
              help="Seconds since a mailbox's last poll before it counts as stalled.")
@click.option("--max-queue-age", type=click.FloatRange(min=0), default=DEFAULT_MAX_QUEUE_AGE, show_default=True,
              help="Seconds the oldest queued mail may wait before sending counts as stuck.")
def health(config_path: Path | None, max_poll_age: float, max_queue_age: float) -> None:
    """Print the agent's health as JSON; exit 1 when unhealthy, 2 on a config error."""
    settings = settings_or_exit(config_path)
    os.environ.setdefault("PGCONNECT_TIMEOUT", "10")  # an unreachable server must not hang the check
    db = Database(settings.database.url)
    try:
        result = check(settings, db, utcnow(), max_poll_age=max_poll_age, max_queue_age=max_queue_age)
    finally:
        db.dispose()
    click.echo(result.model_dump_json(indent=2))
    sys.exit(0 if result.healthy else 1)


@main.command("metrics")
@config_option
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Replace this file atomically instead of printing (e.g. from a timer).")
def metrics_cmd(config_path: Path | None, output: Path | None) -> None:
    """Print the Prometheus figures the daemon writes to ``[metrics] textfile``."""
    settings = settings_or_exit(config_path)
    db = Database(settings.database.url)
    try:
        text = metrics.render(check(settings, db, utcnow()))
    finally:
        db.dispose()
    if output is None:
        click.echo(text, nl=False)
    else:
        metrics.write_textfile(output, text)
