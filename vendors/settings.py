"""What every vendor's settings share: each vendor reads its own `<VENDOR>_...` variables."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class VendorSettings(BaseSettings):
    """`<PREFIX>API_URL`, `<PREFIX>API_KEY` and `<PREFIX>RATE_PER_SECOND` (which overrides
    VENDOR_RATE_PER_SECOND for this vendor); subclasses add their own."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    api_url: str | None = None
    api_key: SecretStr | None = None
    rate_per_second: float | None = Field(default=None, gt=0)

    @staticmethod
    def prefixed(prefix: str) -> SettingsConfigDict:
        return SettingsConfigDict(env_prefix=prefix, env_file=".env", extra="ignore")

    def secret(self, name: str) -> str | None:
        value = getattr(self, name)
        return value.get_secret_value() if isinstance(value, SecretStr) else None
