"""Issue 6 through the real pipeline: WooCommerce data in the package, rights carried out on approval.

The webshop is the local WooCommerce API server of the test suite (real HTTP, documented shapes).
"""

from __future__ import annotations

import email
import io
import json
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from inbox_agent.classify import Classifier
from inbox_agent.cli import main
from inbox_agent.config import ImapSettings, load_settings
from inbox_agent.db.tables import Case, Customer, Outbox, Suppression, Task, WebshopJob
from inbox_agent.desk import case_views, officer
from inbox_agent.fictitious_shop import FICTITIOUS_SHOP, shop_toml
from inbox_agent.runtime import officer_desk
from inbox_agent.sandbox import DovecotServer, SmtpSink
from inbox_agent.sandbox_shop import FakeWooCommerce, customer_json, order_json, review_json

from agent_harness import Agent, agent_settings, request_mail

pytestmark = pytest.mark.integration
ANNA = "anna.jansen@example.org"


@pytest.fixture
def shop() -> Iterator[FakeWooCommerce]:
    with FakeWooCommerce() as fake:
        fake.add(fake.customers, customer_json(5, ANNA, "Anna", "Jansen"))
        fake.add(fake.orders, *(order_json(100 + i, 5, ANNA, items=2) for i in range(3)),
                 order_json(200, 0, ANNA))  # a guest order with the same billing address
        fake.add(fake.reviews, review_json(9, ANNA, "Anna J."))
        yield fake


@pytest.fixture
def agent(tmp_path: Path, dovecot: DovecotServer, imap_account: ImapSettings, smtp_sink: SmtpSink,
          classifier: Classifier, shop: FakeWooCommerce) -> Iterator[Agent]:
    settings = agent_settings(tmp_path, imap_account, smtp_sink, woocommerce=shop.settings().model_dump())
    a = Agent(settings, classifier, dovecot.account(imap_account.username), smtp_sink)
    a.add_customer(ANNA, "Anna Jansen", customer_id="5")
    yield a
    a.db.dispose()


def approve(agent: Agent, reference: str) -> None:
    with agent.db.transaction() as session:
        officer.approve(session, officer_desk(agent.settings, "default", "m.derks", datetime.now(UTC)), reference)


def the_case(agent: Agent) -> Case:
    with agent.db.transaction() as session:
        return session.scalars(select(Case).order_by(Case.id.desc())).first()  # type: ignore[return-value]


def test_access_package_holds_webshop_orders_and_reaches_only_the_known_address(agent: Agent) -> None:
    agent.deliver(request_mail("Ik wil graag inzage in alle persoonsgegevens die jullie van mij hebben.",
                               sender=ANNA))
    agent.run_once()
    case = the_case(agent)
    approve(agent, case.reference)
    agent.run_once()
    (result,) = [m for m in agent.sent_to(ANNA) if "access" in str(email.message_from_bytes(m.raw))]
    msg = email.message_from_bytes(result.raw, policy=default_policy)
    (attachment,) = msg.iter_attachments()  # type: ignore[attr-defined]
    package = zipfile.ZipFile(io.BytesIO(attachment.get_content()))
    data = json.loads(package.read("data.json"))
    assert sorted(o["id"] for o in data["orders"]) == [100, 101, 102, 200]
    assert data["customer"]["email"] == ANNA
    assert [r["id"] for r in data["reviews"]] == [9]
    assert {"orders.csv", "schema.json", "overview.html", "fields.csv"} <= set(package.namelist())
    assert "Mollie" in package.read("overview.txt").decode()
    assert all(m.rcpt_tos == (ANNA,) for m in agent.sink.messages if "officer" not in m.rcpt_tos[0])


