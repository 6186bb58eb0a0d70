"""WooCommerce REST API v3 client: the shop's customers, orders and product reviews.

A synchronous httpx client, because the daemon runs it in a worker thread and retries plus
pagination read plainly that way. Every list is an iterator holding one page (100 records) at a
time, so a customer with thousands of orders streams into an export without the whole history
in memory.

Failures are sorted for the officer: ``WooAuthError`` (the key is wrong: a human fixes the
config), ``WooUnavailable`` (down, unreachable or rate-limiting: the case waits and the agent
tries again later), ``WooError`` (anything else). Query strings carry e-mail addresses, so no
message, log line or repr made here contains a URL, a query or a response body.

Changed-since sync: the customers endpoint has no ``modified_after`` filter in stock WooCommerce
(woocommerce/woocommerce#31482, still open), unlike orders and products. We send it anyway
(WordPress ignores unknown query parameters; an install that honours it saves pages) and always
filter on ``date_modified_gmt`` ourselves, so the result is right either way; on stock
WooCommerce that means a full scan, ordered by id so pages stay stable.
"""

from __future__ import annotations

import contextlib
import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Annotated, Any

import httpx
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    field_validator,
    model_validator,
)

from ..addresses import same_address
from ..config import WooCommerceSettings

log = logging.getLogger(__name__)

PER_PAGE = 100
"""WooCommerce's maximum page size."""
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_API_PATH = "/wp-json/wc/v3"
_BY_ID: dict[str, str | int] = {"orderby": "id", "order": "asc"}
"""Stable paging order: new records land on the last page, not between pages being read."""
ANONYMISED_EMAIL = "deleted@site.invalid"
"""WordPress's own placeholder (``wp_privacy_anonymize_data('email')``); ``.invalid`` never delivers."""


class WooError(Exception):
    """A WooCommerce call failed in a way that retrying now will not fix."""


class WooAuthError(WooError):
    """The consumer key or secret is wrong or lacks permission: the configuration needs a human."""


class WooUnavailable(WooError):
    """The shop is unreachable, failing or rate-limiting us: try again later."""


class WooNotFound(WooError):
    """The record does not exist (any more)."""


# --- models -------------------------------------------------------------------------------


