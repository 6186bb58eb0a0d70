"""Settings: one TOML file, every value overridable from the environment.

Secrets (passwords, API keys, the web secret) belong in the environment
(``INBOX_AGENT_IMAP__PASSWORD``) or in a file outside the repository
(``password_file = "/etc/inbox-agent/imap.secret"``); they are held as
``SecretStr`` so they never print in a log line or a repr.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from .resources import shipped

REPO_ROOT = Path(__file__).resolve().parent.parent
"""The checkout's top folder, for tests and bench only: an installed agent finds its files via ``resources``."""

Security = Literal["tls", "starttls", "none"]
Language = Literal["nl", "en", "de", "fr"]
LANGUAGES: tuple[Language, ...] = ("nl", "en", "de", "fr")
"""The languages customers are answered in (templates/<lang>/)."""


class Section(BaseModel):
    """A config section: a key it does not know is an error, never silently ignored.

    One typo (``trusted_authserv_id``) once switched the only spoofing check off.
    """

    model_config = ConfigDict(extra="forbid")


class ConfigError(Exception):
    """A configuration problem, one human-readable line per problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def _read_secret(value: SecretStr | None, path: Path | None, what: str) -> SecretStr | None:
    if value is not None or path is None:
        return value
    try:
        return SecretStr(path.read_text(encoding="utf-8").strip())
    except OSError as exc:
        raise ValueError(f"{what}: cannot read secret file {path}: {exc.strerror}") from None


class MailLogin(Section):
    """How a mail login proves itself: a password, or an OAuth2 access token (``auth = "oauth2"``).

    With OAuth2 the agent trades a refresh token for short-lived access tokens at the token
    endpoint and logs in with SASL XOAUTH2 or OAUTHBEARER (``oauth.py``). The client secret and
    the refresh token are files outside the repository; ``inbox-agent oauth login`` writes the
    refresh token once, by the device-code flow.
    """

    auth: Literal["password", "oauth2"] = "password"
    oauth_provider: Literal["microsoft", "google"] | None = None
    """Preset token endpoint and scope of Microsoft 365 or Google (``oauth.PROVIDERS``)."""
    oauth_token_url: str | None = None
    """The token endpoint; overrides the provider's."""
    oauth_scope: str | None = None
    """Scopes asked for with each token; default: the provider's."""
    oauth_client_id: str | None = None
    oauth_client_secret_file: Path | None = None
    """Needed by Google and by confidential Microsoft apps; public apps have no secret."""
    oauth_refresh_token_file: Path | None = None
    """Read at every refresh and rewritten when the endpoint rotates the token: keep it writable (0600)."""
    oauth_mechanism: Literal["XOAUTH2", "OAUTHBEARER"] = "XOAUTH2"

    @model_validator(mode="after")
    def _oauth_complete(self) -> Self:
        if self.auth != "oauth2":
            return self
        missing = [key for key, value in (("oauth_client_id", self.oauth_client_id),
                                          ("oauth_refresh_token_file", self.oauth_refresh_token_file),
                                          ("oauth_token_url or oauth_provider",
                                           self.oauth_token_url or self.oauth_provider)) if not value]
        if missing:
            raise ValueError(f'auth = "oauth2" needs {", ".join(missing)}')
        return self


class ImapSettings(MailLogin):
    host: str = "localhost"
    port: int = Field(993, ge=1, le=65535)
    username: str
    password: SecretStr | None = None
    password_file: Path | None = None
    security: Security = "tls"
    folder: str = "INBOX"
    keyword: str = Field("$PrivacyTriaged", pattern=r"^[!#-'*+\-.0-9A-Z^-z|}~$]+$")
    """IMAP keyword the agent sets on every message it has stored; nobody else's flags are touched."""
    move_privacy_to: str | None = None
    """Optional folder that privacy requests are moved to once their case is committed."""
    idle: bool = True
    poll_seconds: float = Field(60.0, gt=0)
    idle_seconds: float = Field(300.0, gt=0)
    timeout_seconds: float = Field(30.0, gt=0)
    existing_mail: Literal["history", "process"] = "history"
    """What the first start in this folder does with the mail already there. "history": record it,
    never answer it, and report how much there is (``inbox-agent backfill`` brings a period in on
    purpose). "process": handle it as new mail; only for sandboxes seeded before the start."""

    @model_validator(mode="after")
    def _secret(self) -> ImapSettings:
        self.password = _read_secret(self.password, self.password_file, "imap.password_file")
        return self


