"""Many mailboxes (issue 19 part 3): one private Dovecot, M users, M ``[[mailboxes]]``, one or more daemons.

    .venv/bin/python -m bench.bench_mailboxes --mailboxes 1000
    .venv/bin/python -m bench.bench_mailboxes --mailboxes 1000 --daemons 2      # PostgreSQL, shared by lease
    .venv/bin/python -m bench.bench_mailboxes --mailboxes 1000 --code /tmp/before   # another checkout

Measures, for ``--daemons`` N ``inbox-agent run`` processes started at once: the time from their
start until every mailbox has an IMAP session in IDLE (Dovecot's ``verbose_proctitle`` says so,
whatever the agent's version logs) and the CPU time each daemon used until then (``start_cpu_s``,
the figure a loaded machine moves least), p95 APPEND -> acknowledgement over a sample of mailboxes, each
daemon's RSS, and its CPU over a quiet minute. ``first_to_all_idle_s`` leaves out the start-up
before the first login (imports, classifier), which on a loaded machine can take longer than the
logins themselves.

One daemon uses SQLite; several share a private PostgreSQL (``inbox_agent.sandbox_pg``). Then the
bench also reports each daemon's share of the mailbox leases and the time until the shares differ by
one at most with every mailbox in IDLE exactly once, which daemon served each sampled request and
that each was acknowledged once, and after a ``kill -9`` of the first daemon started (not always the scheduler's
holder) the time until the survivors have all its mailboxes in IDLE again, with a second sample on
them. As root each daemon runs under a host name of its own (``unshare --uts``), as on separate
hosts: a killed daemon is then counted out by its heartbeat, not found dead by process id on the
same host (``--same-host`` measures that case).

Dovecot gets the process limits M connections need; as root the bench raises
``fs.inotify.max_user_instances`` for its own run (all IMAP processes run as one user, and 128
instances would stop IDLE push after ~128 mailboxes) and puts the old value back. Prints one
line and writes JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from imapclient import IMAPClient
from sqlalchemy import Engine, create_engine, func, select

from bench.mailgen import Mail, generate
from bench.run import BIN, ROOT, _percentile, _wait_ack, kind_of, log, machine, workdir
from inbox_agent.db.tables import FolderState, StoredMessage
from inbox_agent.fictitious_shop import shop_toml
from inbox_agent.sandbox import DovecotServer, SmtpSink
from inbox_agent.sandbox_pg import PostgresServer
from inbox_agent.watch import WORKERS

INOTIFY = Path("/proc/sys/fs/inotify/max_user_instances")
LIMITS = """
verbose_proctitle = yes
default_process_limit = {processes}
default_client_limit = {clients}
default_vsz_limit = 0
mail_max_userip_connections = 20
service imap {{
  process_limit = {processes}
}}
service anvil {{
  client_limit = {clients}
}}
service auth {{
  client_limit = {clients}
}}
"""
"""What M connections need from Dovecot: an imap process each, and anvil/auth to keep up with them."""
WAIT_SECONDS = 300.0
"""The longest the bench waits for all mailboxes in IDLE (and, with several daemons, for even shares)."""


@contextlib.contextmanager
def inotify_instances(wanted: int) -> Iterator[int | None]:
    """Raise the per-user inotify instance limit for this run only (root only); yields the old value."""
    if os.geteuid() != 0:
        yield None
        return
    old = int(INOTIFY.read_text())
    if old < wanted:
        INOTIFY.write_text(str(wanted))
        log(f"fs.inotify.max_user_instances raised from {old} to {wanted} for this run")
    try:
        yield old
    finally:
        if old < wanted:
            INOTIFY.write_text(str(old))


@contextlib.contextmanager
def database(daemons: int, work: Path) -> Iterator[str]:
    """SQLite for one daemon, a private PostgreSQL for several: the ``[database] url``."""
    if daemons == 1:
        yield f"sqlite:///{work / 'agent.sqlite'}"
        return
    with PostgresServer() as pg:
        yield pg.create_database("bench")


def config(work: Path, dovecot: DovecotServer, users: list[tuple[str, str]], sink: SmtpSink, url: str,
           lease_seconds: float) -> Path:
    path = work / "config.toml"
    boxes = "".join(
        f'\n[[mailboxes]]\nname = "{user}"\n'
        f'imap = {{ host = "127.0.0.1", port = {dovecot.port}, username = "{user}", password = "{password}", '
        f'security = "none" }}\n'
        + shop_toml("mailboxes.shop", name=f"Shop {n}", reference_prefix=_prefix(n))
        for n, (user, password) in enumerate(users))
    path.write_text(f'secret_key = "{secrets.token_hex(24)}"\n\n[database]\nurl = "{url}"\n'
                    f'lease_seconds = {lease_seconds}\n'
                    f'\n[smtp]\nhost = "127.0.0.1"\nport = {sink.port}\nsecurity = "none"\n'
                    f'from_address = "privacy@bench-shop.test"\n{boxes}')
    path.chmod(0o600)
    return path


def _prefix(n: int) -> str:
    """A case reference prefix of letters per shop: A, B, ..., Z, BA, BB, ..."""
    letters = ""
    while True:
        n, digit = divmod(n, 26)
        letters = chr(ord("A") + digit) + letters
        if not n:
            return letters


def idle_sessions(dovecot: DovecotServer) -> dict[str, set[int]]:
    """This Dovecot's imap processes whose title says they are in IDLE ("[user 127.0.0.1 IDLE]"), by user.

    Only children of its master count: other Dovecots on the machine (tests) have IDLE sessions too.
    """
    assert dovecot._process is not None
    master = str(dovecot._process.pid)
    found: dict[str, set[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError):
            title = (entry / "cmdline").read_bytes().rstrip(b"\0")
            if (title.startswith(b"dovecot/imap [") and title.endswith(b" IDLE]")
                    and (entry / "stat").read_text().rsplit(")", 1)[1].split()[1] == master):
                user = title[len(b"dovecot/imap ["):].split(b" ", 1)[0].decode()
                found.setdefault(user, set()).add(int(entry.name))
    return found


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> tuple[float, float]:
    """Current and peak RSS of ``pid`` in MB."""
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024


def daemon_argv(code: Path | None, config_path: Path, *command: str) -> tuple[list[str], dict[str, str]]:
    """``inbox-agent <command> --config ...`` of this checkout or of ``code``, and its environment."""
    env = dict(os.environ)
    if code is None:
        return [str(BIN / "inbox-agent"), *command, "--config", str(config_path)], env
    env["PYTHONPATH"] = str(code)
    return [sys.executable, "-c", "from inbox_agent.cli import main; main()", *command, "--config",
            str(config_path)], env


@dataclass
class Agent:
    """One ``inbox-agent run`` of the bench, under a host name of its own or this host's."""

    host: str
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def instance(self) -> str:
        """Its name in the lease tables ("host:pid")."""
        return f"{self.host}:{self.proc.pid}"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> int:
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.wait()


