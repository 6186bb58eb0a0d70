"""One language's rules at work on a text: its pipeline, normaliser, matchers and rules.

``LanguageRules`` segments a text, finds the hits, puts each to the vetoes (``vetoes.Vetoes``, its base class),
resolves pointing words and bare actions to what they stand for, and says what an officer should still look at.
"""

from __future__ import annotations

import bisect
import re
from pathlib import Path
from typing import Any

from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Token

from ..language import any_of, fold
from ..models import RIGHTS, Category
from .layout import (
    _CLAUSE_END,
    _PUNCTUATION,
    _SENTENCE_END,
    _WORDS,
    SHORT_LINE,
    _blank,
    _continues,
    _ends_later,
    _few_words,
    _prepare,
    _Segment,
    _sentence_follows,
    _sentences,
    _spaced,
    _Texts,
)
from .matching import Hit, _cooccurrences, _only_in_clause, _PhraseTrie
from .normalise import CACHE_LIMIT, Normaliser, _adopt_cached_lemmas
from .rulebook import Rule, RulesError, _all_texts, _covered_by, _frame_kind, _one_words, _rulebook, _toml
from .vetoes import Vetoes

POINTER_SENTENCES = 2
"""A pointing word stands for an object named in its own sentence or up to this many sentences before."""
DAY_MONTH = re.compile(r"\d{1,2}\.\d{1,2}\.")
"""A date without its year, the tokenizer keeping its last period ("am 14.08."): before a capital it ends a sentence
as a period word does ("nicht am 14.08. Können Sie das korrigieren?" negates the date, not the request)."""
VOCAB_GROWTH = 100_000
"""New strings a language's spaCy pipeline may collect before it is reloaded (~0.1 s).

spaCy keeps every string it has tokenised (vocab, lexemes, tokenizer cache) for the life of the
pipeline, and order numbers, names and addresses are new in nearly every mail: without a reload
a daemon's memory grows with every mail it reads."""
_SCOPE_GROUPS = (
    "_negation", "_without", "_hypothetical", "_performative", "_polite", "_attachment", "_completed",
    "_frame", "_detach", "_reported", "_unfulfilled", "_relative", "_do_not_erase", "_net_verbs",
    "_net_aside", "_net_about", "_state", "_deliberation", "_info_question", "_pointer", "_restore", "_listing",
    "_told",
)
SURFACE_GROUPS = (
    "_hypothetical", "_completed", "_frame", "_reported", "_unfulfilled", "_do_not_erase", "_state", "_deliberation",
    "_info_question", "_pointer", "_restore", "_told",
)
"""Cue groups matched on the words as written (lower case, with or without accents), not normalised: tense
and mood are what the normaliser folds away, so "you removed" must not match "can you remove", and
"went to" must not become the frame "going to"."""
REVIEW_VETOES = frozenset({"negation", "hypothetical", "completed", "reported", "unframed"})
"""Vetoes after which a mail still goes to the officer's "to check" list (an order guard does not, nor a right told
or asked about as a state: "Haben Sie mein Konto gelöscht? Ich komme nicht mehr hinein" is a login matter)."""
FRAMED_WORDS = 8
"""A text of at most this many words is a request by itself ("account wissen pls"): no frame needed."""
REVIEW_GROUP = "privacy_topic"
"""The [terms] group whose words alone put a mail without a request on the "to check" list."""


def _repeats_named(seg: _Segment, noun: int, named: list[int]) -> bool:
    """The noun after a pointing determiner repeats an object named before it, or is that compound's head (at least four
    letters): "Ich ersuche Sie, das Datum richtigzustellen" after "als Geburtsdatum"."""
    word = seg.norms[noun]
    return len(word) >= 4 and any(start < noun and seg.norms[start].endswith(word) for start in named)


