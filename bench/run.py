"""The benchmark runner (issue #8): ``.venv/bin/python -m bench.run``.

Measures, against a private Dovecot and an in-process SMTP sink on 127.0.0.1:

* backlog: N synthetic mails in the mailbox, ``inbox-agent run --once`` as a subprocess
  (stores, classifies, opens cases, sends acknowledgements), its wall time, CPU time and peak
  RSS, next to the time ``mbsync`` needs to download the same mailbox (ratio = agent / mbsync)
  and to the floor (``bench/floor.py``: the unavoidable work alone); ``--repeat`` agent + floor
  pairs per size (default 3), alternated, and the median agent/floor with every pair's figures;
* scaling: the same for every ``--sizes`` entry, with the growth exponent of time and memory;
* latency: ``inbox-agent run`` in IDLE, requests APPENDed one by one, APPEND -> acknowledgement
  at the sink, p50/p95, and how long SIGTERM takes;
* classifier: load time and mails/s on one core (``bench/bench_classifier.py`` when present);
* sink capacity: how many mails/s the aiosmtpd sink takes from a client that does nothing else
  (``bench/sink_capacity.py``), a floor under every backlog's send time.

Prints a table and writes JSON (default ``bench/results/latest.json``). ``--smoke`` is the
100-mail version CI runs (tests/test_bench_smoke.py): same code paths, figures meaningless.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import sink_capacity
from bench.mailgen import SHOP_ADDRESS, TRUSTED_AUTHSERV, Mail, generate
from inbox_agent.fictitious_shop import shop_toml
from inbox_agent.sandbox import DovecotServer, SmtpSink, _service_account

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "latest.json"
BIN = Path(sys.executable).parent
TARGETS = {"agent_over_floor_max": 2.0, "latency_p95_max_s": 1.0, "classifier_min_mails_per_s": 1500.0,
           "peak_rss_max_mb": 250.0, "growth_exponent_max": 1.1}
_OUR_ID = re.compile(rb"^Message-ID:\s*<ia\.[A-Z]{1,8}-\d{4}-\d{6}\.([a-z_]+)\.", re.IGNORECASE | re.MULTILINE)
MBSYNC_RUNS = 3
_LOG_TIME = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}) ")


def log(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


# -- machine ---------------------------------------------------------------------------------

def machine() -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal:"))
    mbsync = subprocess.run(["mbsync", "--version"], capture_output=True, text=True).stdout.strip() \
        if shutil.which("mbsync") else None
    dovecot = subprocess.run([str(_dovecot()), "--version"], capture_output=True, text=True).stdout.strip()
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram_mb": mem_kb // 1024, "python": platform.python_version(),
            "kernel": platform.release(), "mbsync": mbsync, "dovecot": dovecot}


def _dovecot() -> Path:
    from inbox_agent.sandbox import find_dovecot

    return find_dovecot()


# -- mailbox filling ---------------------------------------------------------------------------

def maildir_of(dovecot: DovecotServer, user: str) -> Path:
    assert dovecot.directory is not None
    return dovecot.directory / "home" / user / "Maildir"


def fill_maildir(dovecot: DovecotServer, user: str, mails: list[Mail]) -> float:
    """Write the mails straight into the user's Maildir (new/); Dovecot indexes them on first SELECT.

    INTERNALDATE is the file's mtime, so it is set to the mail's Date.
    """
    started = time.perf_counter()
    owner, group = _service_account()
    home = maildir_of(dovecot, user).parent
    box = maildir_of(dovecot, user)
    for sub in ("cur", "new", "tmp"):
        (box / sub).mkdir(parents=True, exist_ok=True)
    for path in (home, box, box / "cur", box / "new", box / "tmp"):
        shutil.chown(path, owner, group)
    uid = shutil._get_uid(owner)  # type: ignore[attr-defined]
    gid = shutil._get_gid(group)  # type: ignore[attr-defined]
    base = int(time.time())
    for mail in mails:
        path = box / "new" / f"{base}.M{mail.index}P{os.getpid()}.bench,S={len(mail.raw)}"
        path.write_bytes(mail.raw)
        stamp = mail.date.timestamp()
        os.utime(path, (stamp, stamp))
        os.chown(path, uid, gid)
    return time.perf_counter() - started


def first_select(dovecot: DovecotServer, user: str) -> tuple[float, int]:
    """Log in and SELECT INBOX once: Dovecot indexes the new Maildir files now, not during the timed runs."""
    started = time.perf_counter()
    with dovecot.imap_client(user) as client:
        info = client.select_folder("INBOX", readonly=True)
    return time.perf_counter() - started, int(info[b"EXISTS"])


# -- mbsync ------------------------------------------------------------------------------------

def run_mbsync(dovecot: DovecotServer, user: str, password: str, work: Path) -> float:
    local = work / "mbsync-maildir"
    shutil.rmtree(local, ignore_errors=True)
    local.mkdir(parents=True)
    rc = work / "mbsyncrc"
    rc.write_text(f"""FSync no

IMAPAccount bench
Host 127.0.0.1
Port {dovecot.port}
User {user}
Pass {password}
SSLType None
AuthMechs LOGIN

IMAPStore remote
Account bench

MaildirStore local
Path {local}/
Inbox {local}/INBOX

Channel bench
Far :remote:
Near :local:
Patterns INBOX
Create Near
Sync Pull
SyncState *
""")
    rc.chmod(0o600)
    started = time.perf_counter()
    done = subprocess.run(["mbsync", "-q", "-c", str(rc), "-a"], capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"mbsync failed ({done.returncode}): {done.stderr[-2000:]}")
    got = sum(1 for _ in (local / "INBOX" / "cur").iterdir()) + sum(1 for _ in (local / "INBOX" / "new").iterdir())
    log(f"mbsync downloaded {got} messages in {elapsed:.2f} s")
    return elapsed


# -- the agent ---------------------------------------------------------------------------------

def agent_config(work: Path, dovecot: DovecotServer, user: str, password: str, sink: SmtpSink,
                 database_url: str | None = None) -> Path:
    config = work / "config.toml"
    url = database_url or f"sqlite:///{work / 'agent.sqlite'}"
    config.write_text(f"""secret_key = "{secrets.token_hex(24)}"

[imap]
host = "127.0.0.1"
port = {dovecot.port}
username = "{user}"
password = "{password}"
security = "none"
existing_mail = "process"  # the backlog is the workload: handle it as new mail

[smtp]
host = "127.0.0.1"
port = {sink.port}
security = "none"
from_address = "{SHOP_ADDRESS}"

[database]
url = "{url}"

