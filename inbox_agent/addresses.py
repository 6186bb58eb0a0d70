"""E-mail address comparison, shared by every stage that matches addresses.

An address is compared by its exact local part and its case-insensitive domain (RFC 5321
§2.4: only the domain is case-free), so ``Jan@Example.org`` and ``Jan@example.org`` are one
address and ``jan@example.org`` may be another.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")


def address_key(address: str) -> str:
    """Exact local part, case-insensitive domain (RFC 5321 §2.4: only the domain is case-free)."""
    local, at, domain = address.strip().rpartition("@")
    if not at:
        return address.strip()
    return f"{local}@{domain.lower()}"


def same_address(a: str, b: str) -> bool:
    return address_key(a) == address_key(b)


def mentioned_addresses(text: str, *, exclude: Iterable[str] = ()) -> list[str]:
    """E-mail addresses written in the customer's own words ("my account is under x@y")."""
    skip = {address_key(a) for a in exclude}
    found: list[str] = []
    for match in _EMAIL.findall(text):
        address = match.rstrip(".")
        key = address_key(address)
        if key not in skip and key not in {address_key(f) for f in found}:
            found.append(address)
    return found
