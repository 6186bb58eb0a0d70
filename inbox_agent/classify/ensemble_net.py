"""The second opinion's trained models, read together in a few numpy products instead of some thirty thinc layers each.

Why: spaCy runs a ``TextCatEnsemble.v2`` model as a chain of thinc layers, each a Python call with its own
bookkeeping. For a mail of sixty words that bookkeeping, not the arithmetic, took ~0.75 ms a model: three models
cost four times what all the rules cost. ``Ensemble`` reads the weights of the trained ``textcat_multilabel``
models, stacks them, and does the same arithmetic for all of them at once in about two dozen numpy calls.

The model, as spaCy builds it (``training._architecture``): a bag of words and bigrams (a sparse linear layer and a
logistic) beside a CNN (four hash embeddings of NORM, PREFIX, SUFFIX and SHAPE, a maxout mixing them, two residual
window blocks, attention pooling, a residual maxout), both joined into one linear layer and a logistic. Every
maxout is followed by a layer norm. Training stays spaCy's; only reading a mail is done here.

``Ensemble.of`` checks its figures against spaCy's own on a probe text and refuses models it does not reproduce
(another architecture, another spaCy), so a difference shows at start-up, not in the classifier's figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from spacy.pipeline import TextCategorizer
from spacy.tokens import Doc
from thinc.api import Model, NumpyOps

from .rulebook import RulesError

Floats = NDArray[np.float32]
PAD = 2
"""spaCy runs the residual blocks over a doc with this many zero rows either side (``with_array(pad=2)``); the first
block makes them non-zero, and the second block's window sees them."""
PROBE = ("Graag wil ik al mijn gegevens laten verwijderen, mijn account mag weg. Can you send me a copy of my data? "
         "Bitte keine Werbung mehr. Merci de corriger mon adresse !! 🙂 bestelnr 12345")
"""A text of every language and of odd tokens, read by spaCy and by ``Ensemble`` at load to compare."""
TOLERANCE = 1e-4
_OPS = NumpyOps()
_LAYERS = ("extract_features", "hashembed", "maxout", "layernorm", "para-attn", "extract_ngrams", "sparse_linear",
           "linear")


def _param(layer: Model[Any, Any], name: str) -> Floats:
    return np.asarray(layer.get_param(name), dtype=np.float32)


def _stack(arrays: Sequence[Floats]) -> Floats:
    return np.ascontiguousarray(np.stack(arrays))


@dataclass(frozen=True)
class Features:
    """What the models read of a doc: its token attributes (one array a hash embedding) and its n-grams."""

    columns: tuple[NDArray[np.uint64], ...]
    ngrams: Any  # (keys, counts, lengths) as spaCy's extract_ngrams gives them to a sparse linear layer


@dataclass(frozen=True)
class _Maxouts:
    """One maxout and its layer norm of every model, stacked (first axis: the model)."""

    weights: Floats  # (models, inputs, pieces * outputs): piece p of output o in column p * outputs + o
    bias: Floats  # (models, 1, pieces * outputs)
    outputs: int
    pieces: int
    gain: Floats  # (models, 1, outputs), of the layer norm
    shift: Floats

    @classmethod
    def of(cls, maxouts: Sequence[Model[Any, Any]], norms: Sequence[Model[Any, Any]]) -> _Maxouts:
        outputs, pieces, inputs = _param(maxouts[0], "W").shape
        return cls(
            _stack([_param(m, "W").transpose((2, 1, 0)).reshape((inputs, pieces * outputs)) for m in maxouts]),
            _stack([_param(m, "b").T.reshape((1, -1)) for m in maxouts]), outputs, pieces,
            _stack([_param(n, "G")[None] for n in norms]), _stack([_param(n, "b")[None] for n in norms]))

    def __call__(self, x: Floats) -> Floats:
        """Maxout, then layer norm (thinc's: variance plus 1e-8), of every model's rows at once."""
        z = x @ self.weights + self.bias
        n = self.outputs
        y = z[..., :n]
        for piece in range(1, self.pieces):
            y = np.maximum(y, z[..., piece * n:(piece + 1) * n])
        mean = np.full((n, 1), 1 / n, np.float32)
        y = y - y @ mean
        y *= ((y * y) @ mean + np.float32(1e-08)) ** -0.5
        return np.asarray(y * self.gain + self.shift, dtype=np.float32)


def _window(x: Floats) -> Floats:
    """Each row beside its neighbours (thinc's ``expand_window`` of width 1; zeros past either end)."""
    models, n, width = x.shape
    out = np.zeros((models, n, 3 * width), x.dtype)
    out[:, 1:, :width] = x[:, :-1]
    out[:, :, width:2 * width] = x
    out[:, :-1, 2 * width:] = x[:, 1:]
    return out


def _logistic(x: Floats) -> Floats:
    """1 / (1 + e^-x), written so that a large -x does not overflow."""
    return np.asarray(0.5 * (1 + np.tanh(0.5 * x)), dtype=np.float32)


