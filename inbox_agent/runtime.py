"""Building the long-lived objects from settings, in one place for every command."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from .config import Settings
from .db.session import Database, require_current_schema
from .logs import setup

if TYPE_CHECKING:  # imported where used: a CLI command that lists cases needs neither spaCy nor the desk
    from .classify import Classifier
    from .desk.context import Desk


def secrets_of(settings: Settings) -> list[str]:
    values = [settings.secret_key, settings.smtp.password, settings.woocommerce.consumer_key,
              settings.woocommerce.consumer_secret, settings.web.secret_key]
    values += [box.imap.password for box in settings.all_mailboxes()]
    values += [secret for box in settings.all_mailboxes() if box.woocommerce
               for secret in (box.woocommerce.consumer_key, box.woocommerce.consumer_secret)]
    return [v.get_secret_value() for v in values if v is not None]


def setup_logging(settings: Settings) -> None:
    setup(settings.log_format, secrets=secrets_of(settings))


def open_database(settings: Settings, *, check_schema: bool = True) -> Database:
    db = Database(settings.database.url)
    if check_schema:
        require_current_schema(db.engine)
    return db


def load_classifier(settings: Settings) -> Classifier:
    from .classify import Classifier

    return Classifier.load(settings.classifiers_dir, settings.state_dir / "cache")


def officer_desk(settings: Settings, shop: str, actor: str, now: datetime) -> Desk:
    from .desk.context import Desk
    from .withdrawal import load_cues

    return Desk(settings=settings, box=settings.mailbox(shop), now=now,
                cues=load_cues(settings.classifiers_dir / "conversation.toml"), actor=actor)
