"""The WooCommerce connector against a real local HTTP server (inbox_agent/sandbox_shop.py)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from inbox_agent.config import WooCommerceSettings
from inbox_agent.connectors.woocommerce import (
    CustomerUpdate,
    WooAuthError,
    WooCommerceClient,
    WooError,
    WooUnavailable,
)
from inbox_agent.sandbox_shop import KEY, SECRET, FakeWooCommerce, customer_json, order_json, review_json

EMAIL = "jan@example.nl"


@pytest.fixture
def woo() -> Iterator[FakeWooCommerce]:
    with FakeWooCommerce() as fake:
        yield fake


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(woo: FakeWooCommerce, sleeps: list[float]) -> Iterator[WooCommerceClient]:
    with WooCommerceClient(woo.settings(), sleep=sleeps.append, rng=random.Random(7), max_attempts=4) as c:
        yield c


def test_customers_found_by_exact_email_in_every_role(
    woo: FakeWooCommerce, client: WooCommerceClient
) -> None:
    woo.add(woo.customers, customer_json(7, EMAIL), customer_json(8, "piet@example.nl"),
            customer_json(9, "Jan@Example.nl", role="shop_manager"))

    assert [c.id for c in client.find_customers_by_email(EMAIL)] == [7]
    found = client.find_customers_by_email("Jan@EXAMPLE.NL")
    assert [(c.id, c.role) for c in found] == [(9, "shop_manager")]
    assert woo.requests[-1].query["role"] == "all"


def test_customer_model_reads_woocommerce_json(woo: FakeWooCommerce, client: WooCommerceClient) -> None:
    woo.add(woo.customers, customer_json(7, EMAIL))

    customer = client.get_customer(7)

    assert customer is not None
    assert customer.billing.postcode == "7741 AA"
    assert customer.date_created_gmt == datetime(2024, 1, 2, 10, 0, tzinfo=UTC)
    assert client.get_customer(404) is None


def test_orders_of_a_customer_follow_every_page(woo: FakeWooCommerce, client: WooCommerceClient) -> None:
    woo.add(woo.orders, *(order_json(n, 7, EMAIL) for n in range(1, 251)), order_json(999, 8, "x@y.nl"))

    orders = list(client.iter_customer_orders(7))

    assert [o.id for o in orders] == list(range(1, 251))
    pages = [r.query for r in woo.requests if r.path == "orders"]
    assert [(q["page"], q["per_page"], q["customer"]) for q in pages] == [
        ("1", "100", "7"), ("2", "100", "7"), ("3", "100", "7")
    ]
    first = orders[0]
    assert first.total == Decimal("17.05") and first.line_items[0].price == Decimal("10.0")
    assert first.shipping_lines[0].method_title == "PostNL" and first.transaction_id == "tr_00000001"


def test_orders_stream_one_page_at_a_time(woo: FakeWooCommerce, client: WooCommerceClient) -> None:
    woo.add(woo.orders, *(order_json(n, 7, EMAIL) for n in range(1, 251)))

    stream = client.iter_customer_orders(7)
    for _ in range(100):
        next(stream)
    assert len(woo.requests) == 1
    next(stream)
    assert len(woo.requests) == 2


def test_guest_orders_match_the_exact_billing_email_only(
    woo: FakeWooCommerce, client: WooCommerceClient
) -> None:
    woo.add(woo.orders,
            order_json(1, 0, EMAIL),
            order_json(2, 0, "marjan@example.nl"),          # substring hit of search=
            order_json(3, 0, "jan@example.nl.evil.test"),   # substring hit of search=
            order_json(4, 5, EMAIL),                        # an account's order: found via the account
            order_json(5, 0, "jan@EXAMPLE.nl"),             # domain case does not matter
            order_json(6, 0, "Jan@example.nl"))             # local part case does (RFC 5321)

    assert [o.id for o in client.iter_guest_orders(EMAIL)] == [1, 5]
    assert woo.requests[-1].query["search"] == EMAIL


def test_reviews_by_email_include_unmoderated_ones(woo: FakeWooCommerce, client: WooCommerceClient) -> None:
    woo.add(woo.reviews, review_json(1, EMAIL), review_json(2, EMAIL, status="hold"),
            review_json(3, "piet@example.nl"))

    reviews = list(client.iter_reviews_by_email(EMAIL))

    assert [(r.id, r.status) for r in reviews] == [(1, "approved"), (2, "hold")]
    assert reviews[0].review == "<p>Mooi zacht!</p>\n" and reviews[0].rating == 5


def test_customers_modified_after_filters_even_when_woocommerce_ignores_it(
    woo: FakeWooCommerce, client: WooCommerceClient
) -> None:
    woo.add(woo.customers, customer_json(1, "a@x.nl", date_modified_gmt="2025-01-01T00:00:00"),
            customer_json(2, "b@x.nl", date_modified_gmt="2025-06-01T00:00:00"),
            customer_json(3, "c@x.nl", role="subscriber", date_modified_gmt="2025-07-01T00:00:00"))

    since = datetime(2025, 3, 1, tzinfo=UTC)
    assert [c.id for c in client.iter_customers_modified_after(since)] == [2, 3]
    assert woo.requests[-1].query["modified_after"] == "2025-03-01T00:00:00"
    assert [c.id for c in client.iter_customers_modified_after(None)] == [1, 2, 3]


def test_429_and_500_are_retried_then_succeed(
    woo: FakeWooCommerce, client: WooCommerceClient, sleeps: list[float]
) -> None:
    woo.add(woo.customers, customer_json(7, EMAIL))
    woo.fail_429, woo.fail_500 = 2, 1

    assert [c.id for c in client.find_customers_by_email(EMAIL)] == [7]
    assert len(woo.requests) == 4
    assert len(sleeps) == 3 and all(s >= 0 for s in sleeps)


def test_persistent_5xx_gives_up_as_unavailable(
    woo: FakeWooCommerce, client: WooCommerceClient, sleeps: list[float]
) -> None:
    woo.fail_500 = 10

    with pytest.raises(WooUnavailable, match="answered 500 on 4 attempts"):
        client.get_customer(7)
    assert len(woo.requests) == 4 and len(sleeps) == 3


def test_retry_after_is_honoured_and_a_long_one_defers_the_case() -> None:
    waits: list[str] = ["7", "3600"]
    sleeps: list[float] = []

    def shop(request: httpx.Request) -> httpx.Response:
        if waits:
            return httpx.Response(429, headers={"Retry-After": waits.pop(0)})
        return httpx.Response(200, json=customer_json(7, EMAIL))

    settings = WooCommerceSettings(url="https://shop.example", consumer_key=SecretStr(KEY),
                                   consumer_secret=SecretStr(SECRET))
    client = WooCommerceClient(settings, transport=httpx.MockTransport(shop), sleep=sleeps.append)

    with pytest.raises(WooUnavailable, match="asks to wait 3600s"):
        client.get_customer(7)
    assert len(sleeps) == 1 and sleeps[0] >= 7
    customer = client.get_customer(7)
    assert customer is not None and customer.id == 7


def test_wrong_key_is_an_auth_error_without_retries(woo: FakeWooCommerce, sleeps: list[float]) -> None:
    client = WooCommerceClient(woo.settings(secret="cs_wrong"), sleep=sleeps.append)

    with pytest.raises(WooAuthError) as caught:
        client.find_customers_by_email(EMAIL)

    assert str(caught.value) == "WooCommerce rejected the API key (401): check consumer_key/consumer_secret"
    assert len(woo.requests) == 1 and not sleeps


def test_down_shop_is_unavailable_after_bounded_attempts(
    woo: FakeWooCommerce, client: WooCommerceClient, sleeps: list[float]
) -> None:
    woo.stop()

    unreachable = r"127\.0\.0\.1 unreachable \(ConnectError\) on 4 attempts"
    with pytest.raises(WooUnavailable, match=unreachable) as caught:
        list(client.iter_guest_orders(EMAIL))

    assert EMAIL not in str(caught.value)
    assert len(sleeps) == 3
    assert all(0 <= wait <= 0.5 * 2**n for n, wait in enumerate(sleeps))  # full jitter under the cap


def test_rectification_puts_only_the_changed_fields(woo: FakeWooCommerce, client: WooCommerceClient) -> None:
    woo.add(woo.customers, customer_json(7, EMAIL))

    updated = client.update_customer(7, CustomerUpdate(last_name="de Vries", billing={"postcode": "7742 SE"}))

    put = woo.requests[-1]
    assert (put.method, put.path) == ("PUT", "customers/7")
    assert put.body == {"last_name": "de Vries", "billing": {"postcode": "7742 SE"}}
    assert updated.last_name == "de Vries" and updated.billing.postcode == "7742 SE"
    assert updated.billing.city == "Coevorden" and updated.first_name == "Jan"


def test_customer_update_refuses_unknown_or_empty_changes() -> None:
    with pytest.raises(ValidationError, match="unknown address fields"):
        CustomerUpdate(billing={"iban": "NL00"})
    with pytest.raises(ValidationError, match="at least one changed field"):
        CustomerUpdate()
    assert CustomerUpdate(first_name="").body() == {"first_name": ""}


def test_anonymised_order_keeps_what_the_fiscal_administration_needs(
    woo: FakeWooCommerce, client: WooCommerceClient
) -> None:
    woo.add(woo.orders, order_json(41, 7, EMAIL, items=2))
    before = woo.orders[41].copy()

    order = client.anonymise_order(41)

    assert order.billing.model_dump() == {
        "first_name": "Jan", "last_name": "Jansen", "company": "", "address_1": "Dorpsstraat 1",
        "address_2": "", "city": "Coevorden", "state": "", "postcode": "7741 AA", "country": "NL",
        "email": "", "phone": "",
    }
    assert set(order.shipping.model_dump().values()) == {"", "NL"} and order.shipping.country == "NL"
    assert order.customer_note == ""
    stored = woo.orders[41]
    for kept in ("number", "total", "total_tax", "line_items", "shipping_lines", "transaction_id",
                 "payment_method_title", "date_created_gmt", "currency", "customer_id"):
        assert stored[kept] == before[kept], kept


def test_anonymised_customer_has_no_name_address_or_real_email(
    woo: FakeWooCommerce, client: WooCommerceClient
) -> None:
    woo.add(woo.customers, customer_json(7, EMAIL))

    customer = client.anonymise_customer(7)

    assert customer.email == "deleted-7@site.invalid"
    assert (customer.first_name, customer.last_name) == ("", "")
    assert set(customer.billing.model_dump().values()) == {""}
    assert set(customer.shipping.model_dump().values()) == {""}


def test_reviews_can_be_anonymised_or_deleted_for_good(
    woo: FakeWooCommerce, client: WooCommerceClient
) -> None:
    woo.add(woo.reviews, review_json(1, EMAIL), review_json(2, EMAIL))

    review = client.anonymise_review(1)
    client.delete_review(2)
    client.delete_review(2)  # already gone: still fine

    assert (review.reviewer, review.reviewer_email, review.rating) == ("Anoniem", "deleted@site.invalid", 5)
    assert 2 not in woo.reviews
    assert woo.requests[-2].query == {"force": "true"}


def test_settings_are_checked_and_secrets_stay_out_of_reprs() -> None:
    def settings(url: str | None) -> WooCommerceSettings:
        return WooCommerceSettings(url=url, consumer_key=SecretStr(KEY), consumer_secret=SecretStr(SECRET))

    with pytest.raises(WooError, match="https"):
        WooCommerceClient(settings("http://shop.example"))
    with pytest.raises(WooError, match="not configured"):
        WooCommerceClient(settings(None))
    seen: list[httpx.Request] = []

    def shop(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=customer_json(1, EMAIL))

    url = "https://shop.example/wp-json/wc/v3/"
    client = WooCommerceClient(settings(url), transport=httpx.MockTransport(shop))
    client.get_customer(1)
    assert KEY not in repr(client) and SECRET not in repr(client)
    assert str(seen[0].url) == "https://shop.example/wp-json/wc/v3/customers/1"
    assert seen[0].headers["Authorization"].startswith("Basic ")
