"""A mail to a ``Classification``: which texts are read in which language, and what the hits add up to.

``Classifier`` loads every language's rules once, splits a message into its own text, subject, quoted,
forwarded and attached parts, runs the rules of the mail's language (and the borrowed or mixed ones where a
short mail calls for it), and turns the surviving hits into evidence and categories (``decide``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..language import LANGUAGES, LETTER_WORD, fold, identify_language, load_model, phrase_pattern
from ..models import RIGHTS, UNCLEAR_REQUEST, Category, Classification, Evidence, ParsedMessage
from ..quotes import QuoteMarkers, cut_signature, split_reply
from ..resources import user_cache_dir
from ..robots import detect_automated
from ..withdrawal import Cues, load_cues
from .answers import Answer, Answers, first_message
from .language_rules import FRAMED_WORDS, LanguageRules
from .layout import MAX_CHARS, _few_words, _Segment, _Texts
from .matching import Hit
from .rulebook import Rule, RulesError
from .second_opinion import LABELS, MODEL_CHARS, SecondOpinion, mail_text, model_text
from .thread import ThreadCues

MIN_OWN_WORDS = 5
"""Below this many words of own text a forwarded message is read as the request itself, and a reply's language is
told from its thread too."""
QUOTED_SAMPLE = 300
"""Characters of the quoted text that help tell a short reply's language."""
BORROWED = ("nl", "en")
"""Languages whose words turn up inside mail in another language at this shop ("bitte mein account
verwijderen", "pls delete mijn account")."""
MIXED_WORDS = 40
"""Up to this many words of own text, a mail in which its own language's rules find nothing is read
by the other languages' rules too: short mails mix languages ("Please verwijder my account")."""
CONVERSATION = "conversation.toml"
"""The file of ``classifiers/`` with what a reply can say; its withdrawal cues are read for a thread's request too."""
SECOND_OPINION = "second_opinion"
"""The folder of ``classifiers/`` that holds the trained second opinion and its thresholds."""
NOT_CARRIED_OUT = "not_carried_out"
"""The evidence id of a request reported as not carried out (or unanswered): a complaint about its handling."""
THREAD = "thread"
"""The evidence ids of a short reply that chases or takes back the request its thread names (``thread.chase``,
``thread.withdrawn``): read from the thread, which the models do not see, so they do not take it back."""
ANSWERED = "answer"
"""The evidence ids of a bare yes or no to the shop's quoted question start with this (``answer.<rule id>``): the
question's words, read as the writer's, are what the answer asks; no model takes them back or adds to them."""
SHORT_OWN_WORDS = 30
"""Below this many words, attached messages/text files are read as part of the request. A longer
cover note makes them part of it when it points at them ("zie bijlage", "I send it again")."""