def test_erasure_is_carried_out_on_approval_and_keeps_only_the_fiscal_minimum(agent: Agent,
                                                                              shop: FakeWooCommerce) -> None:
    agent.deliver(request_mail("Verwijder alstublieft mijn account en al mijn gegevens.", sender=ANNA))
    agent.run_once()
    case = the_case(agent)
    with agent.db.transaction() as session:
        draft = session.scalars(select(Outbox).where(Outbox.kind == "result_erasure")).one()
        assert "art. 52 AWR" in draft.body_text or "52 AWR" in draft.body_text
    assert not [r for r in shop.requests if r.method != "GET"]  # nothing happens before approval
    approve(agent, case.reference)
    # The officer's approval makes no webshop call: the erasure is a queued job, a step still pending.
    assert not [r for r in shop.requests if r.method == "PUT"]
    with agent.db.transaction() as session:
        assert session.scalars(select(Customer)).all() == []
        waiting = session.scalars(select(Case)).one()
        assert waiting.state == "in_progress" and not waiting.anonymised  # the Art. 19 notices are still open
        assert session.scalars(select(Outbox.status).where(Outbox.kind == "result_erasure")).one() == "held"
        assert session.scalars(select(WebshopJob.purpose).where(WebshopJob.status == "queued")).one() == "erase"
        notices = list(session.scalars(select(Task).where(Task.kind == "art19_notify")))
    assert sorted(t.recipient or "" for t in notices) == sorted(r.name for r in agent.settings.shop.recipients)
    for task in notices:
        with agent.db.transaction() as session:
            officer.finish_task(session, officer_desk(agent.settings, "default", "m.derks", datetime.now(UTC)),
                                task.id, done=True, reason=None)
    with agent.db.transaction() as session:  # every notice done, but the webshop has not been erased yet
        assert session.scalars(select(Outbox.status).where(Outbox.kind == "result_erasure")).one() == "held"
    assert not [m for m in agent.sent_to(ANNA) if b"gewist" in m.raw]
    agent.run_once()  # the webshop worker erases, and that last step releases the result
    puts = sorted(r.path for r in shop.requests if r.method == "PUT")
    assert puts == ["customers/5", "orders/100", "orders/101", "orders/102", "orders/200", "products/reviews/9"]
    order = shop.orders[100]
    assert order["billing"]["email"] == "" and order["billing"]["last_name"] == "Jansen"  # invoice name stays
    assert order["shipping"]["address_1"] == ""
    (sent,) = [m for m in agent.sent_to(ANNA) if b"gewist" in m.raw]
    text = email.message_from_bytes(sent.raw, policy=default_policy).get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Meer dan Online, Mollie, PostNL" in text
    with agent.db.transaction() as session:
        erased = session.scalars(select(Case)).one()
        assert erased.anonymised and erased.requester_email is None and erased.state == "completed"
    # The same person asks what is left: unknown now, so the identity question (never data) goes out.
    agent.deliver(request_mail("Welke gegevens hebben jullie nog van mij?", sender=ANNA, subject="inzage"))
    agent.run_once()
    newest = the_case(agent)
    assert newest.state == "awaiting_identity" and newest.identity_status == "unknown"


def test_webshop_down_makes_the_case_wait_and_the_officer_see_why(agent: Agent, shop: FakeWooCommerce) -> None:
    shop.stop()
    agent.deliver(request_mail("Ik wil graag inzage in alle persoonsgegevens die jullie van mij hebben.",
                               sender=ANNA))
    agent.run_once()
    case = the_case(agent)
    assert case.state == "in_progress"
    with agent.db.transaction() as session:
        detail = case_views.case_detail(session, case.reference, datetime.now(UTC))
    assert detail.events[-1].kind == "waiting" and "webshop unavailable" in (detail.events[-1].reason or "")
    shop.start()
    agent.run_once()
    assert the_case(agent).state == "in_progress"  # the retry waits out its backoff
    with agent.db.transaction() as session:
        (fetch,) = session.scalars(select(WebshopJob))
        assert fetch.attempts == 1 and fetch.next_attempt_at > datetime.now(UTC)
        fetch.next_attempt_at = datetime.now(UTC)  # the backoff has passed
    agent.run_once()
    assert the_case(agent).state == "awaiting_approval"


def test_objection_lands_on_the_suppression_list(agent: Agent) -> None:
    agent.deliver(request_mail("Ik wil geen reclame en nieuwsbrieven meer ontvangen, stop met mailen.",
                               sender=ANNA))
    agent.run_once()
    approve(agent, the_case(agent).reference)
    with agent.db.transaction() as session:
        assert [s.email_key for s in session.scalars(select(Suppression))] == [ANNA]


