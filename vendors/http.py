"""The HTTP machinery every vendor client shares: one rate limiter per vendor, one retry
policy, one way to read answers and to turn failures into the error taxonomy.

- Calls that are safe to repeat (`get`, or `send(..., safe=True)`) are retried by tenacity
  with exponential backoff and jitter, honouring `Retry-After` on 429. Money-spending
  calls are never retried here: a vendor client retries them only through its idempotent
  path (ask the vendor first). httpx itself never retries.
- Timeouts are not retried either: a customer may be waiting, and the worker tries again.
- Answers are validated by pydantic; a garbled body is a temporary error whose message
  names only where it broke (the body may hold a key).
"""

from __future__ import annotations

import functools
import json
import logging
import time
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport
from prometheus_client import Histogram
from pydantic import TypeAdapter, ValidationError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from vendors.base import (
    OfferNotFound,
    RateLimited,
    VendorAuthError,
    VendorError,
    VendorHealth,
    VendorUnavailable,
)
from vendors.pace import Pace

log = logging.getLogger(__name__)
T = TypeVar("T")
# (HTTP status, the decoded JSON body or None, "METHOD path") -> the error, or None for
# the generic mapping below
Classifier = Callable[[int, Any, str], VendorError | None]
MAX_RETRY_AFTER = 30.0
CUSTOMER_SHARE = 0.25  # of a vendor's rate that background polling leaves to customers
_BACKOFF = wait_exponential_jitter(multiplier=0.2, max=2.0, jitter=0.2)
_adapters: dict[Any, TypeAdapter[Any]] = {}
CALLS = Histogram(
    "storefront_vendor_call_seconds",
    "Vendor API calls by outcome ('ok' or the error's kind) and their latency",
    ["vendor", "outcome"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


class _Retryable(Exception):
    def __init__(self, error: VendorUnavailable) -> None:
        super().__init__(str(error))
        self.error = error


def _adapter(model: type[T]) -> TypeAdapter[T]:
    adapter = _adapters.get(model)
    if adapter is None:
        adapter = _adapters[model] = TypeAdapter(model)
    return adapter


@functools.lru_cache(maxsize=4096)
def _url(base_url: str, path: str) -> httpx.URL:
    """A vendor URL parsed once: httpx parses (in Python) every URL it is given."""
    return httpx.URL(base_url + path)


def _transport(base_url: str) -> AiohttpTransport:
    """httpx's API on aiohttp's connections: a vendor call costs half the CPU of httpx's own.

    The proxy (HTTPS_PROXY and friends, as httpx would honour them) is looked up once:
    aiohttp's own lookup reads the environment and ~/.netrc on every request.
    """
    url = httpx.URL(base_url)
    proxy = urllib.request.getproxies().get(url.scheme)
    if proxy and urllib.request.proxy_bypass(url.host):
        proxy = None
    return AiohttpTransport(client=_connections, proxy=httpx.Proxy(proxy) if proxy else None)


def _connections() -> aiohttp.ClientSession:
    """aiohttp resends a PUT whose kept-alive connection dropped (RFC 9112 allows it for
    idempotent methods), but G2A's `PUT .../pay` spends money: a lost answer must reach
    the vendor client, which asks the vendor before anything is sent again. aiohttp has no
    public switch for that yet, hence its session attribute (checked, so an aiohttp that
    renames it fails loudly here instead of paying twice)."""
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=100, ssl=httpx.create_ssl_context())
    )
    if not hasattr(session, "_retry_connection"):
        raise RuntimeError("this aiohttp cannot be kept from resending vendor calls")
    session._retry_connection = False
    return session


def _wait(state: RetryCallState) -> float:
    """Retry-After when the vendor says how long; otherwise exponential with jitter."""
    outcome = state.outcome
    error = outcome.exception() if outcome is not None else None
    if isinstance(error, _Retryable) and isinstance(error.error, RateLimited):
        wanted = error.error.retry_after
        if wanted is not None:
            return min(wanted, MAX_RETRY_AFTER)
    return float(_BACKOFF(state))