class Classifier:
    """All languages loaded once; safe across threads: ``classify`` only reads shared state, except
    that it swaps in a fresh copy of a language whose pipeline has outgrown its memory bound (a
    thread still holding the old copy finishes with it)."""

    def __init__(self, languages: dict[str, LanguageRules], quote_markers: QuoteMarkers,
                 second_opinion: SecondOpinion | None, withdrawal: Cues) -> None:
        self.languages = languages
        self.quote_markers = quote_markers
        self.second_opinion = second_opinion
        """None only for ``load_rules``: the rules alone, as the second opinion is trained on how they read mail."""
        self.ooo_phrases = tuple(
            " ".join(fold(p).split()) for rules in languages.values() for p in rules.markers.get("ooo", [])
        )
        self.bare_requests: dict[str, Category] = {}
        spoken: dict[str, set[str]] = {}
        for lang, rules in languages.items():
            named = [(w, Category.OBJECTION) for w in rules.markers.get("unsubscribe_subject", [])]
            named += [(w, Category(c)) for c, names in rules.markers.get("bare_request", {}).items() for w in names]
            for word, category in named:
                key = " ".join(fold(word).split())
                self.bare_requests[key] = category
                spoken.setdefault(key, set()).add(lang)
        self.bare_language = {key: langs.pop() for key, langs in spoken.items() if len(langs) == 1}
        """The language of a bare request word of one language only ("Unsubscribe" under a Dutch newsletter is
        English; "stop", a word of all four, names none)."""
        self.bare_filler = frozenset(
            fold(w) for rules in languages.values() for w in rules.markers.get("bare_filler", [])
        )
        self.resubmit_cue = phrase_pattern(
            p for rules in languages.values() for key in ("attachment", "resubmit") for p in rules.markers.get(key, [])
        )
        self.pitch = phrase_pattern(p for rules in languages.values() for p in rules.markers.get("sales_pitch", []))
        self.survey = phrase_pattern(p for rules in languages.values() for p in rules.markers.get("survey", []))
        self.survey_ask = phrase_pattern(
            p for rules in languages.values() for p in rules.markers.get("survey_ask", [])
        )
        self.customer_voice = phrase_pattern(
            p for rules in languages.values() for p in rules.markers.get("customer_voice", [])
        )
        self.confirmation = phrase_pattern(
            p for rules in languages.values() for p in rules.markers.get("confirmation", [])
        )
        self.reply_prefix = _prefix_pattern(
            p for rules in languages.values() for p in rules.markers.get("reply_prefixes", [])
        )
        self.answers = Answers(rules.markers for rules in languages.values())
        self.thread_cues = ThreadCues((rules.markers for rules in languages.values()), withdrawal)

    @classmethod
    def load(cls, rules_dir: Path, cache_dir: Path | None = None) -> Classifier:
        """The rules of every language folder and the second opinion; lemma caches go to ``cache_dir`` (default:
        the user's)."""
        classifier = cls.load_rules(rules_dir, cache_dir)
        classifier.second_opinion = SecondOpinion.load(rules_dir / SECOND_OPINION)
        return classifier

    @classmethod
    def load_rules(cls, rules_dir: Path, cache_dir: Path | None = None) -> Classifier:
        """The rules alone, without the second opinion (which is trained on how they read mail)."""
        cache = cache_dir or user_cache_dir()
        load_model(cache)  # here, not at the first short mail: a first start builds it before any mail is held
        languages = {
            lang: LanguageRules(lang, rules_dir / lang, cache) for lang in LANGUAGES if (rules_dir / lang).is_dir()
        }
        if not languages:
            raise RulesError(f"{rules_dir}: no language folders (nl, en, de, fr)")

        def merged(key: str) -> list[str]:
            return [p for rules in languages.values() for p in rules.markers.get(key, [])]

        markers = QuoteMarkers.build(
            attribution=merged("attribution"),
            history=merged("history"),
            forward=merged("forward"),
            header_from=merged("header_from"),
            header_other=merged("header_other"),
            signature=merged("signature"),
            footer=merged("footer"),
        )
        if not (rules_dir / CONVERSATION).is_file():
            raise RulesError(f"{rules_dir / CONVERSATION}: missing (what a reply can say; see classifiers/README.md)")
        return cls(languages, markers, None, load_cues(rules_dir / CONVERSATION))

    def texts(self, msg: ParsedMessage) -> _Texts:
        """The words that count: own text, the subject unless it is a reply's, and forwarded or
        attached text when the sender's own words are too few to be the request themselves."""
        split = split_reply(msg.text[: MAX_CHARS * 5], self.quote_markers)
        own = cut_signature(split.own, self.quote_markers)
        extra: list[str] = []
        own_words = len(own.split())
        # the cover note is searched only when there is a forwarded or attached text for it to point at
        resubmits = bool(split.forwarded or msg.embedded_texts) and self._resubmits(own)
        if split.forwarded and (own_words < MIN_OWN_WORDS or resubmits):
            forwarded = split_reply(_drop_header_lines(split.forwarded), self.quote_markers).own
            extra.append(cut_signature(forwarded, self.quote_markers))
        if msg.embedded_texts and (own_words < SHORT_OWN_WORDS or resubmits):
            extra.extend(t[:MAX_CHARS] for t in msg.embedded_texts)
        reply = self.reply_prefix.match(msg.subject) is not None
        subject = "" if reply else msg.subject
        # a few words ("ja, beides", "40388 / 9405 BJ") are too few to tell a language by: their thread tells it
        sample = own if own_words >= 3 and not (split.quoted and own_words < MIN_OWN_WORDS) else " ".join(
            [msg.subject, own, *extra, split.quoted[:QUOTED_SAMPLE]])
        language, sure = identify_language(sample)
        if (bare := self.bare_language.get(" ".join(fold(own).strip(" .!?").split()))) is not None:
            language, sure = bare, True
        confirmed = reply and self.confirmation.search(" ".join(fold(msg.subject).split())) is not None
        return _Texts(
            own=own,
            subject=subject,
            extra=extra,
            language=language,
            sure=sure,
            short=own_words <= MIXED_WORDS,
            confirmed=confirmed,
            quoted=split.quoted,
            reply_subject=msg.subject if reply else "",
        )

    def classify(self, msg: ParsedMessage) -> Classification:
        texts = self.texts(msg)
        reason = detect_automated(msg, self.ooo_phrases, texts.own)
        if reason is not None:
            return Classification(
                categories=[Category.NONE],
                language=texts.language,
                automated=True,
                automated_reason=reason,
                new_text=texts.own,
            )
        verdict = self.evidence(texts)
        evidence, near_miss = verdict.evidence, verdict.near_miss
        if self.second_opinion is not None:
            whole = mail_text(texts.subject, texts.own, texts.extra)
            text = whole[:MODEL_CHARS]
            own = model_text(texts.subject, texts.own, ()) if texts.extra else None
            # "my rights under the GDPR", none named: the desk asks which (desk.intake), the models guess none
            # an answer to the shop's question: the question's words are the request, not the few words of the answer
            unclear = [e for e in evidence if e.rule.endswith(UNCLEAR_REQUEST) or e.rule.startswith(f"{ANSWERED}.")]
            # a chase or withdrawal read from the thread, which the models do not see, and a right exercised in the
            # law's words (``Rule.firm``): the models may add to them, not take them back
            kept_as_read = [e for e in evidence if e.rule.startswith(f"{THREAD}.") or self._firm(e)]
            rest = [e for e in evidence if e not in unclear and e not in kept_as_read]
            refused = verdict.refused | (frozenset(RIGHTS) if unclear else frozenset())
            opinion = self.second_opinion.revise(text, rest, refused, own, near_miss, self._asks_only(rest), whole)
            evidence, near_miss = unclear + kept_as_read + opinion.evidence, opinion.check
        categories = decide(evidence)
        return Classification(
            categories=categories,
            language=texts.language,
            automated=False,
            evidence=evidence,
            new_text=texts.own,
            review=near_miss and categories == [Category.NONE],
        )

    def read_from_thread(self, texts: _Texts) -> bool:
        """Whether the rules read the mail's request from its thread: a bare answer to the shop's quoted question, or a
        short chase or withdrawal of the request the thread names."""
        return any(e.rule.startswith((f"{ANSWERED}.", f"{THREAD}.")) for e in self.evidence(texts).evidence)

    def evidence(self, texts: _Texts) -> RulesVerdict:
        """The rule hits as evidence, whether a near miss makes the mail one to check, and the rights refused.

        The subject is judged with the body: a right that the body names only as negated,
        hypothetical or already done ("account verwijderd maar toch nog mail") does not count
        from the subject either. A vendor's sales pitch counts as nothing at all.
        """
        if self._is_pitch(texts.own):
            return RulesVerdict([], False, frozenset())
        if texts.sure and texts.language in self.languages:
            langs = [texts.language]
            fallback = [lang for lang in BORROWED if lang != texts.language and lang in self.languages]
            fallback = fallback if texts.short else []
        else:
            langs, fallback = list(self.languages), []
        reading = _Reading()
        own_rules = self.languages[langs[0]]
        in_order = _texts_in_order(texts)
        for lang in langs + fallback:
            if lang in fallback and (reading.found or reading.near_miss):
                break
            rules = self.languages[lang]
            if lang in fallback and not rules.names_an_action(texts):
                continue
            for number, (is_subject, text) in enumerate(in_order):
                if not text.strip():
                    continue
                seg = rules.segment(text, framed=is_subject)
                hits = _note_segment(reading, rules, seg, is_subject, lang in fallback, texts.confirmed)
                if lang not in fallback:
                    reading.native[number] = seg
                for hit in hits:
                    if lang in fallback and (
                        hit.rule.category not in RIGHTS
                        or rules.native_action(hit, seg, own_rules.cue_offsets(reading.native[number]))
                    ):
                        continue  # borrowed words can ask for a right; questions stay with the mail's language
                    reading.resubmitted = reading.resubmitted or (
                        number > 1 and not is_subject and hit.rule.category in RIGHTS)
                    span = seg.words(hit.start, hit.end)
                    if reading.add(hit, span, rules.beside_rights(hit, seg), is_subject) and (
                        hit.rule.access_topic or rules.to_be_told(hit, seg)
                    ):
                        reading.access_topics.add((hit.rule.id, span))
            native = reading.native
            if 0 in native and 1 in native and not any(e.category in RIGHTS for e, _, _ in reading.found):
                for hit, span in rules.subject_referred(texts, native[0], native[1]):
                    reading.add(hit, span, False, False)
            if rules.outgrown():
                self.languages[lang] = LanguageRules(lang, rules.folder, rules.cache_dir)
        verdict = self._settle(reading, texts)
        if any(e.category in RIGHTS for e in verdict.evidence):
            return verdict
        # the thread is read only now, for a reply whose own words asked no right
        answer = self.answers.read(texts.own, texts.quoted) if texts.quoted else None
        if answer is not None and (answered := self._answered(answer, texts.language)):
            return RulesVerdict([*verdict.evidence, *answered], verdict.near_miss, verdict.refused)
        cue = None if verdict.evidence else self.thread_cues.about_request(texts.own)
        thread = "\n".join([texts.reply_subject, *first_message(texts.quoted)]) if cue is not None else ""
        if cue is not None and thread.strip() and self._thread_asks(thread, texts.language):
            kind, words = cue
            handled = Evidence(category=Category.PRIVACY_OTHER, rule=f"{THREAD}.{kind}", text=words)
            return RulesVerdict([handled], verdict.near_miss, verdict.refused)
        return verdict

    def _as_the_writers(self, rules: LanguageRules, text: str) -> tuple[_Segment, list[Hit]]:
        """The shop's quoted words read as if the writer wrote them (``Answers.as_the_writers``), as a request."""
        seg = rules.segment(self.answers.as_the_writers(text), framed=True)
        return seg, rules.hits(seg)

    def _thread_asks(self, thread: str, language: str) -> bool:
        """The thread (a reply's Re: subject and first quoted message) names a right, asked there or acknowledged."""
        rules = self.languages.get(language)
        for lang_rules in [rules] if rules is not None else list(self.languages.values()):
            seg, hits = self._as_the_writers(lang_rules, thread)
            if seg.vetoed & set(RIGHTS) or any(h.rule.category in RIGHTS for h in hits):
                return True
        return False

    def _answered(self, answer: Answer, language: str) -> list[Evidence]:
        """What a bare yes or no asks, read from the question it answers: a yes asks the rights the question names
        (read as the writer's own words), a no to a mailing kept objects to it."""
        told = f"{answer.words} / {answer.question}"
        if not answer.agrees:
            keep = self.answers.keeps_receiving(answer.question)
            return [Evidence(category=Category.OBJECTION, rule=f"{ANSWERED}.keep_receiving", text=told)] if keep else []
        lang, _ = identify_language(answer.question)
        rules = self.languages.get(lang) or self.languages.get(language)
        if rules is None:
            return []
        found: dict[Category, Evidence] = {}
        for hit in self._as_the_writers(rules, answer.question)[1]:
            if hit.rule.category in RIGHTS:
                found.setdefault(hit.rule.category, Evidence(
                    category=hit.rule.category, rule=f"{ANSWERED}.{hit.rule.id}", text=told))
        return list(found.values())

    def _settle(self, reading: _Reading, texts: _Texts) -> RulesVerdict:
        """What the hits of all texts and languages add up to: a mail's parts judge each other, so this comes after
        every text is read (the body's vetoes overrule the subject, "do not erase" any erasure, a request reported as
        not carried out adds the complaint, a right found makes its side questions part of it)."""
        kept = [(e, beside) for e, beside, is_subject in reading.found
                if not (is_subject and e.category in reading.body_vetoed)]
        reported, done = reading.reported, reading.done
        if reading.keep_all:  # "Ne supprimez rien", "Niet verwijderen aub": whatever else is asked, no erasure
            kept = [(e, beside) for e, beside in kept if e.category is not Category.ERASURE]
        if reading.restore:  # "mijn account is vorig jaar verwijderd ... kunnen jullie het terughalen?": no complaint
            reported.pop(Category.ERASURE, None)
            done = ""
        unfulfilled, unanswered = reading.unfulfilled, reading.unanswered
        if (unfulfilled and (reported or done)) or (unanswered and reported):
            # "I asked you to delete my account ... and today I got your newsletter again": the request stands,
            # and its handling is a complaint; a request carried out that still has effects is the complaint alone.
            # A request made before and never answered is the complaint; it stands again when asked anew after the
            # silence ("... keine Antwort erhalten. Ich bitte um umgehende Erledigung.").
            for category, words in reported.items() if unfulfilled or reading.asked_anew else ():
                if not any(e.category is category for e, _ in kept):
                    kept.append((Evidence(category=category, rule="asked_again", text=words), False))
            complaint = unfulfilled or unanswered
            kept.append((Evidence(category=Category.PRIVACY_OTHER, rule=NOT_CARRIED_OUT, text=complaint), True))
        bare = None if any(e.category in RIGHTS for e, _ in kept) or reading.guarded else self._bare_request(texts)
        if bare is not None:
            # Mailing lists are robots (List-* headers); a person writing just "Unsubscribe" objects.
            kept.append((Evidence(category=bare[0], rule="bare_request", text=bare[1]), False))
        if any(e.category in RIGHTS for e, _ in kept):
            # A request re-submitted in an attached or forwarded message (read as part of it: ``texts.extra``) is the
            # request again; what its cover note says about the first sending ("no answer", "still") belongs to it.
            # An attachment that asks for nothing (an invoice) leaves the cover note's questions standing.
            if any(e.category is Category.ACCESS for e, _ in kept):
                kept = [(e, b and (e.rule, e.text) not in reading.access_topics) for e, b in kept]
            kept = [(e, b) for e, b in kept
                    if e.category is not Category.PRIVACY_OTHER or (b and not reading.resubmitted)]
        refused = reading.body_vetoed | ({Category.ERASURE} if reading.keep_all else set())
        refused |= set(LABELS) - reading.named
        if reading.resubmitted:  # the cover note's complaint is about the first sending of the request it re-submits
            refused.add(Category.PRIVACY_OTHER)
        near_miss = (reading.near_miss or reading.netted) and not reading.restore  # a restore is no hidden request
        return RulesVerdict([e for e, _ in kept], near_miss, frozenset(refused))

    def _asks_only(self, evidence: Sequence[Evidence]) -> bool:
        """The rules' privacy_other is a question about processing ("Geven jullie mijn adres door aan andere
        bedrijven?"), no complaint about how a request was handled or a worry about a leak (rules marked ``alongside``,
        a request reported as not carried out): a right the models add beside a question takes a surer model."""
        found = [e for e in evidence if e.category is Category.PRIVACY_OTHER]
        return bool(found) and not any(self._alongside(e) for e in found)

    def _alongside(self, evidence: Evidence) -> bool:
        """A complaint or worry: a rule marked ``alongside``, or a request reported as not carried out."""
        if evidence.rule == NOT_CARRIED_OUT:
            return True
        rule = self._rule_of(evidence)
        return rule is not None and rule.alongside

    def _firm(self, evidence: Evidence) -> bool:
        """The evidence is a hit of a ``firm`` rule: a right exercised in the law's own words."""
        rule = self._rule_of(evidence)
        return rule is not None and rule.firm

    def _rule_of(self, evidence: Evidence) -> Rule | None:
        """The rule whose hit the evidence is; None for evidence of no rule (the models', the thread's)."""
        lang = evidence.rule.split(".", 1)[0]
        return self.languages[lang].rules.get(evidence.rule) if lang in self.languages else None

    def _bare_request(self, texts: _Texts) -> tuple[Category, str] | None:
        """The subject, or the whole new text, only names a right: "Unsubscribe", "afmelden", "Inzage",
        "Auskunft", "Access request" (``bare_request`` in markers.toml, ``bare_filler`` words aside)."""
        candidates = (texts.subject, texts.own) if len(texts.own.split()) <= 3 else (texts.subject,)
        for text in candidates:
            whole = " ".join(fold(text).strip(" .!?:-").split())
            core = " ".join(w for w in LETTER_WORD.findall(fold(text)) if w not in self.bare_filler)
            for key in (whole, core):
                if key in self.bare_requests:
                    return self.bare_requests[key], text
        return None

    def _resubmits(self, own: str) -> bool:
        """The cover note points at the forwarded or attached message ("zie bijlage", "again")."""
        lowered = " ".join(fold(own[:3000]).split())
        return self.resubmit_cue.search(lowered) is not None

    def _is_pitch(self, text: str) -> bool:
        """A vendor selling GDPR services talks about privacy without asking us anything. Not a writer who speaks of
        their own account, order or data with the shop (``customer_voice``): "Ik betaal 4,95 per maand voor mijn
        abonnement. Zeg het op en verwijder mijn account." is a customer, whatever pitch word it holds. A survey is a
        pitch only when the shop is asked to take part in it (``survey_ask``): "Voor mijn scriptie wil ik weten welke
        gegevens jullie van mij bewaren" asks the writer's own question."""
        folded = " ".join(fold(text[:3000]).split())
        pitched = self.pitch.search(folded) is not None or (
            self.survey.search(folded) is not None and self.survey_ask.search(folded) is not None
        )
        return pitched and self.customer_voice.search(folded) is None


