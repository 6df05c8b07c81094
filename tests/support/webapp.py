"""Telegram's Mini App `initData`, signed for a bot token as Telegram signs it (HMAC-SHA256
with the key HMAC("WebAppData", token)), for tests that call the Mini App's API."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from urllib.parse import urlencode


def init_data(
    token: str,
    user_id: int,
    *,
    language: str = "en",
    auth_date: float | None = None,
    extra: dict[str, str] | None = None,
) -> str:
    user = {"id": user_id, "first_name": f"User {user_id}", "language_code": language}
    fields = {
        "query_id": f"AAF{user_id}",
        "user": json.dumps(user, separators=(",", ":")),
        "auth_date": str(int(time.time() if auth_date is None else auth_date)),
        **(extra or {}),
    }
    check = "\n".join(f"{key}={value}" for key, value in sorted(fields.items()))
    secret = hmac.new(b"WebAppData", token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


def authorization(token: str, user_id: int, **options: object) -> dict[str, str]:
    """The header the Mini App's page sends with every API call."""
    return {"Authorization": "tma " + init_data(token, user_id, **options)}  # type: ignore[arg-type]
