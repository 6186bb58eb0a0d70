"""Many mailboxes in one daemon (issue 19 part 3): one private Dovecot, N users, N ``[[mailboxes]]``.

    .venv/bin/python -m bench.bench_mailboxes --mailboxes 1000
    .venv/bin/python -m bench.bench_mailboxes --mailboxes 1000 --code /tmp/before   # another checkout

Measures, for one ``inbox-agent run``: the time from its start until every mailbox's Dovecot
process is in IDLE (Dovecot's ``verbose_proctitle`` says so, whatever the agent's version logs),
p95 APPEND -> acknowledgement over a sample of mailboxes, the daemon's RSS, and its CPU over a
quiet minute. ``first_to_all_idle_s`` leaves out the start-up before the first login (imports,
classifier), which on a loaded machine can take longer than the logins themselves.

Dovecot gets the process limits N connections need; as root the bench raises
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
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.mailgen import generate
from bench.run import BIN, ROOT, _percentile, _wait_ack, log, machine, workdir
from inbox_agent.fictitious_shop import shop_toml
from inbox_agent.sandbox import DovecotServer, SmtpSink

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
"""What N connections need from Dovecot: an imap process each, and anvil/auth to keep up with them."""


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


def config(work: Path, dovecot: DovecotServer, users: list[tuple[str, str]], sink: SmtpSink) -> Path:
    path = work / "config.toml"
    boxes = "".join(
        f'\n[[mailboxes]]\nname = "{user}"\n'
        f'imap = {{ host = "127.0.0.1", port = {dovecot.port}, username = "{user}", password = "{password}", '
        f'security = "none" }}\n'
        + shop_toml("mailboxes.shop", name=f"Shop {n}", reference_prefix=_prefix(n))
        for n, (user, password) in enumerate(users))
    path.write_text(f'secret_key = "{secrets.token_hex(24)}"\n\n[database]\nurl = "sqlite:///{work / "agent.sqlite"}"\n'
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


def idle_processes(dovecot: DovecotServer) -> int:
    """This Dovecot's imap processes whose title says they are in IDLE ("[user 127.0.0.1 IDLE]").

    Only children of its master count: other Dovecots on the machine (tests) have IDLE sessions too.
    """
    assert dovecot._process is not None
    master, count = str(dovecot._process.pid), 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError):
            title = (entry / "cmdline").read_bytes()
            if (title.startswith(b"dovecot/imap ") and title.rstrip(b"\0").endswith(b" IDLE]")
                    and (entry / "stat").read_text().rsplit(")", 1)[1].split()[1] == master):
                count += 1
    return count


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


def bench(mailboxes: int, sample: int, quiet_seconds: float, code: Path | None, work: Path) -> dict[str, Any]:
    extra = LIMITS.format(processes=mailboxes * 2 + 100, clients=mailboxes * 4 + 1000)
    requests = [m for m in generate(sample * 10 + 50, seed=19) if m.kind == "privacy"][:sample + 1]
    with inotify_instances(mailboxes * 2 + 256) as old_inotify, DovecotServer(extra_config=extra) as dovecot, \
            SmtpSink() as sink:
        users = [(f"shop{n:04d}", secrets.token_hex(6)) for n in range(mailboxes)]
        for user, password in users:
            dovecot.add_user(user, password)
        config_path = config(work, dovecot, users, sink)
        upgrade, env = daemon_argv(code, config_path, "db", "upgrade")  # that checkout's own migrations
        subprocess.run(upgrade, check=True, capture_output=True, cwd=code or ROOT, env=env)
        argv, env = daemon_argv(code, config_path, "run")
        out = (work / "agent.log").open("wb")
        started = time.monotonic()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                cwd=code or ROOT)
        try:
            idle, first_idle_s, all_idle_s = 0, None, None
            while time.monotonic() - started < 300:
                idle = idle_processes(dovecot)
                if idle and first_idle_s is None:
                    first_idle_s = time.monotonic() - started
                if idle >= mailboxes:
                    all_idle_s = time.monotonic() - started
                    break
                if proc.poll() is not None:
                    tail = (work / "agent.log").read_text()[-3000:]
                    raise RuntimeError(f"the daemon exited {proc.returncode}:\n{tail}")
                time.sleep(0.1)
            log(f"{mailboxes} mailboxes: {idle} in IDLE after {time.monotonic() - started:.1f} s")
            time.sleep(3.0)
            samples = []
            for n, mail in enumerate(requests):  # the first is a warm-up: first-start reports, classifier caches
                user, password = users[(n * 7919) % mailboxes]  # spread over the mailboxes
                client = dovecot.imap_client(user)
                try:
                    seen = len(sink.messages)
                    t0 = time.monotonic()
                    client.append("INBOX", mail.raw)
                    _wait_ack(sink, mail.sender, seen, t0 + 60)
                    samples.append(time.monotonic() - t0)
                finally:
                    client.logout()
                time.sleep(0.2)
            time.sleep(5.0)  # the identity questions and officer notices go out
            cpu0, t0 = cpu_seconds(proc.pid), time.monotonic()
            time.sleep(quiet_seconds)
            idle_cpu = (cpu_seconds(proc.pid) - cpu0) / (time.monotonic() - t0)
            rss, peak = rss_mb(proc.pid)
            idle_after = idle_processes(dovecot)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            out.close()
    ordered = sorted(samples[1:])
    agent_log = (work / "agent.log").read_text(errors="replace")
    result = {
        "mailboxes": mailboxes,
        "code": str(code or ROOT),
        "all_idle_s": round(all_idle_s, 1) if all_idle_s is not None else None,
        "first_idle_s": round(first_idle_s, 1) if first_idle_s is not None else None,
        "first_to_all_idle_s": round(all_idle_s - first_idle_s, 1) if all_idle_s and first_idle_s else None,
        "idle_reached": idle,
        "p50_s": round(_percentile(ordered, 50), 3),
        "p95_s": round(_percentile(ordered, 95), 3),
        "max_s": round(ordered[-1], 3),
        "samples": len(ordered),
        "warm_up_s": round(samples[0], 3),
        "rss_mb": round(rss, 1),
        "peak_rss_mb": round(peak, 1),
        "idle_cpu_pct_of_core": round(100 * idle_cpu, 1),
        "quiet_seconds": quiet_seconds,
        "in_idle_at_the_end": idle_after,
        "late_push_warnings": agent_log.count("seems not to push"),
        "inotify_max_user_instances_before": old_inotify,
        "machine": machine(),
    }
    log(f"mailboxes={mailboxes}: all idle {result['all_idle_s']} s, p95 {result['p95_s']} s, RSS {result['rss_mb']} MB "
        f"(peak {result['peak_rss_mb']}), idle CPU {result['idle_cpu_pct_of_core']} % of a core")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mailboxes", type=int, required=True)
    parser.add_argument("--sample", type=int, default=40, help="APPEND -> ack measurements")
    parser.add_argument("--quiet-seconds", type=float, default=60.0, help="how long idle CPU is measured")
    parser.add_argument("--code", type=Path, help="a checkout whose inbox_agent runs the daemon (e.g. a worktree)")
    parser.add_argument("--out", type=Path, help="JSON file (default bench/results/mailboxes-N.json)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (logs, database)")
    args = parser.parse_args(argv)
    with workdir(args.keep) as work:
        result = bench(args.mailboxes, args.sample, args.quiet_seconds, args.code, work)
    out = args.out or ROOT / "bench" / "results" / f"mailboxes-{args.mailboxes}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "machine"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