class SmtpSettings(MailLogin):
    host: str = "localhost"
    port: int = Field(587, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    security: Security = "starttls"
    from_address: str
    timeout_seconds: float = Field(30.0, gt=0)

    @model_validator(mode="after")
    def _secret(self) -> SmtpSettings:
        self.password = _read_secret(self.password, self.password_file, "smtp.password_file")
        if self.auth == "oauth2" and not self.username:
            raise ValueError('auth = "oauth2" needs username (the mailbox the token belongs to)')
        return self


class DatabaseSettings(Section):
    url: str = "sqlite:///inbox-agent.sqlite"
    lease_seconds: float = Field(60.0, ge=1.0)
    """How long a daemon's hold on a mailbox lasts unrenewed: with several daemons on one database, a
    joiner gets its share and a dead one's mailboxes are taken over within this time (``fleet.py``)."""


EEA = frozenset({
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE",
    "IS", "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL", "PT", "RO", "SE", "SI", "SK",
})
"""EU plus Iceland, Liechtenstein and Norway: transfers elsewhere need a safeguard (Art. 44-49)."""


class Recipient(Section):
    """A processor or other recipient of customer data, named in access answers (Art. 15(1)(c))."""

    name: str
    purpose: str
    """What the recipient does with the data, in Dutch: the fall-back for a language ``purposes`` lacks."""
    purposes: dict[Language, str] = Field(default_factory=dict)
    """The purpose per customer language, e.g. ``{ en = "payments", de = "Zahlungen" }``."""
    country: str = "NL"
    safeguard: str | None = None
    """Transfer safeguard when the country is outside the EU/EEA (e.g. EU-US Data Privacy Framework)."""
    notify_email: str | None = None
    """Where Art. 19 notifications go; empty means the officer notifies them by hand."""

    @property
    def outside_eea(self) -> bool:
        """A transfer outside the EU/EEA: access answers name it and its safeguard."""
        return self.country.upper() not in EEA

    def purpose_in(self, language: str) -> str:
        """The purpose in ``language``; the Dutch ``purpose`` when the officer gave none for it."""
        return next((text for lang, text in self.purposes.items() if lang == language), self.purpose)

    def missing_languages(self) -> list[str]:
        """Customer languages that get the Dutch ``purpose`` because ``purposes`` has no text for them."""
        return [lang for lang in LANGUAGES if lang != "nl" and lang not in self.purposes]


class ShopSettings(Section):
    """Who answers: every field naming the controller is required, so no shop answers in another's name.

    (The settings once defaulted to one real shop's name, operator, officer and address: a config
    without ``[shop]`` answered customers as that shop.)
    """

    name: str = Field(min_length=1)
    """The shop's name as customers know it, in every mail."""
    operator: str = Field(min_length=1)
    """The controller named in answers (the company behind the shop)."""
    privacy_contact: str = Field(min_length=3)
    """Where customers write about their data."""
    privacy_officer: str = Field(min_length=1)
    """Who signs the mails."""
    officer_email: str | None = None
    """Where reminders and notifications for the privacy officer go."""
    postal_address: str = Field(min_length=1)
    website: str = Field(min_length=1)
    reference_prefix: str = Field(pattern=r"^[A-Z]{1,8}$")
    """Case references look like PREFIX-2026-000123."""
    default_language: Language = "nl"
    templates_dir: Path | None = None
    """Optional folder whose files override the shipped templates for this shop."""
    recipients: list[Recipient] = Field(default_factory=list)
    """Processors and other recipients: none unless the shop names them (Art. 15(1)(c), Art. 19)."""
    automated_decisions: str | None = None
    """Description of automated decision-making; empty means none (Art. 15(1)(h))."""


_REQUIRED_SHOP = [key for key, field in ShopSettings.model_fields.items() if field.is_required()]


class MailboxSettings(Section):
    """One shop mailbox: its IMAP account and its shop identity."""

    name: str
    imap: ImapSettings
    shop: ShopSettings
    woocommerce: WooCommerceSettings | None = None
    """This shop's own webshop; with one mailbox the top-level ``[woocommerce]`` may stand in for it."""


class PolicySettings(Section):
    max_message_bytes: int = Field(25 * 1024 * 1024, gt=0)
    auto_mails_per_sender_per_day: int = Field(5, ge=0)
    remind_days_before_target: int = Field(7, ge=0)
    officer_notice_minutes: int = Field(15, ge=0)
    """New-case notices to the officer: the first at once, then at most one digest per this many minutes."""
    body_retention_days: int = Field(180, ge=0)
    """Message bodies of closed cases are purged this many days after closing."""
    trusted_authserv_ids: list[str] = Field(default_factory=list)
    """Authentication-Results from these hosts are believed; all others are ignored (RFC 8601 §5)."""
    verification_code_hours: int = Field(72, gt=0)
    max_export_bytes: int = Field(20 * 1024 * 1024, gt=0)
    """Access/portability packages larger than this are not mailed; the officer gets a task."""


class WebSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(8025, ge=1, le=65535)
    base_url: str = "http://127.0.0.1:8025"
    secret_key: SecretStr | None = None
    idle_minutes: float = Field(30.0, gt=0)
    """A login ends after this long without a request."""
    session_hours: float = Field(12.0, gt=0)
    """A login ends this long after it began, however busy."""


class WooCommerceSettings(Section):
    url: str | None = None
    consumer_key: SecretStr | None = None
    consumer_key_file: Path | None = None
    consumer_secret: SecretStr | None = None
    consumer_secret_file: Path | None = None
    """Files for a ``[[mailboxes]]`` entry's keys: list entries cannot be set from the environment."""
    timeout_seconds: float = Field(20.0, gt=0)

    @model_validator(mode="after")
    def _secrets(self) -> WooCommerceSettings:
        self.consumer_key = _read_secret(self.consumer_key, self.consumer_key_file, "woocommerce.consumer_key_file")
        self.consumer_secret = _read_secret(self.consumer_secret, self.consumer_secret_file,
                                            "woocommerce.consumer_secret_file")
        return self


class MetricsSettings(Section):
    """Prometheus figures as a node_exporter textfile: no listening port, nothing to secure."""

    textfile: Path | None = None
    """E.g. /var/lib/node_exporter/inbox_agent.prom; replaced atomically every interval. Empty: off."""
    interval_seconds: float = Field(30.0, gt=0)


class Settings(BaseSettings):
    """Everything the agent reads at start-up."""

    model_config = SettingsConfigDict(
        env_prefix="INBOX_AGENT_",
        env_nested_delimiter="__",
        extra="forbid",
    )

    imap: ImapSettings | None = None
    smtp: SmtpSettings
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    shop: ShopSettings | None = None
    """The shop of the single ``[imap]`` form; each ``[[mailboxes]]`` entry has its own."""
    mailboxes: list[MailboxSettings] = Field(default_factory=list)
    policy: PolicySettings = Field(default_factory=PolicySettings)
    web: WebSettings = Field(default_factory=WebSettings)
    woocommerce: WooCommerceSettings = Field(default_factory=WooCommerceSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    secret_key: SecretStr | None = None
    """Signs our Message-IDs, verification codes and web sessions; from the environment."""
    secret_key_file: Path | None = None
    state_dir: Path = Path("var")
    """Where export packages are written before they are mailed (personal data: keep it private),
    and the classifier's rebuildable lemma cache (``cache/``)."""
    classifiers_dir: Path = Field(default_factory=lambda: shipped("classifiers"))
    templates_dir: Path = Field(default_factory=lambda: shipped("templates"))
    log_format: Literal["text", "json"] = "text"

    @model_validator(mode="after")
    def _one_mailbox_at_least(self) -> Settings:
        if self.imap is None and not self.mailboxes:
            raise ValueError("no mailbox configured: add an [imap] section or [[mailboxes]]")
        if self.imap is not None and self.shop is None:
            raise ValueError(f"[shop] missing: the shop of [imap] must name itself ({', '.join(_REQUIRED_SHOP)}); "
                             "see config.example.toml")
        self.secret_key = _read_secret(self.secret_key, self.secret_key_file, "secret_key_file")
        if self.secret_key is None or len(self.secret_key.get_secret_value()) < 16:
            raise ValueError(
                "secret_key missing or shorter than 16 characters: set INBOX_AGENT_SECRET_KEY "
                "or secret_key_file (e.g. from `openssl rand -hex 32`)"
            )
        names = [m.name for m in self.all_mailboxes()]
        if len(names) != len(set(names)):
            raise ValueError("mailbox names must be unique")
        if self.woocommerce.url and len(names) > 1:
            raise ValueError(
                "[woocommerce] at the top is the short form for one shop; with several mailboxes give each its "
                "own webshop under its [[mailboxes]] entry ([mailboxes.woocommerce]), so no shop's erasures or "
                "exports run against another shop's webshop"
            )
        return self

    def webshop(self, mailbox: str) -> WooCommerceSettings | None:
        """The webshop of this mailbox's shop, or None when it has none connected."""
        box = self.mailbox(mailbox)
        shop = box.woocommerce or (self.woocommerce if len(self.all_mailboxes()) == 1 else None)
        return shop if shop is not None and shop.url else None

    def all_mailboxes(self) -> list[MailboxSettings]:
        """The single ``[imap]``+``[shop]`` form and ``[[mailboxes]]`` as one list."""
        boxes = list(self.mailboxes)
        if self.imap is not None:
            assert self.shop is not None  # guaranteed by the validator
            boxes.insert(0, MailboxSettings(name="default", imap=self.imap, shop=self.shop))
        return boxes

    @property
    def secret(self) -> str:
        assert self.secret_key is not None  # guaranteed by the validator
        return self.secret_key.get_secret_value()

    def mailbox(self, name: str) -> MailboxSettings:
        for box in self.all_mailboxes():
            if box.name == name:
                return box
        raise KeyError(name)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls), file_secret_settings)


