from inbox_agent.addresses import address_key, mentioned_addresses, same_address
from inbox_agent.identify import identify
from inbox_agent.models import Category, IdentityStatus, KnownCustomer, Proof, SenderProof

ANNA = KnownCustomer(id=7, email="Anna.Jansen@Example.org", name="Anna")
PROVEN = SenderProof(level=Proof.PROVEN, reason="dmarc=pass according to mx1.shop.example")
UNPROVEN = SenderProof(level=Proof.UNPROVEN, reason="no trusted Authentication-Results (none)")
DOUBT = SenderProof(level=Proof.DOUBT, reason="dmarc=fail according to mx1.shop.example")


def test_domain_is_case_insensitive_local_part_is_not() -> None:
    assert address_key("Anna.Jansen@EXAMPLE.org") == "Anna.Jansen@example.org"
    assert same_address("Anna.Jansen@EXAMPLE.org", "Anna.Jansen@example.ORG")
    assert not same_address("anna.jansen@example.org", "Anna.Jansen@example.org")


def test_mentioned_addresses_skip_the_sender_and_duplicates() -> None:
    text = "Mijn oude account: oud@example.org. Stuur niets naar nieuw@example.com of oud@EXAMPLE.org."
    assert mentioned_addresses(text, exclude=["nieuw@example.com"]) == ["oud@example.org"]


def test_proven_known_sender_is_verified_to_the_known_address() -> None:
    verdict = identify(sender=ANNA, named=None, proof=PROVEN, rights=[Category.ERASURE])
    assert verdict.status == IdentityStatus.VERIFIED
    assert verdict.known_address == ANNA.email
    assert verdict.proof == Proof.PROVEN


def test_unproven_known_sender_may_start_access_portability_objection() -> None:
    for right in (Category.ACCESS, Category.PORTABILITY, Category.OBJECTION):
        verdict = identify(sender=ANNA, named=None, proof=UNPROVEN, rights=[right])
        assert verdict.status == IdentityStatus.VERIFIED, right
        assert verdict.proof == Proof.UNPROVEN


def test_unproven_known_sender_needs_a_code_for_data_changing_rights() -> None:
    for right in (Category.ERASURE, Category.RECTIFICATION, Category.RESTRICTION):
        verdict = identify(sender=ANNA, named=None, proof=UNPROVEN, rights=[Category.ACCESS, right])
        assert verdict.status == IdentityStatus.CODE_SENT, right
        assert verdict.known_address == ANNA.email
        assert "not proven" in verdict.reason


def test_known_sender_failing_dmarc_gets_a_code_at_the_known_address_only() -> None:
    verdict = identify(sender=ANNA, named=None, proof=DOUBT, rights=[Category.ACCESS])
    assert verdict.status == IdentityStatus.CODE_SENT
    assert verdict.known_address == ANNA.email
    assert "dmarc=fail" in verdict.reason


def test_unknown_sender_naming_a_customer_gets_a_code_at_the_named_known_address() -> None:
    verdict = identify(sender=None, named=ANNA, proof=PROVEN, rights=[Category.ACCESS])
    assert verdict.status == IdentityStatus.CODE_SENT
    assert verdict.known_address == ANNA.email


def test_stranger_is_unknown_with_no_address_to_send_data_to() -> None:
    verdict = identify(sender=None, named=None, proof=PROVEN, rights=[Category.ACCESS])
    assert verdict.status == IdentityStatus.UNKNOWN
    assert verdict.known_address is None
