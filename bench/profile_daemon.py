"""Profile ``inbox-agent run --once`` on a synthetic backlog with py-spy (all threads, native off).

    .venv/bin/python -m bench.profile_daemon --size 10000 [--out bench/results/profile-10000]

Writes ``<out>.txt`` (collapsed stacks, py-spy's raw format) and prints
the functions with the most samples, inclusive and self, across every thread. py-spy is a dev tool,
not a dependency: ``.venv/bin/pip install py-spy``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from bench.mailgen import generate
from bench.run import BIN, RESULTS, agent_config, fill_maildir, first_select
from inbox_agent.sandbox import DovecotServer, SmtpSink


def summarise(collapsed: Path, top: int = 30) -> str:
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for line in collapsed.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = [f for f in stack.split(";") if f]
        total += count
        if frames[0].startswith("process "):
            frames = frames[1:]
        for frame in set(frames):
            inclusive[frame] += count
        if frames:
            own[frames[-1]] += count
    lines = [f"{total} samples", "", "inclusive (all threads):"]
    lines += [f"{n / total * 100:6.1f}%  {f}" for f, n in inclusive.most_common(top)]
    lines += ["", "self:"]
    lines += [f"{n / total * 100:6.1f}%  {f}" for f, n in own.most_common(top)]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_daemon")
    parser.add_argument("--size", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--rate", type=int, default=200, help="py-spy samples per second")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    py_spy = shutil.which("py-spy") or shutil.which("py-spy", path=str(BIN))
    if py_spy is None:
        parser.error("py-spy is not installed: .venv/bin/pip install py-spy")
    out = args.out or RESULTS.parent / f"profile-{args.size}"
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="inbox-agent-profile-"))
    try:
        with DovecotServer() as dovecot, SmtpSink() as sink:
            dovecot.add_user("profile", "profile-pw")
            fill_maildir(dovecot, "profile", generate(args.size, seed=args.seed))
            first_select(dovecot, "profile")
            config = agent_config(work, dovecot, "profile", "profile-pw", sink)
            command = [py_spy, "record", "--threads", "--rate", str(args.rate)]
            for fmt, suffix in (("raw", ".txt"),):
                done = subprocess.run([*command, "--format", fmt, "--output", str(out) + suffix, "--",
                                       str(BIN / "inbox-agent"), "run", "--once", "--config", str(config)],
                                      capture_output=True, text=True)
                if done.returncode != 0:
                    print(done.stderr[-3000:], file=sys.stderr)
                    return 1
            print(f"sink received {len(sink.messages)} mails")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(summarise(Path(str(out) + ".txt")))
    print(f"\ncollapsed stacks in {out}.txt (flamegraph.pl or speedscope.app read them)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