class LanguageRules(Vetoes):
    """One language: its pipeline, normaliser, matchers and rules."""

    def __init__(self, lang: str, folder: Path, cache_dir: Path) -> None:
        self.lang = lang
        self.folder = folder
        self.cache_dir = cache_dir
        self.nlp = _blank(lang)
        self.normalise = Normaliser(lang, _toml(folder / "normalise.toml"))
        terms, rule_entries = _rulebook(folder)
        self.markers = _toml(folder / "markers.toml")
        self._read_markers(folder, self.markers)
        _add_scope_groups(folder, self.markers, terms)
        self.rules: dict[str, Rule] = {}
        phrases, patterns, defined_in = self._read_rules(rule_entries, terms)
        cue_words = {tok.text for text in _all_texts(terms, phrases) for tok in self.nlp.make_doc(text)}
        _adopt_cached_lemmas(self.normalise, folder, cue_words, cache_dir)
        self.separable_norms = frozenset(self.normalise(p) for p in self.separable)
        """The ``separable`` particles normalised (with the lemmas): a cheap first test on ``_Segment.norms``."""
        self._words: dict[int, tuple[str, str, bool, bool]] = {}
        """``_word`` per spaCy orth (the hash of the text), from here on: the normaliser has its lemmas now."""
        self._build_matchers(terms, phrases, patterns, defined_in)
        self._index_rules(terms)
        self._find_verbs(rule_entries, terms)
        self.vocab_limit = len(self.nlp.vocab.strings) + VOCAB_GROWTH
        self.whether = Rule(
            id=f"{lang}.privacy_other.whether_question", category=Category.PRIVACY_OTHER, concern=True,
            negatable=False, hypothetical_blocks=False,
        )
        """A right's words in a question about how things are (``_state``, ``_info_question``) on the writer's data:
        a question about processing."""

    def _read_markers(self, folder: Path, markers: dict[str, Any]) -> None:
        """The markers.toml settings, each an attribute of its own. Read first: the marker words that are compared
        normalised (clause breaks, subjects, list joints) are normalised without the lemma table, which is adopted
        afterwards for the rules' cue words."""
        self.clause_breaks = frozenset(self.normalise(w) for w in _one_words(folder, markers, "clause_break"))
        self.break_pairs = frozenset(" ".join(p.lower().split()) for p in markers.get("clause_break_pair", []))
        """Word pairs (as written, lower case) that open a clause at their first word where neither word alone is a
        clause break ("afin que", "ook wil"); ``clause_break`` holds single words (a phrase there never matches)."""
        if odd := sorted(p for p in self.break_pairs if len(p.split()) != 2):
            raise RulesError(f"{folder}/markers.toml clause_break_pair: two words each, not {odd}")
        self.pair_ends = frozenset(p.split()[1] for p in self.break_pairs)
        self.particles = frozenset(" ".join(p.lower().split()) for p in markers.get("particle", []))
        """Word pairs in which a clause-break word is a particle ("zet me maar uit": "me maar" is no "but")."""
        self.subjects = frozenset(self.normalise(w) for w in markers.get("subject", []))
        self.negated_words = frozenset(markers.get("negated_word", []))
        self.reasons = frozenset(markers.get("reason", []))
        """Words (as written, lower case) before a negation after the hit that make it the reason for the request, no
        refusal of it: "kunnen jullie mn account verwijderen gebruik het toch nooit" (phone text, no subject)."""
        self.passive_present = frozenset(markers.get("passive_present", []))
        """Auxiliaries (as written, lower case) of the present passive: a ``completed`` cue right before one reports
        nothing done ("ik wil dat alles wat jullie van mij hebben | verwijderd wordt")."""
        self.recalls = frozenset(markers.get("recall", []))
        """Words (as written, lower case) that open a recalled request ("Wie bereits beantragt"): the request asked
        in the clause after it stands."""
        self.refusal_predicates = frozenset(markers.get("refusal_predicate", []))
        """Predicates (as written, lower case) that make a told copula clause a refusal ("ist nicht erwünscht")."""
        """Words (as written, lower case) after which a negation negates a time, not the action ("nicht bevor")."""
        self.other_owners = frozenset(markers.get("other_owner", []))
        self.own = frozenset(markers.get("own", []))
        self.objects = tuple(markers.get("objects", []))
        self.list_joints = frozenset(self.normalise(w) for w in _one_words(folder, markers, "list_joint"))
        """Words that join the items of a list ("and", "or"): an order listed with a data item is data asked about."""
        self.pointer_objects = tuple(markers.get("pointer_objects", []))
        self.pointer_follows = bool(markers.get("pointer_follows", False))
        """Pointing words stand for an object only after the action ("delete it"; "it should be" is no object)."""
        self.verb_final = bool(markers.get("verb_final", False))
        """A ``reported`` cue may close the hit's clause ("Ich habe um Auskunft gebeten": the participle last)."""
        self.bare_action = bool(markers.get("bare_action", False))
        """An action alone in its clause ("Bitte löschen.", "Merci de corriger.") points at the clause before."""
        self.separable = frozenset(markers.get("separable", []))
        """Particles of separable verbs (as written, lower case: "zurück", "ab"), joined to the verb they close."""
        self.pointer_chain = bool(markers.get("pointer_chain", False))
        """A pointing word that stood for an object is the antecedent of the pointing words after it."""
        self.period_words = frozenset(markers.get("period_words", []))
        """Ordinary lower-case words the tokenizer keeps with their period as if they were abbreviations ("app.",
        "dat.", "u."): matched without it, and one before a capital, a line break or the end ends its sentence ("... in
        de app. Kunnen jullie het aanpassen?"). Real abbreviations ("bijv. PostNL", "dhr. Jansen") are not listed:
        they end no sentence."""
        self.pointer_clitics = frozenset(markers.get("pointer_clitics", []))
        """Pointing words that count only right before an action verb ("le supprimer"; "la newsletter" is none)."""
        self.pointer_unless = tuple(markers.get("pointer_unless", []))
        """Groups (an order, a shop's thing) that a pointing word stands for when its antecedent clause, a clause after
        it or its own clause names one ("Mein Konto zeigt eine falsche Bestellung an, können Sie das korrigieren?",
        "My address is correct but the parcel went next door. Can you change it?")."""
        self.pointer_determiners = frozenset(markers.get("pointer_determiners", []))
        """Pointing words that are also determiners ("dit verzoek", "this popup"): before a content word they point at
        nothing; before a function word (spaCy's stop words), a ``refer`` action or a ``pointer_next`` word ("graag")
        they stand alone ("die maar weg", "het vervangen", "that on my profile")."""
        self.pointer_next = frozenset(markers.get("pointer_next", []))
        self.pointer_adjectives = frozenset(markers.get("pointer_adjectives", []))
        """Adjectives that may stand for a noun left out ("het oude", "het tweede"): a pointing determiner before one
        determines the word after it ("het oude wachtwoord") and stands alone when none follows ("Het oude mag weg")."""
        self.noun_capitals = bool(markers.get("noun_capitals", False))
        """Nouns are capitalised (German): a pointing determiner before a capitalised word determines it ("vernichten
        Sie diese Mail"), before any other word it stands alone ("können Sie das bitte löschen")."""
        self.pointer_anticipates = frozenset(markers.get("pointer_anticipates", []))
        """Words (as written, lower case) after which a pointing word anticipates a clause, no object named before:
        "Lukt het om de bezorgdag aan te passen?" ("het om ... te")."""
        self.repeating_articles = frozenset(markers.get("repeating_articles", []))
        """Articles (as written, lower case) that point like a pointing determiner only before a noun that repeats an
        object named before or heads its compound ("Meine Handynummer ... löschen Sie die Nummer"), never alone."""
        self.pointer_sources = frozenset(markers.get("pointer_sources", []))
        """Prepositions (as written, lower case) of where a thing is taken from: an object named after one, at most a
        determiner between, is no object of the pointing word's clause ("There's a phone number in the file ... please
        delete it from my account": "it" is the phone number)."""
        self.pointer_unless_verbs = frozenset(markers.get("pointer_unless_verbs", []))
        """Words of the ``pointer_unless`` groups (as written, lower case) that are verbs, no thing a pointing word
        stands for ("I won't be ordering again, so please remove it")."""
        self.net_objects = tuple(markers.get("net_objects", []))
        self.net_actions = tuple(markers.get("net_actions", []))
        self.net_unless = tuple(markers.get("net_unless", []))
        self.net_mailings = tuple(markers.get("net_mailings", []))
        self.net_refusals = tuple(markers.get("net_refusals", []))
        self.net_questions = tuple(markers.get("net_questions", []))
        self.bare_unless = tuple(markers.get("bare_unless", []))
        spoken = {fold(k): str(v) for k, v in markers.get("spoken_punctuation", {}).items()}
        self.spoken = spoken
        self.spoken_words = re.compile(r"(?<!\w)(" + any_of(spoken) + r")(?!\w)", re.IGNORECASE) if spoken else None

    def _read_rules(
        self, rule_entries: list[tuple[dict[str, Any], Path]], terms: dict[str, list[str]]
    ) -> tuple[dict[str, list[str]], dict[str, list[list[dict[str, Any]]]], dict[str, Path]]:
        """``self.rules`` from the [[rule]] entries, and per rule id its phrases, its token patterns and its file: the
        matchers are built from those, and a rule id used twice is refused here, naming both files."""
        phrases: dict[str, list[str]] = {}
        patterns: dict[str, list[list[dict[str, Any]]]] = {}
        defined_in: dict[str, Path] = {}
        for entry, path in rule_entries:
            rule = self._rule(entry, terms, path)
            if rule.id in self.rules:  # a second rule of the same id would silently replace the first
                files = path if defined_in[rule.id] == path else f"{defined_in[rule.id]} and {path}"
                raise RulesError(f"{files}: rule id {rule.id!r} used twice")
            self.rules[rule.id] = rule
            defined_in[rule.id] = path
            if entry.get("phrases"):
                phrases[rule.id] = list(entry["phrases"])
            if entry.get("patterns"):
                patterns[rule.id] = list(entry["patterns"])
        return phrases, patterns, defined_in

    def _build_matchers(self, terms: dict[str, list[str]], phrases: dict[str, list[str]],
                        patterns: dict[str, list[list[dict[str, Any]]]], defined_in: dict[str, Path]) -> None:
        """The three matchers a segment runs: the word trie on the normalised words (term groups and rule phrases), the
        surface matcher on the words as written (``SURFACE_GROUPS``, taken out of ``terms``) and spaCy's Matcher for
        the token patterns. After the lemmas are adopted, so the phrases are normalised as the mail's words will be."""
        self.phrase_matcher = _PhraseTrie()
        self.surface_matcher = PhraseMatcher(self.nlp.vocab, attr="LOWER")
        accented = frozenset(w.lower() for w in self.markers.get("accented", []))
        """Cue words whose accents make the word ("würde" would, "wurde" was): matched only as written."""
        for name in SURFACE_GROUPS:
            forms = {form for text in terms.pop(name)
                     for form in (text.lower(), *(() if text.lower() in accented else (fold(text),))) if form.strip()}
            if forms:
                self.surface_matcher.add(name, [self.nlp.make_doc(_prepare(form)) for form in sorted(forms)])
        for name, items in [*terms.items(), *phrases.items()]:
            for text in items:
                if text.strip():
                    self.phrase_matcher.add(name, self._layout(self.nlp.make_doc(_prepare(text)))[0])
        self.phrase_matcher.settle(self.nlp.vocab)
        self.token_matcher = Matcher(self.nlp.vocab)
        for name, rule_patterns in patterns.items():
            try:
                self.token_matcher.add(name, rule_patterns)
            except Exception as exc:  # spaCy raises several kinds for a bad pattern
                raise RulesError(f"{defined_in[name]} rule {name}: bad pattern: {exc}") from None

    def _index_rules(self, terms: dict[str, list[str]]) -> None:
        """Which rules a segment's groups can meet, found once here: ``hits`` asks only the rules whose first group
        the text holds."""
        self.group_names = {*terms, *SURFACE_GROUPS}
        self.group_rules = [(rule, frozenset(rule.groups)) for rule in self.rules.values() if rule.groups]
        self.refer_actions = frozenset(rule.groups[0] for rule in self.rules.values() if rule.refer and rule.groups)
        """The action groups of the ``refer`` rules: a pointing word right before one stands alone ("het vervangen")."""
        self.rules_by_group: dict[str, list[int]] = {}
        """The ``group_rules`` (by number) per first group: a text's groups name the few rules that can meet."""
        for number, (rule, _) in enumerate(self.group_rules):
            self.rules_by_group.setdefault(rule.groups[0], []).append(number)
        self.privacy_groups = frozenset(group for rule, groups in self.group_rules
                                        if rule.category is Category.PRIVACY_OTHER
                                        for group in groups if not group.startswith("_"))
        """The word groups of the privacy_other rules (not the cue groups, ``_frame`` and the like): ``named``."""
        self.right_groups = [(rule.category, groups, min(2, len(groups)))
                             for rule, groups in self.group_rules if rule.category in RIGHTS]
        """Per rights rule, its right, its groups and how many of them name that right (two, or its only one)."""

    def named(self, seg: _Segment) -> set[Category]:
        """The categories ``seg`` names: a right by a phrase of it, or by two word groups of one of its rules (its
        action and an object, wherever they stand), privacy_other by a word group of its rules.

        One word of a right is a guess, which the second opinion must not follow: "bezwaar" in "Ik maak bezwaar tegen
        de retourkosten van mijn bestelling" (objection 0.4-0.8 with the models retrained in round 14), "text" in
        "This is the text part" (objection), "e-mail" in "Fax to e-mail: 0865586973" (rectification)."""
        present = seg.groups.keys()
        found = {self.rules[label].category for label, _, _ in seg.direct}
        found.update(category for category, groups, need in self.right_groups
                     if category not in found and len(groups & present) >= need)
        if not self.privacy_groups.isdisjoint(present):
            found.add(Category.PRIVACY_OTHER)
        return found

    def _find_verbs(self, rule_entries: list[tuple[dict[str, Any], Path]], terms: dict[str, list[str]]) -> None:
        """The rights' action words and, of those, the verbs (no object word): the borrowed-language pass looks for
        them."""
        # The action words of the rights rules, normalised: a borrowed-language pass is only worth
        # its cost when one of them is in the mail.
        actions = [
            text
            for entry, _ in rule_entries
            if entry.get("category") in {c.value for c in RIGHTS}
            for text in (
                *(terms.get(entry["all"][0], []) if entry.get("all") and not entry["all"][0].startswith("_") else []),
                *entry.get("phrases", []),
            )
        ]
        self.action_words = frozenset(self.normalise(tok.text) for t in actions for tok in self.nlp.make_doc(t))
        object_words = {
            self.normalise(tok.text) for group in self.objects for t in terms[group] for tok in self.nlp.make_doc(t)
        }
        self.verbs = self.action_words - object_words
        """The action words that are no object word ("verwijderen", not "account"): what a borrowed-language hit
        must not share with the mail's own language."""

    def _punctuate(self, text: str) -> str:
        """Dictated text without any punctuation gets its spoken marks back ("... opgeslagen punt mijn naam ...")."""
        if self.spoken_words is None or _PUNCTUATION.search(text):
            return text
        return self.spoken_words.sub(lambda m: self.spoken.get(fold(m.group(1).lower()), m.group(1)), text)

    def names_an_action(self, texts: _Texts) -> bool:
        """Whether a word of the texts normalises to one of this language's rights actions."""
        words = _WORDS.findall(" ".join((texts.subject, texts.own)).lower())
        return any(self.normalise(w) in self.action_words for w in words)

    def outgrown(self) -> bool:
        """True once the pipeline holds ``VOCAB_GROWTH`` strings more than the rules brought in."""
        return len(self.nlp.vocab.strings) > self.vocab_limit

    def _rule(self, entry: dict[str, Any], terms: dict[str, list[str]], path: Path) -> Rule:
        try:
            rule_id = f"{self.lang}.{entry['category']}.{entry['id']}"
            category = Category(entry["category"])
        except (KeyError, ValueError) as exc:
            raise RulesError(f"{path}: rule {entry!r}: needs id and a known category ({exc})") from None
        groups = tuple(entry.get("all", ()))
        unless = tuple(entry.get("unless", ()))
        unless_sentence = tuple(entry.get("unless_sentence", ()))
        unless_before = tuple(entry.get("unless_before", ()))
        tail = tuple(entry.get("tail", ()))
        for group in (*groups, *unless, *unless_sentence, *unless_before, *tail):
            if group not in terms:
                raise RulesError(f"{path} rule {rule_id}: unknown term group {group!r}")
        if not (groups or entry.get("phrases") or entry.get("patterns")):
            raise RulesError(f"{path} rule {rule_id}: needs phrases, patterns or all")
        # Rules that are not negatable carry their own frame: a declaration ("no more newsletters", "my name is
        # misspelt", "I will no longer use your services") or a stop verb ("stop the newsletter").
        own_frame = category in RIGHTS and bool(groups) and not any(g.startswith("_") for g in groups)
        return Rule(
            id=rule_id,
            category=category,
            groups=groups,
            window=int(entry.get("window", 12)),
            unless=unless,
            unless_sentence=unless_sentence,
            unless_before=unless_before,
            negatable=bool(entry.get("negatable", True)),
            hypothetical_blocks=bool(entry.get("hypothetical", True)),
            alongside=bool(entry.get("alongside", False)),
            concern=bool(entry.get("concern", False)),
            access_topic=bool(entry.get("access_topic", False)),
            sentences=max(1, int(entry.get("sentences", 1))),
            clause=bool(entry.get("clause", False)),
            clauses=max(0, int(entry.get("clauses", 0))),
            ends_clause=bool(entry.get("ends_clause", False)),
            tail=tail,
            refer=bool(entry.get("refer", False)),
            told=bool(entry.get("told", False)),
            firm=bool(entry.get("firm", False)),
            covered_by=_covered_by(entry.get("covered_by"), rule_id, path),
            frame=_frame_kind(entry.get("frame", own_frame and entry.get("negatable", True)), rule_id, path),
        )

    def _period_word(self, txt: str) -> bool:
        """``txt`` is one of ``period_words`` written with the period the tokenizer kept on it ("app."), or a
        ``DAY_MONTH`` date."""
        return txt[-1:] == "." and (txt[:-1] in self.period_words or DAY_MONTH.fullmatch(txt) is not None)

    def _word(self, tok: Token) -> tuple[str, str, bool, bool]:
        """What ``_layout`` needs of a token, all of it from the word itself (kept per text in ``_words``): its
        normalised form, its lower case, whether it is plain (none of ``_layout``'s cases but the last: no space,
        clause break or punctuation) and whether it is one of the writer's own (``markers.toml: own``)."""
        txt = tok.text
        period = self._period_word(txt)
        word = "\n" if tok.is_space else self.normalise(txt[:-1] if period else txt)
        plain = not (
            period or tok.is_space or word in self.clause_breaks or tok.lower_ in self.pair_ends or txt in _SENTENCE_END
            or txt in _CLAUSE_END
        )
        known = (word, tok.lower_, plain, tok.lower_ in self.own)
        if len(self._words) > CACHE_LIMIT:
            self._words.clear()
        self._words[tok.orth] = known
        return known

    def _layout(self, doc: Doc) -> tuple[list[str], list[int], list[int], list[int]]:
        """Normalised words plus sentence and clause numbers per token, in one pass over the tokens, and the
        positions of the writer's own words."""
        words: list[str] = []
        sentence: list[int] = []
        clause: list[int] = []
        owns: list[int] = []
        s = c = 0
        line_start = 0
        breaks = self.clause_breaks
        known = self._words
        previous = ""
        for tok in doc:
            word, lower, plain, own = known.get(tok.orth) or self._word(tok)
            if own:
                owns.append(len(words))
            if plain:  # most words: nothing below applies
                previous = lower
                sentence.append(s)
                clause.append(c)
                words.append(word)
                continue
            txt = tok.text
            if tok.is_space:
                sentence.append(s)
                clause.append(c)
                words.append(word)
                if txt.count("\n") >= 2:
                    s += 1
                    c += 1
                elif "\n" in txt:
                    if tok.idx - line_start < SHORT_LINE:
                        c += 1
                    line_start = tok.idx + len(txt)
                continue
            if word in breaks and f"{previous} {lower}" not in self.particles and not (
                # "den Newsletter möchte ich aber nicht mehr" (a particle), not after an action that closes a request
                # ("bitte meine Daten sperren aber NICHT löschen": the conjunction, its comma left out)
                tok.i + 1 < len(doc) and f"{lower} {doc[tok.i + 1].lower_}" in self.particles
                and (not words or words[-1] not in self.verbs)
            ):
                c += 1  # "verwijder mijn account EN stuur geen mails": a new clause, a new scope
            elif f"{previous} {lower}" in self.break_pairs:
                c += 1
                clause[-1] = c  # the pair's first word, just appended, opens the clause ("... AFIN QUE ...")
            previous = lower
            sentence.append(s)
            clause.append(c)
            words.append(word)
            if (txt in _SENTENCE_END and not _continues(doc, tok.i) and not _ends_later(doc, tok.i)) or (
                self._period_word(txt) and _sentence_follows(doc, tok.i)
            ):
                s += 1
                c += 1
            elif (txt in _CLAUSE_END and (txt != "-" or _spaced(doc, tok.i))) or txt == ".":
                c += 1  # a period that ends no sentence still ends a clause ("gebruik hem niet. haal die maar weg")
        return words or [""], sentence, clause, owns

    def segment(self, text: str, framed: bool = False) -> _Segment:
        """``text`` tokenised, normalised and matched; ``framed``: the whole text counts as a request frame."""
        prepared = _prepare(self._punctuate(text))
        doc = self.nlp.make_doc(prepared)
        norms, sentence, clause, owns = self._layout(doc)
        few = len(text) <= FRAMED_WORDS * 25 and _few_words(text, FRAMED_WORDS)
        seg = _Segment(doc, prepared, norms, sentence, clause, owns, framed=framed or few)
        names, groups, direct = self.group_names, seg.groups, seg.direct
        for labels, start, end in self.phrase_matcher.spans(norms):
            span = (start, end)
            for label in labels:
                if label not in names:
                    direct.append((label, start, end))
                elif (spans := groups.get(label)) is None:
                    groups[label] = [span]
                else:
                    spans.append(span)
        for match_id, start, end in self.surface_matcher(doc):
            seg.groups.setdefault(self.nlp.vocab.strings[match_id], []).append((start, end))
        matches = self.token_matcher(seg.norm_doc) if len(self.token_matcher) else []
        for match_id, start, end in matches:
            seg.direct.append((self.nlp.vocab.strings[match_id], start, end))
        if self.separable:
            self._join_separable(seg)
        if self.bare_action:
            seg.bare = self._bare_actions(seg)
        if "_pointer" in seg.groups or seg.bare or (self.repeating_articles and any(
                tok.lower_ in self.repeating_articles for tok in doc)):
            self._resolve_pointers(seg)
        return seg

    def _join_separable(self, seg: _Segment) -> None:
        """Separable verbs: a ``separable`` particle before punctuation ("Ich ziehe meine Zustimmung zurück",
        "Bitte tragen Sie die neue Adresse ein") is joined to each earlier word of the clause, and a joined word that is
        a term ("zurückziehen", "eintragen") counts at the verb. Before another word the particle is a preposition or an
        idiom ("auf die Adresse", "ab und zu")."""
        doc = seg.doc
        for i, word in enumerate(seg.norms):
            if not i or word not in self.separable_norms or doc[i].lower_ not in self.separable:
                continue
            tok = doc[i]
            if i + 1 < len(doc) and doc[i + 1].is_alpha:
                continue  # before a word, even a conjunction ("Bestellen werde ich ab und zu"), no particle for sure
            j = i - 1
            while j >= 0 and seg.clause[j] == seg.clause[i]:
                if doc[j].is_alpha:
                    for label, _, _ in self.phrase_matcher([self.normalise(tok.lower_ + doc[j].lower_)]):
                        if label not in self.group_names:
                            seg.direct.append((label, j, j + 1))
                        elif (j, j + 1) not in seg.groups.setdefault(label, []):
                            seg.groups[label].append((j, j + 1))
                j -= 1

    def _bare_actions(self, seg: _Segment) -> list[tuple[int, int]]:
        """The ``refer`` actions with nothing but frame cues, subject words and punctuation in their clause ("Bitte
        löschen.", "Merci de corriger.", "Können Sie bitte ändern?"): the object is left out, so the action stands for
        what the clause before named, as a pointing word would. Each is given as an empty span at the action."""
        spans = [span for group in self.refer_actions for span in seg.groups.get(group, ())]
        if not spans:
            return []
        cues = {i for s, e in seg.groups.get("_frame", ()) for i in range(s, e)}
        norms, clause = seg.norms, seg.clause

        def no_word(i: int) -> bool:
            return i in cues or norms[i] in self.subjects or not norms[i][:1].isalpha()

        return [(start, start) for start, end in spans
                if _only_in_clause(seg, start - 1, -1, clause[start], no_word)
                and _only_in_clause(seg, end, 1, clause[start], no_word)]

    def _resolve_pointers(self, seg: _Segment) -> None:
        """Pointing words ("het", "die", "it", "that") in a clause without an object of its own stand for the objects
        of the last clause before them that named one, in their sentence or up to ``POINTER_SENTENCES`` before:
        "Mijn telefoonnummer hoeft niet bewaard te worden. Kan het eruit?" erases the phone number. So do the
        bare actions (``_Segment.bare``): "Meine Hausnummer im Konto ist die 41. Bitte korrigieren."."""
        spans = [(start, end, group) for group in self.pointer_objects for start, end in seg.groups.get(group, ())]
        named = sorted((start, group) for start, _, group in spans)
        clauses = {seg.clause[start] for start, _ in named if not self._taken_from(seg, start)}
        starts = [start for start, _ in named]
        # a rival word inside a named object's own words is part of its name ("l'adresse de facturation": no invoice)
        inside = {k for start, end, _ in spans for k in range(start + 1, end)}
        rivals = [
            start
            for group in self.pointer_unless
            for start, _ in seg.groups.get(group, ())
            if seg.doc[start].lower_ not in self.pointer_unless_verbs and start not in inside
        ]
        # "Meine Handynummer ... Bitte löschen Sie die Nummer": an article before a noun that repeats a named object
        articles = [(i, i + 1) for i in range(len(seg.doc) - 1)
                    if seg.doc[i].lower_ in self.repeating_articles and _repeats_named(seg, i + 1, starts)]
        for i, end in sorted((*seg.groups.get("_pointer", ()), *seg.bare, *articles)):
            # "and that you don't use it", "ik wil dat jullie ...": a conjunction before a subject points at nothing
            # (a bare action is an empty span: the checks of the word after a pointing word find the action itself)
            if seg.clause[i] in clauses or (i < end < len(seg.doc) and seg.norms[end] in self.subjects):
                continue
            if end < len(seg.doc) and seg.doc[end].lower_ in self.pointer_anticipates:
                continue  # "lukt het om ... aan te passen": the clause that follows is what "het" stands for
            article = (i, end) in articles
            if article:
                end += 1
            elif seg.doc[i].lower_ in self.pointer_determiners and self._determines(seg, end):
                # "dit verzoek om terugbetaling afsluiten", "remove this popup": a determiner, not a pronoun; unless the
                # noun names an object again ("das Datum" after "Geburtsdatum"): then it points like one
                if not _repeats_named(seg, end, starts):
                    continue
                end += 1
            # "le supprimer", "l'effacer": a clitic stands right before its verb; before anything else it is an article
            clitic = seg.doc[i].lower_ in self.pointer_clitics and not article
            if clitic and (end >= len(seg.doc) or seg.norms[end] not in self.verbs):
                continue
            last = bisect.bisect_left(starts, i) - 1
            if last < 0 or seg.sentence[i] - seg.sentence[starts[last]] > POINTER_SENTENCES:
                continue
            antecedent = seg.clause[starts[last]]
            if any(antecedent <= seg.clause[s] and (s < i or seg.clause[s] == seg.clause[i]) for s in rivals):
                continue  # the order named with the account, or after it, or in "het product", is what it stands for
            owner = seg.doc[starts[last] - 1].text if starts[last] else ""
            if owner in self.other_owners and "_relative" not in seg.groups:
                continue  # "his full address ... delete it": someone else's, unless the writer acts for them
            for group in {group for start, group in named if seg.clause[start] == antecedent}:
                seg.pointers.setdefault(group, []).append((i, end))
                if self.pointer_chain:
                    # the pointing word is the antecedent of the next ("ein Foto ... dass Sie es verwenden. ...
                    # Entfernen Sie es"), so an object three sentences back is still what the last one stands for
                    at = bisect.bisect_right(starts, i)
                    starts.insert(at, i)
                    named.insert(at, (i, group))

    def _taken_from(self, seg: _Segment, start: int) -> bool:
        """The object at ``start`` follows a ``pointer_sources`` word of its clause, at most a determiner between."""
        before = [seg.doc[k] for k in (start - 1, start - 2) if k >= 0 and seg.clause[k] == seg.clause[start]]
        if before and before[0].lower_ in self.pointer_sources:
            return True  # "from my account"
        return len(before) == 2 and before[0].is_stop and before[1].lower_ in self.pointer_sources  # "aus meinem Konto"

    def subject_referred(self, texts: _Texts, subject: _Segment, body: _Segment) -> list[tuple[Hit, str]]:
        """The rights hits of the body whose object the subject names ("Kundenkonto 40211" / "ich brauche es nicht mehr.
        Bitte löschen.", "Mon compte client" / "Pouvez-vous le fermer ?"): when the subject names an object and the body
        has a pointing word or a bare action that found nothing to stand for, the two are read as one text, and its
        hits in the body's sentences count (with the body's frame, guards and negation)."""
        if body.pointers or not any(group in subject.groups for group in self.pointer_objects):
            return []
        acting = {body.clause[start] for group in self.refer_actions for start, _ in body.groups.get(group, ())}
        if not body.bare and not any(body.clause[start] in acting for start, _ in body.groups.get("_pointer", ())):
            return []  # no pointing word in a clause with an action: the subject has nothing to stand for
        seg = self.segment(f"{texts.subject}. {texts.own}")
        first = subject.sentence[-1] + 1 if subject.sentence else 0
        return [
            (hit, seg.words(hit.start, hit.end))
            for hit in self.hits(seg)
            if hit.rule.category in RIGHTS and seg.sentence[hit.start] >= first
        ]

    def _determines(self, seg: _Segment, i: int) -> bool:
        """Token ``i``, right after a pointing word, is a content word that the pointing word is the determiner of."""
        if i >= len(seg.doc):
            return False
        tok = seg.doc[i]
        if tok.lower_ in self.pointer_adjectives:
            return self._determines(seg, i + 1)  # "Het oude mag weg": the noun is left out
        return (
            tok.is_alpha
            and (tok.text[:1].isupper() if self.noun_capitals
                 else not tok.is_stop and tok.lower_ not in self.pointer_next)
            and not any(s == i for g in self.refer_actions for s, _ in seg.groups.get(g, ()))
        )

    def hits(self, seg: _Segment) -> list[Hit]:
        found = [Hit(self.rules[label], start, end) for label, start, end in seg.direct]
        present = seg.groups.keys()
        referred = present | seg.pointers.keys()
        candidates = sorted(n for group in referred for n in self.rules_by_group.get(group, ()))
        for rule, needed in (self.group_rules[n] for n in candidates):
            if present >= needed or (rule.refer and referred >= needed):  # most rules miss a group: skip the call
                found.extend(_cooccurrences(rule, seg, self.pointer_follows))
        # the rights first, then privacy_other, whichever rule file (rules.toml, concerns.toml) holds which rule
        found.sort(key=lambda hit: hit.rule.category is Category.PRIVACY_OTHER)
        kept: list[Hit] = []
        missed_before, misses, unchanged = seg.near_miss, set(), set()
        """The near misses of this text by veto (``"negated_change"`` for a rectification negated), and the sentences
        of the negated rectifications."""
        for hit in found:
            veto = self._veto(hit, seg)
            if veto is None:
                kept.append(hit)
            elif veto == "guard" and hit.rule.category in RIGHTS:
                seg.guarded = True
            elif veto == "state" and self._on_data(hit, seg):
                # "Werden meine Daten auch bei PostNL gelöscht?": what happens to the writer's data, asked
                kept.append(Hit(self.whether, hit.start, hit.end))
            elif veto in REVIEW_VETOES and hit.rule.category in RIGHTS:
                if veto == "negation" and hit.rule.category is Category.RECTIFICATION:
                    misses.add("negated_change")
                    unchanged.add(seg.sentence[hit.start])
                else:
                    misses.add(veto)
                seg.near_miss = True
                if veto != "unframed":  # told, not asked: the subject line may still ask for it
                    seg.vetoed.add(hit.rule.category)
                if veto == "reported":
                    seg.reported.setdefault(hit.rule.category, seg.doc[hit.start : hit.end].text)
                elif veto == "completed":
                    seg.done = seg.done or seg.doc[hit.start : hit.end].text
        if not _sentences(seg, self.bare_unless):
            unchanged = set()
        elif misses == {"negated_change"}:
            # "Kunnen jullie het afleveradres van bestelling 21760 wijzigen? ... Mijn adres in het account hoeft niet
            # veranderd te worden": a change refused beside an order's matter says what to leave alone
            seg.near_miss = missed_before
        # A privacy topic next to the writer's data, in one sentence, is worth a look too: the writer's own
        # (``markers.toml: own``, "mijn", "my"), not a vendor's "your customer data" or a footer's "uw gegevens".
        topics = _sentences(seg, (REVIEW_GROUP,)) & _sentences(seg, ("data",))
        if topics and self.own:
            topics &= self._own_sentences(seg)
        if topics:
            seg.near_miss = True
        seg.netted = self._in_net(seg, unchanged)
        # "my access request is still not answered", "I withdraw my erasure request, I want to keep the account": the
        # request named inside a complaint about its handling (a right hit that starts in it) is the old one, not a new
        # request. A complaint told over sentences ("Hierbij nogmaals mijn verzoek om mijn account te verwijderen. ...
        # ik heb niks gehoord.") spans the request asked anew.
        complaints = [(h.start, _spans_end(h, seg)) for h in kept if h.rule.alongside and h.rule.sentences == 1]
        kept = [
            h
            for h in kept
            if h.rule.category not in RIGHTS or not any(s <= h.start < e for s, e in complaints)
        ]
        # "freeze my account for now (no emails, no personalisation, nothing)": the list after a restriction is what
        # the restriction covers, not an objection of its own
        kept = [h for h in kept if h.rule.category is not Category.OBJECTION or not self._listed(h, kept, seg)]
        kept = [h for h in kept if h.rule.covered_by is None or not _covered(h, kept, seg)]
        kept = [h for h in kept if not self.erased_object(h, kept, seg)]
        # A privacy word inside the request itself ("under the GDPR, delete my data") is no separate
        # question: such privacy_other hits count only in a sentence without a right, or in a clause of their own that
        # asks to be told ("Take me off your list, and tell me where you got my email address from").
        rights_sentences = {seg.sentence[h.start] for h in kept if h.rule.category in RIGHTS}
        rights_clauses = {c for h in kept if h.rule.category in RIGHTS for c in range(seg.clause[h.start],
                                                                                      seg.clause[h.end - 1] + 1)}
        return [
            h
            for h in kept
            if h.rule.category is not Category.PRIVACY_OTHER
            or h.rule.alongside
            or seg.sentence[h.start] not in rights_sentences
            or (seg.clause[h.start] not in rights_clauses and self.to_be_told(h, seg))
        ]

    def cue_offsets(self, seg: _Segment) -> set[int]:
        """Character offsets of the words that this language's cue groups matched."""
        return {
            seg.doc[i].idx
            for name, spans in seg.groups.items()
            if not name.startswith("_")
            for start, end in spans
            for i in range(start, end)
        }

    def native_action(self, hit: Hit, seg: _Segment, offsets: set[int]) -> bool:
        """A borrowed-language hit whose action word is a cue word of the mail's own language (``offsets``, from
        ``cue_offsets`` on the same text)."""
        return any(
            seg.doc[i].idx in offsets and seg.norms[i] in self.verbs for i in range(hit.start, hit.end)
        )


