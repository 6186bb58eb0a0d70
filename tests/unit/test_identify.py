from inbox_agent.identify import (
    KnownCustomer,
    address_key,
    authentication_doubt,
    identify,
    mentioned_addresses,
    same_address,
)
from inbox_agent.models import Address, AuthResult, IdentityStatus, ParsedMessage

TRUSTED = ["mx1.shop.example"]
ANNA = KnownCustomer(id=7, email="Anna.Jansen@Example.org", name="Anna")


def message(sender: str = "anna.jansen@example.org", dmarc: str | None = "pass", authserv: str = "mx1.shop.example",
            spf: str | None = "pass") -> ParsedMessage:
    return ParsedMessage(
        message_id="<m@x>",
        from_=Address(email=sender),
        auth_results=[AuthResult(authserv_id=authserv, dmarc=dmarc, spf=spf)],
    )


def test_domain_is_case_insensitive_local_part_is_not() -> None:
    assert address_key("Anna.Jansen@EXAMPLE.org") == "Anna.Jansen@example.org"
    assert same_address("Anna.Jansen@EXAMPLE.org", "Anna.Jansen@example.ORG")
    assert not same_address("anna.jansen@example.org", "Anna.Jansen@example.org")


def test_mentioned_addresses_skip_the_sender_and_duplicates() -> None:
    text = "Mijn oude account: oud@example.org. Stuur niets naar nieuw@example.com of oud@EXAMPLE.org."
    assert mentioned_addresses(text, exclude=["nieuw@example.com"]) == ["oud@example.org"]


def test_only_trusted_authentication_results_count() -> None:
    forged = [AuthResult(authserv_id="evil.example", dmarc="fail")]
    assert authentication_doubt(forged, TRUSTED) is None
    real = [AuthResult(authserv_id="mx1.shop.example", dmarc="fail")]
    assert authentication_doubt(real, TRUSTED) == "dmarc=fail according to mx1.shop.example"
    assert authentication_doubt([AuthResult(authserv_id="mx1.shop.example", spf="softfail")], TRUSTED)


def test_known_sender_is_verified_to_the_known_address() -> None:
    verdict = identify(message(), sender=ANNA, named=None, trusted_authserv_ids=TRUSTED)
    assert verdict.status == IdentityStatus.VERIFIED
    assert verdict.known_address == ANNA.email


def test_known_sender_failing_dmarc_gets_a_code_at_the_known_address_only() -> None:
    verdict = identify(message(dmarc="fail"), sender=ANNA, named=None, trusted_authserv_ids=TRUSTED)
    assert verdict.status == IdentityStatus.CODE_SENT
    assert verdict.known_address == ANNA.email
    assert "dmarc=fail" in verdict.reason


def test_unknown_sender_naming_a_customer_gets_a_code_at_the_named_known_address() -> None:
    verdict = identify(message(sender="nieuw@example.com"), sender=None, named=ANNA, trusted_authserv_ids=TRUSTED)
    assert verdict.status == IdentityStatus.CODE_SENT
    assert verdict.known_address == ANNA.email


def test_stranger_is_unknown_with_no_address_to_send_data_to() -> None:
    verdict = identify(message(sender="x@example.net"), sender=None, named=None, trusted_authserv_ids=TRUSTED)
    assert verdict.status == IdentityStatus.UNKNOWN
    assert verdict.known_address is None
