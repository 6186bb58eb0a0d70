"""What a customer's reply inside an open case says.

Pure interpretation of the customer's own words (quoted history already removed): a
verification code, order number + postcode, an account address, a withdrawal, or new
rights. The cue phrases are data in ``classifiers/conversation.toml``; ``withdrawal`` reads the withdrawal's.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

from .addresses import mentioned_addresses
from .models import Category, Classification
from .withdrawal import Cues, withdraws

CODE = re.compile(r"(?<![\d-])(\d{3})[ -]?(\d{3})(?![\d-])")
POSTCODE = re.compile(r"\b(\d{4}\s?[A-Za-z]{2})\b")
ORDER_NUMBER = re.compile(
    r"(?:#|\b(?:order|bestelling|bestelnummer|ordernummer|bestellung|commande)\D{0,12})(\d{3,12})\b", re.IGNORECASE
)


class ReplyReading(BaseModel):
    model_config = ConfigDict(frozen=True)

    withdraw: bool = False
    codes: list[str] = Field(default_factory=list)
    order_numbers: list[str] = Field(default_factory=list)
    postcodes: list[str] = Field(default_factory=list)
    addresses: list[str] = Field(default_factory=list)
    new_rights: list[Category] = Field(default_factory=list)


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