def _spans_end(hit: Hit, seg: _Segment) -> int:
    """Where the hit's words end, with the whole of a group phrase that starts in it ("annule ma demande" + "ma demande
    de suppression": the request the complaint names ends after "suppression")."""
    return max([hit.end, *(e for g in hit.rule.groups for s, e in seg.groups.get(g, ()) if hit.start <= s < hit.end)])


def _covered(hit: Hit, hits: list[Hit], seg: _Segment) -> bool:
    """A hit of the hit's ``covered_by`` category stands in its sentence or the one before or after."""
    sentence = seg.sentence[hit.start]
    return any(o.rule.category is hit.rule.covered_by and abs(seg.sentence[o.start] - sentence) <= 1 for o in hits)


def _add_scope_groups(folder: Path, markers: dict[str, Any], terms: dict[str, list[str]]) -> None:
    """The cue groups of markers.toml (``_SCOPE_GROUPS``: negation, frames, pointers ...) become term groups, matched
    like the rules' own, and every markers list that names term groups names known ones (a typo would match nothing)."""
    for group in _SCOPE_GROUPS:
        terms[group] = list(markers.get(group.lstrip("_"), []))
    net_keys = ("net_objects", "net_actions", "net_unless", "net_mailings", "net_refusals", "net_questions")
    for key in ("objects", "pointer_objects", "pointer_unless", "bare_unless", *net_keys):
        if unknown := [g for g in markers.get(key, []) if g not in terms]:
            raise RulesError(f"{folder}/markers.toml {key}: unknown term groups {unknown}")
