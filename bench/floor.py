"""The floor (issue #19): only the unavoidable work of a backlog, with the agent's own functions.

    .venv/bin/python -m bench.floor --config CONFIG [--plan ack=3110,identity_question=3110,officer_digest=1]

Reads the agent's config (same Dovecot user, same SMTP sink), then, with no database:
fetch every message over IMAP (``ImapMailbox.fetch``: BODY.PEEK, in the agent's ``FETCH_CHUNK``),
parse (``parse.parse``), classify (``Classifier.classify``), render (``replies.render`` +
``smtp.build_message``) and send (``SmtpSession``) the planned mails as the agent's sender does:
per batch of ``outbox.claim_due``'s size, ``daemon.SEND_CONNECTIONS`` connections at once,
taking the mails from one queue. The plan is what the agent sent (``bench.run`` passes the
sink's count per kind): per-case kinds are spread over the privacy requests in order, case-less
ones go to the officer. Without a plan: one ack per request.
Every function is imported, not copied, so the floor follows the agent as it changes.
Prints one JSON line: phases in seconds and counts.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from inbox_agent.config import MailboxSettings, load_settings
from inbox_agent.daemon import FETCH_CHUNK, SEND_CONNECTIONS
from inbox_agent.db.tables import Outbox
from inbox_agent.deadlines import compute
from inbox_agent.mailbox import ImapMailbox
from inbox_agent.message_ids import make_message_id
from inbox_agent.models import Classification, ParsedMessage
from inbox_agent.outbox import claim_due
from inbox_agent.parse import ParseError, parse
from inbox_agent.replies import ReplyContext, render
from inbox_agent.runtime import load_classifier
from inbox_agent.smtp import SmtpSession, build_message

CASELESS = ("officer_digest",)
SEND_BATCH: int = inspect.signature(claim_due).parameters["limit"].default


@dataclass(frozen=True)
class Request:
    msg: ParsedMessage
    cls: Classification
    received: datetime


def _extra(kind: str, reference: str) -> dict[str, Any]:
    """Context a kind cannot do without (replies._NEEDS), with placeholder values."""
    if kind == "identity_code":
        return {"code": "123456", "code_valid_hours": 24}
    if kind.startswith("officer_"):
        return {"case_url": f"http://127.0.0.1/cases/{reference}"}
    return {}


def _rows(plan: dict[str, int], requests: list[Request], box: MailboxSettings, secret: str,
          from_address: str) -> list[Outbox]:
    """The planned mails as (unsaved) outbox rows; an Outbox object without a session touches no database."""
    domain = from_address.rpartition("@")[2]
    prefix = box.shop.reference_prefix
    rows: list[Outbox] = []
    for kind, count in plan.items():
        for j in range(count):
            now = datetime.now().astimezone()
            if kind in CASELESS:
                ctx = ReplyContext(shop=box.shop, language=box.shop.default_language)
                to, reference, in_reply_to = box.shop.officer_email or from_address, None, None
            elif requests:
                req = requests[j % len(requests)]
                reference = f"{prefix}-{req.received.year}-{j % len(requests) + 1:06d}"
                ctx = ReplyContext(shop=box.shop, reference=reference, deadlines=compute(req.received),
                                   rights=req.cls.rights, language=req.cls.language,
                                   **_extra(kind, reference))
                assert req.msg.from_ is not None
                to, in_reply_to = req.msg.from_.email, req.msg.message_id
            else:
                break
            mail = render(kind, ctx, to=to, in_reply_to=in_reply_to, references=[in_reply_to] if in_reply_to else [])
            rows.append(Outbox(kind=mail.kind, to_addr=mail.to, subject=mail.subject, body_text=mail.body_text,
                               body_html=mail.body_html, language=mail.language, attachments=[],
                               message_id=make_message_id(secret, reference or "IA-0000-000000", kind, domain),
                               in_reply_to=mail.in_reply_to, references=mail.references, automatic=mail.automatic,
                               created_at=now))
    return rows


async def _send(settings: Any, messages: list[tuple[bytes, str]]) -> None:
    """Like the agent's ``send_due``: per batch, SEND_CONNECTIONS connections take the mails from one queue."""

    async def connection(queue: Iterator[tuple[bytes, str]]) -> None:
        async with SmtpSession(settings) as smtp:
            for raw, recipient in queue:
                await smtp.send(raw, recipient=recipient)

    for start in range(0, len(messages), SEND_BATCH):
        batch = messages[start:start + SEND_BATCH]
        queue = iter(batch)
        await asyncio.gather(*(connection(queue) for _ in range(min(SEND_CONNECTIONS, len(batch)))))


def run(config: Path, plan: dict[str, int] | None) -> dict[str, Any]:
    started = time.perf_counter()
    settings = load_settings(config)
    [box] = settings.all_mailboxes()
    classifier = load_classifier(settings)
    phases: dict[str, float] = {"startup_s": time.perf_counter() - started}

    def timed(name: str, t0: float) -> None:
        phases[name] = round(time.perf_counter() - t0, 3)

    t0 = time.perf_counter()
    with ImapMailbox(box.imap) as mb:
        mb.select()
        uids = mb.new_uids(0)
        fetched = [mail for start in range(0, len(uids), FETCH_CHUNK)  # one UID set of 50k exceeds Dovecot's line
                   for mail in mb.fetch(uids[start:start + FETCH_CHUNK], settings.policy.max_message_bytes)]
    timed("fetch_s", t0)
    t0 = time.perf_counter()
    parsed: list[tuple[ParsedMessage, datetime]] = []
    for mail in fetched:
        try:
            parsed.append((parse(mail.raw), mail.internal_date))
        except ParseError:
            continue
    timed("parse_s", t0)
    t0 = time.perf_counter()
    requests: list[Request] = []
    for msg, received in parsed:
        cls = classifier.classify(msg)
        if cls.is_privacy and msg.from_ is not None:
            requests.append(Request(msg, cls, received))
    timed("classify_s", t0)
    t0 = time.perf_counter()
    rows = _rows(plan or {"ack": len(requests)}, requests, box, settings.secret, settings.smtp.from_address)
    messages = [(build_message(r, from_address=settings.smtp.from_address, from_name=box.shop.name), r.to_addr)
                for r in rows]
    timed("render_s", t0)
    t0 = time.perf_counter()
    asyncio.run(_send(settings.smtp, messages))
    timed("send_s", t0)
    phases["startup_s"] = round(phases["startup_s"], 3)
    batches = -(-len(messages) // SEND_BATCH)
    return {"fetched": len(fetched), "parsed": len(parsed), "requests": len(requests), "sent": len(messages),
            "connections": batches * SEND_CONNECTIONS, "phases": phases}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.floor", description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--plan", default="", help="mails to send per kind, e.g. ack=30,officer_digest=1")
    args = parser.parse_args(argv)
    plan = {k: int(v) for k, v in (item.split("=") for item in args.plan.split(",") if item)} or None
    print(json.dumps(run(args.config, plan)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
