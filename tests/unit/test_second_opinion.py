"""The learned second opinion beside the rules (classify/second_opinion.py, classify/training.py).

The thresholds' logic is tested with a stand-in that scores by table (a fake is fine here: what is tested is what
the classifier does with a score). Training and loading are tested for real on a few samples, and the shipped
models through the classifier on mail the rules alone miss or misread.
"""

from __future__ import annotations

import copy
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest

from inbox_agent.classify import Classifier, RulesError
from inbox_agent.classify.second_opinion import LABELS, SecondOpinion, Thresholds
from inbox_agent.classify.training import Sample, folder_samples, main, train_all
from inbox_agent.models import Address, Category, Evidence, ParsedMessage

SHIPPED = Path(__file__).resolve().parents[2] / "classifiers"
THRESHOLDS = Thresholds(add_right=0.3, add_right_beside_question=0.8, add_privacy_other=0.7, keep_right=0.05,
                        keep_right_paragraph=0.5, keep_privacy_other=0.1, check_from=0.02)


class _ByTable(SecondOpinion):
    """Scores each text by the first key it contains; anything else scores nothing."""

    def __init__(self, table: dict[str, dict[Category, float]]) -> None:
        self.table = table
        self.thresholds = THRESHOLDS

    def scores(self, texts: Sequence[str]) -> list[dict[Category, float]]:
        def one(text: str) -> dict[Category, float]:
            found = next((v for k, v in self.table.items() if k in text), {})
            return {label: found.get(label, 0.0) for label in LABELS}

        return [one(t) for t in texts]


GOOD = ("add_right = 0.3\nadd_right_beside_question = 0.8\nadd_privacy_other = 0.7\nkeep_right = 0.05\n"
        "keep_right_paragraph = 0.5\nkeep_privacy_other = 0.1\ncheck_from = 0\n")
"""A settings.toml with every setting."""


def _hit(category: Category) -> Evidence:
    return Evidence(category=category, rule=f"nl.{category.value}.x", text="x")


def test_a_right_the_rules_missed_is_added_with_the_sentence_that_tells_it() -> None:
    opinion = _ByTable({"weg met mij": {Category.ERASURE: 0.9}, "Hoi": {Category.ERASURE: 0.1}})
    revised = opinion.revise("Hoi.\nHaal me overal uit, weg met mij!", [])
    assert revised.evidence == [Evidence(category=Category.ERASURE, rule="model.erasure",
                                         text="Haal me overal uit, weg met mij!")]
    assert not revised.check


def test_nothing_is_added_below_the_threshold_or_beside_a_right_the_rules_found() -> None:
    low = _ByTable({"pakket": {Category.ERASURE: 0.29}})
    assert low.revise("Waar is mijn pakket?", []).evidence == []
    beside = _ByTable({"account": {Category.ERASURE: 0.9, Category.ACCESS: 0.9}})
    assert beside.revise("account", [_hit(Category.ACCESS)]).evidence == [_hit(Category.ACCESS)]


def test_a_right_beside_a_question_the_rules_found_takes_a_surer_model() -> None:
    """Before: "Geven jullie mijn adres door aan andere bedrijven, bijvoorbeeld voor reclame?" (the rules: a question
    about processing) got an objection from the models at 0.84, as any mail without a right from add_right (0.4)."""
    opinion = _ByTable({"reclame": {Category.OBJECTION: 0.75, Category.PRIVACY_OTHER: 0.9},
                        "nooit meer": {Category.OBJECTION: 0.85, Category.PRIVACY_OTHER: 0.9}})
    question = [_hit(Category.PRIVACY_OTHER)]
    assert opinion.revise("geven jullie mijn adres door voor reclame?", question, question=True).evidence == question
    assert opinion.revise("geven jullie mijn adres door voor reclame?", []).evidence[0].category is Category.OBJECTION
    added = opinion.revise("geven jullie mijn adres door? nooit meer", question, question=True).evidence
    assert [e.category for e in added] == [Category.PRIVACY_OTHER, Category.OBJECTION]
    # a complaint about handling or a leak worry is no question: a right beside it is added from add_right
    complaint = opinion.revise("geen antwoord op mijn verzoek, geven jullie mijn adres door voor reclame?", question)
    assert [e.category for e in complaint.evidence] == [Category.PRIVACY_OTHER, Category.OBJECTION]


def test_privacy_other_is_added_next_to_a_right() -> None:
    opinion = _ByTable({"waarom": {Category.ACCESS: 0.8, Category.PRIVACY_OTHER: 0.75}})
    categories = [e.category for e in opinion.revise("waarom", [_hit(Category.ACCESS)]).evidence]
    assert categories == [Category.ACCESS, Category.PRIVACY_OTHER]


