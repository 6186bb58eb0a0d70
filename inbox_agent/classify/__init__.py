"""Privacy-request classifier: rules over spaCy blank pipelines, with a learned second opinion beside them.

Why rules first: no pretrained pipeline can be installed, the officer must be able to see why a mail
was classified (evidence = rule id + the words matched) and add a phrase without touching Python.
Why a model beside them: rules tuned on the mail here held unseen mail at 0.75-0.92 macro-F1; spaCy
text classifiers trained on the same labelled mail (``second_opinion``, ``training``) add the requests
the rules miss and take back the hits they give next to no chance (classifiers/README.md).
The rules live in ``classifiers/<lang>/``:

* ``normalise.toml``: suffixes for a light stemmer and a variant table (typos, participles the
  spacy-lookups-data tables miss, words the tables lemmatise wrongly such as "gegevens").
* ``rules.toml``: ``[terms]`` (named word groups) and ``[[rule]]`` entries. A rule fires on a
  phrase, a spaCy token pattern, or on all of its term groups occurring in one sentence within
  ``window`` tokens ("verwijder" ... "account"), so word order and filler words do not matter.
* ``markers.toml``: negation, hypothetical and performative cues, quote/forward/signature
  markers, out-of-office phrases and subject prefixes.

Every word (in the rules and in the mail) goes through the same normaliser: lower case,
variant table, lookup lemma, accent folding, suffix stripping. The phrases are then matched on
these normalised words (a word trie, ``_PhraseTrie``), which makes "verwijderd", "verwijdert" and
"verwijderen" one cue.
A hit is dropped when a negation cue sits in its clause ("ik wil NIET dat ..."), when a
hypothetical cue opens its clause ("als ik ooit ..."), or when an ``unless`` group (an order,
a delivery address) sits next to it.

The modules, each importing only those above it:

- ``normalise``: one normaliser for every word, in the rules and in the mail;
- ``rulebook``: the rule files read as one rulebook, and ``RulesError``;
- ``answers``: a bare yes or no read with the quoted question it answers (``Answers``);
- ``thread``: a short reply that chases or takes back the request its thread names (``ThreadCues``);
- ``layout``: a text's tokens, sentences and clauses (``_Segment``), and a mail's texts (``_Texts``);
- ``matching``: where a rule's words stand: the word trie and the co-occurrence of term groups;
- ``vetoes``: why a hit does not count (negated, hypothetical, done, guarded, unframed);
- ``language_rules``: one language's rules at work: hits, pointing words (``LanguageRules``);
- ``blas_threads``: one BLAS thread for the process (the models' products are too small to share out);
- ``ensemble_net``: the trained models read together in numpy, as spaCy reads them but faster (``Ensemble``);
- ``second_opinion``: the trained models' word on the rules' evidence (``SecondOpinion``);
- ``classifier``: a mail to a ``Classification`` (``Classifier``, ``decide``);
- ``training``: trains the second opinion on how the classifier reads labelled mail.
- ``phrasings``: the phrasing tables' lines, read one way for the tests, the training and the snapshot.
"""

from __future__ import annotations

from .. import spacy_core  # noqa: F401  # isort: skip  # before spaCy: ``import spacy`` without spaCy's CLI
from .classifier import Classifier, decide
from .layout import _prepare
from .matching import _PhraseTrie
from .normalise import Normaliser, _adopt_cached_lemmas, _json_entries
from .rulebook import RulesError

__all__ = [
    "Classifier",
    "Normaliser",
    "RulesError",
    "_PhraseTrie",
    "_adopt_cached_lemmas",
    "_json_entries",
    "_prepare",
    "decide",
]
