"""Who may call the shop's dropshipping endpoints: G2A, holding the client credentials the
owner issued to it (G2A_DROPSHIPPING_CLIENT_ID and _SECRET).

`POST /oauth/token` (the client credentials grant, RFC 6749 section 4.4; credentials in the
form body or as HTTP Basic) hands out bearer tokens valid for an hour. A token is a Fernet
token under a key derived from the client secret, so every replica accepts every
replica's tokens with no shared state, and changing the secret revokes them all. Secrets
are compared in constant time and never logged.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs

from aiohttp import web
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from bot.runtime.public import read_body

log = logging.getLogger(__name__)
TOKEN_PATH = "/oauth/token"
TOKEN_SECONDS = 3600
MAX_FORM = 4096  # a client credentials form is a few hundred bytes
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class DropshippingAuth:
    def __init__(
        self, client_id: str, client_secret: str, clock: Callable[[], float] = time.time
    ) -> None:
        self._client_id = client_id.encode()
        self._client_secret = client_secret.encode()
        key = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"g2a-dropshipping-tokens"
        ).derive(self._client_secret)
        self._fernet = Fernet(base64.urlsafe_b64encode(key))
        self._clock = clock

    def __repr__(self) -> str:
        return "DropshippingAuth(secrets=<hidden>)"

    def issue(self, client_id: str, client_secret: str) -> str | None:
        """A new bearer token for the right credentials, else None."""
        right_id = hmac.compare_digest(client_id.encode(), self._client_id)
        right_secret = hmac.compare_digest(client_secret.encode(), self._client_secret)
        if not (right_id and right_secret):
            return None
        token = self._fernet.encrypt_at_time(b"g2a:" + self._client_id, int(self._clock()))
        return token.decode()

    def accepts(self, authorization: str | None) -> bool:
        """Whether an `Authorization` header carries a token of ours that has not expired."""
        scheme, _sep, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return False
        try:
            subject = self._fernet.decrypt_at_time(
                token.strip().encode(), TOKEN_SECONDS, int(self._clock())
            )
        except InvalidToken:
            return False
        return hmac.compare_digest(subject, b"g2a:" + self._client_id)

    def routes(self, app: web.Application) -> None:
        app.router.add_post(TOKEN_PATH, self._token_endpoint)

    def required(self, handler: Handler) -> Handler:
        """`handler`, answering 401 (and doing nothing) without a valid bearer token."""

        async def guarded(request: web.Request) -> web.StreamResponse:
            if not self.accepts(request.headers.get("Authorization")):
                return _oauth_error(401, "invalid_token", "a valid bearer token is required")
            return await handler(request)

        return guarded

    async def _token_endpoint(self, request: web.Request) -> web.Response:
        try:
            text = (await read_body(request, MAX_FORM)).decode()
        except UnicodeDecodeError:
            return _oauth_error(400, "invalid_request", "the form is not UTF-8")
        form = {name: values[0] for name, values in parse_qs(text).items()}
        if form.get("grant_type") != "client_credentials":
            return _oauth_error(400, "unsupported_grant_type", "use client_credentials")
        client_id, client_secret = _basic(request.headers.get("Authorization"))
        client_id = client_id or form.get("client_id", "")
        client_secret = client_secret or form.get("client_secret", "")
        token = self.issue(client_id, client_secret)
        if token is None:
            log.warning("dropshipping: a token was refused (wrong client credentials)")
            return _oauth_error(401, "invalid_client", "unknown client or wrong secret")
        return web.json_response(
            {"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_SECONDS},
            headers={"Cache-Control": "no-store"},
        )


def _basic(header: str | None) -> tuple[str, str]:
    scheme, _sep, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic":
        return "", ""
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return "", ""
    client_id, _sep, client_secret = decoded.partition(":")
    return client_id, client_secret


def _oauth_error(status: int, error: str, description: str) -> web.Response:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    body = {"error": error, "error_description": description}
    return web.json_response(body, status=status, headers=headers)