def test_a_rule_hit_the_model_gives_next_to_nothing_is_taken_back_and_the_mail_goes_to_check() -> None:
    opinion = _ByTable({"bestelling": {Category.ERASURE: 0.04, Category.PRIVACY_OTHER: 0.5}})
    revised = opinion.revise("verwijder mijn bestelling", [_hit(Category.ERASURE)])
    assert revised.evidence == [] and revised.check
    kept = opinion.revise("verwijder mijn bestelling", [_hit(Category.PRIVACY_OTHER)])
    assert kept.evidence == [_hit(Category.PRIVACY_OTHER)] and not kept.check


EXERCISED = [
    ("Ik wil gebruik maken van mijn recht op dataportabiliteit.", Category.PORTABILITY),
    ("Hierbij beroep ik mij op mijn recht van bezwaar tegen direct marketing.", Category.OBJECTION),
    ("I hereby exercise my right to erasure.", Category.ERASURE),
    ("Hiermit mache ich von meinem Auskunftsrecht Gebrauch.", Category.ACCESS),
    ("Je souhaite exercer mon droit de rectification.", Category.RECTIFICATION),
]
"""A right exercised in the law's words, in the writer's own voice (``firm`` rules)."""
NOT_EXERCISED = [
    "Ik wil meer weten over dataportabiliteit.",  # the legal name alone
    "Anders maak ik gebruik van mijn recht van bezwaar.",  # a threat
    "Otherwise I will exercise my right to erasure.",
    "Wie kann ich mein Recht auf Löschung geltend machen?",  # how it is done
    "Meine Mutter möchte ihr Auskunftsrecht geltend machen.",  # someone else's right
    "Je me réserve le droit d'exercer mon droit à l'effacement.",
]
"""Rule hits that stay the models' to take back."""


@pytest.mark.parametrize(("text", "category"), EXERCISED)
def test_a_right_exercised_in_the_laws_words_is_not_the_models_to_take_back(
        rules_alone: Classifier, text: str, category: Category) -> None:
    """Before: "Ik wil gebruik maken van mijn recht op dataportabiliteit." was taken back by models retrained on more
    shop mail (0.001-0.03), and nothing was left for "to check": an explicit request, silently ignored."""
    classifier = copy.copy(rules_alone)
    classifier.second_opinion = _ByTable({})  # the models give nothing at all
    msg = ParsedMessage(message_id="<f@example.org>", subject="Verzoek", from_=Address(email="k@example.org"),
                        text=text)
    assert classifier.classify(msg).categories == [category]


@pytest.mark.parametrize("text", NOT_EXERCISED)
def test_a_threat_a_how_to_question_or_the_legal_name_alone_stays_the_models_to_take_back(
        rules_alone: Classifier, text: str) -> None:
    classifier = copy.copy(rules_alone)
    classifier.second_opinion = _ByTable({})
    msg = ParsedMessage(message_id="<f@example.org>", subject="Vraag", from_=Address(email="k@example.org"), text=text)
    assert classifier.classify(msg).categories == [Category.NONE]


@pytest.mark.parametrize("text", [
    "Ik maak bezwaar tegen de retourkosten van mijn bestelling.",  # "bezwaar", and nothing objected to of the writer's
    "This is the text part",  # "text" (a mailing's word) alone
    "Fax to e-mail: 0865586973",  # "e-mail" (a field) alone
])
def test_the_models_add_no_right_the_mail_names_in_one_word_only(rules_alone: Classifier, text: str) -> None:
    """Before: one word group of a right was enough for the models to add it. Models retrained in round 14 gave the
    first 0.45-0.77 objection; real-world template mail (shared/corpus/mail/zammad) got 7-8 rights that way."""
    classifier = copy.copy(rules_alone)
    classifier.second_opinion = _ByTable({"": {c: 0.9 for c in LABELS if c is not Category.PRIVACY_OTHER}})
    msg = ParsedMessage(message_id="<g@example.org>", subject="", from_=Address(email="k@example.org"), text=text)
    assert classifier.classify(msg).categories == [Category.NONE]
    asked = msg.model_copy(update={"text": "Ik maak bezwaar tegen het gebruik van mijn gegevens voor reclame."})
    assert Category.OBJECTION in classifier.classify(asked).categories  # the objection and what it is against


def test_a_right_the_models_read_in_its_own_paragraph_is_kept() -> None:
    """Before: "P.S. ... please close it and erase my details" after paragraphs about a return scored 0.04 as a whole
    mail and was taken back (ten requests of this kind in the tuning set fresh_ac)."""
    mail = "I'd like to return the rocker from order 30307.\n\nP.S. Please erase my details."
    opinion = _ByTable({"return": {Category.ERASURE: 0.04}, "erase my": {Category.ERASURE: 0.6}})
    erase = Evidence(category=Category.ERASURE, rule="en.erasure.x", text="erase my details")
    assert opinion.revise(mail, [erase]).evidence == [erase]
    doubtful = _ByTable({"return": {Category.ERASURE: 0.04}, "erase my": {Category.ERASURE: 0.3}})
    assert doubtful.revise(mail, [erase]).evidence == []
    one_paragraph = _ByTable({"return": {Category.ERASURE: 0.04}})
    assert one_paragraph.revise(mail.replace("\n\n", " "), [erase]).evidence == []


