"""Who is asking: the sender against the customer registry and the mail host's verdict.

LEGAL.md's identity ladder. Mail from the customer's known address is enough when the
trusted mail host proves the From address (``sender_proof``). Unproven mail from the known
address may start access, portability and objection (answers go only to that address);
erasure, rectification and restriction then wait for a code returned from the known
address. A trusted fail is doubt: the sender is treated as unknown. An unknown sender who
names (or is) a known customer gets a code at the KNOWN address; anyone else is asked for
order number + postcode or the account address. Never an ID copy, never a BSN. Results
only ever go to ``known_address``.
"""

from __future__ import annotations

from collections.abc import Iterable

from .models import Category, IdentityStatus, IdentityVerdict, KnownCustomer, Proof, SenderProof, needs_proof


def identify(
    *,
    sender: KnownCustomer | None,
    named: KnownCustomer | None,
    proof: SenderProof,
    rights: Iterable[Category],
) -> IdentityVerdict:
    """Decide the identity status of a new request.

    ``sender`` is the registry match for the From address; ``named`` the match for an
    address the customer wrote in the text (an old account address); ``proof`` what the
    mail host's verdict proves about the From address.
    """
    destructive = needs_proof(rights)
    if sender is not None and (proof.level == Proof.PROVEN or (proof.level == Proof.UNPROVEN and not destructive)):
        return IdentityVerdict(
            status=IdentityStatus.VERIFIED,
            customer_id=sender.id,
            known_address=sender.email,
            reason=f"sent from the customer's known address ({proof.reason})",
            proof=proof.level,
        )
    customer = sender or named
    if customer is not None:
        if sender is None:
            why = "sent from an address that is not the customer's known address"
        elif proof.level == Proof.UNPROVEN:
            why = f"sent from the known address, but that is not proven ({proof.reason}) and the request changes data"
        else:
            why = proof.reason
        return IdentityVerdict(
            status=IdentityStatus.CODE_SENT,
            customer_id=customer.id,
            known_address=customer.email,
            reason=f"{why}; confirmation code sent to the known address",
            proof=proof.level,
        )
    doubt = proof.reason + "; " if proof.level == Proof.DOUBT else ""
    return IdentityVerdict(
        status=IdentityStatus.UNKNOWN, reason=doubt + "no known customer matches this sender", proof=proof.level
    )
