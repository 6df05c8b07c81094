"""G2A's Import API (seed 004): the shop as a seller on G2A's marketplace.

Not a source vendor (it is not in `vendors.REGISTRY`): it lists the shop's offers on G2A,
whose buyers' orders then reach the shop's dropshipping endpoints (`bot.g2a`).

Authentication is OAuth2: a bearer token from `GET /token`, asked with the Export API's
hash headers (G2A_API_HASH, G2A_API_KEY) and the client credentials (G2A_CLIENT_ID,
G2A_CLIENT_SECRET). The token is kept until it expires within 5 minutes, one refresh at a
time however many calls wait, and renewed once when G2A refuses it (401).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import httpx
from pydantic import AliasChoices, Field, SecretStr

from vendors.base import VendorAuthError, VendorError, VendorHealth, VendorUnavailable
from vendors.g2a import G2AAuth, classify_g2a_error
from vendors.http import VendorHttp, error_message
from vendors.pace import Pace
from vendors.payload import Payload, TextId
from vendors.settings import VendorSettings

if TYPE_CHECKING:
    from vendors import VendorContext

PREFIX = "/integration-api/v1"
TOKEN_PATH = "/token"
REFRESH_BEFORE = 300.0  # seconds: a token expiring sooner is renewed first

OfferType = Literal["dropshipping", "promo", "steamgift", "game", "preorder"]
Visibility = Literal["retail", "business", "all"]


class ImportSettings(VendorSettings):
    """G2A_IMPORT_API_URL, G2A_CLIENT_ID, G2A_CLIENT_SECRET, G2A_API_HASH, G2A_API_KEY."""

    model_config = VendorSettings.prefixed("G2A_")

    import_api_url: str = "https://api.g2a.com"
    client_id: str | None = None
    client_secret: SecretStr | None = None
    api_hash: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("G2A_API_HASH", "G2A_API_SECRET")
    )


class Token(Payload):
    access_token: str
    expires_in: float = 3600.0
    token_type: str = "Bearer"


class Job(Payload):
    jobId: TextId
    status: Literal["pending", "processing", "completed", "failed", "cancelled"]
    resourceId: TextId | None = None
    resourceType: str | None = None
    code: str | None = None
    message: str | None = None


class Created(Payload):
    jobId: TextId


class Inventory(Payload):
    size: int | None = None


class G2AOffer(Payload):
    id: TextId
    type: str | None = None
    productId: TextId | None = None
    price: float | None = None
    visibility: str | None = None
    status: str | None = None
    active: bool | None = None
    inventory: Inventory | None = None
    sold: int | None = None  # the simulator's sales count; G2A's own field may differ


class PageMeta(Payload):
    currentPage: int = 1
    lastPage: int = 1
    perPage: int | None = None
    total: int | None = None


class OfferPage(Payload):
    data: list[G2AOffer] = []
    meta: PageMeta = PageMeta()


class Collection(Payload):
    collectionUuid: str


class PriceSimulation(Payload):
    """Each value by country group ("ALL", "OTHER", "PL"...), in EUR."""

    income: dict[str, float] = {}
    finalePrice: dict[str, float] = {}
    businessFinalPrice: dict[str, float] = {}
    businessIncome: dict[str, float] = {}


class Bestseller(Payload):
    productId: TextId
    name: str = ""
    platform: str | None = None
    lowestPrice: float | None = None
    sales: int | None = None


class BestsellerPage(Payload):
    data: list[Bestseller] = []
    meta: PageMeta | None = None


class JobFailed(VendorError):
    """G2A ended an offer's job `failed` or `cancelled` (code and message from the job)."""


