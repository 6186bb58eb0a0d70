"""py3langid's character n-gram model for nl/en/de/fr, kept in a compact copy of our own.

py3langid (BSD licence; its model and method come from langid.py by Marco Lui) ships one model
for 97 languages: a byte automaton of 104,583 states stored as a full transition table (39 MB of
uint32 rows) and a feature table of 100,053 n-gram features by 142 classes (28 MB). Loaded as
shipped it held 48 MB for the daemon's life and took 100 MB more while it decompressed, the
largest step of a start; the agent reads four of the 142 columns and calls the model for about
2 % of mail (those too short for the function-word vote).

The automaton is an Aho-Corasick automaton: each state is a node of a trie of byte n-grams, and a
byte without an edge in the trie follows the state's failure link (its longest proper suffix in
the trie) and tries again. So the trie's edges and one failure link per state walk it exactly as
the full table does, in 1.6 MB instead of 39. The copy (``langid-<version>-<format>.npz`` in the
cache folder, ~2 MB) is built once from the installed py3langid model; scoring is py3langid's own
arithmetic (``LanguageIdentifier(norm_probs=True)`` after ``set_languages``): the same features in
the same order, the same float16 table and float32 sums, so the same label and probability.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import lzma
import math
import os
import shutil
import tempfile
import unicodedata
import zipfile
from array import array
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "1"
"""Part of the copy's file name, with py3langid's version: raised when the layout below changes."""
_CHUNK = 4096
"""States whose transition rows are expanded at once while the trie is read out (4 MB)."""


class LangidModel:
    """py3langid restricted to some languages, walking its automaton by trie edges and failure links."""

    def __init__(self, arrays: dict[str, np.ndarray[Any, Any]]) -> None:
        self.classes: list[str] = [str(c) for c in arrays["classes"].tolist()]
        self._labels = arrays["labels"].astype(np.uint8).tobytes()
        """The byte on the edge into each state; the children of state s are ``first[s]:first[s + 1]``."""
        self._first = _ints("I", arrays["first"])
        self._fail = _ints("I", arrays["fail"])
        self._feature = _ints("i", arrays["feature"])
        """The feature each state counts, -1 for none."""
        self._ptc = np.ascontiguousarray(arrays["ptc"])
        self._pc = np.ascontiguousarray(arrays["pc"])

    @classmethod
    def load(cls, cache_dir: Path, languages: Iterable[str]) -> LangidModel:
        """The copy in ``cache_dir``, built there first when it is missing or unreadable."""
        wanted = list(languages)
        version = importlib.metadata.version("py3langid")
        path = cache_dir / f"langid-{version}-{FORMAT}-{'-'.join(wanted)}.npz"
        # A copy cut short (a crash before its blocks reached the disk) is no zip or no data at all: built again too.
        with (
            contextlib.suppress(OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile),
            np.load(path, allow_pickle=False) as stored,
        ):
            return cls({key: stored[key] for key in stored.files})
        arrays = _shipped_model(wanted)
        with contextlib.suppress(OSError):  # an unwritable cache folder still works, it only loads slower
            cache_dir.mkdir(parents=True, exist_ok=True)
            # Written aside and renamed: two processes starting at once never read half a file.
            with tempfile.NamedTemporaryFile(dir=cache_dir, suffix=".npz", delete=False) as part:
                named: dict[str, Any] = arrays
                np.savez(part, **named)
            os.replace(part.name, path)
        return cls(arrays)

    def classify(self, text: str) -> tuple[str, float]:
        """(language, probability over this model's languages), as py3langid's ``classify``."""
        data = _encode(text)
        visits = self._visits(data)
        if visits:
            idx = np.fromiter(visits.keys(), dtype=np.intp, count=len(visits))
            counts = np.fromiter(visits.values(), dtype=np.float32, count=len(visits))
            scores = np.log1p(counts) @ self._ptc[idx] + self._pc
        else:
            scores = np.full(len(self.classes), 0.0, dtype=np.float32)
        scores *= 1.0 / math.sqrt(len(data) or 1)  # py3langid's temperature: sqrt of the byte count
        np.exp(scores - scores.max(), out=scores)
        scores /= scores.sum()
        best = int(scores.argmax())
        return self.classes[best], float(scores[best])

    def _visits(self, data: bytes) -> Counter[int]:
        """How often each feature occurs in ``data``, in order of first occurrence (py3langid's order)."""
        labels, first, fail, feature = self._labels, self._first, self._fail, self._feature
        state = 0
        found: list[int] = []
        for byte in data:
            while (child := labels.find(byte, first[state], first[state + 1])) < 0 and state:
                state = fail[state]
            state = max(child, 0)
            if (counted := feature[state]) >= 0:
                found.append(counted)
        return Counter(found)


def _ints(typecode: str, values: np.ndarray[Any, Any]) -> array[int]:
    """A stdlib array: indexing it from Python is several times faster than indexing numpy."""
    out = array(typecode)
    out.frombytes(values.astype(np.dtype(typecode)).tobytes())
    return out


def _encode(text: str) -> bytes:
    """py3langid's ``_encode`` for a str: all-capital text lower-cased, NFC, UTF-8."""
    if text.isupper():
        text = text.lower()
    return unicodedata.normalize("NFC", text).encode("utf8", errors="surrogatepass")


def _shipped_model(languages: list[str]) -> dict[str, np.ndarray[Any, Any]]:
    """The compact arrays of py3langid's model file (an LZMA-compressed npz, decompressed to a temporary file)."""
    from py3langid.langid import MODEL_DIR, MODEL_FILE  # type: ignore[import-untyped]

    with tempfile.TemporaryFile(suffix=".npz") as tmp:
        with lzma.open(Path(MODEL_DIR) / MODEL_FILE) as src:
            shutil.copyfileobj(src, tmp, length=1 << 20)
        tmp.seek(0)
        with np.load(tmp, allow_pickle=False) as model:
            return build(model, languages)


def build(model: Mapping[str, np.ndarray[Any, Any]], languages: Iterable[str]) -> dict[str, np.ndarray[Any, Any]]:
    """The compact arrays for ``languages`` (in py3langid's class order) from py3langid's npz ``model``.

    Each array is read when it is needed and dropped after (an npz reads a member per access): the
    transition table is gone before the feature table is read, so the two (39 + 28 MB) are never
    held at once.
    """
    classes = model["classes"].tolist()
    wanted = set(languages)
    columns = [i for i, c in enumerate(classes) if c in wanted]
    if len({classes[i] for i in columns}) != len(columns):  # py3langid merges such aliases (sr, uz); we do not
        raise ValueError(f"a language of {sorted(wanted)} has two columns in py3langid's model")
    arrays = _trie(model["nextmove"].reshape(-1, 256), model["nextmove_row"], model["out_feat"])
    arrays["classes"] = np.array([classes[i] for i in columns])
    arrays["ptc"] = np.ascontiguousarray(model["ptc"][:, columns])
    arrays["pc"] = np.ascontiguousarray(model["pc"][columns])
    return arrays


def _trie(
    rows: np.ndarray[Any, Any], row_of: np.ndarray[Any, Any], out: np.ndarray[Any, Any]
) -> dict[str, np.ndarray[Any, Any]]:
    """Trie edges, failure links and features of the automaton whose state s goes to ``rows[row_of[s]]``.

    The table is read breadth-first: a state's trie children are the transitions to states not
    reached yet (any other transition leads no deeper than the state itself), numbered in the order
    of their parent and byte, so each state's children are one contiguous range. A child's failure
    link is where its parent's failure link goes on the child's byte (the root's children: the root).
    """
    states = len(row_of)
    new = np.full(states, -1, dtype=np.int64)  # old state -> new number
    new[0] = 0
    fail = np.zeros(states, dtype=np.int64)  # old state -> old state of its failure link
    first = np.zeros(states + 1, dtype=np.int64)  # new number -> new number of its first child
    labels = np.zeros(states, dtype=np.uint8)  # new number -> byte on its edge
    first[states] = states
    numbered = 1
    level = np.zeros(1, dtype=np.int64)
    while len(level):
        deeper = []
        for chunk in np.array_split(level, -(-len(level) // _CHUNK)):
            targets = rows[row_of[chunk]]
            is_child = new[targets] < 0
            parent, byte = np.nonzero(is_child)
            children = targets[parent, byte].astype(np.int64)
            counts = is_child.sum(axis=1)
            first[new[chunk]] = numbered + np.cumsum(counts) - counts
            new[children] = np.arange(numbered, numbered + len(children))
            labels[new[children]] = byte
            numbered += len(children)
            parents = chunk[parent]
            fail[children] = np.where(parents == 0, 0, rows[row_of[fail[parents]], byte])
            deeper.append(children)
        level = np.concatenate(deeper)
    if numbered != states:  # pragma: no cover - py3langid's automaton is a trie with failure links
        raise ValueError(f"py3langid's automaton is not a trie: {numbered} of {states} states reached")
    order = np.argsort(new)
    return {
        "labels": labels,
        "first": first.astype(np.uint32),
        "fail": new[fail[order]].astype(np.uint32),
        "feature": out[order].astype(np.int32),
    }
