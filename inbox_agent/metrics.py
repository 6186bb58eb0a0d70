"""Prometheus text format for node_exporter's textfile collector, rendered from the health snapshot.

A file instead of an HTTP endpoint: no port to open or protect on the mail host, and the
figures are those of the shared database, so it does not matter which instance wrote last.
The file is replaced atomically (write a temporary file, then rename) so the collector never
reads half of it.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from .config import Settings
from .db.session import Database
from .health import Health, check

_HELP = {  # every figure is a gauge: a snapshot of the shared database
    "inbox_agent_healthy": "1 when `inbox-agent health` would exit 0.",
    "inbox_agent_database_schema_current": "1 when the database is reachable and at the newest migration.",
    "inbox_agent_mailbox_last_poll_timestamp_seconds": "When any instance last finished a poll.",
    "inbox_agent_mailbox_lease_held": "1 while some instance holds an unexpired lease on the mailbox.",
    "inbox_agent_imap_refusals": "Refusals in a row of an IMAP operation the server says NO to; gone when it works.",
    "inbox_agent_messages": "Stored messages per status; rows are never deleted, so processed only grows.",
    "inbox_agent_cases_open": "Open privacy cases per shop and state.",
    "inbox_agent_cases_overdue": "Open cases past their legal deadline (extension included).",
    "inbox_agent_oldest_deadline_timestamp_seconds": "Nearest legal deadline of any open case.",
    "inbox_agent_outbox_queued": "Mails waiting to be sent (outbox depth).",
    "inbox_agent_outbox_oldest_queued_age_seconds": "Age of the oldest queued mail; 0 when none.",
    "inbox_agent_outbox_drafts": "Drafts waiting for the officer's approval.",
    "inbox_agent_outbox_failed": "Mails given up after their retries.",
}


def _labels(labels: dict[str, str]) -> str:
    """``{k="v",...}`` with the exposition format's escapes (backslash, quote, newline)."""
    if not labels:
        return ""
    escaped = (v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") for v in labels.values())
    return "{" + ",".join(f'{k}="{v}"' for k, v in zip(labels, escaped, strict=True)) + "}"


def _samples(health: Health) -> list[tuple[str, dict[str, str], float]]:
    db_ok = health.database.reachable and health.database.current and not health.database.error
    out: list[tuple[str, dict[str, str], float]] = [
        ("inbox_agent_healthy", {}, float(health.healthy)),
        ("inbox_agent_database_schema_current", {}, float(db_ok)),
    ]
    for box in health.mailboxes:
        if box.last_poll_at is not None:
            out.append(("inbox_agent_mailbox_last_poll_timestamp_seconds", {"mailbox": box.name},
                        box.last_poll_at.timestamp()))
        out.append(("inbox_agent_mailbox_lease_held", {"mailbox": box.name}, float(box.lease_owner is not None)))
        out += [("inbox_agent_imap_refusals", {"mailbox": box.name, "operation": r.operation}, float(r.attempts))
                for r in box.refused]
        out += [("inbox_agent_messages", {"mailbox": box.name, "status": status}, float(n))
                for status, n in sorted(box.messages.items())]
    if health.cases is not None:
        out += [("inbox_agent_cases_open", {"shop": shop, "state": state}, float(n))
                for shop, states in sorted(health.cases.open_per_state.items())
                for state, n in sorted(states.items())]
        out.append(("inbox_agent_cases_overdue", {}, float(health.cases.overdue)))
        if health.cases.oldest_deadline is not None:
            out.append(("inbox_agent_oldest_deadline_timestamp_seconds", {},
                        health.cases.oldest_deadline.timestamp()))
    if health.outbox is not None:
        out += [
            ("inbox_agent_outbox_queued", {}, float(health.outbox.queued)),
            ("inbox_agent_outbox_oldest_queued_age_seconds", {}, health.outbox.oldest_queued_age_seconds or 0.0),
            ("inbox_agent_outbox_drafts", {}, float(health.outbox.drafts)),
            ("inbox_agent_outbox_failed", {}, float(health.outbox.failed)),
        ]
    return out


def render(health: Health) -> str:
    """Prometheus exposition text: HELP and TYPE once per metric, then all its samples together."""
    order = list(_HELP)
    lines: list[str] = []
    seen: set[str] = set()
    for name, labels, value in sorted(_samples(health), key=lambda sample: order.index(sample[0])):
        if name not in seen:
            lines += [f"# HELP {name} {_HELP[name]}", f"# TYPE {name} gauge"]
            seen.add(name)
        lines.append(f"{name}{_labels(labels)} {value!r}")
    return "\n".join(lines) + "\n"


def write_textfile(path: Path, text: str) -> None:
    """Replace ``path`` atomically; the temporary name does not end in .prom, so it is never collected.

    World-readable whatever the umask (the service runs with 0077): node_exporter runs as another
    user, and the file holds counts only, no personal data.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.chmod(0o644)
    os.replace(tmp, path)


def write(settings: Settings, db: Database, now: datetime) -> None:
    """One snapshot into ``[metrics] textfile`` (the daemon calls this every interval)."""
    if settings.metrics.textfile is not None:
        write_textfile(settings.metrics.textfile, render(check(settings, db, now)))
