"""The officer's message catalogue: one TOML file per language (``nl.toml``, ``en.toml``).

Both files must hold the same keys with the same ``{placeholders}``; loading refuses a
catalogue that does not, so a word can never exist in one language only. A missing key
raises KeyError, so a typo shows the first time a page renders (and the page-walk test
renders every page in both languages).

The English file doubles as the pattern book for sentences other modules record in
English (event reasons, task titles): ``read`` matches such a sentence against the
English entries of one section and gives back its key and placeholder values, so it can
be said again in the officer's language.
"""

from __future__ import annotations

import functools
import re
import string
import tomllib
from importlib.resources import files
from typing import Any

LANGUAGES = ("nl", "en")
"""The officer's languages; the first is the default (the shop's own language)."""


SHAPES = {"method": r"[\w-]+", "verdict": r"[\w-]+", "host": r"[^\s;()]+", "header": r"[\w-]+", "count": r"\d+"}
"""What a placeholder can hold when a sentence is read back; anything else is any text."""


class CatalogueError(ValueError):
    """The two catalogues disagree (a key or placeholder in one language only)."""


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + "."))
        else:
            flat[name] = str(value)
    return flat


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


@functools.cache
def catalogue(language: str) -> dict[str, str]:
    """Every entry of one language, keys as ``section.name``; checked against the others once."""
    if language not in LANGUAGES:
        raise KeyError(language)
    loaded = {
        lang: _flatten(tomllib.loads((files(__package__) / f"{lang}.toml").read_text("utf-8"))) for lang in LANGUAGES
    }
    first, *others = LANGUAGES
    for other in others:
        if loaded[first].keys() != loaded[other].keys():
            odd = sorted(loaded[first].keys() ^ loaded[other].keys())
            raise CatalogueError(f"keys in one language only: {', '.join(odd)}")
        for key, text in loaded[first].items():
            if placeholders(text) != placeholders(loaded[other][key]):
                raise CatalogueError(f"{key}: placeholders differ between {first} and {other}")
    return loaded[language]


def say(language: str, key: str, **params: object) -> str:
    """The entry ``key`` in ``language``, its placeholders filled in."""
    text = catalogue(language)[key]
    return text.format(**params) if params else text


@functools.cache
def _patterns(section: str) -> list[tuple[str, re.Pattern[str]]]:
    """The English entries of ``section`` as regular expressions, longest first (most specific)."""
    found = []
    prefix = section + "."
    for key, text in catalogue("en").items():
        if not key.startswith(prefix):
            continue
        regex = "".join(
            re.escape(literal) + (f"(?P<{field}>{SHAPES.get(field, '.+?')})" if field else "")
            for literal, field, _, _ in string.Formatter().parse(text)
        )
        found.append((key, re.compile(regex + r"\Z", re.DOTALL)))
    return sorted(found, key=lambda p: len(p[1].pattern), reverse=True)


def read(section: str, sentence: str) -> tuple[str, dict[str, str]] | None:
    """The key of ``section`` whose English text ``sentence`` is, with its values; None if none is."""
    for key, pattern in _patterns(section):
        match = pattern.match(sentence)
        if match:
            return key, match.groupdict()
    return None
