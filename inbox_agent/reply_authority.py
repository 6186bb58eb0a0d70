"""What a reply may do to the case it continues (LEGAL.md, "Sender authentication and replies").

Finding the case and trusting the mail are two questions. Our Message-IDs are signed, but they
travel in every References header, and anyone can type a case reference in a subject; so they
only say *which* case a mail is about. Whether it may change that case depends on who sent it,
judged by the same rules as a new request:

- full: the case's own address, proven by the trusted mail host: may change anything;
- limited: the case's own address, unproven: may add access, portability or objection and
  answer an identity question; a data-changing right it adds waits for a code from the
  known address; it cannot withdraw;
- none: anyone else (another address, or a trusted fail): nothing changes; the mail reaches
  the officer as a note. Only that case's valid code counts, because the code is the proof.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from .addresses import same_address
from .models import Proof, SenderProof


class Authority(StrEnum):
    FULL = "full"
    LIMITED = "limited"
    NONE = "none"


def authority(case_addresses: Iterable[str | None], sender: str, proof: SenderProof) -> Authority:
    """How far a mail from ``sender`` with ``proof`` may change a case whose addresses are given."""
    if not any(a and same_address(a, sender) for a in case_addresses):
        return Authority.NONE
    if proof.level == Proof.PROVEN:
        return Authority.FULL
    if proof.level == Proof.UNPROVEN:
        return Authority.LIMITED
    return Authority.NONE
