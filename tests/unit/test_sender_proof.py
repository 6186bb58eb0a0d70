"""Sender proof per LEGAL.md: each of the forged shapes the attacker tried is unproven or doubt."""

import pytest

from inbox_agent.models import Proof
from inbox_agent.parse import parse
from inbox_agent.reply_authority import Authority, authority
from inbox_agent.sender_proof import assess

TRUSTED = ["mx1.shop.example"]


def mail(*headers: str, sender: str = "Anna <anna@example.org>") -> bytes:
    head = "\r\n".join([*headers, f"From: {sender}", "To: info@shop.example", "Subject: verwijder mij",
                        "Message-ID: <m1@example.org>"])
    return (head + "\r\n\r\nVerwijder mijn account.\r\n").encode()


AR = "Authentication-Results: mx1.shop.example;"


@pytest.mark.parametrize(("headers", "sender", "level"), [
    # proof: a trusted, From-aligned pass
    ([f"{AR} dmarc=pass header.from=example.org"], None, Proof.PROVEN),
    ([f"{AR} dmarc=pass (p=reject) header.from=mail.example.org"], None, Proof.PROVEN),
    ([f"{AR} dkim=pass header.d=example.org; spf=pass smtp.mailfrom=anna@example.org"], None, Proof.PROVEN),
    ([f"{AR} dmarc=none header.from=example.org; spf=pass smtp.mailfrom=anna@example.org"], None, Proof.PROVEN),
    (["Authentication-Results: MX1.shop.example; dmarc=pass header.from=example.org"], None, Proof.PROVEN),
    # doubt: a trusted fail
    ([f"{AR} dmarc=fail header.from=example.org"], None, Proof.DOUBT),
    ([f"{AR} spf=fail smtp.mailfrom=anna@example.org"], None, Proof.DOUBT),
    ([f"{AR} dmarc=fail header.from=example.org", "Return-Path: <x@evil.example>"], None, Proof.DOUBT),
    # unproven
    ([], None, Proof.UNPROVEN),
    (["Authentication-Results: mx.evil.example; dmarc=pass header.from=example.org"], None, Proof.UNPROVEN),
    ([f"{AR} dmarc=none header.from=example.org"], None, Proof.UNPROVEN),
    ([f"{AR} dmarc=temperror header.from=example.org"], None, Proof.UNPROVEN),
    ([f"{AR} dmarc=permerror header.from=example.org"], None, Proof.UNPROVEN),
    ([f"{AR} dmarc=pass header.from=evil.example"], None, Proof.UNPROVEN),
    ([f"{AR} spf=pass smtp.mailfrom=bounce@evil.example; dkim=pass header.d=evil.example"], None, Proof.UNPROVEN),
    ([f"{AR} spf=pass; dkim=pass"], None, Proof.UNPROVEN),
    ([f"{AR} dmarc=pass header.from=example.org", "Sender: <x@evil.example>"], None, Proof.UNPROVEN),
    ([f"{AR} dmarc=pass header.from=example.org", "Return-Path: <x@evil.example>"], None, Proof.UNPROVEN),
    ([f"{AR} dmarc=pass header.from=example.org"], "anna@example.org, mallory@evil.example", Proof.UNPROVEN),
    # the topmost trusted header is the host's own; a forged copy below it never outranks it
    ([f"{AR} dmarc=fail header.from=example.org", f"{AR} dmarc=pass header.from=example.org"], None, Proof.DOUBT),
    (["Authentication-Results: mx.evil.example; dmarc=pass", f"{AR} dmarc=none header.from=example.org"],
     None, Proof.UNPROVEN),
])
def test_sender_proof(headers: list[str], sender: str | None, level: Proof) -> None:
    msg = parse(mail(*headers, **({"sender": sender} if sender else {})))
    proof = assess(msg, TRUSTED)
    assert proof.level == level, proof.reason


def test_same_domain_envelope_keeps_a_pass() -> None:
    msg = parse(mail(f"{AR} dmarc=pass header.from=example.org", "Return-Path: <anna+bounce@mail.example.org>"))
    assert assess(msg, TRUSTED).level == Proof.PROVEN


def test_no_trusted_hosts_means_nothing_is_proven() -> None:
    msg = parse(mail(f"{AR} dmarc=pass header.from=example.org"))
    assert assess(msg, []).level == Proof.UNPROVEN


def test_reply_authority() -> None:
    proven, unproven, doubt = (assess(parse(mail(h)), TRUSTED) for h in (
        f"{AR} dmarc=pass header.from=example.org", "X-No: auth", f"{AR} dmarc=fail header.from=example.org"))
    case = ["anna@example.org", None]
    assert authority(case, "anna@example.org", proven) == Authority.FULL
    assert authority(case, "anna@EXAMPLE.org", unproven) == Authority.LIMITED
    assert authority(case, "anna@example.org", doubt) == Authority.NONE
    assert authority(case, "mallory@evil.example", proven) == Authority.NONE
