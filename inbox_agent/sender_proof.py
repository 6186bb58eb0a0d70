"""Does this mail prove it comes from its From address? LEGAL.md, "Sender authentication and replies".

Anyone can write any From. The only evidence is what the shop's own mail host wrote when it
received the mail: an Authentication-Results header from a host in ``trusted_authserv_ids``
(RFC 8601 §5: headers from other hosts are noise). Three outcomes:

- proven: a trusted dmarc=pass for the From domain or, where the domain publishes no DMARC
  (no dmarc verdict, or dmarc=none), an spf or dkim pass aligned with the From domain;
- doubt: a trusted fail (dmarc; or spf/dkim where no dmarc verdict settles it);
- unproven: everything else, including several From addresses and a Sender or Return-Path
  of another domain than From.

The rules run as a chain, first word wins, so each reason is one named rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .models import AuthResult, ParsedMessage, Proof, SenderProof

_FAILS = {"fail", "softfail"}
_UNSETTLED = {"temperror", "permerror"}


def _aligned(domain: str | None, from_domain: str) -> bool:
    """Relaxed alignment (RFC 7489 §3.1): the same domain, or one a subdomain of the other."""
    if not domain:
        return False
    return domain == from_domain or domain.endswith("." + from_domain) or from_domain.endswith("." + domain)


def _from_domain(msg: ParsedMessage) -> str:
    return msg.from_.email.rpartition("@")[2].lower() if msg.from_ else ""


def _trusted_result(msg: ParsedMessage, trusted: Iterable[str]) -> AuthResult | None:
    """The topmost header a trusted host wrote: the last one added on the way in, so a copy the sender
    forged further down (with the trusted name) never outranks it."""
    names = {t.lower() for t in trusted}
    return next((r for r in msg.auth_results if r.authserv_id in names), None)


Rule = Callable[[ParsedMessage, AuthResult | None, str], SenderProof | None]


def _one_from_address(msg: ParsedMessage, result: AuthResult | None, domain: str) -> SenderProof | None:
    if msg.from_ is None or msg.from_count != 1:
        return SenderProof(level=Proof.UNPROVEN, reason=f"{msg.from_count} addresses in From")
    return None


def _same_domain_envelope(msg: ParsedMessage, result: AuthResult | None, domain: str) -> SenderProof | None:
    for header, address in (("Sender", msg.sender), ("Return-Path", msg.return_path)):
        if address and not _aligned(address.rpartition("@")[2].lower(), domain):
            return SenderProof(level=Proof.UNPROVEN, reason=f"{header} of another domain than From")
    return None


def _trusted_host(msg: ParsedMessage, result: AuthResult | None, domain: str) -> SenderProof | None:
    if result is None:
        why = "an Authentication-Results header from an untrusted host" if msg.auth_results else "none"
        return SenderProof(level=Proof.UNPROVEN, reason=f"no trusted Authentication-Results ({why})")
    return None


def _has_aligned_pass(result: AuthResult, domain: str) -> str | None:
    if result.spf == "pass" and _aligned(result.spf_domain, domain):
        return "spf"
    if any(_aligned(d, domain) for d in result.dkim_pass_domains):
        return "dkim"
    return None


def _trusted_fail(msg: ParsedMessage, result: AuthResult | None, domain: str) -> SenderProof | None:
    """dmarc=fail; or, where no DMARC verdict settles it, an spf/dkim fail with no aligned pass."""
    assert result is not None
    host = result.authserv_id
    if result.dmarc == "fail":
        return SenderProof(level=Proof.DOUBT, reason=f"dmarc=fail according to {host}")
    if result.dmarc in (None, "none") and _has_aligned_pass(result, domain) is None:
        for method in ("spf", "dkim"):
            verdict = getattr(result, method)
            if verdict in _FAILS:
                return SenderProof(level=Proof.DOUBT, reason=f"{method}={verdict} according to {host}")
    return None


def _dmarc_verdict(msg: ParsedMessage, result: AuthResult | None, domain: str) -> SenderProof | None:
    assert result is not None
    host = result.authserv_id
    if result.dmarc_domain and not _aligned(result.dmarc_domain, domain):
        return SenderProof(level=Proof.UNPROVEN, reason=f"the dmarc verdict of {host} is about another domain")
    if result.dmarc == "pass":
        return SenderProof(level=Proof.PROVEN, reason=f"dmarc=pass according to {host}")
    if result.dmarc not in (None, "none"):
        return SenderProof(level=Proof.UNPROVEN, reason=f"dmarc={result.dmarc} according to {host}")
    return None


def _aligned_pass(msg: ParsedMessage, result: AuthResult | None, domain: str) -> SenderProof | None:
    """No DMARC policy settles it (dmarc absent or none): an spf or dkim pass for the From domain does."""
    assert result is not None
    host = result.authserv_id
    if method := _has_aligned_pass(result, domain):
        return SenderProof(level=Proof.PROVEN, reason=f"{method}=pass for the From domain according to {host}")
    dmarc = f"dmarc={result.dmarc}" if result.dmarc else "no dmarc verdict"
    return SenderProof(level=Proof.UNPROVEN, reason=f"{dmarc} and no aligned pass according to {host}")


RULES: tuple[Rule, ...] = (
    _one_from_address, _trusted_host, _trusted_fail, _same_domain_envelope, _dmarc_verdict, _aligned_pass,
)
"""First word wins: a trusted fail is doubt whatever the envelope says; a pass is proof only after it."""


def assess(msg: ParsedMessage, trusted_authserv_ids: Iterable[str]) -> SenderProof:
    """How well this mail proves its From address."""
    result = _trusted_result(msg, trusted_authserv_ids)
    domain = _from_domain(msg)
    for rule in RULES:
        verdict = rule(msg, result, domain)
        if verdict is not None:
            return verdict
    raise AssertionError("unreachable: the last rule always decides")
