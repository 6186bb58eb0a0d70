"""A WooCommerce REST API v3 stand-in: a real HTTP server on 127.0.0.1, for tests and the demo.

Like the SMTP sink it is clearly not the real thing: ``inbox-agent demo`` fills it with the
seeded customers' orders so a newcomer's first package is complete, and the connector tests
run against it.

Real sockets rather than a mocked transport, so timeouts, refused connections, headers and
pagination go through httpx exactly as they would against a shop. It speaks the documented
JSON shapes and paging headers (X-WP-Total, X-WP-TotalPages, Link) of the endpoints the
connector uses, and mimics stock WooCommerce where that matters: ``search`` is a substring
match, the customers list defaults to role "customer" and ignores ``modified_after``.

Fault injection: wrong keys get 401; ``fail_429`` / ``fail_500`` answers come before the next
successes; ``stop()`` closes the socket so connections are refused (``start()`` reopens it).
"""

from __future__ import annotations

import base64
import copy
import json
import math
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from pydantic import SecretStr

from inbox_agent.config import WooCommerceSettings

API = "/wp-json/wc/v3/"
KEY = "ck_test_key"
SECRET = "cs_test_secret"

Json = dict[str, Any]
Answer = tuple[int, dict[str, str], Any]
"""Status, extra headers, JSON payload."""


def address(first: str, last: str, email: str = "", **over: str) -> Json:
    base = {
        "first_name": first, "last_name": last, "company": "", "address_1": "Dorpsstraat 1",
        "address_2": "", "city": "Coevorden", "state": "", "postcode": "7741 AA", "country": "NL",
        "email": email, "phone": "0612345678",
    }
    return base | over


def customer_json(cid: int, email: str, first: str = "Jan", last: str = "Jansen", **over: Any) -> Json:
    return {
        "id": cid, "date_created": "2024-01-02T11:00:00", "date_created_gmt": "2024-01-02T10:00:00",
        "date_modified": "2024-06-01T14:00:00", "date_modified_gmt": "2024-06-01T12:00:00",
        "email": email, "first_name": first, "last_name": last, "role": "customer",
        "username": f"{first.lower()}{cid}", "billing": address(first, last, email),
        "shipping": address(first, last), "is_paying_customer": True,
        "avatar_url": "https://secure.gravatar.com/avatar/0", "meta_data": [],
        "_links": {"self": [{"href": f"https://shop.example{API}customers/{cid}"}]},
    } | over


def order_json(oid: int, customer_id: int, email: str, items: int = 1, **over: Any) -> Json:
    lines = [
        {"id": oid * 100 + n, "name": f"Rompertje maat {56 + n}", "product_id": 10 + n, "variation_id": 0,
         "quantity": 1, "tax_class": "", "subtotal": "10.00", "subtotal_tax": "2.10", "total": "10.00",
         "total_tax": "2.10", "taxes": [], "meta_data": [], "sku": f"RMP-{n}", "price": 10.0}
        for n in range(items)
    ]
    return {
        "id": oid, "parent_id": 0, "number": str(oid), "order_key": f"wc_order_{oid}", "status": "completed",
        "currency": "EUR", "date_created_gmt": "2025-03-01T09:30:00",
        "date_modified_gmt": "2025-03-02T09:30:00", "date_paid_gmt": "2025-03-01T09:31:00",
        "date_completed_gmt": None, "discount_total": "0.00",
        "shipping_total": "4.95", "total_tax": f"{2.10 * items:.2f}", "total": f"{12.10 * items + 4.95:.2f}",
        "prices_include_tax": True, "customer_id": customer_id, "customer_ip_address": "192.0.2.7",
        "customer_user_agent": "Mozilla/5.0", "customer_note": "Graag bij de buren",
        "billing": address("Jan", "Jansen", email), "shipping": address("Jan", "Jansen"),
        "payment_method": "mollie_wc_gateway_ideal", "payment_method_title": "iDEAL",
        "transaction_id": f"tr_{oid:08d}", "meta_data": [], "line_items": lines, "tax_lines": [],
        "shipping_lines": [{"id": oid * 100 + 99, "method_title": "PostNL", "method_id": "flat_rate",
                            "total": "4.95", "total_tax": "0.00", "taxes": [], "meta_data": []}],
        "fee_lines": [], "coupon_lines": [], "refunds": [],
    } | over


def review_json(rid: int, email: str, reviewer: str = "Jan J.", **over: Any) -> Json:
    return {
        "id": rid, "date_created": "2025-04-01T12:00:00", "date_created_gmt": "2025-04-01T10:00:00",
        "product_id": 11, "product_name": "Rompertje", "status": "approved", "reviewer": reviewer,
        "reviewer_email": email, "review": "<p>Mooi zacht!</p>\n", "rating": 5, "verified": True,
        "reviewer_avatar_urls": {},
    } | over


@dataclass
class Recorded:
    method: str
    path: str
    """Relative to /wp-json/wc/v3/, e.g. ``customers/7``."""
    query: dict[str, str]
    body: Any