def start_agents(count: int, code: Path | None, config_path: Path, work: Path, own_hosts: bool) -> list[Agent]:
    argv, env = daemon_argv(code, config_path, "run")
    agents = []
    for n in range(count):
        host, command = socket.gethostname(), argv
        if own_hosts:  # unshare execs, so the pid is the daemon's own
            host = f"bench-{n}"
            command = ["unshare", "--uts", "sh", "-c", 'hostname "$1" && shift && exec "$@"', "sh", host, *argv]
        path = work / f"agent-{n}.log"
        with path.open("wb") as out:
            proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                    cwd=code or ROOT)
        agents.append(Agent(host, proc, path))
    return agents


class Watch:
    """What the bench reads while the daemons run: Dovecot's IDLE sessions and the lease table."""

    def __init__(self, dovecot: DovecotServer, users: list[str], agents: list[Agent], engine: Engine) -> None:
        self.dovecot = dovecot
        self.users = users
        self.agents = agents
        self.engine = engine

    def holdings(self) -> dict[str, str]:
        """Mailbox -> the instance holding its unexpired lease."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(FolderState.mailbox, FolderState.lease_owner).where(
                FolderState.lease_owner.is_not(None), FolderState.lease_until > datetime.now(UTC)))
            return {mailbox: owner for mailbox, owner in rows if owner}

    def shares(self, agents: list[Agent]) -> list[int]:
        held = Counter(self.holdings().values())
        return [held[a.instance] for a in agents]

    def until(self, started: float, seconds: float, done: Callable[[], bool]) -> float | None:
        """Seconds from ``started`` until ``done()``; None when ``seconds`` passed first."""
        while time.monotonic() - started < seconds:
            if done():
                return time.monotonic() - started
            dead = [a for a in self.agents if not a.alive() and a.proc.returncode != -signal.SIGKILL]
            if dead:
                raise RuntimeError(f"a daemon exited {dead[0].proc.returncode}:\n{dead[0].log.read_text()[-3000:]}")
            time.sleep(0.1)
        return None

    def all_idle(self, fresh: Callable[[str, set[int]], bool] = lambda _user, pids: bool(pids)) -> bool:
        """``fresh(user, pids)`` for every mailbox, given its IMAP processes in IDLE (default: one at least)."""
        sessions = self.idle_sessions()
        return all(fresh(user, sessions.get(user, set())) for user in self.users)

    def idle_sessions(self) -> dict[str, set[int]]:
        return idle_sessions(self.dovecot)

    def once(self, agents: list[Agent]) -> bool:
        """Every mailbox in IDLE exactly once, held by one of ``agents``, and their shares within one."""
        shares = self.shares(agents)
        return (sum(shares) == len(self.users) and max(shares) - min(shares) <= 1
                and self.all_idle(lambda _user, pids: len(pids) == 1))


def measure(mails: list[Mail], users: list[tuple[str, str]], dovecot: DovecotServer, sink: SmtpSink,
            watch: Watch | None, *, warm_up: bool = False) -> tuple[list[float], list[str]]:
    """APPEND each mail to its mailbox, time it until its ack reaches the sink; who held the mailbox.

    A ``warm_up`` first mail may wait ``WAIT_SECONDS``, the others a minute: on a loaded machine the
    daemons may still be loading the classifier."""
    samples: list[float] = []
    served_by: list[str] = []
    for mail, (user, _password) in zip(mails, users, strict=True):
        if watch is not None:
            served_by.append(watch.holdings().get(user, ""))
        client = dovecot.imap_client(user)
        try:
            seen = len(sink.messages)
            t0 = time.monotonic()
            client.append("INBOX", mail.raw)
            _wait_ack(sink, mail.sender, seen, t0 + (WAIT_SECONDS if warm_up and not samples else 60))
            samples.append(time.monotonic() - t0)
        finally:
            client.logout()
        time.sleep(0.2)
    return samples, served_by


def latency(samples: list[float]) -> dict[str, Any]:
    ordered = sorted(samples)
    return {"p50_s": round(_percentile(ordered, 50), 3), "p95_s": round(_percentile(ordered, 95), 3),
            "max_s": round(ordered[-1], 3), "samples": len(ordered)}


def quiet(agents: list[Agent], seconds: float) -> list[dict[str, float]]:
    """Each daemon's CPU over ``seconds`` with no mail (share of one core), and its RSS after them."""
    before, t0 = [cpu_seconds(a.proc.pid) for a in agents], time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - t0
    figures = []
    for agent, cpu0 in zip(agents, before, strict=True):
        rss, peak = rss_mb(agent.proc.pid)
        figures.append({"idle_cpu_pct_of_core": round(100 * (cpu_seconds(agent.proc.pid) - cpu0) / elapsed, 1),
                        "rss_mb": round(rss, 1), "peak_rss_mb": round(peak, 1)})
    return figures


def acked(sink: SmtpSink, mails: list[Mail]) -> Counter[int]:
    """How many requests got how many acknowledgements ({1: 40} is every one exactly once)."""
    acks = Counter(r.lower() for m in sink.messages if kind_of(m.raw) == "ack" for r in m.rcpt_tos)
    return Counter(acks[m.sender.lower()] for m in mails)


def takeover(watch: Watch, victim: Agent, survivors: list[Agent], lease_seconds: float) -> dict[str, Any]:
    """``kill -9`` the victim; the time until each of its mailboxes is in IDLE in a new session, held by a
    survivor, with every mailbox in IDLE exactly once."""
    theirs = sorted(user for user, owner in watch.holdings().items() if owner == victim.instance)
    old = watch.idle_sessions()
    victim.proc.send_signal(signal.SIGKILL)
    victim.proc.wait()
    killed = time.monotonic()
    log(f"killed {victim.instance} holding {len(theirs)} mailboxes")
    mine, alive = set(theirs), {a.instance for a in survivors}

    def fresh(user: str, pids: set[int]) -> bool:
        return len(pids) == 1 and (user not in mine or not pids & old.get(user, set()))

    def back() -> bool:
        held = watch.holdings()
        return all(held.get(user) in alive for user in theirs) and watch.all_idle(fresh)

    seconds = watch.until(killed, 3 * lease_seconds, back)
    log(f"{len(theirs)} mailboxes of the killed daemon in IDLE at the survivors after {_round(seconds)} s "
        f"(waited at most {3 * lease_seconds:.0f} s)")
    return {"killed": victim.instance, "its_mailboxes": len(theirs),
            "takeover_s": round(seconds, 1) if seconds is not None else None, "lease_seconds": lease_seconds,
            "within_lease": seconds is not None and seconds <= lease_seconds, "mailboxes": theirs}


def dovecot_floor(dovecot: DovecotServer, users: list[tuple[str, str]]) -> dict[str, Any]:
    """The same Dovecot alone: ``watch.WORKERS`` threads log every user in, SELECT, NOOP and enter IDLE
    (what any client must do), timed until all are in IDLE; then they log out."""
    def session(user: str) -> IMAPClient:
        client = dovecot.imap_client(user)
        client.select_folder("INBOX")
        client.noop()
        client.idle()
        return client

    started = time.monotonic()
    with ThreadPoolExecutor(WORKERS) as pool:
        clients = list(pool.map(session, [user for user, _ in users]))
    seconds = time.monotonic() - started
    for client in clients:
        with contextlib.suppress(Exception):
            client.idle_done()
            client.logout()
    log(f"Dovecot alone: {len(clients)} sessions in IDLE after {seconds:.1f} s over {WORKERS} connections at once")
    return {"all_idle_s": round(seconds, 1), "connections_at_once": WORKERS}


def bench(mailboxes: int, daemons: int, sample: int, quiet_seconds: float, lease_seconds: float, code: Path | None,
          work: Path, own_hosts: bool, floor: bool = True) -> dict[str, Any]:
    extra = LIMITS.format(processes=mailboxes * 2 + 100, clients=mailboxes * 4 + 1000)
    second = min(sample, 10) if daemons > 1 else 0  # requests to the killed daemon's mailboxes
    wanted = sample + 1 + second
    requests = [m for m in generate(wanted * 5 + 50, seed=19) if m.kind == "privacy"][:wanted]
    result: dict[str, Any] = {"mailboxes": mailboxes, "daemons": daemons, "code": str(code or ROOT)}
    with inotify_instances(mailboxes * 2 + 256) as old_inotify, DovecotServer(extra_config=extra) as dovecot, \
            SmtpSink() as sink, database(daemons, work) as url:
        result["database"] = url.split(":", 1)[0]
        users = [(f"shop{n:04d}", secrets.token_hex(6)) for n in range(mailboxes)]
        for user, password in users:
            dovecot.add_user(user, password)
        config_path = config(work, dovecot, users, sink, url, lease_seconds)
        upgrade, env = daemon_argv(code, config_path, "db", "upgrade")  # that checkout's own migrations
        subprocess.run(upgrade, check=True, capture_output=True, cwd=code or ROOT, env=env)
        engine = create_engine(url)  # no BEGIN IMMEDIATE: reading must not take SQLite's write lock
        started = time.monotonic()
        agents = start_agents(daemons, code, config_path, work, own_hosts and daemons > 1)
        watch = Watch(dovecot, [u for u, _ in users], agents, engine)
        try:
            first = watch.until(started, WAIT_SECONDS, lambda: bool(watch.idle_sessions()))
            every = watch.until(started, WAIT_SECONDS, watch.all_idle)
            start_cpu = [round(cpu_seconds(a.proc.pid), 1) for a in agents]
            reached = len(watch.idle_sessions())
            log(f"{mailboxes} mailboxes: {reached} in IDLE after {time.monotonic() - started:.1f} s, "
                f"daemon CPU {start_cpu} s")
            result |= {"all_idle_s": _round(every), "start_cpu_s": start_cpu, "first_idle_s": _round(first),
                       "first_to_all_idle_s": _round(every - first) if every and first else None,
                       "idle_reached": reached}
            if daemons > 1:
                even = watch.until(started, WAIT_SECONDS, lambda: watch.once(agents))
                result |= {"even_and_once_s": _round(even), "instances": [a.instance for a in agents],
                           "shares": watch.shares(agents)}
                log(f"shares {result['shares']}, every mailbox in IDLE once, after {_round(even)} s")
            time.sleep(3.0)
            spread = [users[(n * 7919) % mailboxes] for n in range(sample + 1)]  # spread over the mailboxes
            samples, served_by = measure(requests[:sample + 1], spread, dovecot, sink, watch if daemons > 1 else None,
                                         warm_up=True)
            # the first is a warm-up: first-start reports, classifier caches
            result |= latency(samples[1:]) | {"warm_up_s": round(samples[0], 3)}
            if daemons > 1:
                result["samples_served_by"] = dict(Counter(served_by[1:]))
            time.sleep(5.0)  # the identity questions and officer notices go out
            figures = quiet(agents, quiet_seconds)
            result |= {"quiet_seconds": quiet_seconds, "per_daemon": figures,
                       "in_idle_at_the_end": len(watch.idle_sessions()),
                       "in_idle_twice": sum(len(p) > 1 for p in watch.idle_sessions().values())}
            if daemons == 1:
                result |= figures[0]
            else:
                gone = takeover(watch, agents[0], agents[1:], lease_seconds)
                by_name = {u: (u, p) for u, p in users}
                again, _ = measure(requests[sample + 1:], [by_name[u] for u in gone.pop("mailboxes")[:second]],
                                   dovecot, sink, None)
                result["takeover"] = gone | {"after": latency(again), "shares": watch.shares(agents[1:]),
                                             "in_idle_twice": sum(len(p) > 1 for p in watch.idle_sessions().values())}
            time.sleep(3.0)
            result["acks_per_request"] = {str(k): v for k, v in sorted(acked(sink, requests).items())}
            with engine.connect() as conn:
                result["stored_messages"] = conn.execute(select(func.count()).select_from(StoredMessage)).scalar_one()
        finally:
            for agent in agents:
                agent.stop()
            engine.dispose()
        if floor:
            result["floor"] = dovecot_floor(dovecot, users)
    logs = "".join(a.log.read_text(errors="replace") for a in agents)
    result |= {"requests": len(requests), "late_push_warnings": logs.count("seems not to push"),
               "inotify_max_user_instances_before": old_inotify, "machine": machine()}
    log(f"mailboxes={mailboxes} daemons={daemons}: all idle {result['all_idle_s']} s, p95 {result['p95_s']} s, "
        + ", ".join(f"RSS {f['rss_mb']} MB idle CPU {f['idle_cpu_pct_of_core']} %" for f in result["per_daemon"])
        + (f", takeover {result['takeover']['takeover_s']} s, then p95 {result['takeover']['after']['p95_s']} s"
           if "takeover" in result else ""))
    return result


