"""What every vendor's settings share: each vendor reads its own `<VENDOR>_...` variables."""

from __future__ import annotations

from typing import ClassVar

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

    # What the real API cannot go without (those with a default, e.g. the public URL, aside)
    required: ClassVar[tuple[str, ...]] = ("api_url", "api_key")

    def missing(self) -> list[str]:
        """The required variables that are not set, by their names in the environment."""
        prefix = str(self.model_config.get("env_prefix") or "")
        return [f"{prefix}{name}".upper() for name in self.required if not getattr(self, name)]

    def given(self) -> bool:
        """Has the owner set any of this vendor's credentials (so means to use the real API)?"""
        return len(self.missing()) < len(self.required)

    def secret(self, name: str) -> str | None:
        value = getattr(self, name)
        return value.get_secret_value() if isinstance(value, SecretStr) else None


class MissingCredentials(Exception):
    """A vendor the shop needs has no credentials, outside the sandbox."""

    def __init__(self, vendor: str, variables: list[str]) -> None:
        super().__init__(f"{vendor}: {', '.join(variables)} not set")
        self.vendor = vendor
        self.variables = variables


def real_api(vendor: str, settings: VendorSettings, sandbox: bool) -> bool:
    """Whether `vendor` runs against its real API (else its built-in simulator): never in
    the sandbox; outside it, only with its credentials, or not at all (MissingCredentials)."""
    if sandbox:
        return False
    missing = settings.missing()
    if missing:
        raise MissingCredentials(vendor, missing)
    return True