@dataclass
class FakeWooCommerce:
    customers: dict[int, Json] = field(default_factory=dict)
    orders: dict[int, Json] = field(default_factory=dict)
    reviews: dict[int, Json] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    fail_429: int = 0
    """This many answers are 429 with Retry-After: 0 before normal service resumes."""
    fail_500: int = 0
    """This many answers are 500 (after any 429s)."""
    gate: threading.Event | None = None
    """When set to an Event, every answer waits until it is set: a webshop that takes its time."""
    port: int = 0
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def settings(self, key: str = KEY, secret: str = SECRET) -> WooCommerceSettings:
        return WooCommerceSettings(
            url=self.url, consumer_key=SecretStr(key), consumer_secret=SecretStr(secret), timeout_seconds=5
        )

    def add(self, table: dict[int, Json], *records: Json) -> None:
        for record in records:
            table[record["id"]] = record

    def start(self) -> FakeWooCommerce:
        fake = self

        class Handler(_Handler):
            owner = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True).start()
        return self

    def stop(self) -> None:
        """The "down" switch: the port refuses connections until ``start()``."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeWooCommerce:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- request handling (called from the server thread) -----------------------------------

    def handle(self, method: str, raw_path: str, auth: str | None, body: Any) -> Answer:
        parts = urlsplit(raw_path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        path = parts.path.removeprefix(API).strip("/")
        if self.gate is not None:
            self.gate.wait(60)
        with self._lock:
            self.requests.append(Recorded(method, path, query, body))
            if self.fail_429:
                self.fail_429 -= 1
                return 429, {"Retry-After": "0"}, _error("woocommerce_rest_too_many_requests", 429)
            if self.fail_500:
                self.fail_500 -= 1
                return 500, {}, _error("internal_server_error", 500)
            if auth != "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode():
                return 401, {}, _error("woocommerce_rest_cannot_view", 401)
            return self._route(method, path, query, body, parts.path)

    def _route(self, method: str, path: str, query: dict[str, str], body: Any, full: str) -> Answer:
        collection, _, rest = path.rpartition("/") if path[-1:].isdigit() else (path, "", "")
        tables = {"customers": self.customers, "orders": self.orders, "products/reviews": self.reviews}
        table = tables.get(collection)
        if table is None:
            return 404, {}, _error("rest_no_route", 404)
        if not rest:
            if method != "GET":
                return 405, {}, _error("rest_no_route", 405)
            return self._page(sorted((r for r in table.values() if _matches(collection, r, query)),
                                     key=lambda r: r["id"]), query, full)
        record = table.get(int(rest))
        if record is None:
            return 404, {}, _error("woocommerce_rest_invalid_id", 404)
        if method == "PUT":
            _merge(record, body)
            record["date_modified_gmt"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")
        elif method == "DELETE":
            if query.get("force") == "true":
                del table[record["id"]]
                return 200, {}, {"deleted": True, "previous": record}
            record["status"] = "trash"
        return 200, {}, copy.deepcopy(record)

    @staticmethod
    def _page(rows: list[Json], query: dict[str, str], full: str) -> Answer:
        per_page = min(int(query.get("per_page", "10")), 100)
        page = int(query.get("page", "1"))
        pages = max(1, math.ceil(len(rows) / per_page))
        links = [f'<{full}?{urlencode(query | {"page": str(n)})}>; rel="{rel}"'
                 for rel, n in (("prev", page - 1), ("next", page + 1)) if 1 <= n <= pages]
        headers = {"X-WP-Total": str(len(rows)), "X-WP-TotalPages": str(pages)}
        if links:
            headers["Link"] = ", ".join(links)
        return 200, headers, copy.deepcopy(rows[(page - 1) * per_page: page * per_page])


def _error(code: str, status: int) -> Json:
    return {"code": code, "message": "Sorry, something about jan@example.nl", "data": {"status": status}}


def _matches(collection: str, record: Json, query: dict[str, str]) -> bool:
    if collection == "customers":
        role_ok = query.get("role", "customer") in ("all", record["role"])
        return role_ok and (("email" not in query) or record["email"].lower() == query["email"].lower())
    if collection == "orders":
        if "customer" in query and record["customer_id"] != int(query["customer"]):
            return False
        haystack = " ".join(str(v) for v in record["billing"].values()).lower()
        return query.get("search", "").lower() in haystack
    status_ok = query.get("status", "approved") in ("all", record["status"])
    return status_ok and query.get("reviewer_email", record["reviewer_email"]) == record["reviewer_email"]


def _merge(record: Json, changes: Json) -> None:
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(record.get(key), dict):
            record[key].update(value)
        else:
            record[key] = value


class _Handler(BaseHTTPRequestHandler):
    owner: FakeWooCommerce

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        auth = self.headers.get("Authorization")
        status, headers, payload = self.owner.handle(self.command, self.path, auth, body)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: pytest shows failures, not access logs."""
