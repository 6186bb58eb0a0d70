"""A clearly fictitious shop for tests, bench runs and sandboxes.

The settings have no shop defaults: a shop that forgot its ``[shop]`` section must not answer in
another shop's name, so every field that identifies the controller is required. Everything that
builds settings without an operator's config (tests, bench) takes its shop from here instead. The
names are made up; ``shop.example`` is a reserved domain (RFC 2606). The processors are services a
small Dutch web shop typically uses, so the answers read like a real shop's.
"""

from __future__ import annotations

import json
from typing import Any

from .config import ShopSettings

FICTITIOUS_SHOP: dict[str, Any] = {
    "name": "Kinderwinkel Testdorp",
    "operator": "Testdorp Webdiensten BV",
    "privacy_contact": "privacy@shop.example",
    "privacy_officer": "T. Testpersoon",
    "postal_address": "Teststraat 1, 9999 ZZ Testdorp",
    "website": "https://shop.example/",
    "reference_prefix": "KT",
    "recipients": [
        {"name": "Meer dan Online", "purpose": "webhosting en e-mail", "purposes": {
            "en": "web hosting and e-mail", "de": "Webhosting und E-Mail", "fr": "hébergement web et e-mail"}},
        {"name": "Mollie", "purpose": "betalingen", "purposes": {
            "en": "payments", "de": "Zahlungen", "fr": "paiements"}},
        {"name": "PostNL", "purpose": "bezorging van bestellingen", "purposes": {
            "en": "delivery of orders", "de": "Zustellung der Bestellungen", "fr": "livraison des commandes"}},
        {"name": "WooCommerce", "purpose": "webwinkelsoftware en beoordelingen", "country": "US",
         "safeguard": "EU-US Data Privacy Framework", "purposes": {
             "en": "web shop software and reviews", "de": "Webshop-Software und Bewertungen",
             "fr": "logiciel de boutique en ligne et avis"}},
        {"name": "Google Analytics", "purpose": "websitestatistieken", "country": "US",
         "safeguard": "EU-US Data Privacy Framework", "purposes": {
             "en": "website statistics", "de": "Website-Statistiken", "fr": "statistiques du site web"}},
    ],
}
"""The ``[shop]`` section as a dict, for ``load_settings(None, shop=...)``."""


def fictitious_shop(**overrides: Any) -> ShopSettings:
    """The fictitious shop as settings, with ``overrides`` (e.g. ``templates_dir``) on top."""
    return ShopSettings.model_validate(FICTITIOUS_SHOP | overrides)


def shop_toml(section: str = "shop", **overrides: Any) -> str:
    """The fictitious shop as a TOML section ``[section]``, for config files written by tests and bench."""
    lines = [f"[{section}]"] + [f"{key} = {_toml(value)}" for key, value in (FICTITIOUS_SHOP | overrides).items()]
    return "\n".join(lines) + "\n"


def _toml(value: Any) -> str:
    """A TOML value on one line: strings as JSON strings (valid TOML basic strings), lists, inline tables."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key} = {_toml(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    return json.dumps(value if isinstance(value, int | float) else str(value), ensure_ascii=False)