@dataclass(frozen=True)
class RulesVerdict:
    """What the rules make of a mail, before the second opinion."""

    evidence: list[Evidence]
    near_miss: bool
    """A right named but negated, hypothetical or done, or a privacy topic: to check when nothing else is found."""
    refused: frozenset[Category]
    """What the second opinion may not add: rights the body names only as negated, hypothetical or done ("Bitte löschen
    Sie mein Konto NICHT", "als ik ooit mijn account wil verwijderen"; the rules read the scope of those words, the
    models do not), an erasure when the writer wants everything kept, privacy_other when the mail re-submits its
    request (what the cover note says of the first sending belongs to it), and whatever the mail does not name
    (``_Reading.named``)."""


@dataclass
class _Reading:
    """What ``Classifier.evidence`` gathers from each text of a mail (subject, own text, extra texts) in each language
    it reads, for ``_settle`` to weigh once all are read: a mail's parts qualify each other."""

    found: list[tuple[Evidence, bool, bool]] = field(default_factory=list)
    """(evidence, may stand next to a right, from the subject)"""
    seen: set[tuple[str, str]] = field(default_factory=set)
    """(rule id, words) of ``found``: one rule's words found again in another text or language count once."""
    access_topics: set[tuple[str, str]] = field(default_factory=set)
    """The (rule id, words) of the ``access_topic`` hits and of concerns inside a wish to be told ("tell me which of
    my details you pass on"): next to an access request they are part of it."""
    resubmitted: bool = False
    """A right asked in an attached or forwarded text (``texts.extra``): the mail re-submits that request."""
    near_miss: bool = False
    guarded: bool = False
    netted: bool = False
    body_vetoed: set[Category] = field(default_factory=set)
    reported: dict[Category, str] = field(default_factory=dict)
    done: str = ""
    unfulfilled: str = ""
    unanswered: str = ""
    asked_anew: bool = False
    keep_all: bool = False
    restore: bool = False
    named: set[Category] = field(default_factory=set)
    """The categories the mail names (``LanguageRules.named``): the second opinion adds no other."""
    native: dict[int, _Segment] = field(default_factory=dict)
    """Per text (by number), its segment in the mail's own language: the borrowed-language pass skips words that
    language has a cue for ("wissen" is German "know" in a German mail, never the Dutch "erase")."""

    def add(self, hit: Hit, span: str, beside: bool, is_subject: bool) -> bool:
        """The hit as evidence, unless its rule found these words already; True when it is new."""
        if (hit.rule.id, span) in self.seen:
            return False
        self.seen.add((hit.rule.id, span))
        self.found.append((Evidence(category=hit.rule.category, rule=hit.rule.id, text=span), beside, is_subject))
        return True


