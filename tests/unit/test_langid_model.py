"""The compact copy of py3langid's model labels and scores every text exactly as py3langid does."""

from __future__ import annotations

import lzma
import random
import shutil
import tempfile
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier  # type: ignore[import-untyped]

from inbox_agent import langid_model
from inbox_agent.langid_model import LangidModel, build
from inbox_agent.language import LANGUAGES

_rng = random.Random(19)
TEXTS = [
    "account wissen aub",
    "supprimer compte svp",
    "Konto löschen",
    "delete acct pls",
    "Désinscription newsletter",
    "Nieuwsbrief uit",
    "VERWIJDER MIJN GEGEVENS",  # all capitals: py3langid lower-cases them
    "",
    "12345 67890",
    "日本語のテキストです",
    "😀🎉 ok!!",
    "\udcff half a surrogate",
    "Cafe\u0301 cre\u0300me",  # NFC joins the accents first
    *("".join(chr(_rng.randrange(1, 0x3000)) for _ in range(_rng.randrange(1, 40))) for _ in range(300)),
    *(bytes(_rng.randrange(256) for _ in range(60)).decode("latin-1") for _ in range(100)),
]


@pytest.fixture(scope="module")
def shipped() -> Iterator[dict[str, Any]]:
    """py3langid's own arrays, decompressed once for the module."""
    with tempfile.TemporaryFile() as tmp:
        with lzma.open(Path(MODEL_DIR) / MODEL_FILE) as src:
            shutil.copyfileobj(src, tmp)
        tmp.seek(0)
        with np.load(tmp) as data:
            yield {key: data[key] for key in data.files}


@pytest.fixture(scope="module")
def arrays(shipped: dict[str, Any]) -> dict[str, Any]:
    return build(shipped, LANGUAGES)


def test_every_text_gets_py3langids_label_and_probability(shipped: dict[str, Any], arrays: dict[str, Any]) -> None:
    nextmove, rows = array("I"), array("H")
    nextmove.frombytes(shipped["nextmove"].astype(np.uint32).tobytes())
    rows.frombytes(shipped["nextmove_row"].astype(np.uint16).tobytes())
    reference = LanguageIdentifier(
        shipped["ptc"],
        shipped["pc"],
        shipped["classes"].tolist(),
        nextmove,
        shipped["out_feat"].tolist(),
        norm_probs=True,
        tk_row=rows,
    )
    reference.set_languages(list(LANGUAGES))
    compact = LangidModel(arrays)
    assert [compact.classify(text) for text in TEXTS] == [reference.classify(text) for text in TEXTS]


def test_the_copy_is_built_once_then_read(
    arrays: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    builds: list[list[str]] = []

    def from_shipped(languages: list[str]) -> dict[str, Any]:
        builds.append(languages)
        return arrays

    monkeypatch.setattr(langid_model, "_shipped_model", from_shipped)
    first = LangidModel.load(tmp_path, LANGUAGES)
    again = LangidModel.load(tmp_path, LANGUAGES)
    assert builds == [list(LANGUAGES)]
    assert [p.suffix for p in tmp_path.iterdir()] == [".npz"]  # the renamed copy, no part left behind
    assert [again.classify(text) for text in TEXTS[:20]] == [first.classify(text) for text in TEXTS[:20]]
    copy = next(tmp_path.iterdir())
    whole = copy.read_bytes()
    for unreadable in (b"cut short", whole[: len(whole) // 2], b""):  # garbage, a zip cut short, an empty file
        copy.write_bytes(unreadable)
        assert LangidModel.load(tmp_path, LANGUAGES).classify(TEXTS[0]) == first.classify(TEXTS[0])
        assert LangidModel.load(tmp_path, LANGUAGES).classes == first.classes  # read: it was built again
    assert len(builds) == 4, "an unreadable copy is built again"
