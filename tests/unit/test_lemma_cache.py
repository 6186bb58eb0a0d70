"""A lemma table read from the cache normalises as the freshly built one does.

The rules' own cue words are normalised while a language loads, before its lemma table is
adopted. A freshly built table cleared those early forms; one read from the cache did not, so
a warm start could read a word differently from a cold one (found on German and French rules).
"""

from __future__ import annotations

from pathlib import Path

from inbox_agent.classify import Normaliser, _adopt_cached_lemmas
from inbox_agent.config import REPO_ROOT

GERMAN = REPO_ROOT / "classifiers" / "de"


def _normaliser() -> Normaliser:
    return Normaliser("de", {"suffixes": [["en", "t"]], "min_stem": 3})


def test_a_word_normalised_before_the_cached_table_came_is_read_with_it(tmp_path: Path) -> None:
    cold = _normaliser()
    _adopt_cached_lemmas(cold, GERMAN, {"löschen"}, tmp_path)  # builds the table and writes the cache
    assert list(tmp_path.glob("lemmas-de-*.json"))
    warm = _normaliser()
    early = warm("gelöscht")  # as while the rules load: no lemmas yet
    _adopt_cached_lemmas(warm, GERMAN, {"löschen"}, tmp_path)  # read from the cache
    assert cold("gelöscht") == cold("löschen") != early
    assert warm("gelöscht") == cold("gelöscht")


def test_a_numbered_line_after_a_short_word_starts_a_new_sentence() -> None:
    from inbox_agent.classify import _prepare

    assert _prepare("Art. 17 DSGVO") == "Art 17 DSGVO"  # an abbreviation before its number
    assert _prepare("nicht mehr.\n3. Den Newsletter") == "nicht mehr.\n3. Den Newsletter"


def test_a_forms_last_entry_decides_as_in_a_dict() -> None:
    """The table is kept or dropped entry by entry as it is read: a later entry of a form replaces an earlier one."""
    entries = [("gelöscht", "löschen"), ("löschte", "gelöscht"), ("gelöscht", "gelöscht"), ("löschte", "löschen")]
    normaliser = _normaliser()
    normaliser.adopt_lemmas(lambda forms: [e for e in entries if forms is None or e[0] in forms], {"löschen"})
    assert normaliser.lemmas == {"löschte": "löschen"}
