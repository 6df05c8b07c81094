"""What every vendor's answer models share: unknown fields are tolerated (vendors add them),
missing required ones are an error, and ids may arrive as numbers or strings."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict


def _as_text(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


TextId = Annotated[str, BeforeValidator(_as_text)]  # 10502 and "10502" alike


class Payload(BaseModel):
    model_config = ConfigDict(extra="ignore")