def test_sync_with_a_wrong_key_is_one_clear_line(tmp_path: Path, shop: FakeWooCommerce) -> None:
    config = tmp_path / "config.toml"
    config.write_text(f"""secret_key = "0123456789abcdef0123"
[imap]
username = "u"
[smtp]
from_address = "a@b.nl"
{shop_toml()}[database]
url = "sqlite:///{tmp_path / 'db.sqlite'}"
[woocommerce]
url = "{shop.url}"
consumer_key = "ck_wrong"
consumer_secret = "cs_wrong"
""")
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade", "--config", str(config)]).exit_code == 0
    result = runner.invoke(main, ["customers", "sync", "--config", str(config)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        "error: WooCommerce rejected the API key (401): check consumer_key/consumer_secret")


def _config(agent: Agent, tmp_path: Path) -> Path:
    """The agent's own settings as the config file the officer's terminal commands read."""
    from agent_harness import config_text

    assert agent.settings.imap is not None
    path = tmp_path / "officer.toml"
    path.write_text(config_text(tmp_path, agent.settings.imap, agent.sink.port,
                                db_url=agent.settings.database.url) + "\n".join(
        ["[woocommerce]", f'url = "{agent.settings.woocommerce.url}"', 'consumer_key = "x"', 'consumer_secret = "y"',
         ""]), encoding="utf-8")
    return path


def test_the_officer_opens_the_package_before_approving(agent: Agent, tmp_path: Path) -> None:
    agent.deliver(request_mail("Ik wil graag inzage in alle persoonsgegevens die jullie van mij hebben.",
                               sender=ANNA))
    agent.run_once()
    case = the_case(agent)
    out = tmp_path / "opened"
    result = CliRunner().invoke(main, ["cases", "export", case.reference, "--config", str(_config(agent, tmp_path)),
                                       "--output", str(out)])
    assert result.exit_code == 0, result.output
    package = out / f"{case.reference}-access.zip"
    assert f"{package}: registry 1, webshop_account 1, orders 4, reviews 1, requests 1" in result.output
    assert "WARNING" not in result.output
    data = json.loads(zipfile.ZipFile(package).read("data.json"))
    assert data["customer"]["email"] == ANNA
    assert not [m for m in agent.sent_to(ANNA) if b"access" in m.raw]  # still only a draft: nothing sent


def test_an_access_package_without_the_registrys_orders_warns_the_officer(agent: Agent, tmp_path: Path) -> None:
    """Before: the demo's package held customer null and an empty orders.csv while the registry listed two
    orders, and the mail still promised "a copy of everything we hold about you"."""
    nora = "nora@example.org"
    agent.add_customer(nora, "Nora Niemand", customer_id="77", order_numbers=["KT10231", "KT10412"])
    agent.deliver(request_mail("Welke persoonsgegevens hebben jullie van mij? Ik wil inzage.", sender=nora))
    agent.run_once()
    case = the_case(agent)
    with agent.db.transaction() as session:
        warning = session.scalars(select(Task.title).where(Task.case_id == case.id, Task.kind == "check_export")).one()
    assert warning.startswith("The registry lists orders KT10231, KT10412, but the webshop returned no account")
    result = CliRunner().invoke(main, ["cases", "export", case.reference, "--config", str(_config(agent, tmp_path)),
                                       "--output", str(tmp_path / "opened")])
    assert result.exit_code == 0, result.output
    assert "registry 1, webshop_account 0, orders 0, reviews 0, requests 1" in result.output
    assert "WARNING: The registry lists orders" in result.output


def test_two_shops_use_two_webshops(tmp_path: Path, dovecot: DovecotServer, make_imap_settings: Any,
                                    smtp_sink: SmtpSink, classifier: Classifier) -> None:
    """Before: one global [woocommerce]; shop B's erasure would have run against shop A's webshop."""
    bob = "bob@example.net"
    with FakeWooCommerce() as shop_a, FakeWooCommerce() as shop_b:
        shop_a.add(shop_a.customers, customer_json(5, ANNA, "Anna", "Jansen"))
        shop_a.add(shop_a.orders, order_json(100, 5, ANNA))
        shop_b.add(shop_b.customers, customer_json(8, bob, "Bob", "Berg"))
        shop_b.add(shop_b.orders, order_json(300, 8, bob))
        imaps = {name: make_imap_settings(existing_mail="process") for name in ("a", "b")}
        boxes = [{"name": name, "imap": imap.model_dump(), "woocommerce": shop.settings().model_dump(),
                  "shop": FICTITIOUS_SHOP | {"name": f"Shop {name.upper()}", "reference_prefix": f"S{name.upper()}",
                                             "officer_email": f"officer@{name}.example"}}
                 for (name, imap), shop in zip(imaps.items(), (shop_a, shop_b), strict=True)]
        values = agent_settings(tmp_path, imaps["a"], smtp_sink).model_dump(exclude={"imap", "mailboxes"})
        settings = load_settings(None, **values, mailboxes=boxes)
        agent = Agent(settings, classifier, dovecot.account(imaps["a"].username), smtp_sink)
        try:
            with agent.db.transaction() as session:
                from inbox_agent.customer_registry import CustomerRecord, upsert

                upsert(session, "a", [CustomerRecord(email=ANNA, name="Anna Jansen", customer_id="5")], source="t",
                       now=datetime.now(UTC))
                upsert(session, "b", [CustomerRecord(email=bob, name="Bob Berg", customer_id="8")], source="t",
                       now=datetime.now(UTC))
            agent.deliver(request_mail("Ik wil graag inzage in alle persoonsgegevens die jullie van mij hebben.",
                                       sender=ANNA))
            dovecot.account(imaps["b"].username).append(
                request_mail("Verwijder alstublieft mijn account en al mijn gegevens.", sender=bob))
            agent.run_once()
            with agent.db.transaction() as session:
                cases = {c.shop: c.reference for c in session.scalars(select(Case))}
                (package,) = session.scalars(select(Outbox.attachments).where(Outbox.kind == "result_access")).one()
            data = json.loads(zipfile.ZipFile(package).read("data.json"))
            assert [o["id"] for o in data["orders"]] == [100]  # shop A's own webshop
            with agent.db.transaction() as session:
                officer.approve(session, officer_desk(settings, "b", "m.derks", datetime.now(UTC)), cases["b"])
            agent.run_once()  # the queued webshop erasure runs
        finally:
            agent.db.dispose()
    assert sorted(r.path for r in shop_b.requests if r.method == "PUT") == ["customers/8", "orders/300"]
    assert not [r for r in shop_a.requests if r.method != "GET"]  # B's erasure never touched A's webshop
    assert all(bob not in json.dumps(r.query) for r in shop_a.requests)


def test_a_correction_reaches_the_webshop_outside_the_officers_transaction(agent: Agent,
                                                                        shop: FakeWooCommerce) -> None:
    agent.deliver(request_mail("Mijn achternaam is verkeerd gespeld, het moet Janssen zijn. Graag aanpassen.",
                               sender=ANNA))
    agent.run_once()
    case = the_case(agent)
    assert "rectification" in case.rights
    with agent.db.transaction() as session:
        officer.rectify(session, officer_desk(agent.settings, "default", "m.derks", datetime.now(UTC)),
                        case.reference, {"last_name": "Janssen"})
    assert not [r for r in shop.requests if r.method == "PUT"]  # queued, not called while the officer waits
    with agent.db.transaction() as session:
        assert session.scalars(select(WebshopJob.purpose).where(WebshopJob.status == "queued")).one() == "rectify"
    agent.run_once()
    assert [r.path for r in shop.requests if r.method == "PUT"] == ["customers/5"]
    assert shop.customers[5]["last_name"] == "Janssen"
    with agent.db.transaction() as session:
        kinds = [e.kind for e in session.scalars(select(Case)).one().events]
    assert "executed" in kinds
