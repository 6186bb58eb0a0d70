"""The scale-out experiment: one backlog, PostgreSQL, several ``inbox-agent run`` daemons at once.

    .venv/bin/python -m bench.scale_out --size 10000 --instances 2

SQLite has one writer and a daemon one Python thread at a time, so ``bench.run`` measures one
process. With PostgreSQL, daemons share the work by row locks: one holds the mailbox lease and
fetches, all route (``SKIP LOCKED`` batches) and send (``SKIP LOCKED`` outbox claims). The clock
runs from the daemons' start until every message is processed and nothing is queued; CPU time and
peak RSS are summed over the daemons (``wait4`` after SIGTERM). Prints one line, writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bench.mailgen import generate
from bench.run import BIN, RESULTS, agent_config, checks, fill_maildir, first_select, log, workdir
from inbox_agent.sandbox import DovecotServer, SmtpSink
from inbox_agent.sandbox_pg import PostgresServer


def drained(url: str, size: int) -> bool:
    """Every mail stored and processed, and no mail waiting to go out."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            stored, pending = conn.execute(text(
                "select count(*), count(*) filter (where status = 'pending') from message")).one()
            queued = conn.execute(text("select count(*) from outbox where status = 'queued'")).scalar_one()
    finally:
        engine.dispose()
    return bool(stored >= size and pending == 0 and queued == 0)


def scale_out(size: int, instances: int, seed: int, work: Path) -> dict[str, Any]:
    mails = generate(size, seed=seed)
    with DovecotServer() as dovecot, PostgresServer() as pg, SmtpSink() as sink:
        user, password = "scaleout", secrets.token_hex(8)
        dovecot.add_user(user, password)
        fill_maildir(dovecot, user, mails)
        first_select(dovecot, user)
        url = pg.create_database("bench")
        config = agent_config(work, dovecot, user, password, sink, database_url=url)
        started = time.perf_counter()
        daemons = [subprocess.Popen([str(BIN / "inbox-agent"), "run", "--config", str(config)],
                                    stdout=(work / f"daemon-{n}.log").open("wb"), stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL) for n in range(instances)]
        while not drained(url, size):
            if any(d.poll() is not None for d in daemons):
                raise RuntimeError(f"a daemon stopped early; see {work}/daemon-*.log")
            time.sleep(0.25)
        wall = time.perf_counter() - started
        cpu = rss = 0.0
        for daemon in daemons:
            daemon.send_signal(signal.SIGTERM)
            _pid, _status, usage = os.wait4(daemon.pid, 0)
            cpu += usage.ru_utime + usage.ru_stime
            rss += usage.ru_maxrss / 1024
        time.sleep(0.2)
        received = sink.messages
    found = checks(mails, received)
    log(f"{size} mails, {instances} daemon(s) on PostgreSQL: {wall:.2f} s (cpu {cpu:.2f} s), "
        f"RSS {rss:.0f} MB summed; acks {found['privacy_with_one_ack']}/{found['privacy_mails']}, "
        f"robots answered {found['robots_answered']}")
    return {"size": size, "instances": instances, "database": "postgresql", "agent_s": round(wall, 2),
            "agent_cpu_s": round(cpu, 2), "peak_rss_mb_sum": round(rss, 1), "mails_per_s": round(size / wall, 1),
            "checks": found}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale_out", description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--instances", type=int, default=2)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--out", type=Path, default=RESULTS.parent / "scale-out.json")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (config, daemon logs)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with workdir(args.keep) as work:
        result = scale_out(args.size, args.instances, args.seed, work)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