class Ensemble:
    """The trained ``textcat_multilabel`` models (``TextCatEnsemble.v2``, alike but for their weights), read-only."""

    def __init__(self, textcats: Sequence[TextCategorizer]) -> None:
        found = [{name: [n for n in t.model.walk(order="dfs_pre") if n.name == name] for name in _LAYERS}
                 for t in textcats]
        if len({tuple(t.labels) for t in textcats}) != 1:
            raise ValueError("the models differ in their labels")
        self.labels = tuple(textcats[0].labels)
        first = found[0]
        self.reading = (tuple(first["extract_features"][0].attrs["columns"]), first["extract_ngrams"][0])
        """What the models read of a doc: token attributes, and the n-gram layer (the same for all)."""
        self.bags = [f["sparse_linear"][0] for f in found]
        # every hash embedding of every model in one table; each embedding's rows start at its offset
        embeds = [e for f in found for e in f["hashembed"]]
        self.table = np.ascontiguousarray(np.vstack([_param(e, "E") for e in embeds]))
        sizes = [_param(e, "E").shape[0] for e in embeds]
        self.embeddings = [(int(e.attrs["seed"]), size, offset)
                           for e, size, offset in zip(embeds, sizes, np.cumsum([0, *sizes[:-1]]).tolist(), strict=True)]
        self.blocks = [_Maxouts.of([f["maxout"][i] for f in found], [f["layernorm"][i] for f in found])
                       for i in range(4)]
        self.attention = _stack([_param(f["para-attn"][0], "Q").reshape((-1, 1)) for f in found])
        self.output = (_stack([_param(f["linear"][0], "W").T for f in found]),
                       _stack([_param(f["linear"][0], "b")[None] for f in found]))
        if any(len(f["hashembed"]) != len(self.reading[0]) or len(f["maxout"]) != 4 for f in found) or any(
                f["extract_ngrams"][0].attrs != first["extract_ngrams"][0].attrs for f in found):
            raise ValueError("not alike TextCatEnsemble.v2 models")

    @classmethod
    def of(cls, textcats: Sequence[TextCategorizer], probe: Doc) -> Ensemble:
        """The ensemble of ``textcats``, once it reads ``probe`` as spaCy does; models it cannot read are refused."""
        try:
            ensemble = cls(textcats)
            got = ensemble.probabilities(ensemble.features(probe))
        except (IndexError, KeyError, ValueError) as exc:
            raise RulesError(f"the second opinion reads alike TextCatEnsemble.v2 models only ({exc})") from exc
        want = np.mean([np.asarray(t.predict([probe]))[0] for t in textcats], axis=0)
        difference = float(np.abs(got - want).max()) if got.shape == want.shape else np.inf
        if difference > TOLERANCE:
            raise RulesError("the second opinion's numpy reading of its models differs from spaCy's "
                             f"(largest difference {difference:.2g}): retrain them or check the spaCy version")
        return ensemble

    def features(self, doc: Doc) -> Features:
        ids = doc.to_array(list(self.reading[0])).astype(np.uint64)
        return Features(tuple(np.ascontiguousarray(ids[:, c]) for c in range(ids.shape[1])),
                        self.reading[1].predict([doc]))

    def probabilities(self, doc: Features) -> Floats:
        """The models' mean probability of each label (in ``labels`` order) for one doc of at least one token."""
        models = len(self.bags)
        bags = _logistic(np.stack([np.asarray(bag.predict(doc.ngrams)) for bag in self.bags]))
        hashed: dict[tuple[int, int], NDArray[np.uint32]] = {}
        keys = []
        for i, (seed, size, offset) in enumerate(self.embeddings):
            column = i % len(doc.columns)
            if (column, seed) not in hashed:
                hashed[column, seed] = _OPS.hash(doc.columns[column], seed)
            keys.append(hashed[column, seed] % size + offset)
        n = len(doc.columns[0])
        rows = np.concatenate(keys)
        x: Floats = self.table[rows[:, 0]]  # each token's rows of its hashes, summed in order (thinc's gather_add)
        for j in range(1, rows.shape[1]):
            x = x + self.table[rows[:, j]]
        x = x.reshape((models, len(doc.columns), n, -1)).transpose((0, 2, 1, 3)).reshape((models, n, -1))
        mix, first, second, pooled = self.blocks
        x = mix(x)
        pad = np.zeros((models, PAD, x.shape[2]), x.dtype)
        x = np.concatenate([pad, x, pad], axis=1)
        x = x + first(_window(x))
        x = (x + second(_window(x)))[:, PAD:-PAD]
        weights = x @ self.attention
        weights = np.exp(weights - weights.max(axis=1, keepdims=True))
        v = (x * (weights / weights.sum(axis=1, keepdims=True))).sum(axis=1, keepdims=True)
        v = v + pooled(v)
        w, b = self.output
        probabilities: Floats = _logistic(np.concatenate([bags, v], axis=2) @ w + b).mean(axis=0)[0]
        return probabilities
