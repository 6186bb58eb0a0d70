"""Writes every Classification of a fixed set of mails as JSON lines, to compare the classifier before and after a
change that must not alter behaviour (speed work): the two files are byte-identical or the change is wrong.

Usage: .venv/bin/python bench/classify_snapshot.py OUT.jsonl [--synthetic N] [--cache-dir DIR] [--fixtures DIR]
       [--corpus DIR]

The mails: every .eml under tests/fixtures/classify/ and ../shared/corpus/ (or the folders given), every line
of the phrasing tables (tests/fixtures/classify/phrasings*.txt), and ``--synthetic N`` mails of the benchmark's mix
(bench/mailgen.py, default 2000). Each line is ``{"mail": NAME, "result": CLASSIFICATION}`` (or ``"error"`` for a
mail that does not parse). The whole set is classified a second time in reverse order, with the caches warm; a mail
whose second answer differs is named on stderr and the exit status is 1.

To compare a patch alone while others change the tree: a worktree at HEAD (``git worktree add -f /tmp/pc HEAD``),
the snapshot with ``PYTHONPATH=/tmp/pc`` and ``--corpus /work/shared/corpus`` before and after applying the patch
there, then ``cmp`` the two files. Nobody reads the output mail by mail (it covers held-out sets too): compare whole
files, or count differences.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from inbox_agent.classify import Classifier
from inbox_agent.classify.phrasings import read_table
from inbox_agent.config import REPO_ROOT
from inbox_agent.models import ParsedMessage
from inbox_agent.parse import ParseError, parse

SYNTHETIC_END = datetime(2026, 1, 1, tzinfo=UTC)
"""A fixed end date for the synthetic mails, so two runs on different days hold the same mail."""


def _phrasings(folder: Path) -> Iterator[tuple[str, ParsedMessage]]:
    """The phrasing tables' lines as messages (``classify.phrasings``, as the tests read them)."""
    for table in sorted(folder.glob("phrasings*.txt")):
        for phrasing in read_table(table):
            yield f"{table.name}:{phrasing.number}", phrasing.message()


def mails(fixtures: Path, corpus: Path, synthetic: int) -> Iterator[tuple[str, ParsedMessage | None]]:
    """(name, parsed message or None when it does not parse), in a fixed order."""
    for root, label in ((fixtures, "fixtures"), (corpus, "corpus")):
        for path in sorted(root.rglob("*.eml")):
            try:
                yield f"{label}/{path.relative_to(root)}", parse(path.read_bytes())
            except ParseError:
                yield f"{label}/{path.relative_to(root)}", None
    yield from _phrasings(fixtures)
    if synthetic:
        sys.path.insert(0, str(REPO_ROOT))  # bench/ is a package of the repository, not installed
        from bench.mailgen import generate

        for number, mail in enumerate(generate(synthetic, end=SYNTHETIC_END)):
            try:
                yield f"synthetic/{number}", parse(mail.raw)
            except ParseError:
                yield f"synthetic/{number}", None


def _line(classifier: Classifier, name: str, msg: ParsedMessage | None) -> str:
    if msg is None:
        return json.dumps({"mail": name, "error": "parse"}, ensure_ascii=False)
    result = classifier.classify(msg).model_dump(mode="json")
    return json.dumps({"mail": name, "result": result}, ensure_ascii=False, sort_keys=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--synthetic", type=int, default=2000, metavar="N")
    parser.add_argument("--cache-dir", type=Path, default=None, help="lemma and model cache (default: the user's)")
    parser.add_argument("--fixtures", type=Path, default=REPO_ROOT / "tests" / "fixtures" / "classify")
    parser.add_argument("--corpus", type=Path, default=REPO_ROOT.parent / "shared" / "corpus")
    args = parser.parse_args()
    classifier = Classifier.load(REPO_ROOT / "classifiers", args.cache_dir)
    work = list(mails(args.fixtures, args.corpus, args.synthetic))
    lines = [_line(classifier, name, msg) for name, msg in work]
    args.out.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    unstable = [name for (name, msg), line in reversed(list(zip(work, lines, strict=True)))
                if _line(classifier, name, msg) != line]
    print(f"{len(lines)} mails -> {args.out}; {len(unstable)} with another answer on the second pass",
          file=sys.stderr)
    for name in unstable:
        print(f"  unstable: {name}", file=sys.stderr)
    if unstable:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