def test_the_paragraph_that_asks_is_found_past_the_models_cut_and_after_one_naming_the_words_in_passing() -> None:
    """Found in review: the paragraphs were those of the text cut at MODEL_CHARS (a P.S. after 4,000 characters was
    never read), and only the first paragraph holding the rule's words was scored."""
    erase = Evidence(category=Category.ERASURE, rule="en.erasure.x", text="close my account")
    opinion = _ByTable({"friend": {Category.ERASURE: 0.1}, "P.S.": {Category.ERASURE: 0.7},
                        "return": {Category.ERASURE: 0.04}})
    passing = "A friend told me to close my account over this return.\n\nP.S. I have decided: close my account."
    assert opinion.revise(passing, [erase]).evidence == [erase]
    long_mail = "The return of order 1.\n\n" + "x " * 2500 + "\n\nP.S. Please close my account."
    cut = long_mail[:4000]
    assert opinion.revise(cut, [erase]).evidence == []
    assert opinion.revise(cut, [erase], whole=long_mail).evidence == [erase]


def test_a_hit_taken_back_from_mail_the_models_give_nothing_at_all_stays_off_the_check_list() -> None:
    """Before: every hit taken back went to "to check" (5-12 % of the shop mail on the validation sets), half of them
    mail the models gave under 0.02 for everything."""
    opinion = _ByTable({"retour": {Category.ERASURE: 0.01, Category.OBJECTION: 0.015},
                        "gegevens": {Category.ERASURE: 0.01, Category.ACCESS: 0.02}})
    assert not opinion.revise("verwijder de retour", [_hit(Category.ERASURE)]).check
    assert opinion.revise("verwijder de gegevens", [_hit(Category.ERASURE)]).check  # 0.02: on the list
    assert not opinion.revise("welke gegevens", []).check  # no half match, nothing taken back


def test_a_half_match_of_the_rules_goes_to_check_only_when_the_models_give_something() -> None:
    """Before: a half match (a right negated, hypothetical or done) went to "to check" whatever the models said; on
    the validation sets such shop mail scored from 0.006, every request rescued there 0.048 or more."""
    opinion = _ByTable({"retour": {Category.ERASURE: 0.01, Category.OBJECTION: 0.015},
                        "account": {Category.ERASURE: 0.02}})
    assert not opinion.revise("retour, niet verwijderen", [], near_miss=True).check
    assert opinion.revise("mocht ik mijn account willen verwijderen", [], near_miss=True).check
    assert not opinion.revise("mocht ik mijn account willen verwijderen", []).check  # no half match


def test_an_empty_mail_gets_evidence_without_a_sentence() -> None:
    assert _ByTable({"": {Category.OBJECTION: 0.9}}).revise("", []).evidence[0].text == ""


@pytest.mark.parametrize(("text", "message"), [
    (f"{GOOD}keep_rigth = 1\n", "unknown setting keep_rigth"),
    ("add_right = 0.3\nadd_right_beside_question = 0.8\nadd_privacy_other = 0.7\nkeep_right = 0.05\n",
     "missing setting check_from, keep_privacy_other, keep_right_paragraph"),
    (GOOD.replace("add_right = 0.3", "add_right = 3"), "add_right must be a probability between 0 and 1, not 3"),
    (GOOD.replace("add_right = 0.3", "add_right = true"), "add_right must be a probability"),
    ("add_right = \n", "settings.toml"),
])
def test_a_bad_settings_file_is_refused_by_name(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "settings.toml").write_text(text, encoding="utf-8")
    with pytest.raises(RulesError, match=message):
        Thresholds.read(tmp_path / "settings.toml")


def test_a_folder_without_models_is_refused(tmp_path: Path) -> None:
    shutil.copy(SHIPPED / "second_opinion" / "settings.toml", tmp_path)
    with pytest.raises(RulesError, match="no trained model"):
        SecondOpinion.load(tmp_path)
    (tmp_path / "model-0").mkdir()
    with pytest.raises(RulesError, match="not a trained model"):
        SecondOpinion.load(tmp_path)


SAMPLES = [
    Sample("ik wil mijn account verwijderen", frozenset({"erasure"})),
    Sample("waar blijft mijn pakket", frozenset({"none"})),
    Sample("stuur mij een kopie van mijn gegevens", frozenset({"access"})),
] * 6