def _as_utc(value: datetime) -> datetime:
    """WooCommerce's ``*_gmt`` fields are naive UTC strings."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _none_to(default: str) -> Callable[[object], object]:
    return lambda value: default if value is None or value == "" else value


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]
Text = Annotated[str, BeforeValidator(_none_to(""))]
Money = Annotated[Decimal, BeforeValidator(_none_to("0"))]
"""Amounts stay decimal strings ("29.95"), as WooCommerce sends them: no float rounding."""


class WooModel(BaseModel):
    """WooCommerce JSON as received; unknown keys are dropped, field docstrings become descriptions."""

    model_config = ConfigDict(extra="ignore", frozen=True, use_attribute_docstrings=True)


class MetaData(WooModel):
    key: str
    """Name of an extra field stored by WooCommerce or a plugin."""
    value: JsonValue = None
    """The stored value of that field."""


class Address(WooModel):
    first_name: Text = ""
    """First name."""
    last_name: Text = ""
    """Last name."""
    company: Text = ""
    """Company name."""
    address_1: Text = ""
    """Street and house number."""
    address_2: Text = ""
    """Additional address line."""
    city: Text = ""
    """Town or city."""
    state: Text = ""
    """State or province code."""
    postcode: Text = ""
    """Postal code."""
    country: Text = ""
    """Country code (ISO 3166-1 alpha-2)."""
    email: Text = ""
    """E-mail address (billing addresses only)."""
    phone: Text = ""
    """Telephone number."""


ADDRESS_FIELDS: tuple[str, ...] = tuple(Address.model_fields)


class Customer(WooModel):
    id: int
    """Customer (WordPress user) number in the webshop."""
    email: Text = ""
    """Account e-mail address."""
    first_name: Text = ""
    """First name on the account."""
    last_name: Text = ""
    """Last name on the account."""
    username: Text = ""
    """Login name."""
    role: Text = ""
    """WordPress role, normally "customer"."""
    date_created_gmt: UtcDatetime | None = None
    """When the account was created (UTC)."""
    date_modified_gmt: UtcDatetime | None = None
    """When the account was last changed (UTC)."""
    is_paying_customer: bool = False
    """Whether the account has placed a paid order."""
    billing: Address = Field(default_factory=Address)
    """Billing address saved on the account."""
    shipping: Address = Field(default_factory=Address)
    """Delivery address saved on the account."""
    meta_data: list[MetaData] = Field(default_factory=list)
    """Extra fields stored with the account by the shop software or plugins."""


class LineItem(WooModel):
    id: int
    """Line number within the order."""
    name: Text = ""
    """Product name as ordered."""
    product_id: int = 0
    """Product number."""
    variation_id: int = 0
    """Product variation number (0 if none)."""
    quantity: int = 0
    """Number of items."""
    sku: Text = ""
    """Article code."""
    price: Money = Decimal(0)
    """Unit price excluding tax."""
    subtotal: Money = Decimal(0)
    """Line amount before discounts, excluding tax."""
    subtotal_tax: Money = Decimal(0)
    """Tax on the line before discounts."""
    total: Money = Decimal(0)
    """Line amount after discounts, excluding tax."""
    total_tax: Money = Decimal(0)
    """Tax on the line after discounts."""
    meta_data: list[MetaData] = Field(default_factory=list)
    """Extra fields of the line (e.g. chosen size or colour)."""


class ShippingLine(WooModel):
    id: int
    """Shipping line number within the order."""
    method_title: Text = ""
    """Shipping method as shown at checkout (e.g. "PostNL")."""
    method_id: Text = ""
    """Internal shipping method code."""
    total: Money = Decimal(0)
    """Shipping cost excluding tax."""
    total_tax: Money = Decimal(0)
    """Tax on the shipping cost."""


class Order(WooModel):
    id: int
    """Order id in the webshop."""
    number: Text = ""
    """Order number as shown on the invoice and in mails."""
    status: Text = ""
    """Order status (pending, processing, completed, cancelled, refunded, ...)."""
    currency: Text = ""
    """Currency code (ISO 4217)."""
    date_created_gmt: UtcDatetime | None = None
    """When the order was placed (UTC)."""
    date_modified_gmt: UtcDatetime | None = None
    """When the order was last changed (UTC)."""
    date_paid_gmt: UtcDatetime | None = None
    """When payment was received (UTC)."""
    date_completed_gmt: UtcDatetime | None = None
    """When the order was completed (UTC)."""
    customer_id: int = 0
    """Customer number of the account that ordered (0 for a guest order)."""
    customer_note: Text = ""
    """Note the customer wrote at checkout."""
    billing: Address = Field(default_factory=Address)
    """Billing (invoice) address of the order."""
    shipping: Address = Field(default_factory=Address)
    """Delivery address of the order."""
    payment_method: Text = ""
    """Payment method code."""
    payment_method_title: Text = ""
    """Payment method as shown at checkout (e.g. "iDEAL")."""
    transaction_id: Text = ""
    """Payment reference at the payment provider (Mollie)."""
    prices_include_tax: bool = False
    """Whether the shop's prices include VAT."""
    discount_total: Money = Decimal(0)
    """Total discount excluding tax."""
    shipping_total: Money = Decimal(0)
    """Total shipping cost excluding tax."""
    total_tax: Money = Decimal(0)
    """Total VAT."""
    total: Money = Decimal(0)
    """Amount paid, including VAT."""
    line_items: list[LineItem] = Field(default_factory=list)
    """Products ordered."""
    shipping_lines: list[ShippingLine] = Field(default_factory=list)
    """Shipping methods and costs."""
    customer_ip_address: Text = ""
    """Internet address the order was placed from."""
    customer_user_agent: Text = ""
    """Browser the order was placed with."""
    meta_data: list[MetaData] = Field(default_factory=list)
    """Extra fields stored with the order by the shop software or plugins (e.g. track & trace)."""


