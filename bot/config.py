"""Configuration from the environment (and an optional `.env`), validated by pydantic-settings.

The variable names are a public interface documented in the README: keep them stable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
OFFICIAL_API = "https://api.telegram.org"


class ConfigError(Exception):
    """A configuration problem explained in one line, for the person starting the bot."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr
    telegram_api_url: str = OFFICIAL_API
    # Telegram's test environment: a separate account and bot, where Stars cost nothing.
    telegram_test_environment: bool = False
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
    catalog_file: Path = Path("catalog.toml")
    locales_dir: Path = PROJECT_ROOT / "locales"
    default_locale: str = "en"

    # The bot's HTTP server: vendor webhooks and /health (0 turns it off).
    http_host: str = "0.0.0.0"
    http_port: int = Field(default=8080, ge=0, le=65535)

    # Run every vendor against its built-in simulator (vendors without credentials always do).
    sandbox: bool = False

    # Keys are encrypted at rest with this Fernet key; generated next to the database if unset.
    keys_encryption_key: SecretStr | None = None

    offer_cache_seconds: float = Field(default=20.0, ge=0)
    vendor_timeout_seconds: float = Field(default=10.0, gt=0)
    vendor_rate_per_second: float = Field(default=25.0, gt=0)
    poll_min_seconds: float = Field(default=0.5, gt=0)
    poll_max_seconds: float = Field(default=5.0, gt=0)
    worker_idle_seconds: float = Field(default=2.0, gt=0)
    # Stars ledger check for lost payment updates, and invoice expiry (also at every start).
    housekeeping_seconds: float = Field(default=60.0, gt=0)
    # How long a worker owns an order step; after a crash the order resumes once it expires.
    worker_lease_seconds: float = Field(default=60.0, gt=0)
    # With order webhooks (Kinguin), polling is only the safety net: this often at most.
    webhook_poll_seconds: float = Field(default=30.0, gt=0)
    preorder_poll_seconds: float = Field(default=3600.0, gt=0)
    order_stuck_alert_minutes: float = Field(default=60.0, gt=0)
    invoice_ttl_minutes: float = Field(default=60.0, gt=0)

    @field_validator("owner_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(int(part) for part in value.replace(" ", "").split(",") if part)
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


def load_settings() -> Settings:
    try:
        return Settings()  # values come from the environment
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(part) for part in first["loc"]).upper()
        if first["type"] == "missing":
            raise ConfigError(f"{name} is not set: put it in the environment or in .env") from None
        raise ConfigError(f"{name} is invalid: {first['msg']}") from None