def test_training_is_repeatable_and_gives_models_that_load(tmp_path: Path) -> None:
    shutil.copy(SHIPPED / "second_opinion" / "settings.toml", tmp_path)
    (tmp_path / "model-9").mkdir()  # an older model is replaced, not averaged in
    train_all(SAMPLES, tmp_path, epochs=2, seeds=(0, 1))
    first = {p.name: p.read_bytes() for p in tmp_path.glob("model-*/textcat_multilabel/model")}
    train_all(SAMPLES, tmp_path, epochs=2, seeds=(0, 1))
    assert sorted(p.name for p in tmp_path.glob("model-*")) == ["model-0", "model-1"]
    assert {p.name: p.read_bytes() for p in tmp_path.glob("model-*/textcat_multilabel/model")} == first
    scores = SecondOpinion.load(tmp_path).scores(["verwijder mijn account", ""])
    assert [set(s) for s in scores] == [set(LABELS)] * 2
    assert all(0.0 <= p <= 1.0 for s in scores for p in s.values())


def test_a_held_out_set_is_never_trained_on(tmp_path: Path) -> None:
    (tmp_path / "HELD_OUT").write_text("held out", encoding="utf-8")
    with pytest.raises(SystemExit, match="held out"):
        folder_samples(Classifier.load_rules(SHIPPED), tmp_path)


def test_a_reply_whose_thread_gives_its_labels_is_not_trained_on(tmp_path: Path, rules_alone: Classifier) -> None:
    """The model reads no quote: taught "En?" as the privacy_other of a chase, a retrained model gave "En?" under a
    question about an order privacy_other 0.7 (round 13)."""
    quote = "\n\nOp 3 nov 2026 om 15:31 schreef Kleine Toppers <info@luminet.nl>:\n\n> {}\n"
    mails = {"chase.eml": ("Re: Uw verzoek", "En?" + quote.format("Wij hebben uw verzoek om inzage ontvangen."),
                           "privacy_other"),
             "answer.eml": ("Re: Nieuwsbrief", "Ja graag, doe maar." + quote.format("Wilt u dat wij uw account ook "
                                                                                  "verwijderen?"), "erasure"),
             "own.eml": ("Verwijderen", "Verwijder mijn account.", "erasure")}
    (tmp_path / "mail").mkdir()
    for name, (subject, body, _) in mails.items():
        (tmp_path / "mail" / name).write_text(f"From: a@b.example\nTo: info@luminet.nl\nSubject: {subject}\n"
                                              f"Message-ID: <{name}@b.example>\n\n{body}\n", encoding="utf-8")
    (tmp_path / "labels.jsonl").write_text("".join(
        f'{{"file": "{name}", "categories": ["{label}"], "language": "nl"}}\n'
        for name, (_, _, label) in mails.items()), encoding="utf-8")
    assert [s.labels for s in folder_samples(rules_alone, tmp_path)] == [frozenset({"erasure"})]


def test_the_training_command_reads_tables_and_says_what_it_did(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(SHIPPED / "second_opinion" / "settings.toml", tmp_path)
    table = tmp_path / "t.txt"
    table.write_text("# a comment\nerasure | - | verwijder mijn account\nnone | Pakket | waar is het\n",
                     encoding="utf-8")
    main([str(tmp_path), "--rules", str(SHIPPED), "--table", str(table), "--epochs", "1"])
    assert "3 models trained on 2 samples from 0 folders and 1 tables" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="nothing to train on"):
        main([str(tmp_path), "--rules", str(SHIPPED)])



def test_the_models_tokenizer_is_renewed_once_it_has_outgrown_its_memory_bound() -> None:
    """Every new word of a mail stays in the tokenizer's vocabulary; the models read hashes, so a fresh one reads
    the same."""
    opinion = SecondOpinion.load(SHIPPED / "second_opinion")
    text = "Verwijder mijn account aub, klantnummer 88123."
    before = opinion.scores([text])
    old = opinion.tokenizer
    opinion.vocab_limit = len(old.vocab.strings)
    assert opinion.scores([text + " ordernummer777"]) and opinion.tokenizer is not old
    assert opinion.scores([text]) == before


def test_rights_asked_for_without_naming_one_are_asked_about_not_guessed() -> None:
    """"Ik wil gebruik maken van mijn rechten onder de AVG" gets the clarification mail (desk.intake): the models
    once added a right to it, and the customer got an acknowledgement of a request she never named."""
    classifier = Classifier.load(SHIPPED)
    msg = ParsedMessage(message_id="<u@example.org>", subject="privacy", from_=Address(email="klant@example.org"),
                        text="Hallo, ik wil graag gebruik maken van mijn rechten onder de AVG.")
    result = classifier.classify(msg)
    assert result.categories == [Category.PRIVACY_OTHER]
    assert [e.rule for e in result.evidence] == ["nl.privacy_other.unclear_request"]
