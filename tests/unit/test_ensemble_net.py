"""The second opinion's models read together in numpy (classify/ensemble_net.py), on one BLAS thread (blas_threads.py).

The shipped models are compared with spaCy's own reading of them, on mail of every shape the classifier gives them.
"""

from __future__ import annotations

import ctypes
import shutil
from pathlib import Path
from typing import cast

import numpy as np
import pytest
import spacy
from spacy.language import Language
from spacy.pipeline import TextCategorizer

from inbox_agent.classify import RulesError
from inbox_agent.classify.blas_threads import openblas_libraries
from inbox_agent.classify.ensemble_net import PROBE, Ensemble
from inbox_agent.classify.second_opinion import SecondOpinion

SHIPPED = Path(__file__).resolve().parents[2] / "classifiers" / "second_opinion"
TEXTS = [
    "weg",
    "Hoi,\n\nik wil graag dat jullie mijn account en al mijn gegevens verwijderen. Mijn klantnummer is 88123.\n\nGroet,"
    " Sanne",
    "hoi ik wil geen mails meer van jullie en ook geen sms en verwijder me maar gewoon helemaal 😡😡 thx",
    "Sehr geehrte Damen und Herren, bitte teilen Sie mir mit, welche Daten Sie über mich gespeichert haben (Art. 15).",
    "Bonjour, merci de rectifier mon adresse : 12 rue des Lilas, 1050 Ixelles. Cordialement",
    "Where is my parcel? Tracking says delivered but nothing here. Order #KT-20931",
    "Re: Uw bestelling\n> Op 3 mrt schreef Kleine Toppers:\n> Bedankt voor uw bestelling\nDank, alles goed ontvangen!",
    "privacy " * 600,  # a long mail, cut to 4,000 characters by the classifier, read whole here
]


def _textcats() -> list[TextCategorizer]:
    models = sorted(SHIPPED.glob("model-*"))
    return [cast(TextCategorizer, spacy.load(p).get_pipe("textcat_multilabel")) for p in models]


def test_the_numpy_reading_gives_spacys_probabilities() -> None:
    """Every text: the same mean probability of every label as spaCy's own predict of each model."""
    textcats = _textcats()
    tokenizer = spacy.blank("xx").tokenizer
    ensemble = Ensemble.of(textcats, tokenizer(PROBE.lower()))
    assert len(textcats) == 3 and ensemble.labels == tuple(textcats[0].labels)
    for text in TEXTS:
        doc = tokenizer(text.lower())
        want = np.mean([np.asarray(t.predict([doc]))[0] for t in textcats], axis=0)
        assert np.abs(ensemble.probabilities(ensemble.features(doc)) - want).max() < 1e-5, text[:40]


def _bag_of_words_model(folder: Path) -> None:
    nlp: Language = spacy.blank("xx")
    textcat = nlp.add_pipe("textcat_multilabel", config={"model": {
        "@architectures": "spacy.TextCatBOW.v3", "exclusive_classes": False, "ngram_size": 1,
        "no_output_layer": False, "length": 2**10}})
    textcat.add_label("erasure")  # type: ignore[attr-defined]
    nlp.initialize()
    nlp.to_disk(folder / "model-0")


def test_a_model_of_another_architecture_is_refused_by_name(tmp_path: Path) -> None:
    shutil.copy(SHIPPED / "settings.toml", tmp_path)
    _bag_of_words_model(tmp_path)
    with pytest.raises(RulesError, match=r"alike TextCatEnsemble\.v2 models only"):
        SecondOpinion.load(tmp_path)


def test_a_reading_that_differs_from_spacys_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Another spaCy could compute the same model differently: that shows at load, not in the figures."""
    real = Ensemble.probabilities
    monkeypatch.setattr(Ensemble, "probabilities", lambda self, doc: real(self, doc) + np.float32(0.01))
    with pytest.raises(RulesError, match="differs from spaCy's"):
        SecondOpinion.load(SHIPPED)


def _threads(library: ctypes.CDLL) -> int:
    getter = next(getattr(library, n) for n in ("scipy_openblas_get_num_threads64_", "openblas_get_num_threads")
                  if hasattr(library, n))
    return int(getter())


def test_loading_the_models_leaves_blas_one_thread() -> None:
    libraries = list(openblas_libraries())
    if not libraries:
        pytest.skip("no OpenBLAS in this process")
    for library in libraries:
        setter = next(getattr(library, n) for n in ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads")
                      if hasattr(library, n))
        setter(2)
        assert _threads(library) == 2
    SecondOpinion.load(SHIPPED)
    assert [_threads(library) for library in libraries] == [1] * len(libraries)
