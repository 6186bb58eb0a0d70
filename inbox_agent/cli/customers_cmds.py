"""``inbox-agent customers import|lookup`` and ``register export``."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from tqdm import tqdm

from .. import customer_registry, request_register
from ..connectors.woocommerce import WooCommerceClient, WooError
from ..db.session import Database
from ..runtime import open_database
from .app import config_option, main, settings_or_exit

shop_option = click.option("--shop", default=None, help="Mailbox/shop name (default: the first one).")


@main.group()
def customers() -> None:
    """The customer registry: known addresses results may go to."""


@customers.command("import")
@config_option
@shop_option
@click.argument("csv_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_(config_path: Path | None, shop: str | None, csv_file: Path) -> None:
    """Import customers from CSV (email,name,customer_id[,postcode,order_numbers]); all or nothing."""
    settings = settings_or_exit(config_path)
    shop_name = shop or settings.all_mailboxes()[0].name
    try:
        records = customer_registry.parse_csv(csv_file.read_text(encoding="utf-8-sig"))
    except customer_registry.CustomerImportError as exc:
        for line in exc.problems:
            click.echo(f"{csv_file}: {line}", err=True)
        click.echo("nothing imported", err=True)
        sys.exit(1)
    except UnicodeDecodeError:
        click.echo(f"{csv_file}: not UTF-8 text; save the file as UTF-8 CSV", err=True)
        sys.exit(1)
    db = open_database(settings)
    with db.transaction() as session:
        count = customer_registry.upsert(session, shop_name, records, source="csv", now=datetime.now(UTC))
    db.dispose()
    click.echo(f"imported {count} customer(s) into {shop_name}")


@customers.command()
@config_option
@shop_option
@click.argument("email")
def lookup(config_path: Path | None, shop: str | None, email: str) -> None:
    """Is this address a known customer?"""
    settings = settings_or_exit(config_path)
    db = open_database(settings)
    with db.transaction() as session:
        row = customer_registry.lookup(session, shop or settings.all_mailboxes()[0].name, email)
        found = None if row is None else {"email": row.email, "name": row.name, "customer_id": row.customer_ref,
                                          "source": row.source, "restricted": row.restricted}
    db.dispose()
    if found is None:
        click.echo(f"{email}: not a known customer", err=True)
        sys.exit(1)
    click.echo(json.dumps(found, ensure_ascii=False))


@customers.command()
@config_option
@shop_option
def sync(config_path: Path | None, shop: str | None) -> None:
    """Fill the registry from WooCommerce (only customers changed since the last sync)."""
    settings = settings_or_exit(config_path)
    shop_name = shop or settings.all_mailboxes()[0].name
    db = open_database(settings)
    now = datetime.now(UTC)
    with db.transaction() as session:
        since = customer_registry.last_sync(session, shop_name, source="woocommerce")
    webshop = settings.webshop(shop_name)
    if webshop is None:
        click.echo(f"error: mailbox {shop_name} has no webshop connected ([woocommerce])", err=True)
        sys.exit(2)
    try:
        with WooCommerceClient(webshop) as client:
            batch: list[customer_registry.CustomerRecord] = []
            count = 0
            for customer in tqdm(client.iter_customers_modified_after(since), unit=" customers", disable=None):
                record = customer_registry.from_woocommerce(customer)
                if record is not None:
                    batch.append(record)
                if len(batch) >= 500:
                    count += _store(db, shop_name, batch, now)
            count += _store(db, shop_name, batch, now)
    except WooError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    finally:
        db.dispose()
    click.echo(f"synced {count} customer(s) from WooCommerce into {shop_name}"
               + (f" (changed since {since:%Y-%m-%d %H:%M} UTC)" if since else ""))


def _store(db: Database, shop: str, batch: list[customer_registry.CustomerRecord], now: datetime) -> int:
    with db.transaction() as session:
        count = customer_registry.upsert(session, shop, batch, source="woocommerce", now=now)
    batch.clear()
    return count


@main.group()
def suppression() -> None:
    """The direct-marketing suppression list: everyone who objected (GDPR Article 21(3))."""


@suppression.command("export")
@config_option
@shop_option
def suppression_export(config_path: Path | None, shop: str | None) -> None:
    """Print the addresses that must never get direct marketing, as CSV for the newsletter tool."""
    settings = settings_or_exit(config_path)
    db = open_database(settings)
    with db.transaction() as session:
        rows = customer_registry.suppressed(session, shop or settings.all_mailboxes()[0].name)
    db.dispose()
    click.echo("email,since")
    for email, since in rows:
        click.echo(f"{email},{since.date().isoformat()}")


@main.group("register")
def register_group() -> None:
    """The register of handled requests (facts only, no personal data)."""


@register_group.command("export")
@config_option
@shop_option
@click.option("--csv", "as_csv", is_flag=True, default=True, help="CSV (the default).")
def export(config_path: Path | None, shop: str | None, as_csv: bool) -> None:
    """Print the register as CSV."""
    settings = settings_or_exit(config_path)
    db = open_database(settings)
    with db.transaction() as session:
        rows = request_register.entries(session, shop)
    db.dispose()
    click.echo(request_register.to_csv(rows), nl=False)
