"""The pydantic models that cross stage boundaries.

mailbox -> ``StoredMail`` -> parse -> ``ParsedMessage`` -> robots/classify ->
``Classification`` -> identify -> ``IdentityVerdict`` -> cases/replies -> ``OutgoingMail``.
Each stage takes the previous stage's model and returns its own; none reaches back.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Category(StrEnum):
    ACCESS = "access"
    RECTIFICATION = "rectification"
    ERASURE = "erasure"
    RESTRICTION = "restriction"
    PORTABILITY = "portability"
    OBJECTION = "objection"
    PRIVACY_OTHER = "privacy_other"
    NONE = "none"


RIGHTS: tuple[Category, ...] = (
    Category.ACCESS,
    Category.RECTIFICATION,
    Category.ERASURE,
    Category.RESTRICTION,
    Category.PORTABILITY,
    Category.OBJECTION,
)
"""The six rights a case can carry (privacy_other and none are not rights)."""

CHANGES_DATA: frozenset[Category] = frozenset({Category.ERASURE, Category.RECTIFICATION, Category.RESTRICTION})
"""Rights that change or destroy the customer's data: executed only on a proven sender or a returned code."""


def needs_proof(rights: Iterable[str]) -> bool:
    """True when any of these rights changes or destroys data (LEGAL.md: not on unproven mail)."""
    return any(r in CHANGES_DATA for r in rights)


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Address(Frozen):
    name: str = ""
    email: str
    """As written; compare with ``addresses.same_address`` (exact local part, case-insensitive domain)."""


class AuthResult(Frozen):
    """One Authentication-Results header (RFC 8601), with the server that wrote it.

    The domains say what a verdict is about: a pass counts as proof only for the From domain.
    """

    authserv_id: str
    dmarc: str | None = None
    spf: str | None = None
    dkim: str | None = None
    dmarc_domain: str | None = None
    """``header.from`` of the dmarc verdict."""
    spf_domain: str | None = None
    """Domain of ``smtp.mailfrom`` (or ``smtp.helo``) of the spf verdict."""
    dkim_pass_domains: list[str] = Field(default_factory=list)
    """``header.d`` (or the domain of ``header.i``) of every dkim signature that passed."""


class Attachment(Frozen):
    filename: str | None
    content_type: str
    size: int


class ParsedMessage(Frozen):
    """Everything later stages need from one raw mail; the raw bytes stay in the database."""

    message_id: str | None
    in_reply_to: str | None = None
    references: list[str] = Field(default_factory=list)
    subject: str = ""
    from_: Address | None = None
    from_count: int = 1
    """How many addresses the From header(s) named: more than one proves no single sender."""
    sender: str | None = None
    """The Sender header's address, when there is one."""
    reply_to: list[Address] = Field(default_factory=list)
    to: list[Address] = Field(default_factory=list)
    cc: list[Address] = Field(default_factory=list)
    return_path: str | None = None
    """None when the header is absent, "" for the null sender ``<>`` (bounces)."""
    date: datetime | None = None
    content_type: str = "text/plain"
    """Top-level MIME type, e.g. ``multipart/report`` for DSNs and MDNs."""
    text: str = ""
    """The body as plain text (HTML converted), quoted history still in it."""
    from_html: bool = False
    embedded_texts: list[str] = Field(default_factory=list)
    """Text of attached message/rfc822 parts and text/plain attachments, for forwarded requests."""
    attachments: list[Attachment] = Field(default_factory=list)
    headers: dict[str, str] = Field(default_factory=dict)
    """Lower-cased header names relevant to automation signals (auto-submitted, precedence,
    list-id, list-unsubscribe, x-autoreply, x-autorespond, x-auto-response-suppress, ...)."""
    auth_results: list[AuthResult] = Field(default_factory=list)
    defects: list[str] = Field(default_factory=list)
    """Non-fatal MIME problems the parser worked around."""