{shop_toml(name="Bench Shop", officer_email="officer@bench-shop.test")}
[policy]
trusted_authserv_ids = ["{TRUSTED_AUTHSERV}"]
""")
    config.chmod(0o600)
    from inbox_agent.db.session import Database, upgrade

    database = Database(url)
    upgrade(database.engine)
    database.dispose()
    return config


@dataclass
class Child:
    """A finished subprocess: wall time, CPU time and peak RSS from wait4."""

    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    returncode: int
    started_at: float  # time.time() at spawn, to line up with log timestamps
    output: str = field(repr=False, default="")


def run_once(config: Path, log_path: Path, argv: list[str] | None = None) -> Child:
    """``inbox-agent run --once`` (or ``argv``, e.g. the floor) as a subprocess, output to ``log_path``."""
    with log_path.open("wb") as out:
        started_at = time.time()
        started = time.perf_counter()
        proc = subprocess.Popen(argv or [str(BIN / "inbox-agent"), "run", "--once", "--config", str(config)],
                                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        _pid, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
    return Child(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, proc.returncode, started_at,
                 log_path.read_text(errors="replace"))


def phases(child: Child) -> dict[str, float]:
    """Where the time of ``run --once`` went, from its log timestamps (millisecond resolution)."""
    first = last_fetch = first_msg = last_msg = first_sent = last_sent = None
    for line in child.output.splitlines():
        match = _LOG_TIME.match(line)
        if not match:
            continue
        when = time.mktime(time.strptime(match.group(1), "%Y-%m-%d %H:%M:%S")) + int(match.group(2)) / 1000
        first = first if first is not None else when
        if ": fetched " in line:
            last_fetch = when
        elif "inbox_agent.pipeline: message " in line:
            first_msg = first_msg if first_msg is not None else when
            last_msg = when
        elif "inbox_agent.daemon: sent " in line:
            first_sent = first_sent if first_sent is not None else when
            last_sent = when
    out: dict[str, float] = {}
    if first is not None:
        out["startup_s"] = round(first - child.started_at, 3)  # imports, classifier load, login
    if first is not None and last_fetch is not None:
        out["fetch_store_s"] = round(last_fetch - first, 3)
    if first_msg is not None and last_msg is not None and last_fetch is not None:
        out["process_s"] = round(last_msg - last_fetch, 3)
    if first_sent is not None and last_sent is not None and last_msg is not None:
        out["send_s"] = round(last_sent - last_msg, 3)
    if last_sent is not None:
        out["exit_s"] = round(child.started_at + child.wall_s - last_sent, 3)
    return out


def database_counts(db: Path) -> dict[str, Any]:
    import sqlite3

    con = sqlite3.connect(db)
    try:
        status = dict(con.execute("select status, count(*) from message group by status").fetchall())
        cases = con.execute('select count(*) from "case"').fetchone()[0]
        outbox = {f"{k}/{s}": n for k, s, n in
                  con.execute("select kind, status, count(*) from outbox group by kind, status").fetchall()}
    finally:
        con.close()
    return {"messages": status, "cases": cases, "outbox": outbox}


def kind_of(raw: bytes) -> str | None:
    match = _OUR_ID.search(raw.split(b"\r\n\r\n", 1)[0])
    return match.group(1).decode() if match else None


def checks(mails: list[Mail], received: list[Any]) -> dict[str, Any]:
    """Compare what reached the sink with what each generated mail is."""
    acks: Counter[str] = Counter()
    to_customers: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    for mail in received:
        kind = kind_of(mail.raw) or "unknown"
        kinds[kind] += 1
        for rcpt in mail.rcpt_tos:
            to_customers[rcpt.lower()] += 1
            if kind == "ack":
                acks[rcpt.lower()] += 1
    privacy = [m for m in mails if m.kind == "privacy"]
    robots = [m for m in mails if m.robot]
    others = [m for m in mails if m.kind in ("order", "product")]
    robot_addresses = {m.sender.lower() for m in robots} | {"mailer-daemon"}
    return {
        "privacy_mails": len(privacy),
        "privacy_with_one_ack": sum(1 for m in privacy if acks[m.sender.lower()] == 1),
        "privacy_without_ack": [m.index for m in privacy if acks[m.sender.lower()] == 0][:50],
        "privacy_with_several_acks": [m.index for m in privacy if acks[m.sender.lower()] > 1][:50],
        "robot_mails": len(robots),
        "robots_answered": sum(to_customers[a] for a in robot_addresses),
        "other_mails": len(others),
        "others_answered": sum(1 for m in others if to_customers[m.sender.lower()]),
        "sink_by_kind": dict(sorted(kinds.items())),
    }


# -- backlog -----------------------------------------------------------------------------------

def backlog(dovecot: DovecotServer, size: int, work: Path, seed: int, repeat: int) -> dict[str, Any]:
    """One backlog size: the mailbox filled once, mbsync, then ``repeat`` agent + floor pairs, alternated.

    Single pairs spread widely (agent/floor 1.89-2.52 at 10k on a quiet machine), so the row is the
    pair with the median ratio, with every pair's figures in ``runs``.
    """
    user, password = f"backlog{size}", secrets.token_hex(8)
    dovecot.add_user(user, password)
    case_dir = work / f"backlog-{size}"
    case_dir.mkdir()
    mails = generate(size, seed=seed)
    fill_s = fill_maildir(dovecot, user, mails)
    index_s, exists = first_select(dovecot, user)
    log(f"{size} mails: Maildir written in {fill_s:.2f} s, first SELECT (Dovecot indexing) {index_s:.2f} s, "
        f"EXISTS {exists}")
    mbsync_runs = sorted(run_mbsync(dovecot, user, password, case_dir) for _ in range(MBSYNC_RUNS))
    mbsync_s = mbsync_runs[len(mbsync_runs) // 2]  # the median: single runs vary by 2x on this VM
    pairs = []
    for n in range(1, repeat + 1):
        run_dir = case_dir / f"run-{n}"
        run_dir.mkdir()
        pairs.append(agent_and_floor(dovecot, user, password, run_dir, mails))
        log(f"{size} mails, run {n}/{repeat}: {_pair_text(pairs[-1])}")
    median = sorted(pairs, key=lambda p: p["agent_over_floor"])[(repeat - 1) // 2]
    result = {
        "size": size,
        "maildir_write_s": round(fill_s, 3),
        "dovecot_first_select_s": round(index_s, 3),
        "mbsync_s": round(mbsync_s, 3),
        "mbsync_runs_s": [round(t, 3) for t in mbsync_runs],
        **median,
        "ratio": round(median["agent_s"] / mbsync_s, 2),
        "agent_mails_per_s": round(size / median["agent_s"], 1),
        "repeat": repeat,
        "agent_over_floor_runs": [p["agent_over_floor"] for p in pairs],
        "runs": [_pair_summary(p) for p in pairs],
    }
    log(f"{size} mails: median of {repeat}: {_pair_text(result)}, mbsync {mbsync_s:.2f} s; {result['agent_summary']}")
    return result


def agent_and_floor(dovecot: DovecotServer, user: str, password: str, run_dir: Path,
                    mails: list[Mail]) -> dict[str, Any]:
    """``run --once`` on a fresh database, then the floor, against one fresh sink; both checked."""
    with SmtpSink() as sink:
        config = agent_config(run_dir, dovecot, user, password, sink)
        child = run_once(config, run_dir / "agent.log")
        time.sleep(0.2)  # the last DATA may still be in the sink's loop
        received = sink.messages
        if child.returncode != 0:
            raise RuntimeError(f"inbox-agent run --once failed ({child.returncode}):\n{child.output[-3000:]}")
        floor_row = floor(config, run_dir, received)
        floor_received = sink.messages[len(received):]
    return {
        "agent_s": round(child.wall_s, 3),
        "agent_cpu_s": round(child.cpu_s, 3),
        "floor_s": floor_row["floor_s"],
        "agent_over_floor": round(child.wall_s / floor_row["floor_s"], 2),
        "floor": floor_row | {"checks": checks(mails, floor_received)},
        "peak_rss_mb": round(child.peak_rss_mb, 1),
        "phases": phases(child),
        "agent_summary": child.output.strip().splitlines()[-1] if child.output.strip() else "",
        "database": database_counts(run_dir / "agent.sqlite"),
        "checks": checks(mails, received),
    }


def checks_ok(pair: dict[str, Any]) -> bool:
    """Every request acknowledged once and no robot answered, by the agent and by the floor."""
    return all(c["privacy_with_one_ack"] == c["privacy_mails"] and c["robots_answered"] == 0
               for c in (pair["checks"], pair["floor"]["checks"]))


def _pair_summary(pair: dict[str, Any]) -> dict[str, Any]:
    return {"agent_s": pair["agent_s"], "agent_cpu_s": pair["agent_cpu_s"], "floor_s": pair["floor_s"],
            "floor_cpu_s": pair["floor"]["cpu_s"], "agent_over_floor": pair["agent_over_floor"],
            "peak_rss_mb": pair["peak_rss_mb"], "checks_ok": checks_ok(pair)}


def _pair_text(pair: dict[str, Any]) -> str:
    return (f"agent {pair['agent_s']:.2f} s (cpu {pair['agent_cpu_s']:.2f} s), floor {pair['floor_s']:.2f} s "
            f"(cpu {pair['floor']['cpu_s']:.2f} s), agent/floor {pair['agent_over_floor']}, "
            f"peak RSS {pair['peak_rss_mb']:.0f} MB{'' if checks_ok(pair) else ', CHECKS FAILED'}")


def floor(config: Path, case_dir: Path, received: list[Any]) -> dict[str, Any]:
    """bench/floor.py against the same mailbox and sink, sending what the agent sent (kind by kind)."""
    sent = Counter(kind_of(m.raw) or "unknown" for m in received)
    plan = ",".join(f"{kind}={n}" for kind, n in sent.items() if kind != "unknown")
    child = run_once(config, case_dir / "floor.log",
                     [sys.executable, "-m", "bench.floor", "--config", str(config), "--plan", plan])
    if child.returncode != 0:
        raise RuntimeError(f"bench.floor failed ({child.returncode}):\n{child.output[-3000:]}")
    out: dict[str, Any] = json.loads(child.output.strip().splitlines()[-1])
    out["phases"] = {"startup_s": out["phases"].pop("startup_s"), **out["phases"]}
    out["phases"]["imports_exit_s"] = round(child.wall_s - sum(out["phases"].values()), 3)  # the rest of the wall time
    return out | {"floor_s": round(child.wall_s, 3), "cpu_s": round(child.cpu_s, 3),
                  "peak_rss_mb": round(child.peak_rss_mb, 1)}


def growth(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Exponent k in cost ~ size^k between the smallest and the largest backlog (1.0 = linear)."""
    if len(rows) < 2:
        return {}
    small, big = rows[0], rows[-1]
    span = math.log(big["size"] / small["size"])

    def k(key: str) -> float:
        return round(math.log(big[key] / small[key]) / span, 2)

    return {"from": small["size"], "to": big["size"], "time_exponent": k("agent_s"),
            "cpu_exponent": k("agent_cpu_s"), "rss_exponent": k("peak_rss_mb"),
            "seconds_per_1k": {str(r["size"]): round(r["agent_s"] / r["size"] * 1000, 3) for r in rows}}


