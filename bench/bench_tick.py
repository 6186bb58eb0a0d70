"""The scheduler's tick over many shops (issue 19): SQL statements, transactions and CPU of one tick.

    .venv/bin/python -m bench.bench_tick --shops 1000                      # this checkout, SQLite
    .venv/bin/python -m bench.bench_tick --shops 1000 --code /tmp/before   # and another, side by side
    .venv/bin/python -m bench.bench_tick --shops 1000 --postgres           # on a private PostgreSQL

Each checkout runs in a child process of its own (its ``inbox_agent`` and migrations on PYTHONPATH) on a
fresh database seeded with a quiet fleet: every shop has an officer and closed cases (one an erasure
already scrubbed) with their mail, half of them open cases not yet near a deadline and the day's digest
sent, the other half nothing open (no digest is due for them). Then ``scheduler.tick`` runs ``--ticks``
times a minute apart at 07:30 (before the digest hour) and at 10:00 Amsterdam time, and each tick's
statements (a SQLAlchemy ``before_cursor_execute`` event), transactions (``begin``) and CPU time
(``time.process_time``, this process only: PostgreSQL's own CPU is not in it) are recorded. With
``--code`` the checkouts take turns, so load from other work falls on both alike. Prints a table and
writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DIGEST_SENT = datetime(2026, 3, 10, 7, 1, tzinfo=UTC)
"""The seeded digests went out at 08:01 in Amsterdam; the ticks run at 10:00 that day and 07:30 the next."""
TICKS_AT = {"10:00": datetime(2026, 3, 10, 9, 0, tzinfo=UTC), "07:30": datetime(2026, 3, 11, 6, 30, tzinfo=UTC)}


def child(shops: int, url: str, ticks: int) -> dict[str, Any]:
    """Seed, then time the ticks; runs with the checkout under test first on ``sys.path``."""
    from sqlalchemy import event

    from bench.bench_mailboxes import _prefix  # the checkout's own bench, as its inbox_agent
    from inbox_agent import scheduler
    from inbox_agent.config import load_settings
    from inbox_agent.db.session import Database, upgrade
    from inbox_agent.fictitious_shop import FICTITIOUS_SHOP
    from inbox_agent.withdrawal import load_cues

    names = [f"shop{n:04d}" for n in range(shops)]
    settings = load_settings(
        None, smtp={"from_address": "privacy@bench-shop.test"}, database={"url": url},
        secret_key="0123456789abcdef0123", state_dir=tempfile.mkdtemp(prefix="bench-tick-"),
        mailboxes=[{"name": name, "imap": {"username": name},
                    "shop": FICTITIOUS_SHOP | {"officer_email": f"officer@{name}.test", "reference_prefix": _prefix(n)}}
                   for n, name in enumerate(names)])
    db = Database(url)
    upgrade(db.engine)
    _seed(db, names)
    cues = load_cues(Path(scheduler.__file__).resolve().parent.parent / "classifiers" / "conversation.toml")
    counts = {"statements": 0, "transactions": 0}

    @event.listens_for(db.engine, "before_cursor_execute")
    def _statement(*_: Any) -> None:
        counts["statements"] += 1

    @event.listens_for(db.engine, "begin")
    def _begin(*_: Any) -> None:
        counts["transactions"] += 1

    result: dict[str, Any] = {"code": str(Path(scheduler.__file__).resolve().parent.parent)}
    for label, start in TICKS_AT.items():
        runs = []
        for n in range(ticks):
            counts.update(statements=0, transactions=0)
            cpu, wall = time.process_time(), time.perf_counter()
            scheduler.tick(settings, db, start + timedelta(minutes=n), cues)
            runs.append({"cpu_s": time.process_time() - cpu, "wall_s": time.perf_counter() - wall, **counts})
        result[label] = runs
    db.dispose()
    return result


def _seed(db: Any, names: list[str]) -> None:
    """Per shop: 5 closed cases (the first an erasure whose copies are scrubbed), and for every other shop
    3 open ones far from their deadlines and the day's digest; each case with its mail, events and ack, one
    new-case notice to the officer (the other notices deferred at the same moment, so none is pending)."""
    from sqlalchemy import insert

    from bench.bench_mailboxes import _prefix
    from inbox_agent.db.tables import Case, CaseEvent, Outbox, StoredMessage

    cases: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    mails: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    case_id = 0
    for n, shop in enumerate(names):
        for k in range(5 + 3 * (n % 2)):
            case_id += 1
            is_open = k >= 5
            received = DIGEST_SENT - timedelta(days=3 if is_open else 60)
            erased = k == 0
            cases.append({
                "id": case_id, "shop": shop, "reference": f"{_prefix(n)}-2026-{k + 1:06d}",
                "state": "in_progress" if is_open else "completed", "rights": ["erasure" if erased else "access"],
                "requester_email": None if erased else f"c{case_id}@example.org", "identity_status": "verified",
                "received_at": received, "deadline_raw": received + timedelta(days=30),
                "deadline_legal": received + timedelta(days=31), "deadline_target": received + timedelta(days=28),
                "closed_at": None if is_open else received + timedelta(days=10), "anonymised": erased,
                "created_at": received, "thread_ids": []})
            events += [{"case_id": case_id, "at": received, "actor": "agent", "kind": kind, "data": {}}
                       for kind in ("opened", "notice_deferred")]
            mails.append({"case_id": case_id, "shop": shop, "kind": "ack",
                          "to_addr": "(erased)" if erased else f"c{case_id}@example.org", "subject": "ack",
                          "body_text": "" if erased else "ack", "message_id": f"<ack{case_id}@bench>",
                          "status": "sent", "created_at": received, "attachments": []})
            messages.append({"mailbox": shop, "folder": "INBOX", "uidvalidity": 1, "uid": k + 1,
                             "sha256": f"{case_id}", "size": 100, "received_at": received,
                             "raw": None if erased else b"raw", "status": "processed", "case_id": case_id,
                             "created_at": received, "processed_at": received})
        mails.append({"case_id": case_id, "shop": shop, "kind": "officer_new_case", "to_addr": f"officer@{shop}.test",
                      "subject": "new", "body_text": "new", "message_id": f"<new{n}@bench>", "status": "sent",
                      "created_at": received, "attachments": []})  # the others' notices were deferred
        if n % 2:
            mails.append({"shop": shop, "kind": "officer_digest", "to_addr": f"officer@{shop}.test",
                          "subject": "digest", "body_text": "digest", "message_id": f"<digest{n}@bench>",
                          "status": "sent", "created_at": DIGEST_SENT, "attachments": []})
    with db.transaction() as session:
        for model, rows in ((Case, cases), (CaseEvent, events), (Outbox, mails), (StoredMessage, messages)):
            session.execute(insert(model), rows)


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    return {label: {key: statistics.median(run[key] for run in result[label])
                    for key in ("statements", "transactions", "cpu_s", "wall_s")} for label in TICKS_AT}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shops", type=int, default=1000)
    parser.add_argument("--ticks", type=int, default=3, help="ticks per time of day, a minute apart")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each checkout, taking turns")
    parser.add_argument("--code", type=Path, help="another checkout to run side by side (e.g. the code before)")
    parser.add_argument("--postgres", action="store_true", help="a private PostgreSQL instead of SQLite")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "tick.json")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.shops, args.child, args.ticks)))
        return
    codes = [ROOT, *([args.code.resolve()] if args.code else [])]
    results: dict[str, list[dict[str, Any]]] = {str(code): [] for code in codes}
    with tempfile.TemporaryDirectory(prefix="bench-tick-") as work, _server(args.postgres) as pg:
        for n in range(args.rounds):
            for code in codes:
                url = (pg.create_database(f"tick{n}_{len(results[str(code)])}_{codes.index(code)}") if pg
                       else f"sqlite:///{work}/tick-{n}-{codes.index(code)}.sqlite")
                out = subprocess.run([sys.executable, __file__, "--shops", str(args.shops), "--ticks",
                                      str(args.ticks), "--child", url], check=True, capture_output=True, text=True,
                                     cwd=code, env={**os.environ, "PYTHONPATH": str(code)})
                results[str(code)].append(_summary(json.loads(out.stdout.splitlines()[-1])))
    table = {code: {label: {key: statistics.median(r[label][key] for r in runs) for key in runs[0][label]}
                    for label in TICKS_AT} for code, runs in results.items()}
    print(f"scheduler tick, {args.shops} shops, {'PostgreSQL' if args.postgres else 'SQLite'}, load "
          f"{os.getloadavg()[0]:.1f} (median of {args.rounds} runs x {args.ticks} ticks)")
    for code, row in table.items():
        for label, figures in row.items():
            print(f"  {code:<40} {label}: {figures['statements']:>6.0f} statements, "
                  f"{figures['transactions']:>5.0f} transactions, CPU {figures['cpu_s']:.3f} s, "
                  f"wall {figures['wall_s']:.3f} s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"shops": args.shops, "postgres": args.postgres, "load": os.getloadavg(),
                                    "median": table, "runs": results}, indent=2))


def _server(postgres: bool) -> Any:
    import contextlib

    if not postgres:
        return contextlib.nullcontext()
    from inbox_agent.sandbox_pg import PostgresServer

    return PostgresServer()


if __name__ == "__main__":
    main()
