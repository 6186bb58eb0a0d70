"""``inbox-agent demo``: the whole agent on an embedded sandbox, offline.

A private Dovecot and an SMTP sink on free local ports, a mailbox seeded with a handful
of realistic mails, one pass of the daemon, and a report of what happened. The sandbox
folder stays behind (config, database, the mails "sent"), so the officer commands can be
tried on it afterwards.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import secrets
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from . import accounts, customer_registry
from .actors import CLI_ACTOR
from .config import load_settings
from .daemon import Daemon
from .db.session import Database, upgrade
from .db.tables import Case, StoredMessage
from .runtime import load_classifier
from .sandbox import DovecotServer, SmtpSink
from .sandbox_shop import KEY as SHOP_KEY
from .sandbox_shop import SECRET as SHOP_SECRET
from .sandbox_shop import FakeWooCommerce, address, customer_json, order_json

DATA = Path(__file__).resolve().parent / "demo_data"
USER = "info"
DEMO_OFFICER = "demo"
"""The officer account the demo makes, so the first command shows the officer's side too."""


@dataclass(frozen=True)
class DemoReport:
    directory: Path
    config: Path
    lines: list[str]


def _stand_in_shop(records: list[customer_registry.CustomerRecord]) -> FakeWooCommerce:
    """A local WooCommerce stand-in holding the seeded customers' accounts and orders, so the demo's
    access package is complete (the real shop is never contacted)."""
    shop = FakeWooCommerce()
    for record in records:
        first, _, last = record.name.partition(" ")
        cid = int(record.customer_id)
        postcode = {"postcode": record.postcode} if record.postcode else {}
        shop.add(shop.customers, customer_json(cid, record.email, first=first, last=last))
        billing, shipping = address(first, last, record.email, **postcode), address(first, last, **postcode)
        shop.add(shop.orders, *(
            order_json(int("".join(c for c in number if c.isdigit())), cid, record.email, number=number,
                       billing=billing, shipping=shipping)
            for number in record.order_numbers))
    return shop


_SHOP = """[shop]  # the sandbox plays the shop of the seeded mail and policy (seed/privacybeleid.txt)
name = "Kleine Toppers"
operator = "Luminet"
privacy_contact = "info@luminet.nl"
privacy_officer = "M. Derks"
officer_email = "privacy@luminet.nl"
postal_address = "Jasmijn 10, 7742SE Coevorden"
website = "https://www.kleinetoppers.nl/"
reference_prefix = "KT"

[[shop.recipients]]
name = "Meer dan Online"
purpose = "webhosting en e-mail"
purposes = { en = "web hosting and e-mail", de = "Webhosting und E-Mail", fr = "hébergement web et e-mail" }

[[shop.recipients]]
name = "Mollie"
purpose = "betalingen"
purposes = { en = "payments", de = "Zahlungen", fr = "paiements" }

[[shop.recipients]]
name = "PostNL"
purpose = "bezorging van bestellingen"
purposes = { en = "delivery of orders", de = "Zustellung der Bestellungen", fr = "livraison des commandes" }

[[shop.recipients]]
name = "WooCommerce"
purpose = "webwinkelsoftware en beoordelingen"
country = "US"
safeguard = "EU-US Data Privacy Framework"
[shop.recipients.purposes]
en = "web shop software and reviews"
de = "Webshop-Software und Bewertungen"
fr = "logiciel de boutique en ligne et avis"

[[shop.recipients]]
name = "Google Analytics"
purpose = "websitestatistieken"
purposes = { en = "website statistics", de = "Website-Statistiken", fr = "statistiques du site web" }
country = "US"
safeguard = "EU-US Data Privacy Framework"
"""
"""The demo's shop, in its own config: the code has no shop defaults (``config.ShopSettings``)."""


def _config_text(directory: Path, imap_port: int, smtp_port: int, password: str, shop_url: str | None) -> str:
    return f"""# Written by `inbox-agent demo`; secrets for the sandbox only.
secret_key = "{secrets.token_hex(24)}"
state_dir = "{directory}"

[imap]
host = "127.0.0.1"
port = {imap_port}
username = "{USER}"
password = "{password}"
security = "none"

[smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
from_address = "info@luminet.nl"

[database]
url = "sqlite:///{directory / 'inbox-agent.sqlite'}"

{_SHOP}
[policy]
trusted_authserv_ids = ["mx.sandbox.test"]

{_webshop(shop_url)}"""


def _webshop(url: str | None) -> str:
    if url is None:
        return "# [woocommerce]: the demo's stand-in shop ran only during the demo; steps now become manual tasks\n"
    return (f'[woocommerce]  # the local stand-in started by the demo, not a real shop\nurl = "{url}"\n'
            f'consumer_key = "{SHOP_KEY}"\nconsumer_secret = "{SHOP_SECRET}"\n')