class Review(WooModel):
    id: int
    """Review number."""
    product_id: int = 0
    """Product reviewed."""
    product_name: Text = ""
    """Name of the product reviewed."""
    status: Text = ""
    """Review status (approved, hold, spam, trash)."""
    reviewer: Text = ""
    """Name shown with the review."""
    reviewer_email: Text = ""
    """E-mail address given with the review."""
    review: Text = ""
    """Review text (HTML as stored by the shop)."""
    rating: int = 0
    """Stars given, 1 to 5 (0 if none)."""
    verified: bool = False
    """Whether the reviewer bought the product."""
    date_created_gmt: UtcDatetime | None = None
    """When the review was written (UTC)."""


class CustomerUpdate(BaseModel):
    """The changed fields of a rectification (Art. 16); anything not set stays as it is."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    billing: dict[str, str] = Field(default_factory=dict)
    shipping: dict[str, str] = Field(default_factory=dict)

    @field_validator("billing", "shipping")
    @classmethod
    def _known_fields(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(ADDRESS_FIELDS))
        if unknown:
            raise ValueError(f"unknown address fields {unknown}; known: {list(ADDRESS_FIELDS)}")
        return value

    @model_validator(mode="after")
    def _something(self) -> CustomerUpdate:
        if not self.body():
            raise ValueError("a rectification needs at least one changed field")
        return self

    def body(self) -> dict[str, Any]:
        """The PUT body: only what changes (an empty string is a change: it clears the field)."""
        return self.model_dump(exclude_defaults=True)


# --- anonymisation ------------------------------------------------------------------------

ORDER_BILLING_KEPT = ("first_name", "last_name", "company", "address_1", "address_2", "city",
                      "state", "postcode", "country")
"""Name and invoice address: an invoice states them (art. 35a Wet OB) and the administration must
be kept unchanged for 7 years (art. 52 AWR). Billing e-mail and phone are cleared: no invoice or
ledger needs them."""
ORDER_SHIPPING_KEPT = ("country",)
"""The delivery country fixes the VAT rate of a distance sale (EU OSS), so it stays; the delivery
name, street and phone served only the delivery and are cleared."""


def _blank(kept: tuple[str, ...]) -> dict[str, str]:
    return {name: "" for name in ADDRESS_FIELDS if name not in kept}


def order_anonymisation() -> dict[str, Any]:
    """PUT body that reduces an order to what the fiscal administration needs (LEGAL.md, erasure).

    Kept: number, dates, status, line items, amounts and VAT, currency, payment method and
    transaction id (reconciling Mollie payouts), billing name and address, delivery country.
    Cleared: billing e-mail and phone, delivery name/address/phone, the customer's checkout note.
    Not writable through the REST API and therefore left for WooCommerce's own eraser (Tools >
    Erase Personal Data): ``customer_ip_address``, ``customer_user_agent``; plugin ``meta_data``
    is left alone because its meaning is plugin-specific.
    """
    return {
        "billing": _blank(ORDER_BILLING_KEPT),
        "shipping": _blank(ORDER_SHIPPING_KEPT),
        "customer_note": "",
    }


def customer_anonymisation(customer_id: int) -> dict[str, Any]:
    """PUT body that empties an account (WooCommerce has no anonymise endpoint).

    The e-mail must stay valid and unique per WordPress user, hence ``deleted-<id>@site.invalid``.
    The login name cannot be changed through the API; when it is personal (``jan.jansen``) the
    account must be deleted in WordPress by hand.
    """
    local, _, domain = ANONYMISED_EMAIL.partition("@")
    return {
        "email": f"{local}-{customer_id}@{domain}",
        "first_name": "",
        "last_name": "",
        "billing": _blank(()),
        "shipping": _blank(()),
    }


def review_anonymisation(reviewer: str) -> dict[str, Any]:
    """PUT body that keeps a review's text and stars but drops who wrote it.

    The REST API validates ``reviewer_email`` as an address, so WordPress's placeholder is used.
    """
    return {"reviewer": reviewer, "reviewer_email": ANONYMISED_EMAIL}


# --- client -------------------------------------------------------------------------------


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date), None if absent or garbled."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (_as_utc(when) - datetime.now(UTC)).total_seconds())


def _api_base(url: str) -> str:
    base = url.rstrip("/")
    base = base.removesuffix(_API_PATH)
    parsed = httpx.URL(base)
    if parsed.scheme != "https" and not (parsed.scheme == "http" and parsed.host in _LOCAL_HOSTS):
        raise WooError("woocommerce.url must start with https:// (plain http only for localhost)")
    return f"{base}{_API_PATH}/"


class WooCommerceClient:
    """One shop's REST API, authenticated with a consumer key and secret (HTTP Basic over HTTPS).

    Retries 429 (honouring Retry-After), 5xx and connection errors up to ``max_attempts`` times
    with exponential backoff and full jitter; ``sleep`` and ``rng`` are injectable for tests.
    Only GET, PUT and DELETE are used, all idempotent, so a retried call cannot act twice.
    """

    def __init__(
        self,
        settings: WooCommerceSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        max_attempts: int = 5,
        backoff_seconds: float = 0.5,
        max_backoff_seconds: float = 30.0,
        max_retry_after_seconds: float = 120.0,
    ) -> None:
        if not settings.url or settings.consumer_key is None or settings.consumer_secret is None:
            raise WooError("WooCommerce not configured: set woocommerce.url, consumer_key, consumer_secret")
        self._host = httpx.URL(settings.url).host
        self._http = httpx.Client(
            base_url=_api_base(settings.url),
            auth=httpx.BasicAuth(
                settings.consumer_key.get_secret_value(), settings.consumer_secret.get_secret_value()
            ),
            timeout=settings.timeout_seconds,
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": "inbox-agent"},
        )
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._max_attempts = max(1, max_attempts)
        self._backoff = backoff_seconds
        self._max_backoff = max_backoff_seconds
        self._max_retry_after = max_retry_after_seconds

    def __repr__(self) -> str:
        return f"WooCommerceClient(host={self._host!r})"

    def __enter__(self) -> WooCommerceClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # -- reading ---------------------------------------------------------------------------

    def find_customers_by_email(self, email: str) -> list[Customer]:
        """Accounts whose e-mail is ``email`` (all roles: shop staff buy too)."""
        pages = self._pages("customers", {"email": email, "role": "all"})
        return [c for c in map(Customer.model_validate, pages) if same_address(c.email, email)]

    def get_customer(self, customer_id: int) -> Customer | None:
        try:
            return Customer.model_validate(self._call("GET", f"customers/{customer_id}"))
        except WooNotFound:
            return None

    def iter_customer_orders(self, customer_id: int) -> Iterator[Order]:
        """Every order placed from the account, oldest first, any status."""
        for item in self._pages("orders", {**_BY_ID, "customer": customer_id, "status": "any"}):
            yield Order.model_validate(item)

    def iter_guest_orders(self, email: str) -> Iterator[Order]:
        """Guest orders (no account) whose billing e-mail is exactly ``email``.

        ``search`` is a substring match over many fields, so ``jan@x.nl`` also finds
        ``marjan@x.nl``; only the exact billing address counts. Orders of an account are
        found through that account (``iter_customer_orders``), never through the address.
        """
        for item in self._pages("orders", {**_BY_ID, "search": email, "status": "any"}):
            order = Order.model_validate(item)
            if order.customer_id == 0 and same_address(order.billing.email, email):
                yield order

    def iter_reviews_by_email(self, email: str) -> Iterator[Review]:
        """Product reviews given with ``email``, whatever their moderation status."""
        for item in self._pages("products/reviews", {**_BY_ID, "reviewer_email": email, "status": "all"}):
            review = Review.model_validate(item)
            if same_address(review.reviewer_email, email):
                yield review

    def iter_customers_modified_after(self, since: datetime | None) -> Iterator[Customer]:
        """Accounts changed after ``since`` (all when None), for ``customers sync``; see module doc."""
        params: dict[str, str | int] = {**_BY_ID, "role": "all"}
        if since is not None:
            since = _as_utc(since)
            params |= {"modified_after": since.strftime("%Y-%m-%dT%H:%M:%S"), "dates_are_gmt": "true"}
        for item in self._pages("customers", params):
            customer = Customer.model_validate(item)
            if since is None or customer.date_modified_gmt is None or customer.date_modified_gmt > since:
                yield customer

    # -- writing ---------------------------------------------------------------------------

    def update_customer(self, customer_id: int, changes: CustomerUpdate) -> Customer:
        """Rectification: PUT only the changed fields; returns the account as WooCommerce now has it."""
        return Customer.model_validate(self._call("PUT", f"customers/{customer_id}", body=changes.body()))

    def anonymise_customer(self, customer_id: int) -> Customer:
        body = customer_anonymisation(customer_id)
        return Customer.model_validate(self._call("PUT", f"customers/{customer_id}", body=body))

    def anonymise_order(self, order_id: int) -> Order:
        return Order.model_validate(self._call("PUT", f"orders/{order_id}", body=order_anonymisation()))

    def anonymise_review(self, review_id: int, reviewer: str = "Anoniem") -> Review:
        body = review_anonymisation(reviewer)
        return Review.model_validate(self._call("PUT", f"products/reviews/{review_id}", body=body))

    def delete_review(self, review_id: int) -> None:
        """Delete for good (not to the bin); a review already gone counts as deleted."""
        with contextlib.suppress(WooNotFound):
            self._call("DELETE", f"products/reviews/{review_id}", params={"force": "true"})

    # -- transport -------------------------------------------------------------------------

    def _pages(self, path: str, params: Mapping[str, str | int]) -> Iterator[Any]:
        """Items of every page, one page in memory; follows X-WP-TotalPages."""
        page = 1
        while True:
            response = self._send("GET", path, {**params, "per_page": PER_PAGE, "page": page}, None)
            items = self._json(response)
            if not isinstance(items, list):
                raise WooError(f"WooCommerce {path}: expected a list, got {type(items).__name__}")
            yield from items
            total = response.headers.get("X-WP-TotalPages")
            more = page < int(total) if total and total.isdigit() else len(items) == PER_PAGE
            if not more or not items:
                return
            page += 1

    def _call(
        self, method: str, path: str, *, params: Mapping[str, str] | None = None, body: Any = None
    ) -> Any:
        return self._json(self._send(method, path, params or {}, body))

    @staticmethod
    def _json(response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            status = response.status_code
            raise WooError(f"WooCommerce answered {status} without JSON: is woocommerce.url right?") from None

    def _send(self, method: str, path: str, params: Mapping[str, str | int], body: Any) -> httpx.Response:
        resource = path.split("/")[0]
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self._http.request(method, path, params=params, json=body)
            except httpx.TransportError as exc:
                reason = f"unreachable ({type(exc).__name__})"
                wait = None
            else:
                status = response.status_code
                if status < 300:
                    return response
                if status in (401, 403):
                    raise WooAuthError(
                        f"WooCommerce rejected the API key ({status}): check consumer_key/consumer_secret"
                    )
                if status == 404:
                    raise WooNotFound(f"WooCommerce {resource}: not found")
                if status != 429 and status < 500:
                    code = self._code(response)
                    raise WooError(f"WooCommerce refused {method} {resource}: {status} {code}")
                reason = f"answered {status}"
                wait = _retry_after(response.headers.get("Retry-After"))
                if wait is not None and wait > self._max_retry_after:
                    raise WooUnavailable(f"WooCommerce asks to wait {wait:.0f}s ({status}); trying later")
            if attempt == self._max_attempts:
                raise WooUnavailable(
                    f"WooCommerce at {self._host} {reason} on {attempt} attempts; will try again later"
                )
            delay = self._delay(attempt, wait)
            log.warning("WooCommerce %s %s %s; retry %d/%d in %.1fs",
                        method, resource, reason, attempt, self._max_attempts - 1, delay)
            self._sleep(delay)

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        """Full-jitter exponential backoff, never shorter than the server's Retry-After."""
        backoff = self._rng.uniform(0, min(self._max_backoff, self._backoff * 2 ** (attempt - 1)))
        return backoff if retry_after is None else max(retry_after, backoff)

    @staticmethod
    def _code(response: httpx.Response) -> str:
        """WooCommerce's error code (``woocommerce_rest_...``), never its message, which may echo data."""
        try:
            data = response.json()
        except ValueError:
            return ""
        code = data.get("code") if isinstance(data, dict) else None
        return str(code) if code else ""