class VendorHttp:
    """One vendor's HTTP client: base URL, auth, limiter, retries, health, error mapping."""

    def __init__(
        self,
        vendor: str,
        base_url: str,
        *,
        classify: Classifier,
        headers: Mapping[str, str] | None = None,
        sign: Callable[[], Mapping[str, str]] | None = None,
        auth: httpx.Auth | None = None,  # e.g. OAuth bearer tokens (vendors.g2a_import)
        timeout: float = 10.0,
        rate_per_second: float = 10.0,
        attempts: int = 3,
        pace: Pace | None = None,  # shared by every process of the shop, where it has Redis
    ) -> None:
        self.vendor = vendor
        self.health = VendorHealth()
        self._base_url = base_url.rstrip("/")
        self._classify = classify
        self._sign = sign  # headers computed per request (timestamps, hashes)
        self._http = httpx.AsyncClient(
            transport=_transport(base_url),
            headers=dict(headers or {}),
            auth=auth,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        )
        self._pace = pace or Pace()
        self._rate = rate_per_second
        self._attempts = attempts

    async def aclose(self) -> None:
        await self._http.aclose()

    async def get(self, path: str, model: type[T], *, params: Mapping[str, Any] | None = None) -> T:
        return await self.send("GET", path, model, params=params, safe=True)

    async def send(
        self,
        method: str,
        path: str,
        model: type[T],
        *,
        json_body: Any = None,
        params: Mapping[str, Any] | None = None,
        empty_body: bool = False,
        safe: bool = False,
    ) -> T:
        """One call; `safe` ones are retried on temporary failures."""
        if not safe:
            return await self._once(method, path, model, json_body, params, empty_body)
        retrying = AsyncRetrying(
            retry=retry_if_exception_type(_Retryable),
            stop=stop_after_attempt(self._attempts),
            wait=_wait,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._once(
                        method, path, model, json_body, params, empty_body, retryable=True
                    )
        except _Retryable as exc:
            raise exc.error from None
        raise AssertionError("unreachable")

    async def _once(
        self,
        method: str,
        path: str,
        model: type[T],
        json_body: Any,
        params: Mapping[str, Any] | None,
        empty_body: bool,
        *,
        retryable: bool = False,
    ) -> T:
        where = f"{self.vendor} {method} {path}"
        headers = dict(self._sign()) if self._sign else {}
        content: bytes | None = None
        if json_body is not None:
            content = json.dumps(json_body).encode()
            headers["Content-Type"] = "application/json"
        elif empty_body:
            content = b""  # httpx then sends Content-Length: 0
        await self._pace.wait(
            f"vendor:{self.vendor}", self._rate, smooth=True, reserve=CUSTOMER_SHARE
        )
        started = time.perf_counter()
        try:
            response = await self._http.request(
                method, _url(self._base_url, path), content=content, params=params, headers=headers
            )
        except httpx.TimeoutException:
            raise self._failed(VendorUnavailable(f"{where}: timed out"), started) from None
        except (httpx.TransportError, aiohttp.ClientError) as exc:
            error = VendorUnavailable(f"{where}: {type(exc).__name__}")
            raise self._failed(error, started, retryable=retryable) from None
        log.debug("%s -> %s", where, response.status_code)
        if response.status_code >= 400:
            raise self._failed(self._error(response, where), started, retryable=retryable)
        try:
            result = _adapter(model).validate_json(response.content)
        except ValidationError as exc:
            # the error text can echo the body (a key!), so keep only where it broke
            broken = ", ".join(".".join(map(str, e["loc"])) or e["type"] for e in exc.errors())
            error = VendorUnavailable(f"{where}: unreadable answer ({broken[:200]})")
            raise self._failed(error, started, retryable=retryable) from None
        self.health.record(True, time.time())
        self._observe("ok", started)
        return result

    def _observe(self, outcome: str, started: float) -> None:
        CALLS.labels(self.vendor, outcome).observe(time.perf_counter() - started)

    def _failed(self, error: VendorError, started: float, *, retryable: bool = False) -> Exception:
        self.health.record(False, time.time(), str(error))
        self._observe(type(error).__name__, started)
        if retryable and isinstance(error, VendorUnavailable):
            return _Retryable(error)
        return error

    def _error(self, response: httpx.Response, where: str) -> VendorError:
        status = response.status_code
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        specific = self._classify(status, body, where)
        if isinstance(specific, RateLimited) and specific.retry_after is None:
            specific.retry_after = retry_after
        if specific is not None:
            return specific
        text = f"{where}: HTTP {status} {error_message(body)}".strip()
        if status == 429:
            return RateLimited(text, retry_after)
        if status >= 500:
            return VendorUnavailable(text, str(status))
        if status in (401, 403):
            return VendorAuthError(text, str(status))
        if status == 404:
            return OfferNotFound(text, str(status))
        return VendorUnavailable(text, str(status))


def error_message(body: Any) -> str:
    """A vendor error body's human part (never the whole body: it could hold anything)."""
    if not isinstance(body, dict):
        return ""
    for name in ("detail", "message", "error", "title"):
        if body.get(name):
            return str(body[name])[:200]
    return ""


def retry_after_seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff
