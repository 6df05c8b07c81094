"""G2A Import API authentication: the token request and the bearer token on every call.

``GET /token`` takes the contract's hash-based auth, any scheme the Export API accepts (see
``auth``): ``X-API-HASH``, ``X-API-KEY``, ``X-G2A-Timestamp`` and ``X-G2A-Hash`` = hex
SHA-256(hash + key + timestamp), or the sandbox's ``Authorization: "{hash}, {key}"``. A
simulator given a client id and secret also takes OAuth2 client credentials as query
parameters (``grant_type=client_credentials&client_id=...&client_secret=...``). Every
credential presented must match; with none configured anything is accepted (the sandbox).

Import calls need ``Authorization: Bearer {access_token}`` with a token that has not
expired: none is 401 AUTH01, an unknown or expired one 401 AUTH02.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from vendors.simulators.base import ApiError
from vendors.simulators.g2a.auth import refusal
from vendors.simulators.g2a.wire import bad_request, error

GRANT_TYPE = "client_credentials"


@dataclass(frozen=True)
class TokenCredentials:
    """What the simulated G2A account accepts at ``GET /token``."""

    api_hash: str | None = None
    api_key: str | None = None
    email: str | None = None
    client_id: str | None = None
    client_secret: str | None = None

    def __post_init__(self) -> None:
        if (self.client_id is None) != (self.client_secret is None):
            raise ValueError("give both client_id and client_secret, or neither")


def token_refusal(
    headers: Mapping[str, str], query: Mapping[str, str], creds: TokenCredentials, now: float
) -> ApiError | None:
    grant = query.get("grant_type")
    if grant is not None and grant != GRANT_TYPE:
        return bad_request(f"grant_type must be {GRANT_TYPE}")
    if creds.api_hash is None and creds.client_id is None:
        return None
    checks: list[bool] = []  # one per credential presented: does it match?
    if creds.api_hash is not None and creds.api_key is not None:
        answer = refusal(headers, creds.api_hash, creds.api_key, creds.email, now)
        if answer is None or answer.body["code"] != "AUTH01":
            checks.append(answer is None)
    if "client_id" in query or "client_secret" in query:
        checks.append(_client_ok(query, creds))
    if not checks:
        return error(400, "AUTH01", "No Authorization header")
    if all(checks):
        return None
    return error(401, "AUTH02", "Merchant with this authorization not found")


def bearer_refusal(headers: Mapping[str, str], valid: Callable[[str], bool]) -> ApiError | None:
    scheme, _, token = headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return error(401, "AUTH01", "No Authorization header with a Bearer token")
    if not valid(token):
        return error(401, "AUTH02", "Access token is invalid or expired")
    return None


def _client_ok(query: Mapping[str, str], creds: TokenCredentials) -> bool:
    if creds.client_id is None or creds.client_secret is None:
        return False
    return _same(query.get("client_id", ""), creds.client_id) & _same(
        query.get("client_secret", ""), creds.client_secret
    )


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())
