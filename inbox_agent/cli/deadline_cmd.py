"""``inbox-agent deadline``: the legal dates for a given receipt day, for officers checking a case by hand."""

from __future__ import annotations

import json
from datetime import datetime

import click

from ..deadlines import AMSTERDAM, Deadlines, compute
from .app import main

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_EXPLAINED = {
    "received": "arrival in a shop mailbox, Amsterdam date",
    "raw": "one calendar month later",
    "legal": "outer limit, ends 23:59 Amsterdam time",
    "target": "what we aim for: the 30-day promise where stricter",
    "extended": "only after a recorded extension, notice sent by the legal date",
}


def _receipt_moment(ctx: click.Context, param: click.Parameter, value: str) -> datetime:
    """A date, or an ISO date-time; without an offset it is read as Amsterdam time."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-01-31") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=AMSTERDAM)


def _readable(deadlines: Deadlines) -> str:
    return "\n".join(
        f"{name:<9} {_WEEKDAYS[day.weekday()]} {day.isoformat()}  ({_EXPLAINED[name]})"
        for name, day in deadlines
    )


@main.command("deadline")
@click.argument("received", metavar="YYYY-MM-DD", callback=_receipt_moment)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with ISO dates.")
def deadline(received: datetime, as_json: bool) -> None:
    """Deadlines for a request received on YYYY-MM-DD (an ISO date-time with offset works too)."""
    deadlines = compute(received)
    click.echo(json.dumps(deadlines.model_dump(mode="json")) if as_json else _readable(deadlines))