class OAuth(httpx.Auth):
    """Bearer tokens from `GET /token`: one refresh at a time, renewed before expiry."""

    def __init__(
        self,
        sign: Callable[[], Mapping[str, str]],
        client_id: str | None,
        client_secret: str | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sign = sign
        self._credentials = {"grant_type": "client_credentials"}
        if client_id and client_secret:
            self._credentials |= {"client_id": client_id, "client_secret": client_secret}
        self._clock = clock
        self._lock = asyncio.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        self.issued = 0  # tokens obtained, for tests and /health

    def __repr__(self) -> str:
        return "OAuth(secrets=<hidden>)"

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        used = await self._valid(request)
        request.headers["Authorization"] = f"Bearer {used}"
        response = yield request
        if response.status_code == 401:  # revoked or expired early: once more, renewed
            async with self._lock:
                if self._token == used:
                    self._token = None
            request.headers["Authorization"] = f"Bearer {await self._valid(request)}"
            yield request

    async def _valid(self, request: httpx.Request) -> str:
        async with self._lock:
            if self._token is None or self._expires_at - self._clock() < REFRESH_BEFORE:
                await self._refresh(request)
            assert self._token is not None
            return self._token

    async def _refresh(self, request: httpx.Request) -> None:
        url = request.url.copy_with(path=TOKEN_PATH, query=None)
        async with httpx.AsyncClient(timeout=10.0) as http:
            try:
                response = await http.get(url, params=self._credentials, headers=self._sign())
            except httpx.HTTPError as exc:
                raise VendorUnavailable(f"g2a-import GET /token: {type(exc).__name__}") from None
        if response.status_code in (400, 401, 403):
            body = _json(response)
            raise VendorAuthError(
                f"g2a-import GET /token: HTTP {response.status_code} {error_message(body)}"
            )
        if response.status_code >= 300:
            raise VendorUnavailable(f"g2a-import GET /token: HTTP {response.status_code}")
        try:
            token = Token.model_validate_json(response.content)
        except ValueError:
            raise VendorUnavailable("g2a-import GET /token: unreadable answer") from None
        self._token, self._expires_at = token.access_token, self._clock() + token.expires_in
        self.issued += 1


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


class G2AImport:
    """The Import API calls the shop uses (offers, jobs, price simulations, bestsellers)."""

    def __init__(
        self,
        base_url: str,
        *,
        api_hash: str,
        api_key: str,
        client_id: str | None = None,
        client_secret: str | None = None,
        timeout: float = 10.0,
        rate_per_second: float = 10.0,
        pace: Pace | None = None,
    ) -> None:
        self.auth = OAuth(G2AAuth(api_hash, api_key), client_id, client_secret)
        self._http = VendorHttp(
            "g2a-import",
            base_url.rstrip("/") + PREFIX,
            classify=classify_g2a_error,
            auth=self.auth,
            timeout=timeout,
            rate_per_second=rate_per_second,
            pace=pace,
        )

    @property
    def health(self) -> VendorHealth:
        return self._http.health

    async def aclose(self) -> None:
        await self._http.aclose()

    async def create_offer(
        self,
        product_id: str,
        price: float,
        *,
        offer_type: OfferType = "dropshipping",
        visibility: Visibility = "retail",
        stock: int | None = None,
    ) -> str:
        """Start creating an offer; the job id to follow (see `follow_job`)."""
        body: dict[str, Any] = {
            "offerType": offer_type,
            "productId": product_id,
            "price": price,
            "visibility": visibility,
        }
        if stock is not None:
            body["inventory"] = {"size": stock}
        created = await self._http.send("POST", "/offers", Created, json_body=body)
        return created.jobId

    async def job(self, job_id: str) -> Job:
        return await self._http.get(f"/jobs/{job_id}", Job)

    async def follow_job(self, job_id: str, *, every: float = 1.0, within: float = 120.0) -> str:
        """Wait for the job to complete: its resource id (the offer id). Raises JobFailed,
        or VendorUnavailable when it is still not done after `within` seconds."""
        deadline = time.monotonic() + within
        while True:
            job = await self.job(job_id)
            if job.status == "completed" and job.resourceId:
                return job.resourceId
            if job.status in ("failed", "cancelled"):
                raise JobFailed(f"g2a job {job_id} {job.status}: {job.message or ''}", job.code)
            if time.monotonic() > deadline:
                raise VendorUnavailable(f"g2a job {job_id} still {job.status}")
            await asyncio.sleep(every)

    async def offer(self, offer_id: str) -> G2AOffer:
        return await self._http.get(f"/offers/{offer_id}", G2AOffer)

    async def offers(self, *, page: int = 1, per_page: int = 100, **filters: Any) -> OfferPage:
        """One page of our offers; filters: productId, status, offerType, active."""
        params: dict[str, Any] = {"page": page, "perPage": per_page}
        params |= {k: _param(v) for k, v in filters.items() if v is not None}
        return await self._http.get("/offers", OfferPage, params=params)

    async def update_offer(
        self,
        offer_id: str,
        *,
        price: float | None = None,
        visibility: Visibility | None = None,
        active: bool | None = None,
        stock: int | None = None,
        collection: str | None = None,
    ) -> G2AOffer:
        """Change only what is given (a PATCH: repeating it is harmless)."""
        body: dict[str, Any] = {
            k: v
            for k, v in {"price": price, "visibility": visibility, "active": active}.items()
            if v is not None
        }
        inventory = {"size": stock, "tmpInventoryId": collection}
        if any(v is not None for v in inventory.values()):
            body["inventory"] = {k: v for k, v in inventory.items() if v is not None}
        return await self._http.send(
            "PATCH", f"/offers/{offer_id}", G2AOffer, json_body=body, safe=True
        )

    async def add_inventory(self, offer_id: str, keys: list[str]) -> str:
        """Upload keys for a promo offer: the collection id to PATCH in as tmpInventoryId."""
        answer = await self._http.send(
            "POST", f"/offers/{offer_id}/inventory", Collection, json_body={"keys": keys}
        )
        return answer.collectionUuid

    async def price_simulation(
        self, product_id: str, price: float, country: str | None = None
    ) -> PriceSimulation:
        params: dict[str, Any] = {"productId": product_id, "price": price}
        if country:
            params["country"] = country
        return await self._http.get("/prices/simulations", PriceSimulation, params=params)

    async def bestsellers(
        self,
        *,
        category: str | None = None,
        platform: str | None = None,
        page: int = 1,
        per_page: int = 20,
    ) -> list[Bestseller]:
        params: dict[str, Any] = {"page": page, "perPage": per_page}
        params |= {k: v for k, v in {"category": category, "platform": platform}.items() if v}
        return (await self._http.get("/bestsellers", BestsellerPage, params=params)).data


def _param(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


async def open_import(ctx: VendorContext) -> G2AImport:
    """G2A's Import API when G2A_API_HASH and G2A_API_KEY are set, else (or with SANDBOX=1)
    a simulator of it that knows the sandbox shop's G2A product."""
    settings = ImportSettings()
    url = settings.import_api_url
    api_hash, api_key = settings.secret("api_hash"), settings.secret("api_key")
    client_id, client_secret = settings.client_id, settings.secret("client_secret")
    if ctx.sandbox or not (api_hash and api_key):
        import secrets

        from vendors.simulators.g2a import G2ASimulator
        from vendors.simulators.g2a.catalog import DEFAULT_PRODUCTS, LISTED_BY_SANDBOX

        api_hash, api_key = secrets.token_hex(16), secrets.token_hex(16)
        client_id, client_secret = None, None
        products = (*DEFAULT_PRODUCTS, LISTED_BY_SANDBOX)
        simulator = G2ASimulator(api_hash=api_hash, api_key=api_key, products=products)
        url = await ctx.start_simulator(simulator, "G2A Import API")
    client = G2AImport(
        url,
        api_hash=api_hash,
        api_key=api_key,
        client_id=client_id,
        client_secret=client_secret,
        timeout=ctx.timeout,
        rate_per_second=ctx.rate(settings),
        pace=ctx.pace,
    )
    ctx.stack.push_async_callback(client.aclose)
    return client