def _section_at(loc: tuple[int | str, ...]) -> tuple[type[BaseModel] | None, str]:
    """The model that holds the last key of ``loc``, and the section's name as the operator writes it."""
    model: type[BaseModel] | None = Settings
    names: list[str] = []
    for part in loc[:-1]:
        if isinstance(part, int):
            names[-1:] = [f"{names[-1]}[{part}]"] if names else []
            continue
        names.append(part)
        field = model.model_fields.get(part) if model is not None else None
        model = _model_of(field.annotation) if field is not None else None
    return model, ".".join(names)


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The section model inside an annotation such as ``ImapSettings | None`` or ``list[MailboxSettings]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        if (found := _model_of(arg)) is not None:
            return found
    return None


def unknown_key_problem(loc: tuple[int | str, ...]) -> str:
    """``unknown key K in [S]: did you mean X?``: the key, its section and the closest valid name."""
    key = str(loc[-1])
    model, section = _section_at(loc)
    where = f"[{section}]" if section else "the top level"
    line = f"unknown key {key} in {where}"
    if model is not None:
        close = difflib.get_close_matches(key, list(model.model_fields), n=1, cutoff=0.6)
        if close:
            line += f": did you mean {close[0]}?"
    return line


def missing_key_problem(where: str, section: object) -> str:
    """``shop.operator: missing required key (shop "X")``: the key, and the shop or mailbox it is missing from."""
    line = f"{where}: missing required key"
    name = section.get("name") if isinstance(section, dict) else None
    return f'{line} ("{name}")' if isinstance(name, str) and name else line


