"""Prints the classifier's load time and parse/classify throughput (mails/s on one core); not a test.

Usage: .venv/bin/python bench/bench_classifier.py [CORPUS_DIR] [--seconds N] [--synthetic N]
CORPUS_DIR defaults to ../shared/corpus/dev/mail; ``--synthetic N`` adds the same figures for N
mails of the benchmark's mix (bench/mailgen.py: 30 % privacy, 5 % robots, the rest shop questions).
Each raw mail is parsed once, as in the daemon: unique MIME boundaries make a repeated parse cheaper.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import spacy

from inbox_agent.classify import Classifier
from inbox_agent.config import REPO_ROOT
from inbox_agent.models import ParsedMessage
from inbox_agent.parse import ParseError, parse


def tokenizer_rate(messages: list[ParsedMessage], classifier: Classifier, seconds: float) -> float:
    """Mails/s of spaCy's bare tokenizer (a blank pipeline of each mail's language) over subject and text.

    The classifier's figure divided by this one is a ratio that a slower machine does not move.
    """
    blanks = {lang: spacy.blank(lang) for lang in ("nl", "en", "de", "fr")}
    work = [(blanks.get(classifier.classify(m).language, blanks["nl"]).tokenizer, f"{m.subject}\n{m.text}")
            for m in messages]
    done = 0
    started = time.process_time()
    while time.process_time() - started < seconds:
        for tokenize, text in work:
            tokenize(text)
        done += len(work)
    return done / (time.process_time() - started)


def measure(raws: list[bytes], classifier: Classifier, seconds: float) -> tuple[float, float, float, int]:
    """Parse every mail once, then classify the parsed ones for ``seconds``, then tokenize them for ``seconds``:
    (parse/s, classify/s, tokenizer/s, parsed)."""
    # CPU time of this process: on a shared machine wall time also counts other processes' turns.
    started = time.process_time()
    messages: list[ParsedMessage] = []
    for raw in raws:
        try:
            messages.append(parse(raw))
        except ParseError:
            continue
    parse_rate = len(raws) / max(time.process_time() - started, 1e-9)
    if not messages:
        raise SystemExit("no parseable mail")
    for msg in messages:  # warm the normaliser cache as a running daemon would have it
        classifier.classify(msg)
    done = 0
    started = time.process_time()
    while time.process_time() - started < seconds:
        for msg in messages:
            classifier.classify(msg)
        done += len(messages)
    rate = done / (time.process_time() - started)
    return parse_rate, rate, tokenizer_rate(messages, classifier, seconds), len(messages)


def main() -> None:
    default = REPO_ROOT.parent / "shared" / "corpus" / "dev" / "mail"
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("corpus", nargs="?", type=Path, default=default)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--synthetic", type=int, default=0, metavar="N")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core

    started = time.perf_counter()
    classifier = Classifier.load(REPO_ROOT / "classifiers")
    load = time.perf_counter() - started
    raws = [p.read_bytes() for p in sorted(args.corpus.glob("*.eml"))]
    parse_rate, rate, tokens, count = measure(raws, classifier, args.seconds)
    # bench/run.py reads these four lines.
    print(f"load time (nl, en, de, fr):  {load:.2f} s")
    print(f"parse:                       {parse_rate:,.0f} mails/s")
    print(f"classify ({count} mails, 1 core): {rate:,.0f} mails/s (CPU time)")
    print(f"bare spaCy tokenizer:        {tokens:,.0f} mails/s; classifier/tokenizer {rate / tokens:.3f}")
    if args.synthetic:
        sys.path.insert(0, str(REPO_ROOT))  # bench/ is a package of the repository, not installed
        from bench.mailgen import generate

        raws = [mail.raw for mail in generate(args.synthetic)]
        parse_rate, rate, tokens, count = measure(raws, classifier, args.seconds)
        print(f"synthetic mix ({args.synthetic} mails, 1 core, CPU time): parsing {parse_rate:,.0f} mails/s, "
              f"classifying {rate:,.0f} mails/s, bare tokenizer {tokens:,.0f} mails/s ({rate / tokens:.3f})")

if __name__ == "__main__":
    main()