def _texts_in_order(texts: _Texts) -> list[tuple[bool, str]]:
    """(is the subject, text): the subject, the own text and the extra texts, and for a short body the subject and
    body read as one: "verwijderen" / "mijn gegevens aub" holds the action in the subject, the object in the body."""
    in_order = [(True, texts.subject), *((False, t) for t in (texts.own, *texts.extra))]
    if texts.subject and _few_words(texts.own, FRAMED_WORDS):
        in_order.append((True, f"{texts.subject} {texts.own}"))
    return in_order


def _note_segment(reading: _Reading, rules: LanguageRules, seg: _Segment, is_subject: bool, borrowed: bool,
                  confirmed: bool) -> list[Hit]:
    """One text's hits, and what its segment says beyond them (near misses, guards, a request reported, done or left
    unanswered) noted in ``reading``; a borrowed language's near misses and nets do not count."""
    hits = rules.hits(seg)
    reading.named |= rules.named(seg)
    reading.near_miss = reading.near_miss or (not borrowed and seg.near_miss)
    reading.netted = reading.netted or (not borrowed and seg.netted and not seg.guarded)
    reading.guarded = (reading.guarded or seg.guarded
                       or (not is_subject and any(g in seg.groups for g in rules.bare_unless)))
    if not is_subject:
        if confirmed and "_frame" not in seg.groups:
            hits = rules.unasked(hits, seg)
        hits = rules.wished_back(hits, seg)
        reading.body_vetoed |= seg.vetoed
        reading.restore = reading.restore or rules.restores(seg)
        reading.keep_all = reading.keep_all or reading.restore or "_do_not_erase" in seg.groups
        for category, words in seg.reported.items():
            reading.reported.setdefault(category, words)
        reading.done = reading.done or seg.done
        if not reading.unanswered:
            reading.unanswered, reading.asked_anew = rules.unanswered(seg)
    if cues := rules.unfulfilled(seg):
        reading.unfulfilled = reading.unfulfilled or cues
    return hits