def _start_afresh(directory: Path) -> None:
    """Drop what an earlier demo left: with its database every seeded mail would be known already."""
    for name in ("inbox-agent.sqlite", "inbox-agent.sqlite-wal", "inbox-agent.sqlite-shm"):
        (directory / name).unlink(missing_ok=True)
    shutil.rmtree(directory / "sent", ignore_errors=True)


def run_demo(directory: Path) -> DemoReport:
    directory.mkdir(parents=True, exist_ok=True)
    _start_afresh(directory)
    password = secrets.token_urlsafe(12)
    lines: list[str] = []
    records = customer_registry.parse_csv((DATA / "customers.csv").read_text(encoding="utf-8"))
    with DovecotServer() as dovecot, SmtpSink(maildir=directory / "sent") as sink, _stand_in_shop(records) as shop:
        dovecot.add_user(USER, password)
        config = directory / "config.toml"
        config.write_text(_config_text(directory, dovecot.port, sink.port, password, shop.url), encoding="utf-8")
        config.chmod(0o600)
        settings = load_settings(config)
        db = Database(settings.database.url)
        upgrade(db.engine)
        officer_password = secrets.token_urlsafe(12)
        with db.transaction() as session:
            now = datetime.now(UTC)
            customer_registry.upsert(session, "default", records, source="demo", now=now)
            accounts.add_officer(session, DEMO_OFFICER, officer_password, language="nl", now=now, actor=CLI_ACTOR)
        classifier = load_classifier(settings)
        # The agent starts first, on the empty mailbox: mail already there at a first start is history
        # and never answered (LEGAL.md), so the seeded mail arrives after the start, as in a real shop.
        asyncio.run(Daemon(settings, db, classifier).run_once())
        account = dovecot.account(USER)
        seeded = sorted(DATA.glob("*.eml"))
        for path in seeded:
            account.append(path.read_bytes())
        lines.append(f"started the agent on an empty private Dovecot on 127.0.0.1:{dovecot.port}, then delivered "
                     f"{len(seeded)} mails; {len(records)} known customers")
        counters = asyncio.run(Daemon(settings, db, classifier).run_once())
        lines.append(f"one pass of the daemon: stored {counters.stored}, processed {counters.processed}, "
                     f"sent {counters.sent}")
        lines += ["", "what happened to each mail:"]
        with db.transaction() as session:
            for row in session.scalars(select(StoredMessage).order_by(StoredMessage.uid)):
                name = seeded[row.uid - 1].name if row.uid <= len(seeded) else f"uid {row.uid}"
                what = row.outcome if row.status == "processed" else f"quarantined: {row.quarantine_reason}"
                lines.append(f"  {name:<26} {what}")
            lines += ["", "cases:"]
            for case in session.scalars(select(Case).order_by(Case.id)):
                lines.append(f"  {case.reference}  {case.state:<20} rights: {', '.join(case.rights) or '-':<22} "
                             f"target {case.deadline_target.date()}  legal {case.deadline_legal.date()}")
        lines += ["", "mails that reached the SMTP sink:"]
        for mail in sink.messages:
            msg = email.message_from_bytes(mail.raw, policy=email.policy.default)
            lines.append(f"  to {', '.join(mail.rcpt_tos):<30} {msg['Subject']}")
        db.dispose()
    # The stand-in shop is gone with the demo: the officer commands below must not call it.
    config.write_text(_config_text(directory, dovecot.port, sink.port, password, None), encoding="utf-8")
    lines += [
        "",
        f"sandbox folder: {directory}  (config.toml, inbox-agent.sqlite, sent/ holds the delivered mails)",
        "",
        "the officer's side, in the browser:",
        f"  inbox-agent web --config {config}",
        f"  then open {settings.web.base_url} and log in as {DEMO_OFFICER!r} with password {officer_password}",
        "  (shown only now; a new one: inbox-agent officer reset-password "
        f"{DEMO_OFFICER} --config {config})",
        f"  your own account: inbox-agent officer add <NAME> --config {config}",
        "",
        f"or in the terminal, deciding as {DEMO_OFFICER!r}:",
        f"  export INBOX_AGENT_OFFICER={DEMO_OFFICER}",
        f"  inbox-agent cases list --config {config}",
        f"  inbox-agent cases show <REFERENCE> --config {config}",
        f"  inbox-agent cases export <REFERENCE> --config {config}   (the package before you approve it)",
        f"  inbox-agent cases approve <REFERENCE> --mail <N> --config {config}",
    ]
    return DemoReport(directory=directory, config=config, lines=lines)
