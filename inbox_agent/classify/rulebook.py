"""The rule files of a language read as one rulebook: TOML, ``[terms]``, ``[[rule]]`` and a malformed file refused.

``rules.toml`` and ``concerns.toml`` are read together (``RULE_FILES``); a term group in both is refused naming
both files. ``Rule`` is one ``[[rule]]`` entry as the matcher uses it; the checks of single settings raise
``RulesError`` naming the file and the rule, so an officer editing a phrase learns what is wrong at start-up.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..models import RIGHTS, Category


class RulesError(ValueError):
    """A rule file is malformed; the message names the file and the rule."""


@dataclass(frozen=True)
class Rule:
    id: str
    category: Category
    groups: tuple[str, ...] = ()
    window: int = 12
    unless: tuple[str, ...] = ()
    """Guards that veto a hit from inside its own clause(s): the guard is what the action is about."""
    unless_sentence: tuple[str, ...] = ()
    """Guards that veto from anywhere in the sentence ("send me my data AND my orders as CSV":
    the delivery verb belongs to a portability request)."""
    unless_before: tuple[str, ...] = ()
    """Guards that veto from the sentence before too: "Können Sie die Lieferadresse der Bestellung 5531 ändern? Neue
    Adresse: Gartenweg 3" gives the order's new address, not the writer's."""
    negatable: bool = True
    hypothetical_blocks: bool = True
    frame: str = ""
    """``"request"``: the right's action and object count only inside a request frame (``markers.toml: frame``,
    a question, an imperative, the subject line): "I deleted my account" or "you delete data after two
    years" asks for nothing. The default for rights rules built from ``all`` groups; phrases are requests
    by themselves. ``"question"``: a rule without an action verb ("what do you hold about me") counts only
    in a question or with a frame cue in its own or the preceding clause, not as the object of another
    request ("delete my account and everything you have on me")."""
    alongside: bool = False
    """privacy_other only: the hit stands next to a right (a complaint about an unanswered request),
    instead of being read as part of the request ("... or I complain to the supervisory authority")."""
    sentences: int = 1
    """How many consecutive sentences the groups may spread over: "The birth date is wrong. Could you fix that?"
    or "I asked for my data in March. I have had no answer." (``window`` still bounds the words)."""
    concern: bool = False
    """privacy_other only: a question or concern about how data is processed (purposes, recipients, retention,
    security). It stands next to a right when its sentence asks for no right ("delete my account. And do you
    pass my address on to other companies?"); inside the request's own sentence it belongs to the request."""
    access_topic: bool = False
    """privacy_other only: a ``concern`` about what an access request covers (Art. 15: purposes, recipients, where the
    data came from, how long it is kept). Next to an access request it is what that request asks for ("Ich möchte
    wissen, welche Daten Sie gespeichert haben. Woher haben Sie meine Adresse?" is access alone)."""
    clause: bool = False
    """The groups must meet in one clause, not only in one sentence: a negation reaches its own clause only
    ("steht Google Analytics, aber nichts zu den Servern" refuses no tracking)."""
    clauses: int = 0
    """If set, the groups meet within this many consecutive clauses: a pointing word stands for what the clause just
    before it names ("Sie schicken mir jeden Montag einen Katalog. Stellen Sie das ein."), not for something named
    further back ("Im Katalog war sie rot. Ich bekam eine graue, ich will das nicht")."""
    ends_clause: bool = False
    """The first group's words close their clause (only punctuation and frame cues after them): a refusal by a pointing
    word ("Das will ich nicht.", "Je n'en veux plus !") refuses; "Das will ich nicht verpassen" or "Je n'en ai pas
    besoin en papier" goes on to a verb or an object of its own, and the pointing word stands for nothing refused."""
    tail: tuple[str, ...] = ()
    """With ``ends_clause``: term groups whose words may still follow the first group in its clause ("nicht mehr")."""
    covered_by: Category | None = None
    """The hit is part of a request of this category in its sentence or the one before or after, not one of its own:
    "freeze my account; don't use it for anything, not for marketing either" is one restriction."""
    told: bool = False
    """The hit counts only where its clause asks: a ``told`` cue (a finite past or copula verb, "habe", "ist", "stand")
    in its clauses with no frame cue there or in the clause before tells a fact ("Den Newsletter habe ich nicht
    bekommen", "Im Katalog stand kein Preis"); the negation is the fact's, it refuses no mailing."""
    refer: bool = False
    """An object group may be met by a pointing word (``markers.toml: pointer``) that stands for an object named in
    an earlier clause ("Mijn telefoonnummer hoeft niet bewaard te worden. Kan het eruit?", "can you delete it")."""
    firm: bool = False
    """The hit names the right and exercises it in the writer's own voice ("Ik wil gebruik maken van mijn recht op
    dataportabiliteit", "I hereby exercise my right to erasure"): the second opinion may not take it back. A model
    reads a bag of words, and a one-line request in the law's own words scored 0.001-0.03 with models retrained on
    more shop mail; the legal name alone stays the models' to judge (pitches and lists of rights name it too)."""


def _toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{path}: {exc}") from None


RULE_FILES = ("rules.toml", "concerns.toml")
"""A language's rule files, read as one rulebook: the rights rules, then the privacy_other rules (questions and
concerns about processing, complaints about handling) with the [terms] only they use."""


def _rulebook(folder: Path) -> tuple[dict[str, list[str]], list[tuple[dict[str, Any], Path]]]:
    """The [terms] groups and the [[rule]] entries (each with its file) of ``RULE_FILES`` in ``folder``; a term group
    defined in two files is refused, naming both (the second would silently replace the first)."""
    terms: dict[str, list[str]] = {}
    defined_in: dict[str, Path] = {}
    entries: list[tuple[dict[str, Any], Path]] = []
    for name in RULE_FILES:
        path = folder / name
        data = _toml(path)
        for group, words in data.get("terms", {}).items():
            if group in defined_in:
                raise RulesError(f"{defined_in[group]} and {path}: term group {group!r} defined twice")
            terms[group] = list(words)
            defined_in[group] = path
        entries.extend((entry, path) for entry in data.get("rule", []))
    return terms, entries


def _one_words(folder: Path, markers: dict[str, Any], key: str) -> list[str]:
    """A markers list of single words; an entry of several words is refused (it would never match one word)."""
    entries: list[str] = markers.get(key, [])
    if long := sorted(w for w in entries if len(w.split()) > 1):
        raise RulesError(f"{folder}/markers.toml {key}: one word each, not {long}")
    return entries


def _covered_by(value: object, rule_id: str, path: Path) -> Category | None:
    """A rule's ``covered_by`` setting: a right's category, or None."""
    if value is None:
        return None
    if value not in {c.value for c in RIGHTS}:
        raise RulesError(f"{path} rule {rule_id}: covered_by must name a right, not {value!r}")
    return Category(value)


def _frame_kind(value: object, rule_id: str, path: Path) -> str:
    """A rule's ``frame`` setting: true = "request", false = "", or "question"."""
    if value is True or value == "request":
        return "request"
    if value is False or value == "":
        return ""
    if value == "question":
        return "question"
    raise RulesError(f"{path} rule {rule_id}: frame must be true, false or \"question\"")


def _all_texts(*tables: dict[str, list[str]]) -> Iterable[str]:
    for table in tables:
        for items in table.values():
            yield from items
