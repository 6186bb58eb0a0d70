"""How long the officer's commands take to start: ``--help`` and ``cases list`` (issue 16, item 10).

    .venv/bin/python bench/bench_cli_start.py --config var/demo/config.toml [--runs 5] [--source DIR]

Runs each command as a fresh process (as she types it) and prints the median wall time and
the median CPU time (user + system: what a busy shared machine distorts least), then the
modules that cost most to import. ``--source`` runs another checkout's code (an
older commit, for a before/after figure) with this virtualenv.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

COMMANDS = {"--help": ["--help"], "cases list": ["cases", "list"], "officer list": ["officer", "list"]}
ENTRY = "from inbox_agent.cli import main; main()"
PYTHON = [sys.executable, "-P"]
"""``-P``: the working directory is not put first on the path, so ``--source`` runs that checkout's code
even when the bench is started from this one."""


def timed(args: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    """Median wall time and median CPU time (user + system) of ``runs`` fresh processes."""
    walls, cpus = [], []
    for _ in range(runs):
        before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
        subprocess.run([*PYTHON, "-c", ENTRY, *args], env=env, check=True, capture_output=True)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def heaviest(env: dict[str, str], count: int = 8) -> list[tuple[float, str]]:
    """Cumulative import time of the costliest top-level imports of ``inbox_agent.cli``."""
    out = subprocess.run([*PYTHON, "-X", "importtime", "-c", "import inbox_agent.cli"], env=env,
                         capture_output=True, text=True, check=True).stderr
    found = []
    for line in out.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\s*)(\S+)", line)
        if match and len(match.group(2)) <= 4:  # the CLI package and what it imports directly
            found.append((int(match.group(1)) / 1e6, match.group(3)))
    return sorted(found, reverse=True)[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--source", type=Path, default=None)
    args = parser.parse_args()
    env = {**os.environ, "INBOX_AGENT_CONFIG": str(args.config.resolve())}
    if args.source:
        env["PYTHONPATH"] = str(args.source.resolve())
    for name, command in COMMANDS.items():
        try:
            wall, cpu = timed(command, env, args.runs)
            print(f"{name:<14} {wall:6.2f} s wall  {cpu:6.2f} s CPU")
        except subprocess.CalledProcessError:
            print(f"{name:<14} (fails in this checkout)")
    print("heaviest imports of inbox_agent.cli:")
    for seconds, module in heaviest(env):
        print(f"  {seconds:6.2f} s  {module}")


if __name__ == "__main__":
    main()