def _explain(exc: ValidationError) -> list[str]:
    lines = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "config"
        if err["type"] == "missing":
            lines.append(missing_key_problem(where, err["input"]))
        elif err["type"] == "extra_forbidden":
            lines.append(unknown_key_problem(tuple(err["loc"])))
        else:
            lines.append(f"{where}: {err['msg']}")
    return lines


def warnings(settings: Settings) -> list[str]:
    """Settings that are valid but switch a safeguard off: said loudly by check-config and at start."""
    found = []
    if not settings.policy.trusted_authserv_ids:
        found.append("policy.trusted_authserv_ids is empty: no mail host is trusted: every sender counts as "
                     "unproven (erasure, rectification and restriction then always need a confirmation code)")
    for box in settings.all_mailboxes():
        if settings.webshop(box.name) is None:
            found.append(f"mailbox {box.name} ({box.shop.name}) has no webshop connected ([woocommerce]): access "
                         "packages hold only the registry and our mail, and webshop steps become manual tasks")
        if not box.shop.recipients:
            found.append(f"mailbox {box.name} ({box.shop.name}) lists no recipients (shop.recipients): access "
                         "answers name no processor and an erasure, rectification or restriction is passed on to "
                         "nobody (Art. 15(1)(c), Art. 19); list the shop's processors (unless it truly has none)")
        for recipient in box.shop.recipients:
            if missing := recipient.missing_languages():
                found.append(f"mailbox {box.name}: recipient {recipient.name} has no purpose in "
                             f"{', '.join(missing)} (purposes): those customers read the Dutch text")
    return found


def load_settings(path: Path | None, **overrides: Any) -> Settings:
    """Read ``path`` (TOML) plus ``INBOX_AGENT_*`` environment variables; raise ConfigError."""
    if path is not None and not path.is_file():
        raise ConfigError([f"config file {path} does not exist"])

    class _FromFile(Settings):
        model_config = SettingsConfigDict(toml_file=path)

    try:
        settings: Settings = _FromFile(**overrides)
    except ValidationError as exc:
        raise ConfigError(_explain(exc)) from None
    except ValueError as exc:  # TOML syntax errors and unreadable secret files
        raise ConfigError([f"{path}: {exc}"]) from None
    return settings