# -- latency -----------------------------------------------------------------------------------

def _wait_ack(sink: SmtpSink, sender: str, seen: int, deadline: float) -> int:
    """Block until an ack to ``sender`` is among the messages after index ``seen``; return the new count."""
    count = seen
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no acknowledgement for {sender}")
        messages = sink.wait_for(count + 1, timeout=left)
        for mail in messages[count:]:
            if sender.lower() in (r.lower() for r in mail.rcpt_tos) and kind_of(mail.raw) == "ack":
                return len(messages)
        count = len(messages)


def latency(dovecot: DovecotServer, count: int, work: Path, seed: int) -> dict[str, Any]:
    user, password = "latency", secrets.token_hex(8)
    dovecot.add_user(user, password)
    case_dir = work / "latency"
    case_dir.mkdir()
    requests = [m for m in generate(count * 8 + 50, seed=seed + 1) if m.kind == "privacy"][: count + 1]
    if len(requests) < count + 1:
        raise RuntimeError("not enough generated privacy requests")
    with SmtpSink() as sink, (case_dir / "agent.log").open("wb") as out:
        config = agent_config(case_dir, dovecot, user, password, sink)
        started = time.monotonic()
        proc = subprocess.Popen([str(BIN / "inbox-agent"), "run", "--config", str(config)],
                                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        samples: list[float] = []
        try:
            with dovecot.imap_client(user) as client:
                # Warm-up: the first request also waits for start-up (imports, classifier, login).
                client.append("INBOX", requests[0].raw)
                seen = _wait_ack(sink, requests[0].sender, 0, time.monotonic() + 120)
                ready_s = time.monotonic() - started
                time.sleep(1.0)  # let the identity mail of the warm-up go out too
                for mail in requests[1:]:
                    seen = len(sink.messages)
                    t0 = time.monotonic()
                    client.append("INBOX", mail.raw)
                    seen = _wait_ack(sink, mail.sender, seen, t0 + 30)
                    samples.append(time.monotonic() - t0)
                    time.sleep(0.05)
        finally:
            t0 = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            try:
                code = proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = proc.wait()
            stop_s = time.monotonic() - t0
    if code != 0:
        raise RuntimeError(f"inbox-agent run exited {code} on SIGTERM:\n{(case_dir / 'agent.log').read_text()[-3000:]}")
    ordered = sorted(samples)
    result = {
        "requests": len(samples),
        "p50_s": round(_percentile(ordered, 50), 3),
        "p95_s": round(_percentile(ordered, 95), 3),
        "min_s": round(ordered[0], 3),
        "max_s": round(ordered[-1], 3),
        "mean_s": round(sum(ordered) / len(ordered), 3),
        "first_ack_after_start_s": round(ready_s, 3),
        "sigterm_exit_s": round(stop_s, 3),
        "samples_s": [round(s, 4) for s in samples],
    }
    log(f"latency: p50 {result['p50_s']} s, p95 {result['p95_s']} s over {len(samples)} requests; "
        f"SIGTERM -> exit {stop_s:.2f} s")
    return result


def _percentile(ordered: list[float], pct: float) -> float:
    """Nearest-rank percentile of sorted samples."""
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


# -- classifier ----------------------------------------------------------------------------------

def classifier_child(sample: int, seed: int) -> dict[str, Any]:
    """Load time and mails/s in this process, pinned to one core (run via ``--classifier-child``)."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    import warnings

    warnings.filterwarnings("ignore")
    started = time.perf_counter()
    from inbox_agent.classify import Classifier
    from inbox_agent.parse import parse

    imported = time.perf_counter()
    classifier = Classifier.load(ROOT / "classifiers")
    loaded = time.perf_counter()
    parsed = [parse(m.raw) for m in generate(sample, seed=seed + 2)]
    parse_s = time.perf_counter() - loaded
    t0 = time.perf_counter()
    c0 = time.process_time()
    for msg in parsed:
        classifier.classify(msg)
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    from bench.bench_classifier import tokenizer_rate

    tokens = tokenizer_rate(parsed, classifier, seconds=1.0)
    return {"source": "bench/run.py", "mails": sample, "import_s": round(imported - started, 3),
            "load_s": round(loaded - imported, 3), "mails_per_s": round(sample / wall, 1),
            "mails_per_cpu_s": round(sample / cpu, 1), "parse_mails_per_s": round(sample / parse_s, 1),
            "tokenizer_mails_per_s": round(tokens, 1), "classifier_over_tokenizer": round(sample / cpu / tokens, 3)}


COLLEAGUE_BENCH = ROOT / "bench" / "bench_classifier.py"
_THEIR_LOAD = re.compile(r"load time[^:]*:\s*([\d.]+) s")
_THEIR_RATE = re.compile(r"classify \((\d+) mails, 1 core\):\s*([\d,.]+) mails/s")
_THEIR_PARSE = re.compile(r"parse:\s*([\d,.]+) mails/s")
_THEIR_TOKENS = re.compile(r"tokenizer:\s*([\d,.]+) mails/s; classifier/tokenizer ([\d.]+)")


@dataclass
class ClassifierRun:
    proc: subprocess.Popen[str]
    source: str
    sample: int
    seed: int


def classifier_bench(sample: int, seed: int, seconds: float) -> ClassifierRun:
    """Start the classifier measurement: the colleague's bench/bench_classifier.py (dev corpus) when it
    exists, else our own on synthetic mail (``--classifier-child``)."""
    if COLLEAGUE_BENCH.exists():
        proc = subprocess.Popen([sys.executable, str(COLLEAGUE_BENCH), "--seconds", str(seconds)], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        return ClassifierRun(proc, "bench/bench_classifier.py", sample, seed)
    return _own_classifier_bench(sample, seed)


def _own_classifier_bench(sample: int, seed: int) -> ClassifierRun:
    proc = subprocess.Popen([sys.executable, "-m", "bench.run", "--classifier-child", str(sample), "--seed", str(seed)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return ClassifierRun(proc, "bench/run.py (synthetic mail)", sample, seed)


def classifier_result(run: ClassifierRun) -> dict[str, Any]:
    out, err = run.proc.communicate(timeout=600)
    result: dict[str, Any] | None = None
    if run.proc.returncode == 0 and run.source.startswith("bench/bench_classifier"):
        load, rate, parse_rate = _THEIR_LOAD.search(out), _THEIR_RATE.search(out), _THEIR_PARSE.search(out)
        tokens = _THEIR_TOKENS.search(out)
        if load and rate and tokens:
            result = {"source": run.source, "corpus": "shared/corpus/dev/mail", "mails": int(rate.group(1)),
                      "load_s": float(load.group(1)), "mails_per_s": float(rate.group(2).replace(",", "")),
                      "parse_mails_per_s": float(parse_rate.group(1).replace(",", "")) if parse_rate else None,
                      "tokenizer_mails_per_s": float(tokens.group(1).replace(",", "")),
                      "classifier_over_tokenizer": float(tokens.group(2)),
                      "output": out.strip().splitlines()}
        else:
            log(f"cannot read the output of {run.source}; measuring on synthetic mail instead")
    elif run.proc.returncode == 0:
        result = json.loads(out.strip().splitlines()[-1])
    elif run.source.startswith("bench/bench_classifier"):
        log(f"{run.source} failed ({err.strip().splitlines()[-1:]}); measuring on synthetic mail instead")
    else:
        raise RuntimeError(f"classifier measurement failed:\n{err[-3000:]}")
    if result is None:
        return classifier_result(_own_classifier_bench(run.sample, run.seed))
    log(f"classifier: load {result.get('load_s')} s, {result.get('mails_per_s')} mails/s on one core "
        f"({result['source']})")
    return result


# -- report ------------------------------------------------------------------------------------

def table(results: dict[str, Any]) -> str:
    lines = ["", f"inbox-agent benchmark  ({results['machine']['nproc']} cores, {results['machine']['cpu']}, "
             f"{results['machine']['ram_mb']} MB RAM)", ""]
    lines.append(f"{'backlog':>8} {'agent s':>9} {'floor s':>8} {'agent/floor':>11} {'cpu s':>8} {'mbsync s':>9} "
                 f"{'mails/s':>8} {'peak RSS MB':>12} {'floor RSS':>10} {'acks ok':>11} {'robots ans.':>11}")
    for row in results["backlog"]:
        c = row["checks"]
        lines.append(f"{row['size']:>8} {row['agent_s']:>9.2f} {row['floor_s']:>8.2f} {row['agent_over_floor']:>11.2f} "
                     f"{row['agent_cpu_s']:>8.2f} {row['mbsync_s']:>9.2f} {row['agent_mails_per_s']:>8.1f} "
                     f"{row['peak_rss_mb']:>12.1f} {row['floor']['peak_rss_mb']:>10.1f} "
                     f"{c['privacy_with_one_ack']:>5}/{c['privacy_mails']:<5} {c['robots_answered']:>11}")
    for row in results["backlog"]:
        runs = row.get("runs", [])
        if len(runs) > 1:
            lines.append(f"  {row['size']:>6} agent/floor over {len(runs)} runs (median above): "
                         + ", ".join(f"{r['agent_over_floor']:.2f}" for r in runs)
                         + "; agent cpu " + ", ".join(f"{r['agent_cpu_s']:.1f}" for r in runs)
                         + " s; floor cpu " + ", ".join(f"{r['floor_cpu_s']:.1f}" for r in runs) + " s"
                         + ("" if all(r["checks_ok"] for r in runs) else "; CHECKS FAILED in a run"))
        lines.append(f"  {row['size']:>6} agent: " + ", ".join(f"{k} {v}" for k, v in row["phases"].items()))
        lines.append(f"  {row['size']:>6} floor: " + ", ".join(f"{k} {v}" for k, v in row["floor"]["phases"].items())
                     + f"; sent {row['floor']['sent']} over {row['floor']['connections']} connections")
    g = results.get("scaling") or {}
    if g:
        lines.append(f"scaling {g['from']} -> {g['to']}: time ~ n^{g['time_exponent']}, cpu ~ n^{g['cpu_exponent']}, "
                     f"RSS ~ n^{g['rss_exponent']}  (s per 1k mails: {g['seconds_per_1k']})")
    lat = results.get("latency")
    if lat:
        lines.append(f"latency APPEND -> ack ({lat['requests']} requests): p50 {lat['p50_s']:.3f} s, "
                     f"p95 {lat['p95_s']:.3f} s, max {lat['max_s']:.3f} s; "
                     f"SIGTERM -> exit {lat['sigterm_exit_s']:.2f} s")
    sink = results.get("sink_capacity")
    if sink and results["backlog"]:
        rates = sink["mails_per_s_by_connections"]
        main = next((r for r in results["backlog"] if r["size"] == 10_000), results["backlog"][-1])
        sent = sum(main["checks"]["sink_by_kind"].values())
        by_connections = ", ".join(f"{c} conn {r:,.0f}/s" for c, r in rates.items())
        lines.append(f"sink capacity (aiosmtpd, ready-made mail): {by_connections}"
                     f"; the {main['size']} backlog's {sent} mails need >= {sent / max(rates.values()):.1f} s "
                     f"at the sink alone (3x mbsync = {3 * main['mbsync_s']:.1f} s)")
    cls = results.get("classifier")
    if cls:
        lines.append(f"classifier: load {cls.get('load_s')} s, {cls.get('mails_per_s')} mails/s on one core "
                     f"({cls.get('source')}); bare spaCy tokenizer {cls.get('tokenizer_mails_per_s')} mails/s, "
                     f"classifier/tokenizer {cls.get('classifier_over_tokenizer')}")
    lines.append("")
    lines.append("targets: " + ", ".join(f"{k} {'ok' if v else 'MISSED'}" for k, v in results["verdict"].items()))
    return "\n".join(lines)


def verdict(results: dict[str, Any]) -> dict[str, bool]:
    out: dict[str, bool] = {}
    rows = results["backlog"]
    main = next((r for r in rows if r["size"] == 10_000), rows[-1]) if rows else None
    if main:
        out[f"agent/floor<={TARGETS['agent_over_floor_max']} ({main['size']})"] = (
            main["agent_over_floor"] <= TARGETS["agent_over_floor_max"])
        peak = max(rows, key=lambda r: r["peak_rss_mb"])  # the daemon's memory must not depend on the backlog
        out[f"rss<={TARGETS['peak_rss_max_mb']:.0f}MB (max over all sizes, {peak['size']})"] = (
            peak["peak_rss_mb"] <= TARGETS["peak_rss_max_mb"])
    if results.get("scaling"):
        g = results["scaling"]
        out["linear time"] = g["time_exponent"] <= TARGETS["growth_exponent_max"]
        out["linear memory"] = g["rss_exponent"] <= TARGETS["growth_exponent_max"]
    if results.get("latency"):
        out[f"p95<={TARGETS['latency_p95_max_s']}s"] = results["latency"]["p95_s"] <= TARGETS["latency_p95_max_s"]
    if results.get("classifier"):
        out[f"classifier>={TARGETS['classifier_min_mails_per_s']:.0f}/s"] = (
            results["classifier"].get("mails_per_s", 0) >= TARGETS["classifier_min_mails_per_s"])
    return out


@contextmanager
def workdir(keep: bool) -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="inbox-agent-bench-"))
    try:
        yield path
    finally:
        if keep:
            log(f"kept the work folder {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


def run(sizes: list[int], latency_count: int, classifier_sample: int, out: Path, seed: int, keep: bool,
        smoke: bool, repeat: int) -> dict[str, Any]:
    results: dict[str, Any] = {"smoke": smoke, "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                               "machine": machine(), "targets": TARGETS, "seed": seed, "repeat": repeat}
    # The classifier runs alone first (a clean core), except in smoke mode, where it overlaps to save time.
    seconds = 0.5 if smoke else 5.0
    cls_proc = classifier_bench(classifier_sample, seed, seconds) if classifier_sample else None
    if cls_proc is not None and not smoke:
        results["classifier"] = classifier_result(cls_proc)
        cls_proc = None
    out.parent.mkdir(parents=True, exist_ok=True)

    def save() -> None:  # after every part: a later failure (a 50k run cut off) keeps what was measured
        out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")

    with workdir(keep) as work, DovecotServer() as dovecot:
        results["backlog"] = []
        for size in sizes:
            results["backlog"].append(backlog(dovecot, size, work, seed, repeat))
            save()
        results["scaling"] = growth(results["backlog"])
        results["latency"] = latency(dovecot, latency_count, work, seed) if latency_count else None
        save()
    results["sink_capacity"] = sink_capacity.measure(100 if smoke else 3000)
    if cls_proc is not None:
        results["classifier"] = classifier_result(cls_proc)
    results["verdict"] = verdict(results)
    save()
    print(table(results))
    print(f"\nJSON written to {out}")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000,50000", help="backlog sizes, comma-separated")
    parser.add_argument("--repeat", type=int, default=3,
                        help="agent + floor pairs per backlog size, alternated; the median ratio is reported "
                             "(--smoke: 1)")
    parser.add_argument("--latency", type=int, default=50, help="requests for the latency run (0: skip)")
    parser.add_argument("--classifier-sample", type=int, default=3000, help="mails for the classifier figure (0: skip)")
    parser.add_argument("--smoke", action="store_true", help="100 mails, 3 latency requests: CI's check that it works")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"JSON file (default {RESULTS.relative_to(ROOT)})")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--keep", action="store_true", help="keep the work folder (configs, databases, logs)")
    parser.add_argument("--classifier-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.classifier_child is not None:
        print(json.dumps(classifier_child(args.classifier_child, args.seed)))
        return 0
    # SIGTERM ends the run like Ctrl-C: the sandbox Dovecot (its own session) is stopped, not orphaned.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if shutil.which("mbsync") is None:
        parser.error("mbsync is not installed (Debian: apt-get install isync)")
    sizes = [100] if args.smoke else [int(s) for s in args.sizes.split(",") if s.strip()]
    latency_count = min(args.latency, 3) if args.smoke else args.latency
    sample = min(args.classifier_sample, 200) if args.smoke else args.classifier_sample
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    run(sorted(sizes), latency_count, sample, args.out, args.seed, args.keep, args.smoke,
        1 if args.smoke else args.repeat)
    return 0


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    sys.exit(main())
