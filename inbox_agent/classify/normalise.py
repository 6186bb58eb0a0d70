"""Every word, in the rules and in the mail, goes through one normaliser: the same cue is the same word.

Lower case, the variant table, the lookup lemma (spacy-lookups-data, pruned to the rules' words and cached per
rules folder), accent folding and suffix stripping (``classifiers/<lang>/normalise.toml``). Kept apart from the
rules because it knows nothing of them: it is handed the words to keep.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import importlib.metadata
import importlib.util
import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TextIO

from ..language import any_of, fold

CACHE_LIMIT = 200_000
COMPOUND_TAIL = 4
"""Letters a word must have after a ``compound_heads`` entry to be read as that compound ("reclameren" is not)."""
LEMMA_FORMAT = "2"
"""Part of the lemma cache key: raised when the pruning changes (2: lemmas that are variant entries stay)."""
_LemmaReader = Callable[[set[str] | None], Iterable[tuple[str, str]]]
"""A lemma table's (form, lemma) entries of the given forms, or of all forms for None (``_lemma_entries``)."""


class Normaliser:
    """Word -> normalised form: variant table, lookup lemma, accent folding, suffix stripping."""

    def __init__(self, lang: str, config: dict[str, Any]) -> None:
        self.lang = lang
        self.variants = {fold(k): fold(v) for k, v in config.get("variants", {}).items()}
        self.passes = [sorted((fold(s) for s in p), key=len, reverse=True) for p in config.get("suffixes", [])]
        self.min_stem = int(config.get("min_stem", 3))
        self.undouble = bool(config.get("undouble", False))
        self.compound_heads = tuple(sorted((fold(h) for h in config.get("compound_heads", [])), key=len, reverse=True))
        self.lemmas: dict[str, str] = {}
        self._cache: dict[str, str] = {}
        self._lock = threading.Lock()

    def stem(self, word: str) -> str:
        """Strip at most one suffix per pass (e.g. Dutch diminutive, then inflection)."""
        for suffixes in self.passes:
            for suffix in suffixes:
                if word.endswith(suffix) and len(word) - len(suffix) >= self.min_stem:
                    word = word[: -len(suffix)]
                    break
        if self.undouble and len(word) > 3 and word[-1] == word[-2] and word[-1].isalpha():
            word = word[:-1]
        return word

    def _compute(self, word: str, lemmas: dict[str, str]) -> str:
        lower = word.lower()
        folded = fold(lower)
        if not any(c.isalpha() for c in folded):
            return folded
        if folded not in self.variants and (part := self._compound_part(folded)):
            return self._compute(part, lemmas)
        # The lemma meets the variant table too ("supprimiez" -> "supprimer" -> "suppr"), except entries that
        # only keep a word itself ("profile" = "profile" protects the form, not the lemma of "profiling").
        lemma = fold(lemmas.get(lower, lower))
        for form in (folded, lemma):
            if form in self.variants and (form == folded or self.variants[form] != form):
                target = self.variants[form]
                # A target that is itself an entry is final (protects "gegevens" from stemming);
                # any other target is stemmed like the cue words it has to meet.
                return target if target in self.variants else self.stem(target)
        return self.stem(lemma)

    def _compound_part(self, folded: str) -> str | None:
        """The part a compound is read as: "reclamemails" -> "reclame" (``compound_heads``, at least
        ``COMPOUND_TAIL`` letters follow). Not the last part: "productgegevens" and "Bankdaten" are no
        personal data of the writer's, so such compounds are listed in the rules one by one."""
        for head in self.compound_heads:
            if folded.startswith(head) and len(folded) >= len(head) + COMPOUND_TAIL:
                return head
        return None

    def __call__(self, word: str) -> str:
        cached = self._cache.get(word)
        if cached is None:
            cached = self._compute(word, self.lemmas)
            with self._lock:
                if len(self._cache) > CACHE_LIMIT:
                    self._cache.clear()
                self._cache[word] = cached
        return cached

    def adopt_lemmas(self, read: _LemmaReader, cue_words: Iterable[str]) -> None:
        """Keep only the lemma entries that can turn a word into (or away from) a cue.

        The full tables hold ~800k forms for four languages; the rules need a few hundred
        stems, so the rest is dropped after the cue stems are known. Entries whose surface
        form stems like a cue stay too, so "gegeven" (given) is not mistaken for "gegevens".
        ``read(forms)`` gives a table's entries of those forms, ``read(None)`` all of them, in file order: the
        cue words' own entries give the stems, then each entry is kept or dropped as it is read. The whole
        table was a first start's memory peak (+50 MB, most of it kept by the allocator afterwards).
        """
        words = list(cue_words)
        own = dict(read({w.lower() for w in words} | set(self.compound_heads)))  # all that _compute looks up
        stems = {self._compute(w, own) for w in words}
        heads = {stem[:3] for stem in stems}
        variant_heads = {variant[:3] for variant in self.variants}
        stem_start = re.compile(any_of(stems)).match

        def relevant(word: str) -> bool:
            # A word's stem is a prefix of the folded word, and so is a variant: a cheap 3-letter test rejects ~95% of
            # entries, and stemming is left to words that begin with a cue's stem
            start = word[:3]
            head = start if start.isascii() else fold(start)
            if head not in heads and (start if start.isascii() else fold(word)[:3]) not in variant_heads:
                return False
            folded = fold(word)
            return (head in heads and stem_start(folded) is not None and self.stem(folded) in stems) or (
                folded in self.variants)

        kept: dict[str, str] = {}
        for form, lemma in read(None):
            if relevant(lemma) or relevant(form):
                kept[form] = lemma
            else:  # a form's last entry decides, as when the table was a dict
                kept.pop(form, None)
        self.use_lemmas(kept)

    def use_lemmas(self, lemmas: dict[str, str]) -> None:
        """Normalise with ``lemmas`` from now on: words normalised before (the rules' own cue words, while
        they loaded) are forgotten, so a table read from the cache gives what a freshly built one gives."""
        self.lemmas = lemmas
        self._cache.clear()


