"""Configuration from the environment (and an optional `.env`), validated by pydantic-settings.

The variable names are a public interface documented in the README: keep them stable.
"""

from __future__ import annotations

import ipaddress
import json
import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TypeVar
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
OFFICIAL_API = "https://api.telegram.org"


class ConfigError(Exception):
    """A configuration problem explained in one line, for the person starting the bot."""


# What a Star earns a seller in each vendor currency (Telegram pays out about $0.013 a
# Star), approximate at the end of 2026: owners set STARS_PER_CURRENCY to their own rates.
DEFAULT_STARS_PER_CURRENCY = {"USD": 77.0, "EUR": 83.0, "KZT": 0.15}


class Role(StrEnum):
    """What one process of the shop does (`python -m bot --role`, or ROLE)."""

    ALL = "all"  # everything in one process (the default)
    BOT = "bot"  # Telegram updates and the HTTP server
    WORKER = "worker"  # order steps and the shop's periodic jobs

    @property
    def serves_updates(self) -> bool:
        return self is not Role.WORKER

    @property
    def works(self) -> bool:
        return self is not Role.BOT


class CatalogSettings(BaseSettings):
    """What building the catalog needs (also `python -m bot.catalog`, without a bot token)."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    catalog_file: Path = Path("catalog.toml")
    # Run every vendor against its built-in simulator (vendors without credentials always do).
    sandbox: bool = False
    vendor_timeout_seconds: float = Field(default=10.0, gt=0)
    vendor_rate_per_second: float = Field(default=25.0, gt=0)
    # Vendor prices in Stars: "EUR=83,USD=77" (or JSON); for margins and suggested prices.
    stars_per_currency: Annotated[dict[str, float], NoDecode] = Field(
        default_factory=lambda: dict(DEFAULT_STARS_PER_CURRENCY)
    )
    # An imported offer's suggested price: vendor price in Stars × this.
    price_markup: float = Field(default=1.25, ge=1)
    # An imported offer's max_vendor_price: today's vendor price × (1 + this).
    import_cost_headroom: float = Field(default=0.10, ge=0)

    @field_validator("stars_per_currency", mode="before")
    @classmethod
    def _rates(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("{"):
                return json.loads(text)
            pairs = (part.split("=", 1) for part in text.replace(" ", "").split(",") if part)
            return {code.upper(): float(rate) for code, rate in pairs}
        return value

    @field_validator("stars_per_currency")
    @classmethod
    def _positive(cls, value: dict[str, float]) -> dict[str, float]:
        if any(rate <= 0 for rate in value.values()):
            raise ValueError("every rate must be above 0")
        return {code.upper(): rate for code, rate in value.items()}

    def in_stars(self, amount: float, currency: str | None) -> float | None:
        """A vendor amount in Stars, or None when the currency's rate is not configured."""
        rate = self.stars_per_currency.get((currency or "").upper())
        return None if rate is None else amount * rate


