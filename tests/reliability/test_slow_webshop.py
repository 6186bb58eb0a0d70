"""A slow webshop delays only the drafts that wait for it, never anybody else's mail.

Real Dovecot, aiosmtpd and a local WooCommerce-compatible server whose every answer is held back
until the test lets it go (as a webshop that takes 20 s or more). Anna's access request needs her
webshop data; Bob's unrelated request, delivered while the webshop is still thinking, must be
acknowledged in the meantime. Before the fetch was a queued row of its own, the webshop call ran
inside the pipeline's transaction and Bob waited for Anna's webshop.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from reliability_kit import run_forever_during, wait_until
from sqlalchemy import select

from inbox_agent.classify import Classifier
from inbox_agent.daemon import Daemon
from inbox_agent.db.tables import Outbox, WebshopJob
from inbox_agent.sandbox import DovecotServer, SmtpSink
from inbox_agent.sandbox_shop import FakeWooCommerce, customer_json

from agent_harness import Agent, agent_settings, request_mail

ANNA, BOB = "anna@example.org", "bob@example.net"
ACCESS = "Ik wil graag inzage in alle persoonsgegevens die jullie van mij hebben."


def test_a_webshop_that_keeps_us_waiting_delays_no_other_mail(
    tmp_path: Path, dovecot: DovecotServer, smtp_sink: SmtpSink, classifier: Classifier,
    figures: Callable[..., None],
) -> None:
    dovecot.add_user("slowshop", "slowshop-password")
    gate = threading.Event()
    with FakeWooCommerce(gate=gate) as shop:
        shop.add(shop.customers, customer_json(5, ANNA, "Anna", "Jansen"))
        settings = agent_settings(tmp_path, dovecot.settings("slowshop"), smtp_sink,
                                  woocommerce=shop.settings().model_dump())
        agent = Agent(settings, classifier, dovecot.account("slowshop"), smtp_sink)
        agent.add_customer(ANNA, "Anna Jansen")
        agent.add_customer(BOB, "Bob", customer_id="2")
        seen: dict[str, float] = {}

        def scenario() -> None:
            agent.deliver(request_mail(ACCESS, sender=ANNA))
            wait_until(lambda: _fetching(agent), 15, "the webshop is asked for Anna's data")
            delivered = time.monotonic()
            agent.deliver(request_mail("Verwijder mijn account alstublieft.", sender=BOB))
            wait_until(lambda: any(BOB in m.rcpt_tos for m in smtp_sink.messages), 15,
                       "Bob's acknowledgement while the webshop still keeps Anna's data")
            seen["bob_ack_s"] = time.monotonic() - delivered
            assert not gate.is_set()
            gate.set()
            wait_until(lambda: _drafted(agent, "result_access"), 30, "Anna's draft once the webshop answered")

        run_forever_during(Daemon(settings, agent.db, classifier), scenario)
        gate.set()
    figures(**seen)


def _fetching(agent: Agent) -> bool:
    with agent.db.transaction() as session:
        return session.scalar(select(WebshopJob.id).where(WebshopJob.claimed_until.is_not(None))) is not None


def _drafted(agent: Agent, kind: str) -> bool:
    with agent.db.transaction() as session:
        return session.scalar(select(Outbox.id).where(Outbox.kind == kind, Outbox.status == "draft")) is not None