def _lemma_entries(lang: str, forms: set[str] | None) -> Iterator[tuple[str, str]]:
    """(form, lemma) of the spacy-lookups-data lookup table, lower case, only ``forms`` unless None.

    Read directly: the Lookups API is 3x slower to load.
    """
    spec = importlib.util.find_spec("spacy_lookups_data")
    if spec is None or spec.origin is None:  # pragma: no cover - a declared dependency
        return
    path = Path(spec.origin).parent / "data" / f"{lang}_lemma_lookup.json.gz"
    if not path.exists():
        return
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for key, value in _json_entries(handle, forms):
            lemma = value[0] if isinstance(value, list) and value else value
            if isinstance(lemma, str) and (forms is None or key.lower() in forms):
                yield key.lower(), lemma.lower()


def _json_entries(handle: TextIO, keys: set[str] | None = None) -> Iterator[tuple[str, Any]]:
    """The entries of a JSON object written one per line, as these tables are, read a line at a time.

    Reading the whole text and its parsed dict next to the lower-cased table was the daemon's memory
    peak on a first start (+120 MB, most of it kept by the allocator afterwards). A file laid out
    otherwise is read whole. With ``keys``, an entry line whose key, lower-cased, is not in them is
    not parsed (a line with a backslash is: its key may hold an escaped quote); others may still come.
    """
    try:
        for line in handle:
            body = line.strip().rstrip(",")
            if body in ("{", "}", ""):
                continue
            plain = body[0] == '"' and "\\" not in body  # the key is what comes before the next quote
            if keys is not None and plain and body[1:].split('"', 1)[0].lower() not in keys:
                continue
            # '"form": "lemma"', no escape: the two strings as they stand (json.loads of every line was half the
            # first start's 17 s); anything else (a list of lemmas) is parsed
            key, colon, value = body[1:].partition('": "') if plain else ("", "", "")
            if colon and value.endswith('"') and '"' not in value[:-1]:
                yield key, value[:-1]
            else:
                yield from json.loads(body if body.startswith("{") else "{" + body + "}").items()
    except json.JSONDecodeError:
        handle.seek(0)
        yield from json.load(handle).items()


def _adopt_cached_lemmas(normalise: Normaliser, folder: Path, cue_words: set[str], cache_dir: Path) -> None:
    """Pruned lemma table from ``cache_dir`` when it matches the rules, else rebuilt and stored there.

    Reading and pruning the full spacy-lookups-data tables takes seconds; the pruned table is a
    few thousand entries. The cache key covers the cue words, the normaliser settings and the
    lookups package version, so editing a rule simply rebuilds it on the next load. One file per
    language and rules folder; never inside the rules folder, which may be a read-only install.
    """
    try:
        version = importlib.metadata.version("spacy-lookups-data")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - a declared dependency
        version = "none"
    settings = (folder / "normalise.toml").read_bytes() if (folder / "normalise.toml").exists() else b""
    digest = hashlib.sha256(
        "\n".join([version, LEMMA_FORMAT, normalise.lang, *sorted(cue_words)]).encode() + settings
    ).hexdigest()
    where = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:12]
    cache = cache_dir / f"lemmas-{normalise.lang}-{where}.json"
    try:
        stored = json.loads(cache.read_text(encoding="utf-8"))
        if stored.get("key") == digest and isinstance(stored.get("lemmas"), dict):
            normalise.use_lemmas({str(k): str(v) for k, v in stored["lemmas"].items()})
            return
    except (OSError, ValueError):
        pass
    normalise.adopt_lemmas(functools.partial(_lemma_entries, normalise.lang), cue_words)
    with contextlib.suppress(OSError):  # an unwritable cache folder still works, it only loads slower
        cache_dir.mkdir(parents=True, exist_ok=True)
        cache.write_text(json.dumps({"key": digest, "lemmas": normalise.lemmas}, ensure_ascii=False, sort_keys=True))
