"""Who is asking: the sender against the customer registry and the mail host's verdict.

LEGAL.md's identity ladder. Mail from the customer's known address is enough, unless
the trusted mail host says the From domain failed DMARC or SPF: then the sender is
treated as unknown. An unknown sender who names (or is) a known customer gets a code
at the KNOWN address; anyone else is asked for order number + postcode or the account
address. Never an ID copy, never a BSN. Results only ever go to ``known_address``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict

from .models import AuthResult, IdentityStatus, IdentityVerdict, ParsedMessage

_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_FAILED = {"dmarc": {"fail"}, "spf": {"fail", "softfail"}}


class KnownCustomer(BaseModel):
    """The registry row identify needs, looked up by the caller (identify does no I/O)."""

    model_config = ConfigDict(frozen=True)

    id: int
    email: str
    name: str = ""


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


def authentication_doubt(results: list[AuthResult], trusted: Iterable[str]) -> str | None:
    """A failed DMARC/SPF verdict from a trusted authserv-id, as a reason; None when no doubt.

    Headers from other hosts are ignored: anyone can write an Authentication-Results
    header, only the receiving host's own is evidence (RFC 8601 §5).
    """
    trusted_ids = {t.lower() for t in trusted}
    for result in results:
        if result.authserv_id not in trusted_ids:
            continue
        for method, bad in _FAILED.items():
            verdict = getattr(result, method)
            if verdict in bad:
                return f"{method}={verdict} according to {result.authserv_id}"
    return None


def identify(
    msg: ParsedMessage,
    *,
    sender: KnownCustomer | None,
    named: KnownCustomer | None,
    trusted_authserv_ids: Iterable[str],
) -> IdentityVerdict:
    """Decide the identity status of a new request.

    ``sender`` is the registry match for the From address; ``named`` the match for an
    address the customer wrote in the text (an old account address).
    """
    doubt = authentication_doubt(msg.auth_results, trusted_authserv_ids)
    if sender is not None and doubt is None:
        return IdentityVerdict(
            status=IdentityStatus.VERIFIED,
            customer_id=sender.id,
            known_address=sender.email,
            reason="sent from the customer's known address",
        )
    customer = sender or named
    if customer is not None:
        why = doubt or "sent from an address that is not the customer's known address"
        return IdentityVerdict(
            status=IdentityStatus.CODE_SENT,
            customer_id=customer.id,
            known_address=customer.email,
            reason=f"{why}; confirmation code sent to the known address",
        )
    return IdentityVerdict(
        status=IdentityStatus.UNKNOWN,
        reason=(doubt + "; " if doubt else "") + "no known customer matches this sender",
    )
