"""What a customer's reply inside an open case says.

Pure interpretation of the customer's own words (quoted history already removed): a
verification code, order number + postcode, an account address, a withdrawal, or new
rights. The cue phrases are data in ``classifiers/conversation.toml``.
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from .addresses import mentioned_addresses
from .models import Category, Classification

CODE = re.compile(r"(?<![\d-])(\d{3})[ -]?(\d{3})(?![\d-])")
POSTCODE = re.compile(r"\b(\d{4}\s?[A-Za-z]{2})\b")
ORDER_NUMBER = re.compile(
    r"(?:#|\b(?:order|bestelling|bestelnummer|ordernummer|bestellung|commande)\D{0,12})(\d{3,12})\b", re.IGNORECASE
)
_SENTENCE = re.compile(r"[^.!?\n]+")


class Cues(BaseModel):
    model_config = ConfigDict(frozen=True)

    withdraw: dict[str, list[str]]
    not_withdraw: dict[str, list[str]]
    negation: dict[str, list[str]]


@cache
def load_cues(path: Path) -> Cues:
    return Cues.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))


class ReplyReading(BaseModel):
    model_config = ConfigDict(frozen=True)

    withdraw: bool = False
    codes: list[str] = Field(default_factory=list)
    order_numbers: list[str] = Field(default_factory=list)
    postcodes: list[str] = Field(default_factory=list)
    addresses: list[str] = Field(default_factory=list)
    new_rights: list[Category] = Field(default_factory=list)


def _phrase(phrase: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)" + re.escape(phrase.lower()) + r"(?!\w)")


def withdraws(text: str, cues: Cues) -> bool:
    """A withdrawal phrase in a sentence without a negation word of any language."""
    lowered = text.lower()
    for exception in (p for lang in cues.not_withdraw.values() for p in lang):
        lowered = _phrase(exception).sub(" ", lowered)
    phrases = [p for lang in cues.withdraw.values() for p in lang]
    negations = [n for lang in cues.negation.values() for n in lang]
    for sentence in _SENTENCE.findall(lowered):
        hit = next((p for p in phrases if _phrase(p).search(sentence)), None)
        if hit is None:
            continue
        rest = sentence.replace(hit, " ")
        if not any(_phrase(n).search(rest) for n in negations):
            return True
    return False


def read_reply(text: str, classification: Classification, case_rights: list[str], cues: Cues,
               *, sender: str) -> ReplyReading:
    return ReplyReading(
        withdraw=withdraws(text, cues),
        codes=["".join(m.groups()) for m in CODE.finditer(text)][:5],
        order_numbers=ORDER_NUMBER.findall(text)[:5],
        postcodes=[p.replace(" ", "").upper() for p in POSTCODE.findall(text)][:3],
        addresses=mentioned_addresses(text, exclude=[sender])[:3],
        new_rights=[c for c in classification.ruled_rights if c not in case_rights],
    )
