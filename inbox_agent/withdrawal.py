"""What taking a request back looks like: "laat maar", "please ignore my previous email", "je retire ma demande".

Read twice: by the desk in a reply inside an open case (``conversation.read_reply`` withdraws the case), and by the
classifier in a short reply whose thread names a request (``classify.thread``: the request's handling, privacy_other).
The cue phrases are data in ``classifiers/conversation.toml``.
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict

_SENTENCE = re.compile(r"[^.!?\n]+")


class Cues(BaseModel):
    model_config = ConfigDict(frozen=True)

    withdraw: dict[str, list[str]]
    not_withdraw: dict[str, list[str]]
    negation: dict[str, list[str]]


@cache
def load_cues(path: Path) -> Cues:
    return Cues.model_validate(tomllib.loads(path.read_text(encoding="utf-8")))


@cache  # the classifier reads every short reply this way: compiled once, not per sentence
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