class Settings(CatalogSettings):
    bot_token: SecretStr
    telegram_api_url: str = OFFICIAL_API
    # Telegram's test environment: a separate account and bot, where Stars cost nothing.
    telegram_test_environment: bool = False
    # The Mini App's public HTTPS address (the reverse proxy in front of HTTP_PORT's /app/);
    # unset: no Mini App. Its API refuses Telegram's initData older than this.
    webapp_url: str | None = None
    webapp_auth_max_age: float = Field(default=86400.0, gt=0)
    # a Bot API call without an answer this long failed (getUpdates: on top of its poll)
    telegram_timeout_seconds: float = Field(default=60.0, gt=0)
    admin_chat_id: int | None = None
    # /paysupport and /terms (Telegram requires them of Stars sellers); unset: built-in texts
    paysupport_text: str | None = None
    terms_text: str | None = None

    # Admin alerts go out at most one message (a digest when several wait) this often:
    # Telegram allows a bot about 20 messages a minute into one group.
    alert_interval_seconds: float = Field(default=3.0, gt=0)
    # Alert the admins when a vendor's balance (where its API tells it) falls under this.
    vendor_balance_alert_below: float | None = Field(default=None, ge=0)
    # Broadcasts stay under Telegram's ~30 messages a second in all.
    broadcast_rate_per_second: float = Field(default=25.0, gt=0, le=30)
    # Telegram user ids (comma-separated) who may refund, grant credit and change prices;
    # the admin group's other administrators are operators (read, retry).
    owner_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    database_path: Path = Path("data/storefront.sqlite3")
    # PostgreSQL (postgresql://user:password@host:5432/db) instead of the SQLite file
    database_url: SecretStr | None = None
    database_pool_size: int = Field(default=10, ge=1, le=1000)
    # Redis (redis://host:6379/0): conversation state and the shop's shared limits and
    # signals, for a shop of several processes; REDIS_PREFIX keeps shops on one Redis apart
    redis_url: SecretStr | None = None
    redis_prefix: str = Field(default="storefront", pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    role: Role = Role.ALL
    # Webhook mode: Telegram posts updates to this public HTTPS URL (its path is served on
    # HTTP_PORT), proving itself with the secret; unset: long polling
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    # /health tells details and /metrics answers only with `Authorization: Bearer <this>`
    health_token: SecretStr | None = None
    locales_dir: Path = PROJECT_ROOT / "locales"
    default_locale: str = "en"

    # The bot's HTTP server: vendor webhooks and /health (0 turns it off).
    http_host: str = "0.0.0.0"
    http_port: int = Field(default=8080, ge=0, le=65535)
    # A client address that fails authentication this often within a minute waits out
    # the minute (429); behind a reverse proxy, name it here: its clients are told apart
    auth_failures_per_minute: int = Field(default=10, ge=1)
    trusted_proxies: Annotated[frozenset[str], NoDecode] = frozenset()

    # What G2A presents when it calls the shop's dropshipping endpoints (selling on G2A)
    g2a_dropshipping_client_id: str | None = None
    g2a_dropshipping_client_secret: SecretStr | None = None
    # The margin guard keeps G2A's payout at least this many percent above the source's cost.
    g2a_min_margin: float = Field(default=5.0, ge=0, le=1000)

    # Keys are encrypted at rest with this Fernet key; generated next to the database if unset.
    keys_encryption_key: SecretStr | None = None

    offer_cache_seconds: float = Field(default=20.0, ge=0)
    poll_min_seconds: float = Field(default=0.5, gt=0)
    poll_max_seconds: float = Field(default=5.0, gt=0)
    # An order long at its vendor is asked every tenth of its wait so far, up to this:
    # thousands of slow orders leave the vendor's rate limit to the fresh ones.
    poll_slow_max_seconds: float = Field(default=300.0, gt=0)
    worker_idle_seconds: float = Field(default=2.0, gt=0)
    # Stars ledger check for lost payment updates, and invoice expiry (also at every start).
    housekeeping_seconds: float = Field(default=60.0, gt=0)
    # How long a worker owns an order step; after a crash the order resumes once it expires.
    worker_lease_seconds: float = Field(default=60.0, gt=0)
    # With order webhooks (Kinguin), polling is only the safety net: this often at most.
    webhook_poll_seconds: float = Field(default=30.0, gt=0)
    preorder_poll_seconds: float = Field(default=3600.0, gt=0)
    order_stuck_alert_minutes: float = Field(default=60.0, gt=0)
    # a key the vendor handed out but we never stored: refunded if not recovered by then
    key_lost_refund_hours: float = Field(default=24.0, gt=0)
    invoice_ttl_minutes: float = Field(default=60.0, gt=0)

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and urlsplit(value.get_secret_value()).scheme not in (
            "postgresql",
            "postgres",
        ):
            raise ValueError("must be a postgresql:// URL (unset: SQLite at DATABASE_PATH)")
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_only(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and urlsplit(value.get_secret_value()).scheme not in (
            "redis",
            "rediss",
            "unix",
        ):
            raise ValueError("must be a redis:// or rediss:// URL")
        return value

    @field_validator("telegram_webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme not in ("https", "http"):
            raise ValueError("must be the https:// URL Telegram posts updates to")
        return value or None

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram: 1-256 characters, A-Z, a-z, 0-9, _ and -
        if value is not None and not _WEBHOOK_SECRET.fullmatch(value.get_secret_value()):
            raise ValueError("must be 1-256 characters: letters, digits, _ and -")
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.telegram_webhook_url and self.telegram_webhook_secret is None:
            raise ValueError(
                "TELEGRAM_WEBHOOK_SECRET is not set: webhook mode needs it, so that only"
                " Telegram can post updates"
            )
        return self

    @property
    def webhook_path(self) -> str | None:
        """The path of TELEGRAM_WEBHOOK_URL, which the HTTP server serves."""
        if not self.telegram_webhook_url:
            return None
        return urlsplit(self.telegram_webhook_url).path or "/"

    @field_validator("owner_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(int(part) for part in value.replace(" ", "").split(",") if part)
        return value

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _addresses(cls, value: object) -> object:
        if isinstance(value, str):
            parts = (part.strip() for part in value.split(","))
            return frozenset(str(ipaddress.ip_address(part)) for part in parts if part)
        return value

    @field_validator("webapp_url")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is not None and urlsplit(value).scheme != "https":
            raise ValueError("must be an https:// URL: Telegram opens Mini Apps over HTTPS only")
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        if ":" not in value.get_secret_value():
            raise ValueError("is not a token from @BotFather (expected '123456:ABC...')")
        return value


_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
S = TypeVar("S", bound=BaseSettings)


def load_settings() -> Settings:
    return _load(Settings)


def load_catalog_settings() -> CatalogSettings:
    return _load(CatalogSettings)


def _load(kind: type[S]) -> S:
    try:
        return kind()  # values come from the environment
    except ValidationError as exc:
        first = exc.errors()[0]
        if not first["loc"]:  # a rule about several settings says which itself
            raise ConfigError(str(first["msg"]).removeprefix("Value error, ")) from None
        name = ".".join(str(part) for part in first["loc"]).upper()
        if first["type"] == "missing":
            raise ConfigError(f"{name} is not set: put it in the environment or in .env") from None
        raise ConfigError(f"{name} is invalid: {first['msg']}") from None