def _round(seconds: float | None) -> float | None:
    return round(seconds, 1) if seconds is not None else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mailboxes", type=int, required=True)
    parser.add_argument("--daemons", type=int, default=1, help="daemons sharing the mailboxes (2+: PostgreSQL)")
    parser.add_argument("--sample", type=int, default=40, help="APPEND -> ack measurements")
    parser.add_argument("--quiet-seconds", type=float, default=60.0, help="how long idle CPU is measured")
    parser.add_argument("--lease-seconds", type=float, default=60.0, help="[database] lease_seconds")
    parser.add_argument("--same-host", action="store_true",
                        help="several daemons under this host's name (a killed one is found dead by its pid)")
    parser.add_argument("--code", type=Path, help="a checkout whose inbox_agent runs the daemon (e.g. a worktree)")
    parser.add_argument("--out", type=Path, help="JSON file (default bench/results/mailboxes-N[-dD].json)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, database)")
    args = parser.parse_args(argv)
    own_hosts = not args.same_host and os.geteuid() == 0 and shutil.which("unshare") is not None
    with workdir(args.keep) as work:
        result = bench(args.mailboxes, args.daemons, args.sample, args.quiet_seconds, args.lease_seconds, args.code,
                       work, own_hosts)
    suffix = f"-d{args.daemons}" if args.daemons > 1 else ""
    out = args.out or ROOT / "bench" / "results" / f"mailboxes-{args.mailboxes}{suffix}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
