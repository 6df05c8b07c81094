"""G2A Export API authentication, any of three schemes (checked only when the simulator has
both an API hash and an API key):

* ``hash`` (the contract's): ``X-API-HASH``, ``X-API-KEY``, ``X-G2A-Timestamp`` (unix
  seconds, at most 300 s off the simulator's clock) and ``X-G2A-Hash`` = hex
  SHA-256(hash + key + timestamp);
* ``sandbox``: ``Authorization: "{hash}, {key}"``;
* ``production``: ``Authorization: "{key}, {sha256hex(key + email + hash)}"`` (only when
  the simulator was given an ``email``).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from vendors.simulators.base import ApiError
from vendors.simulators.g2a.wire import error

TIMESTAMP_TOLERANCE = 300  # seconds X-G2A-Timestamp may be off the simulator's clock

_AUTH_HEADERS = ("X-API-HASH", "X-API-KEY", "X-G2A-Timestamp", "X-G2A-Hash")


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def refusal(
    headers: Mapping[str, str], api_hash: str, api_key: str, email: str | None, now: float
) -> ApiError | None:
    """AUTH01 (no credentials at all) or AUTH02 (none that match); None: accepted."""
    authorization = headers.get("Authorization")
    if authorization is None and not any(h in headers for h in _AUTH_HEADERS):
        return error(400, "AUTH01", "No Authorization header")
    if _hash_headers_ok(headers, api_hash, api_key, now) or (
        authorization is not None and _authorization_ok(authorization, api_hash, api_key, email)
    ):
        return None
    return error(401, "AUTH02", "Merchant with this authorization not found")


def _hash_headers_ok(headers: Mapping[str, str], api_hash: str, api_key: str, now: float) -> bool:
    timestamp = headers.get("X-G2A-Timestamp", "")
    if not (timestamp.isascii() and timestamp.isdigit()):
        return False
    if abs(int(timestamp) - now) > TIMESTAMP_TOLERANCE:
        return False
    expected = sha256_hex(api_hash + api_key + timestamp)
    return (
        _same(headers.get("X-API-HASH", ""), api_hash)
        and _same(headers.get("X-API-KEY", ""), api_key)
        and _same(headers.get("X-G2A-Hash", "").lower(), expected)
    )


def _authorization_ok(authorization: str, api_hash: str, api_key: str, email: str | None) -> bool:
    parts = [part.strip() for part in authorization.split(",")]
    if len(parts) != 2:
        return False
    first, second = parts
    if _same(first, api_hash) and _same(second, api_key):  # sandbox
        return True
    if email is None:
        return False
    signature = sha256_hex(api_key + email + api_hash)  # production
    return _same(first, api_key) and _same(second.lower(), signature)


def _same(given: str, expected: str) -> bool:
    """Constant-time comparison that tolerates any header text."""
    return hmac.compare_digest(
        given.encode("utf-8", "surrogateescape"), expected.encode("utf-8", "surrogateescape")
    )