UNCLEAR_REQUEST = ".unclear_request"
"""Evidence rule ids ending so mark rights asked for without one named: the desk sends the clarification mail
(``desk.intake.is_unclear_request``), and the classifier's second opinion neither takes it back nor guesses a right."""


MODEL_RULE = "model"
"""Evidence of the learned second opinion has the rule id ``model.<category>``: no rule read it."""


class Evidence(Frozen):
    category: Category
    rule: str
    """Rule id from classifiers/, e.g. ``nl.erasure.verwijder_account``, or ``model.<category>``."""
    text: str
    """The matched span as it appears in the new text (or subject)."""

    @property
    def by_rule(self) -> bool:
        return self.rule.partition(".")[0] != MODEL_RULE


class Classification(Frozen):
    categories: list[Category]
    """At least one; ``[none]`` never combined with another."""
    language: str
    """nl, en, de, fr, or "other"."""
    automated: bool
    automated_reason: str | None = None
    evidence: list[Evidence] = Field(default_factory=list)
    new_text: str = ""
    """The customer's own words: quoted history and signature removed."""
    review: bool = False
    """Human mail with no request that still looks privacy-related (a negated or hypothetical
    right, a privacy topic): it goes on the officer's "to check" list, never to a case."""

    @property
    def rights(self) -> list[Category]:
        return [c for c in self.categories if c in RIGHTS]

    @property
    def ruled_rights(self) -> list[Category]:
        """The rights a rule read (with its words as evidence), not the second opinion alone: what may change a
        case that is already open ("Hier is de code: 120 000" scores rectification 0.55, the digits a new value)."""
        return [c for c in self.rights if any(e.by_rule for e in self.evidence if e.category == c)]

    @property
    def is_privacy(self) -> bool:
        return not self.automated and self.categories != [Category.NONE]


class IdentityStatus(StrEnum):
    VERIFIED = "verified"
    """Sender is the customer's known address and nothing casts doubt on it."""
    CODE_SENT = "code_sent"
    """Unknown or doubtful sender naming a known customer: a code goes to the known address."""
    UNKNOWN = "unknown"
    """No known customer matched: ask for order number + postcode or the account address."""
    NOT_A_CUSTOMER = "not_a_customer"
    """Verified there is no data (answered with "we hold nothing" after the check)."""


class Proof(StrEnum):
    """How well a mail proves its From address (LEGAL.md, "Sender authentication and replies")."""

    PROVEN = "proven"
    """A trusted, From-aligned pass."""
    UNPROVEN = "unproven"
    """No trusted verdict either way: may start access, portability and objection only."""
    DOUBT = "doubt"
    """A trusted fail: treated as an unknown sender."""


class SenderProof(Frozen):
    level: Proof
    reason: str
    """The rule that decided, in words an officer understands ("dmarc=pass according to mx1.example")."""


class KnownCustomer(Frozen):
    """A customer registry row as identify reads it: looked up by the caller (identify does no I/O)."""

    id: int
    email: str
    name: str = ""


class IdentityVerdict(Frozen):
    status: IdentityStatus
    customer_id: int | None = None
    known_address: str | None = None
    """The only address personal data may ever go to."""
    reason: str
    """Why, in words an officer understands (e.g. "dmarc=fail from mx1.example")."""
    proof: Proof = Proof.UNPROVEN
    """What the sender proof of the mail was; a case records it as the proof it rests on."""


class OutgoingMail(Frozen):
    """A rendered mail ready for the outbox; headers are single-line by construction."""

    kind: str
    """ack, identity_check, clarification, result, extension, refusal, officer_*, ..."""
    to: str
    subject: str
    body_text: str
    body_html: str | None = None
    language: str = "nl"
    in_reply_to: str | None = None
    references: list[str] = Field(default_factory=list)
    automatic: bool = True
    """True: sent without approval (ack, identity check, clarification). False: a draft."""