def decide(evidence: Sequence[Evidence]) -> list[Category]:
    """Categories in vocabulary order; ``none`` when nothing was found.

    privacy_other may stand next to rights: ``Classifier.evidence`` keeps it there from rules marked
    ``alongside`` (a complaint about how a request was handled), from ``concern`` questions of their own
    and from a request reported as not carried out."""
    found = {e.category for e in evidence}
    categories = [c for c in (*RIGHTS, Category.PRIVACY_OTHER) if c in found]
    return categories or [Category.NONE]


def _prefix_pattern(prefixes: Iterable[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(p.rstrip(":").strip()) for p in prefixes if p.strip())
    return re.compile(rf"^\s*(?:\[[^\]]*\]\s*)?(?:{alternatives or '(?!x)x'})\s*(?:\[\d+\])?\s*:", re.IGNORECASE)


_HEADER_LINE = re.compile(r"^\s*\*?[\w-]{2,20}\*?\s*:\s.*$|^\s*\*?[\w-]{2,20}\*?\s*:\s*$")


def _drop_header_lines(text: str) -> str:
    """The forwarded body without its "From:/Date:/Subject:" block."""
    lines = text.split("\n")
    i = 0
    while i < len(lines) and (not lines[i].strip() or _HEADER_LINE.match(lines[i])):
        i += 1
    return "\n".join(lines[i:])
