"""The officer's queue at scale: "Voor mij", a search, a filter and a deep page over N cases (SQLite).

    .venv/bin/python bench/bench_queue.py [--cases 20000]

Prints the median time of each query (5 runs). The queue is SQL only (filters, order,
LIMIT/OFFSET, one grouped count), so it should stay well under 100 ms per page.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from inbox_agent.db.session import Database, upgrade
from inbox_agent.db.tables import Case, Outbox, Task
from inbox_agent.workqueue import CaseQuery, find

STATES = ["awaiting_approval", "awaiting_identity", "in_progress", "awaiting_clarification", "completed", "rejected"]
RIGHTS = [["access"], ["erasure"], ["access", "portability"], ["objection"], ["rectification"]]


def seed(db: Database, count: int, now: datetime) -> None:
    """``count`` cases received over the last 60 days, every 3rd with a draft, every 7th with an open task."""
    cases, mails, tasks = [], [], []
    for i in range(1, count + 1):
        received = now - timedelta(days=i % 60, minutes=i)
        cases.append({
            "id": i, "shop": "default", "reference": f"KT-2026-{i:06d}", "state": STATES[i % len(STATES)],
            "rights": RIGHTS[i % len(RIGHTS)], "categories": [], "requester_email": f"klant{i}@example.org",
            "requester_key": f"klant{i}@example.org", "requester_name": f"Klant {i}", "identity_status": "verified",
            "thread_ids": [], "received_at": received, "deadline_raw": received + timedelta(days=30),
            "deadline_legal": received + timedelta(days=31), "deadline_target": received + timedelta(days=30),
            "created_at": received, "anonymised": False, "language": "nl",
        })
        if i % 3 == 0:
            mails.append({"case_id": i, "shop": "default", "kind": "result_access", "to_addr": f"klant{i}@example.org",
                          "to_key": f"klant{i}@example.org", "subject": "s", "body_text": "b", "language": "nl",
                          "attachments": [], "message_id": f"<m{i}@x>", "references": [], "automatic": False,
                          "status": "draft", "attempts": 0, "created_at": now, "next_attempt_at": now})
        if i % 7 == 0:
            tasks.append({"case_id": i, "kind": "art19_notify", "title": "Inform Mollie of the erasure (Art. 19 GDPR)",
                          "status": "open", "created_at": now})
    with db.transaction() as session:
        session.execute(insert(Case), cases)
        if mails:
            session.execute(insert(Outbox), mails)
        if tasks:
            session.execute(insert(Task), tasks)


QUERIES = {
    "voor mij, page 1": CaseQuery(),
    "search 'klant1234'": CaseQuery(q="klant1234"),
    "erasure, overdue, open tasks": CaseQuery(right="erasure", overdue=True, tasks=True),
    "all cases, by received, page 200": CaseQuery(view="all", sort="received", desc=True, page=200),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=20_000)
    args = parser.parse_args()
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{Path(tmp) / 'queue.sqlite'}")
        upgrade(db.engine)
        seed(db, args.cases, now)
        print(f"{args.cases} cases")
        for name, query in QUERIES.items():
            times = []
            for _ in range(5):
                start = time.perf_counter()
                with db.transaction() as session:
                    page = find(session, now, query, soon_days=7)
                times.append(time.perf_counter() - start)
            median = statistics.median(times) * 1000
            print(f"  {name:<36} {median:7.1f} ms  ({page.total} found, {len(page.rows)} shown)")
        db.dispose()


if __name__ == "__main__":
    main()
