"""Prints the classifier's load time and throughput (mails/s on one core); not a test.

Usage: .venv/bin/python bench/bench_classifier.py [CORPUS_DIR] [--seconds N]
Parsing is timed separately: the target (>= 1,500 mails/s) is for classification of parsed mail.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from inbox_agent.classify import Classifier
from inbox_agent.config import REPO_ROOT
from inbox_agent.parse import ParseError, parse


def main() -> None:
    default = REPO_ROOT.parent / "shared" / "corpus" / "dev" / "mail"
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("corpus", nargs="?", type=Path, default=default)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core

    started = time.perf_counter()
    classifier = Classifier.load(REPO_ROOT / "classifiers")
    load = time.perf_counter() - started

    raws = [p.read_bytes() for p in sorted(args.corpus.glob("*.eml"))]
    started = time.process_time()
    messages = []
    for raw in raws:
        try:
            messages.append(parse(raw))
        except ParseError:
            continue
    parse_rate = len(raws) / max(time.process_time() - started, 1e-9)
    if not messages:
        raise SystemExit(f"no parseable mail in {args.corpus}")

    for msg in messages:  # warm the normaliser cache as a running daemon would have it
        classifier.classify(msg)
    # CPU time of this process: on a shared machine wall time also counts other processes' turns.
    done = 0
    started = time.process_time()
    while time.process_time() - started < args.seconds:
        for msg in messages:
            classifier.classify(msg)
        done += len(messages)
    rate = done / (time.process_time() - started)
    print(f"load time (nl, en, de, fr):  {load:.2f} s")
    print(f"parse:                       {parse_rate:,.0f} mails/s")
    print(f"classify ({len(messages)} mails, 1 core): {rate:,.0f} mails/s (CPU time)")


if __name__ == "__main__":
    main()
