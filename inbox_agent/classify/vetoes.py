"""Why a hit does not count: negated, hypothetical, told as done or reported, guarded, outside a request frame.

A right named in a mail is not yet a request: "ik wil NIET dat ...", "als ik ooit ...", "my account was deleted",
"I asked you in May", "after this order", a statement with no request frame. These are the tests ``LanguageRules``
puts each hit to, and the review net that keeps a mail with a near miss on the officer's list. A base class of
``LanguageRules``, apart from the matching: what it reads of the language's markers is declared below.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable

from ..models import RIGHTS, Category
from .layout import _ENUMERATION, _opens_sentence, _Segment, _sentences
from .matching import Hit

NEG_BEFORE = 8
NEG_AFTER = 4
UNLESS_NEAR = 8
DETACH_LEAD = 2
"""Words a ``detach`` word may stand before a guard that precedes the hit ("na deze bestelling")."""
REASON_GAP = 2
"""Words at least between a hit and a ``reason`` word before a negation: "verwijderen | gebruik het | toch nooit"."""
WITHOUT_BEFORE = 3
""""zonder", "without", "ohne", "sans" negate only the action that follows them ("sans les supprimer"),
never one before them ("delete it without delay")."""
NO_ANSWER_GROUP = "no_answer"
"""The [terms] group of "no reply" words: an ``unfulfilled`` cue just before one ("still no answer") is none."""
COME_BACK_GROUP = "come_back"
"""The [terms] group (concerns.toml) of a wish to receive a mailing again ("würde ihn jetzt aber gerne wieder
bekommen"): an ``unfulfilled`` cue in its sentence ("wieder") tells no complaint."""
LIST_GAP = 3
"""Words between a guard and a data item of one list ("order history and address")."""
_LIST_MARKS = frozenset({",", "/", "&", "+"})
TELL_GROUP = "be_told"
"""The [terms] group (concerns.toml) of a wish to be told ("tell me", "ik wil graag weten"): a concern asked inside it
("Could you tell me which of my details you pass on to other companies?") is what an access request asks."""
DATA_GROUP = "data"
"""The [terms] group of the writer's data: a state asked about it is a question about processing."""
RECIPIENT_GROUP = "recipient_co"
"""The [terms] group (concerns.toml) of other companies ("Google", "derden"): inside an access hit, they receive the
data, not the writer."""
RECIPIENT_BEFORE = 2
"""Words a ``RECIPIENT_GROUP`` word may stand before an access hit in its clause, as its subject ("Does Google get my
data?")."""
OWN_RECORD = "own_account"
"""The [terms] group of the writer's own account or profile ("mijn account", "mon profil")."""
SEE_GROUP = "see"
"""The [terms] group of the access actions ("kopie", "send me", "Auskunft"): what is held of the writer, named as the
object of an erasure, is a copy asked for only with one of these in its words."""


class Vetoes:
    """The vetoes and the review net of one language (``LanguageRules`` sets the markers they read)."""

    clause_breaks: frozenset[str]
    subjects: frozenset[str]
    negated_words: frozenset[str]
    reasons: frozenset[str]
    passive_present: frozenset[str]
    recalls: frozenset[str]
    refusal_predicates: frozenset[str]
    other_owners: frozenset[str]
    objects: tuple[str, ...]
    list_joints: frozenset[str]
    verb_final: bool
    net_objects: tuple[str, ...]
    net_actions: tuple[str, ...]
    net_unless: tuple[str, ...]
    net_mailings: tuple[str, ...]
    net_refusals: tuple[str, ...]
    net_questions: tuple[str, ...]

    def _in_net(self, seg: _Segment, aside: set[int]) -> bool:
        """The review net: a sentence with the writer's own (``own``) and their data, account or mailings
        (``net_objects``), with an action word of a right (``net_actions``) in it or next to it; or a mailing
        (``net_mailings``) refused in its sentence (``net_refusals``: "geen verjaardagsmail meer"); or a question
        about what is held on the writer (every ``net_questions`` group in it: "wat weten jullie van mij?").
        Sentences with ``net_unless`` (an order, a login) do not count, nor the ``aside`` sentences (a change refused
        beside an order's matter). Found no request, the officer checks it: a net by class, not by phrase, so a request
        said in words no rule knows is not lost in silence."""
        unless = _sentences(seg, self.net_unless) | aside
        if objects := _sentences(seg, self.net_objects) - unless:
            # the action may stand in the sentence before or after ("In my profile my phone is 5687. Please fix.")
            actions = self._asked(seg, self.net_actions) - unless
            near = {n for s in actions for n in (s - 1, s, s + 1)} & objects
            if near & self._own_sentences(seg):
                return True
        mailings = _sentences(seg, self.net_mailings) - unless
        if mailings and mailings & self._asked(seg, self.net_refusals):  # most texts name no mailing
            return True
        # what the shop holds on the writer, asked ("wat weten jullie van mij?", "vous savez quoi de moi ?")
        held = (set.intersection(*(_sentences(seg, (group,)) for group in self.net_questions))
                if self.net_questions else set())
        held -= unless
        return bool(held) and any(seg.sentence[i] in held for i, t in enumerate(seg.doc) if t.text == "?")

    def _own_sentences(self, seg: _Segment) -> set[int]:
        """The sentences with a word of the writer's own (``markers.toml: own``: "mijn", "my")."""
        return {seg.sentence[i] for i in seg.owns}

    def _veto(self, hit: Hit, seg: _Segment) -> str | None:
        """Why the hit does not count (negation, hypothetical, completed, guard), or None."""
        rule = hit.rule
        first_clause = seg.clause[hit.start]
        last_clause = seg.clause[hit.end - 1]
        # Guards first: a hit about an order is no near miss, whatever else holds.
        detached = [s for s, _ in seg.groups.get("_detach", ())]
        for group in rule.unless:
            for start, end in seg.groups.get(group, ()):
                near = hit.start - UNLESS_NEAR <= start and end <= hit.end + UNLESS_NEAR
                # "delete my account including my orders": the order is no object of the action; inside
                # the hit it is ("a mail with my order details"). A detach word opening the guard's phrase before
                # the hit makes it a time ("na deze bestelling geen reclame meer", "after this order").
                outside = end <= hit.start or start >= hit.end
                lead = start - DETACH_LEAD if end <= hit.start else hit.start
                apart = outside and any(hit.start < s < start or lead <= s < hit.start for s in detached)
                if near and not apart and first_clause <= seg.clause[start] <= last_clause:
                    if rule.access_topic and self._listed_with_data(seg, start, end):
                        continue  # "do you keep my order history and address?": the orders are data asked about
                    return "guard"
        if rule.category in RIGHTS and self._someone_elses(hit, seg):
            return "someone_else"  # no request of the writer's, but no order guard either: the review net stays
        if rule.category is Category.ACCESS and any(
                hit.start - RECIPIENT_BEFORE <= s < hit.end and seg.clause[s] == first_clause
                for s, _ in seg.groups.get(RECIPIENT_GROUP, ())):
            return "someone_else"  # "Und bekommt Google dadurch meine Daten?": the data goes to another, not the writer
        sentence = seg.sentence[hit.start]
        # "une copie de mes données, ainsi que les finalités, les destinataires et la durée de conservation": a sentence
        # guard named after a ``listing`` word is one more thing asked for
        listed = min((s for s, _ in seg.groups.get("_listing", ()) if s >= hit.end and seg.sentence[s] == sentence),
                     default=len(seg.doc))
        for group in rule.unless_before:
            if any(seg.sentence[start] == sentence - 1 for start, _ in seg.groups.get(group, ())):
                return "guard"
        for group in rule.unless_sentence:
            if any(
                seg.sentence[start] == sentence and start < listed
                and not (rule.access_topic and self._listed_with_data(seg, start, end))
                for start, end in seg.groups.get(group, ())
            ):
                return "guard"
        if rule.negatable:
            for start, _ in seg.groups.get("_negation", ()):
                before = hit.start - NEG_BEFORE <= start < hit.start and seg.clause[start] == first_clause
                # after the hit only before a new subject: "kunnen jullie mijn account weghalen ik bestel toch niks
                # meer" (phone text without punctuation) negates the second statement, not the request
                after = (
                    hit.end <= start < hit.end + NEG_AFTER
                    and seg.clause[start] == last_clause
                    and not any(seg.norms[i] in self.subjects for i in range(hit.end, start))
                    # "verwijderen gebruik het toch nooit" gives the reason (a clause of two words or more between);
                    # "verwijder mijn account toch niet" takes the request back
                    and not (start - 1 - hit.end >= REASON_GAP and seg.doc[start - 1].lower_ in self.reasons)
                )
                inside = hit.start <= start < hit.end
                # "Löschen Sie mein Konto aber noch nicht bevor mein Paket da ist": the time is negated, not the action
                # ("geen idee wat jullie van mij bewaren": the knowing)
                elsewhere = start + 1 < len(seg.doc) and seg.doc[start + 1].lower_ in self.negated_words
                if (before or after or inside) and not elsewhere:
                    return "negation"
            # A cue negates what follows it in its clause: a hit just after it, or inside it before the hit's anchor
            # ("Konto sperren statt löschen"; "ändern Sie statt der alten Nummer die neue" and "löschen Sie ohne
            # Verzögerung mein Konto" negate no action). A hit reaching into the next clause is that clause's:
            # "Anstatt die Daten zu löschen, schränken Sie ... ein" negates the erasure, not the restriction.
            anchor = min((s for s, _ in seg.groups.get(rule.groups[0], ()) if hit.start <= s < hit.end),
                         default=hit.start) if rule.groups else hit.start
            for start, _ in seg.groups.get("_without", ()):
                if hit.start - WITHOUT_BEFORE <= start < anchor and seg.clause[start] == first_clause == last_clause:
                    return "negation"
        if rule.told and self._told(hit, seg):
            return "told"
        if rule.hypothetical_blocks:
            # "hierbij", or a polite frame just before ("Es würde mich freuen, wenn Sie ... ändern") or opening at the
            # cue ("if possible", "si possible"), makes an if-clause a request.
            performative = any(seg.clause[s] == last_clause for s, _ in seg.groups.get("_performative", ()))
            polite = [s for s, _ in seg.groups.get("_polite", ()) if last_clause - 1 <= seg.clause[s] <= last_clause]
            if not performative and any(
                seg.clause[s] == last_clause and s < hit.end and not any(p <= s for p in polite)
                for s, _ in seg.groups.get("_hypothetical", ())
            ):
                return "hypothetical"
            # "mijn account is vorig jaar verwijderd": a report of a request that was carried out
            if any(first_clause <= seg.clause[s] <= last_clause
                   and not (e < len(seg.doc) and seg.doc[e].lower_ in self.passive_present)
                   for s, e in seg.groups.get("_completed", ())):
                return "completed"
            # "ik had toch gevraagd mijn account te verwijderen": a request made before, told now; the clause before
            # counts only in the hit's sentence ("Ich habe im Mai um Löschung gebeten. Bitte löschen Sie mein Konto."
            # asks anew), and only when the hit's own clause asks nothing after a recalled request ("Wie bereits im
            # Mai beantragt, löschen Sie bitte mein Konto" asks again; "Ich habe Sie gebeten: Bitte löschen Sie mein
            # Konto. Das ist erledigt" quotes the old request)
            reported = [s for s, _ in seg.groups.get("_reported", ())
                        if first_clause - 1 <= seg.clause[s] <= last_clause and seg.sentence[s] == sentence
                        and (s < hit.end or self.verb_final)]
            if reported and (
                any(seg.clause[s] >= first_clause for s in reported)
                or not self._asks(seg, self._clause_start(seg, hit.start), self._clause_end(seg, hit.end - 1))
                or not any(self._recalled(seg, s) for s in reported)
            ):
                return "reported"
            if rule.category in RIGHTS and self._undecided(hit, seg):
                return "hypothetical"
            if rule.category in RIGHTS and (self._state(hit, seg) or self._info_question(hit, seg)):
                return "state"
        if rule.frame and not self._framed(hit, seg, rule.frame == "question"):
            return "unframed"
        return None

    @staticmethod
    def erased_object(hit: Hit, hits: list[Hit], seg: _Segment) -> bool:
        """An access hit inside an erasure hit that starts before it in its sentence, with no access action
        (``SEE_GROUP``) or wish to be told (``TELL_GROUP``) from the erasure's start to the hit's end: "Bitte löschen
        Sie alles, was Sie über mich gespeichert haben" names the data to erase, it asks for no copy ("Voordat jullie
        mijn account verwijderen, wil ik eerst een kopie van alle gegevens", "Supprimez mon compte et dites-moi quelles
        données vous détenez sur moi" do). An action in a later clause of the hit is another request's ("Haal alles weg
        wat jullie van me hebben | en stop met die mails")."""
        if hit.rule.category is not Category.ACCESS:
            return False
        asks = [s for g in (SEE_GROUP, TELL_GROUP) for s, _ in seg.groups.get(g, ())]
        return any(
            o.rule.category is Category.ERASURE and o.start < hit.start < o.end
            and seg.sentence[o.start] == seg.sentence[hit.start]
            and not any(o.start <= s < hit.end and seg.clause[s] <= seg.clause[hit.start] for s in asks)
            for o in hits
        )

    def _listed_with_data(self, seg: _Segment, start: int, end: int) -> bool:
        """The guard at ``start``..``end`` is one item of a list with the writer's data (an ``objects`` group, joined by
        "and", "or" or a comma within ``LIST_GAP`` words: "my order history and address", "mes commandes et mon
        adresse"): the orders are one of the data categories a question is about, not what it is about. Only for the
        ``access_topic`` questions (what is kept, how long, why): a worry or a complaint about an order and an address
        is about the order."""
        for group in self.objects:
            for s, e in seg.groups.get(group, ()):
                gap = range(end, s) if s >= end else range(e, start) if e <= start else range(0)
                if 0 < len(gap) <= LIST_GAP and any(
                    seg.norms[i] in self.list_joints or seg.doc[i].text in _LIST_MARKS for i in gap
                ):
                    return True
        return False

    @staticmethod
    def _asks(seg: _Segment, lo: int, hi: int) -> bool:
        """A frame cue other than the question mark in tokens ``lo``..``hi`` ("bitte", "pouvez", "möchte")."""
        return any(lo <= s < hi and seg.doc[s].text != "?" for s, _ in seg.groups.get("_frame", ()))

    def _undecided(self, hit: Hit, seg: _Segment) -> bool:
        """A deliberation earlier in the sentence ("ich überlege, mein Konto zu löschen", "j'hésite encore, peut-être
        que je vais fermer mon compte") reaches every later clause of it, unless a frame cue stands between it and
        the hit in a clause of its own ("ich habe lange überlegt, jetzt bitte ich Sie ...")."""
        sentence = seg.sentence[hit.start]
        return any(
            seg.sentence[s] == sentence and e <= hit.start and not self._asks(seg, self._clause_end(seg, s), hit.start)
            for s, e in seg.groups.get("_deliberation", ())
        )

    def _recalled(self, seg: _Segment, i: int) -> bool:
        """The clause of token ``i`` opens with a ``recall`` word ("wie"): "Wie bereits beantragt, ..." recalls the
        request, it does not report it as the news ("ich hatte geschrieben, dass Sie mein Konto löschen sollen")."""
        start = self._clause_start(seg, i)
        first = next((j for j in range(start, len(seg.doc)) if seg.doc[j].is_alpha), None)
        return first is not None and seg.doc[first].lower_ in self.recalls

    @staticmethod
    def _clause_start(seg: _Segment, i: int) -> int:
        """The first token of the clause of token ``i``."""
        return next((j + 1 for j in range(i - 1, -1, -1) if seg.clause[j] != seg.clause[i]), 0)

    def _clause_before_start(self, seg: _Segment, i: int) -> int:
        """The first token of the clause before the clause of token ``i`` (of its own clause when none is before): a
        frame cue there still asks for what token ``i`` names ("Ich möchte, | dass mein Konto gelöscht wird"). A clause
        of nothing but conjunctions is no clause before ("J'aimerais savoir ..., | et | ensuite que ce compte soit
        supprimé")."""
        start = self._clause_start(seg, i)
        worded = next((j for j in range(start - 1, -1, -1)
                       if seg.doc[j].is_alpha and seg.norms[j] not in self.clause_breaks), None)
        return start if worded is None else self._clause_start(seg, worded)

    @staticmethod
    def _clause_end(seg: _Segment, i: int) -> int:
        """The first token after the clause of token ``i``."""
        return next((j for j in range(i, len(seg.doc)) if seg.clause[j] != seg.clause[i]), len(seg.doc))

    def _told(self, hit: Hit, seg: _Segment) -> bool:
        """A ``told`` cue (a finite past or copula verb, as written) in the hit's clauses, and no frame cue but "?" in
        them or the clause before: the clause tells a fact ("Den Newsletter habe ich aber nicht bekommen", "Im
        Newsletter stand kein Preis"), its negation refuses nothing ("Den Newsletter möchte ich nicht mehr")."""
        first, last = seg.clause[hit.start], seg.clause[hit.end - 1]
        if not any(first <= seg.clause[s] <= last for s, _ in seg.groups.get("_told", ())):
            return False
        lo, hi = self._clause_before_start(seg, hit.start), self._clause_end(seg, hit.end - 1)
        # "Tracking ist bei mir nicht erwünscht", "Meine Adresse ist nicht für Werbung bestimmt": a refusal by copula
        refused = any(seg.doc[i].lower_ in self.refusal_predicates for i in range(lo, hi))
        # "Ich habe keine Werbung bestellt und will auch keine": the fact told, then refused in the clause after (a
        # frame cue and a negation there, in the hit's sentence)
        after = range(hi, next((i for i in range(hi, len(seg.doc)) if seg.clause[i] > last + 1), len(seg.doc)))
        refused_after = (
            bool(after) and seg.sentence[after[0]] == seg.sentence[hit.start]
            and self._asks(seg, after.start, after.stop) and any(s in after for s, _ in seg.groups.get("_negation", ()))
        )
        return not refused and not refused_after and not self._asks(seg, lo, hi)

    def _state(self, hit: Hit, seg: _Segment) -> bool:
        """The action stands as a state, a participle ("Haben Sie mein Konto gelöscht?", "Konto gelöscht?", "mon compte
        est bloqué"), and no frame cue but a question mark is in its clauses or the one before: it tells or asks how
        things are, it asks for nothing ("ich möchte, dass mein Konto gelöscht wird" does)."""
        if not any(hit.start <= s < hit.end for s, _ in seg.groups.get("_state", ())):
            return False
        return not self._asks(seg, self._clause_before_start(seg, hit.start), self._clause_end(seg, hit.end - 1))

    def _asked(self, seg: _Segment, groups: Iterable[str]) -> set[int]:
        """The sentences of the ``groups``' words, but for words in a clause that tells a state ("mon compte est
        bloqué", "ich habe mich vom Newsletter abgemeldet": a ``_state`` cue and no frame cue but "?" in the clause
        or the one before): an action told as a state is no action asked for."""
        told: set[int] = set()
        for start, _ in seg.groups.get("_state", ()):
            if not self._asks(seg, self._clause_before_start(seg, start), self._clause_end(seg, start)):
                told.add(seg.clause[start])
        return {seg.sentence[s] for g in groups for s, _ in seg.groups.get(g, ()) if seg.clause[s] not in told}

    @staticmethod
    def _on_data(hit: Hit, seg: _Segment) -> bool:
        """The hit holds a ``data`` word and its sentence a question mark."""
        sentence = seg.sentence[hit.start]
        return any(hit.start <= s < hit.end for s, _ in seg.groups.get(DATA_GROUP, ())) and any(
            seg.doc[s].text == "?" and seg.sentence[s] == sentence for s, _ in seg.groups.get("_frame", ())
        )

    def _info_question(self, hit: Hit, seg: _Segment) -> bool:
        """A yes/no question that opens with an auxiliary or a processing verb ("Werden meine Daten auch bei PostNL
        gelöscht?", "Gardez-vous mes données ?") and holds no frame cue but "?" asks whether something is so: it asks
        for no erasure, change or stop ("Können Sie meine Daten löschen?" does). Whether data is held is access, so
        access hits stay ("Speichern Sie Daten über mich?")."""
        if hit.rule.category is Category.ACCESS:
            return False
        sentence = seg.sentence[hit.start]
        opens = [s for s, _ in seg.groups.get("_info_question", ()) if s <= hit.start and _opens_sentence(seg, s)]
        if not opens or seg.sentence[opens[-1]] != sentence:
            return False
        end = next((i for i in range(hit.end, len(seg.doc)) if seg.sentence[i] != sentence), len(seg.doc))
        return any(t.text == "?" for t in seg.doc[hit.end : end]) and not self._asks(seg, opens[-1], end)

    @staticmethod
    def to_be_told(hit: Hit, seg: _Segment) -> bool:
        """A ``concern`` asked inside a wish to be told (a ``TELL_GROUP`` word before it in its sentence, in its clause
        or the one before: "Could you tell me which of my details you pass on?"), not asked straight out ("Do you share
        my details with Facebook?"): next to an access request it is what the request asks."""
        first = seg.clause[hit.start]
        return hit.rule.concern and any(
            s < hit.start and seg.sentence[s] == seg.sentence[hit.start] and first - 1 <= seg.clause[s] <= first
            for s, _ in seg.groups.get(TELL_GROUP, ())
        )

    def beside_rights(self, hit: Hit, seg: _Segment) -> bool:
        """A privacy_other hit that stands next to rights found elsewhere in the mail: a complaint about handling
        (``alongside``), or a ``concern`` asked as a question of its own ("... and do you pass it on to Facebook?").
        A concern without a question mark is a formal letter listing what Art. 15 covers (purposes, recipients):
        part of the request."""
        if hit.rule.alongside or self.to_be_told(hit, seg):
            return True  # ... or a concern the writer asks to be told ("and tell me where you got my address")
        # a concern spread over sentences asks in its last ("mein Geburtsdatum ... Wofür brauchen Sie das?")
        first, last = seg.sentence[hit.start], seg.sentence[hit.end - 1]
        return hit.rule.concern and any(
            seg.norms[s] == "?" for s, _ in seg.groups.get("_frame", ()) if first <= seg.sentence[s] <= last
        )

    @classmethod
    def _listed(cls, hit: Hit, hits: list[Hit], seg: _Segment) -> bool:
        """The hit stands in an enumeration ("(" or ":") after a restriction hit of its sentence, or opens the sentence
        after one ("Können Sie mein Kundenkonto so lange stilllegen? Keine Mails, keine Auswertung, nichts") that asks
        nothing in words of its own ("Werbung bitte ab sofort gar keine mehr" is an objection of its own)."""
        sentence = seg.sentence[hit.start]
        start = next(i for i in range(hit.start, -1, -1) if i == 0 or seg.sentence[i - 1] != sentence)
        # the hit opens the sentence, or a negation does ("Keine Mails, keine Auswertung"), or the hit's first word
        # does ("Plus de mails, plus de publicité")
        opened = _opens_sentence(seg, hit.start) or any(
            s <= start + 1 for s, _ in seg.groups.get("_negation", ()) if s >= start
        ) or any(seg.doc[i].lower_ == seg.doc[hit.start].lower_ for i in (start, start + 1) if i < hit.start)
        if opened:
            # ... but a sentence that asks in words of its own is a request of its own: "Werbung bitte ab sofort gar
            # keine mehr, egal wie es ausgeht" after "Daten vorerst nicht verwenden"
            end = next((i for i in range(hit.end, len(seg.doc)) if seg.sentence[i] != sentence), len(seg.doc))
            opened = not cls._asks(seg, start, end)
        return any(
            other.rule.category is Category.RESTRICTION
            and other.start < hit.start
            and (
                (seg.sentence[other.start] == sentence
                 and any(seg.norms[i] in _ENUMERATION for i in range(other.start, hit.start + 1)))
                or (seg.sentence[other.start] == sentence - 1 and opened)
            )
            for other in hits
        )

    def unasked(self, hits: list[Hit], seg: _Segment) -> list[Hit]:
        """Without a frame cue, a reply to our confirmation tells, it does not ask: its rights become near misses."""
        rights = [h for h in hits if h.rule.category in RIGHTS]
        if rights:
            seg.near_miss = True
            seg.vetoed.update(h.rule.category for h in rights)
        return [h for h in hits if h.rule.category not in RIGHTS]

    def unfulfilled(self, seg: _Segment) -> str:
        """The words of the first ``_unfulfilled`` cue that is no "still no answer" (a ``NO_ANSWER_GROUP`` term
        right after it): an unanswered request is a complaint of its own, not a request carried out wrongly. A cue
        in a sentence that wishes the mailing or the account back (``COME_BACK_GROUP``), or just before one, is none
        either ("... maar nu is er weer een kleintje op komst. Kan ik een nieuw account aanmaken?")."""
        answers = [start for start, _ in seg.groups.get(NO_ANSWER_GROUP, ())]
        wishes = _sentences(seg, (COME_BACK_GROUP,))
        for start, end in seg.groups.get("_unfulfilled", ()):
            wished = {seg.sentence[start], seg.sentence[start] + 1} & wishes
            if not any(end <= a <= end + 2 for a in answers) and not wished:
                return str(seg.doc[start:end].text)
        return ""

    def unanswered(self, seg: _Segment) -> tuple[str, bool]:
        """The words that say an earlier request got no answer (a ``NO_ANSWER_GROUP`` term outside an if-clause:
        not "if you do not answer"), and whether a frame cue in a later sentence asks for it anew."""
        conditional = {seg.clause[s] for s, _ in seg.groups.get("_hypothetical", ())}
        for start, end in seg.groups.get(NO_ANSWER_GROUP, ()):
            if seg.clause[start] not in conditional:
                later = seg.sentence[start] + 1
                anew = any(seg.sentence[s] >= later and seg.doc[s].text != "?" for s, _ in seg.groups.get("_frame", ()))
                return str(seg.doc[start:end].text), anew
        return "", False

    def wished_back(self, hits: list[Hit], seg: _Segment) -> list[Hit]:
        """``hits`` without the objections told before a wish to get a mailing back (``COME_BACK_GROUP`` neither negated
        nor hypothetical in its clause, in a sentence that names no account): "ik krijg jullie nieuwsbrief niet meer ...
        Kunnen jullie me weer aanmelden?" tells a mailing missed, the opposite of an objection; "unless I sign up again"
        wishes nothing. The subject's objection goes too (the body names it only as wished: ``_Segment.vetoed``). An
        objection asked for (``_framed``: "Bitte keine Newsletter mehr", "Stuur me geen nieuwsbrief meer") is a stop
        whatever is wished after it: "... Ich kaufe aber gerne wieder bei Ihnen ein", "Den Katalog würde ich gerne
        wieder bekommen" keeps it."""
        negated = {seg.clause[s] for g in ("_negation", "_hypothetical") for s, _ in seg.groups.get(g, ())}
        accounts = _sentences(seg, ("account",))
        wishes = [seg.sentence[s] for s, _ in seg.groups.get(COME_BACK_GROUP, ())
                  if seg.clause[s] not in negated and seg.sentence[s] not in accounts]
        if not wishes:
            return hits
        seg.vetoed.add(Category.OBJECTION)
        last = max(wishes)
        # a stop: asked for, with a request word in its sentence, or a "no more" in a clause without a subject ("Stuur
        # me geen nieuwsbrief meer"; not "Your newsletter stopped coming", nor "sinds een paar weken krijg ik jullie
        # nieuwsbrief niet meer")
        asks = {seg.sentence[s] for s, _ in seg.groups.get("_frame", ()) if seg.norms[s] != "?"}
        refusals = {seg.clause[s] for s, _ in seg.groups.get("_negation", ())}
        told = {seg.clause[i] for i, word in enumerate(seg.norms) if word in self.subjects}
        return [h for h in hits if h.rule.category is not Category.OBJECTION or seg.sentence[h.start] > last
                or ((seg.sentence[h.start] in asks or seg.clause[h.start] in refusals - told)
                    and self._framed(h, seg, question=False))]

    @staticmethod
    def restores(seg: _Segment) -> bool:
        """The writer wants an erased account back: a ``restore`` cue in a sentence that, or whose sentence before,
        names the account or its erasure ("mijn account is verwijderd ... kunnen jullie het terugzetten?"). A cue
        about anything else ("wanneer kan ik mijn geld terugkrijgen?", "mein Passwort wiederherstellen") takes
        nothing from the erasure the same mail asks for."""
        about = _sentences(seg, ("account", "erase"))
        return any({seg.sentence[s], seg.sentence[s] - 1} & about for s, _ in seg.groups.get("_restore", ()))

    def _someone_elses(self, hit: Hit, seg: _Segment) -> bool:
        """An object of the hit follows a third person's possessive: "zijn account", "her data", "ihr Konto".
        Not when the writer names whom they act for ("mijn dochter", "my late husband", "im Namen von") or the data
        stands in the writer's own record ("Corrigez sa date de naissance dans mon profil"), and asks in so many words
        (a frame cue in the sentence): "mijn man heeft zijn account verwijderd" asks nothing."""
        # the frame may stand in any sentence of the hit: "Mijn moeder krijgt jullie nieuwsbrief op haar adres. Wilt u
        # daarmee stoppen?" (a hit over two sentences) is asked for her
        first_sentence, last_sentence = seg.sentence[hit.start], seg.sentence[hit.end - 1]

        def in_hit_sentences(group: str) -> bool:
            return any(first_sentence <= seg.sentence[s] <= last_sentence for s, _ in seg.groups.get(group, ()))

        if ("_relative" in seg.groups or in_hit_sentences(OWN_RECORD)) and in_hit_sentences("_frame"):
            return False
        if seg.object_starts is None:
            seg.object_starts = sorted({start for group in self.objects for start, _ in seg.groups.get(group, ())})
        first = bisect.bisect_left(seg.object_starts, hit.start)
        return any(
            start > 0 and seg.doc[start - 1].text in self.other_owners
            for start in seg.object_starts[first : bisect.bisect_left(seg.object_starts, hit.end)]
        )

    def _framed(self, hit: Hit, seg: _Segment, question: bool) -> bool:
        """The hit is asked for: a frame cue in its sentence, or no subject before it in its clause (an
        imperative or bare infinitive: "verwijder mijn account", "mein Konto löschen"), or the whole text is a frame.

        ``question``: a question mark in the sentence, a frame cue in the hit's clause or the one before, or
        an imperative verb before the hit in its clause ("send me everything you hold about me"); a clause
        that is nothing but the hit is the object of another request ("delete X and everything you have")."""
        if seg.framed:
            return True
        sentence = seg.sentence[hit.start]
        clause = seg.clause[hit.start]
        before = [seg.norms[i] for i in range(hit.start - 1, -1, -1) if seg.clause[i] == clause]
        # (the clause numbers only grow, so the words before the hit in its clause are a run just before it)
        # A frame cue counts in the hit's clauses or the one before ("ik wil graag, als het kan, ..."), a
        # question mark anywhere in the sentence: "ik mail vanaf mijn nieuwe adres omdat ik niet meer bij mijn
        # oude mailbox kan" asks for nothing.
        last = seg.clause[hit.end - 1]
        cues = [s for s, _ in seg.groups.get("_frame", ()) if seg.sentence[s] == sentence]
        if any(seg.norms[s] == "?" or clause - 1 <= seg.clause[s] <= last for s in cues):
            return True
        if any(word in self.subjects for word in before):
            return False
        return not question or any(word.isalpha() and word not in self.clause_breaks for word in before)
