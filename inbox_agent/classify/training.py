"""Trains the second opinion (``second_opinion.py``) from labelled mail folders and phrasing tables.

``scripts/train-second-opinion`` runs it over this repository's sources; run it again after adding labelled mail or
phrasing lines, and commit the new ``classifiers/second_opinion/model`` with the figures it reaches. Any set marked
held out (a ``HELD_OUT`` file) is refused: a model that has seen a set cannot be measured on it.

The model is spaCy's ``textcat_multilabel`` with its ensemble architecture (bag of words and bigrams beside a small
CNN over hashed word forms, prefixes, suffixes and shapes) and no pretrained vectors: none exist on this machine for
Dutch, and the hashed affixes carry the compounds and inflections that Dutch and German mail is full of. The same
seed over the same sources gives the same model.
"""

from __future__ import annotations

import argparse
import random
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import spacy
from spacy.training import Example
from thinc.api import fix_random_seed

from ..evaluate import read_labels
from ..parse import ParseError, parse
from .classifier import Classifier
from .layout import _Texts
from .phrasings import read_table
from .second_opinion import LABELS, model_text

SEEDS = (0, 1, 2)
"""One model per seed (``model-<seed>``), averaged at work: see ``SecondOpinion``."""
WIDTH = 32
EPOCHS = 10
BATCH = 16
DROPOUT = 0.2


@dataclass(frozen=True)
class Sample:
    text: str
    labels: frozenset[str]


def _architecture(width: int) -> dict[str, Any]:
    """spaCy's registered layers by name, as a ``config.cfg`` would give them (written into each model's)."""
    return {
        "@architectures": "spacy.TextCatEnsemble.v2",
        "linear_model": {
            "@architectures": "spacy.TextCatBOW.v3", "exclusive_classes": False, "ngram_size": 2,
            "no_output_layer": False, "length": 2**18,
        },
        "tok2vec": {
            "@architectures": "spacy.Tok2Vec.v2",
            "embed": {
                "@architectures": "spacy.MultiHashEmbed.v2", "width": width, "rows": [5000, 2500, 2500, 2500],
                "attrs": ["NORM", "PREFIX", "SUFFIX", "SHAPE"], "include_static_vectors": False,
            },
            "encode": {
                "@architectures": "spacy.MaxoutWindowEncoder.v2", "width": width, "window_size": 1,
                "maxout_pieces": 3, "depth": 2,
            },
        },
    }


def folder_samples(classifier: Classifier, folder: Path) -> list[Sample]:
    """A labelled folder (``labels.jsonl`` + ``mail/``) read as the classifier reads mail; automated mail is left
    out (the robot rules decide it before the model is asked), and so is a reply whose labels its thread gives (a bare
    "ja graag" to the shop's question, "En?" chasing a request): the model does not read the quote, and taught them it
    learnt "En?" as privacy_other, also under a question about an order."""
    if (folder / "HELD_OUT").exists():
        raise SystemExit(f"{folder}: held out (HELD_OUT); it may be scored, never trained on")
    samples = []
    for label in read_labels(folder):
        if label.get("automated"):
            continue
        try:
            msg = parse((folder / "mail" / label["file"]).read_bytes())
        except (OSError, ParseError) as exc:
            raise SystemExit(f"{folder / 'mail' / label['file']}: {exc}") from exc
        texts = classifier.texts(msg)
        if not classifier.read_from_thread(texts):
            samples.append(_sample(texts, label["categories"]))
    return samples


def table_samples(classifier: Classifier, table: Path) -> list[Sample]:
    """A phrasing table (``classify.phrasings``) as one sample a line."""
    return [_sample(classifier.texts(p.message()), p.expected.split(",")) for p in read_table(table)]


def _sample(texts: _Texts, categories: Iterable[str]) -> Sample:
    return Sample(model_text(texts.subject, texts.own, texts.extra), frozenset(categories))


def train_all(samples: Sequence[Sample], folder: Path, epochs: int = EPOCHS, seeds: Sequence[int] = SEEDS) -> None:
    """One model per seed in ``folder`` (``model-<seed>``, each replaced whole; older ones removed)."""
    for old in folder.glob("model-*"):
        shutil.rmtree(old)
    for seed in seeds:
        train(samples, folder / f"model-{seed}", epochs=epochs, seed=seed)


def train(samples: Sequence[Sample], out: Path, epochs: int, seed: int) -> None:
    """A model trained on ``samples``, written to ``out``."""
    fix_random_seed(seed)
    nlp = spacy.blank("xx")
    textcat = nlp.add_pipe("textcat_multilabel", config={"model": _architecture(WIDTH)})
    for label in LABELS:
        textcat.add_label(label.value)  # type: ignore[attr-defined]
    examples = [
        Example.from_dict(nlp.make_doc(s.text.lower()), {"cats": {c.value: float(c.value in s.labels) for c in LABELS}})
        for s in samples
    ]
    optimizer = nlp.initialize(lambda: examples)
    for epoch in range(epochs):
        random.Random(seed + epoch).shuffle(examples)
        for start in range(0, len(examples), BATCH):
            nlp.update(examples[start:start + BATCH], sgd=optimizer, drop=DROPOUT)
    nlp.to_disk(out)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m inbox_agent.classify.training", description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path, help="the second_opinion folder: its model-* folders are replaced")
    parser.add_argument("--rules", type=Path, required=True, help="the classifiers/ folder (for how mail is read)")
    parser.add_argument("--folder", type=Path, action="append", default=[], help="a labelled folder (repeatable)")
    parser.add_argument("--table", type=Path, action="append", default=[], help="a phrasing table (repeatable)")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    args = parser.parse_args(argv)
    classifier = Classifier.load_rules(args.rules)
    samples = [s for f in args.folder for s in folder_samples(classifier, f)]
    samples += [s for t in args.table for s in table_samples(classifier, t)]
    if not samples:
        raise SystemExit("nothing to train on: give --folder or --table")
    train_all(samples, args.out, epochs=args.epochs)
    print(f"{args.out}: {len(SEEDS)} models trained on {len(samples)} samples "
          f"from {len(args.folder)} folders and {len(args.table)} tables")


if __name__ == "__main__":
    main()
