"""The G2A Import API (selling) half of the G2A simulator: routes, handlers and steering.

The G2A simulator serves it beside the Export API (one host, as ``api.g2a.com`` is):
``GET /token`` (also at ``/integration-api/v1/token``) and, with ``Authorization: Bearer``,

* ``POST /integration-api/v1/offers`` ``{offerType, productId, price, visibility,
  inventory?, variant?}`` -> ``{jobId}``; a malformed body is 400 BR01 at once, while an
  unknown product (PRD01) or a second offer of a type for a product (OFR03) make the job
  end ``failed``;
* ``GET /integration-api/v1/jobs/{jobId}`` -> ``{jobId, resourceId?, resourceType?,
  status, code?, message?}`` (see ``import_state`` for how a job moves);
* ``GET /integration-api/v1/offers`` (``productId``, ``status``, ``offerType``,
  ``active``, ``page``, ``perPage`` of 10/20/50/100) -> ``{data, meta}``, and
  ``GET``/``PATCH /integration-api/v1/offers/{offerId}`` (``price``, ``visibility``,
  ``active``, ``inventory``, ``variant``; a ``preorder`` offer is not editable);
* ``POST /integration-api/v1/offers/{offerId}/inventory`` ``{keys: [...]}`` or a
  multipart form (text fields ``keys``/``keys[]``, image files) for a promo offer ->
  ``{collectionUuid}``, which a ``PATCH`` with ``inventory: {tmpInventoryId}`` attaches;
* ``GET /integration-api/v1/prices/simulations`` and ``GET /integration-api/v1/bestsellers``
  (see ``import_market``).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from aiohttp import BodyPartReader, web

from vendors.simulators.base import ApiError, Clock, Handler
from vendors.simulators.g2a.catalog import SimProduct
from vendors.simulators.g2a.import_auth import TokenCredentials, bearer_refusal, token_refusal
from vendors.simulators.g2a.import_market import (
    DEFAULT_COMMISSIONS,
    bestsellers,
    simulate,
    simulation_query,
)
from vendors.simulators.g2a.import_state import (
    DEFAULT_TOKEN_TTL,
    ImportState,
    JobOutcome,
    SimJob,
    SimOffer,
)
from vendors.simulators.g2a.import_wire import (
    EDITABLE_TYPES,
    IMPORT_PREFIX,
    INVENTORY_NOT_ALLOWED,
    OFFER_EXISTS,
    OFFER_NOT_EDITABLE,
    OFFER_PER_PAGE,
    OFFER_TYPES,
    TOKEN_PATHS,
    AddInventoryRequest,
    CreateOfferRequest,
    JobStatus,
    UpdateOfferRequest,
    choice_param,
    page_of,
    paging,
)
from vendors.simulators.g2a.wire import (
    PRODUCT_NOT_FOUND,
    bad_request,
    bool_param,
    error,
    parse_body,
)

Route = Callable[[web.Request], Awaitable[web.StreamResponse]]
Endpoint = Callable[[Handler], Route]

Form = tuple[list[str], list[bytes]]  # a multipart upload's text keys and image files
_SALES_STEP = 100  # default bestseller sales: the catalogue's order, 100 apart


class ImportApi:
    """State and handlers of the Import API; the G2A simulator owns one as ``imports``."""

    def __init__(
        self,
        products: Mapping[str, SimProduct],
        clock: Clock,
        credentials: TokenCredentials,
        *,
        token_ttl: float = DEFAULT_TOKEN_TTL,
    ) -> None:
        self.products = products  # the simulator's catalogue, shared with the Export API
        self.clock = clock
        self.credentials = credentials
        self.state = ImportState(clock, token_ttl=token_ttl)
        self.commissions: dict[str, float] = dict(DEFAULT_COMMISSIONS)
        count = len(products)
        self.sales = {pid: (count - i) * _SALES_STEP for i, pid in enumerate(products)}
        self._forms: dict[int, Form] = {}  # by id(request), while its handler runs

    # ----------------------------------------------------------------- wiring

    def serves(self, path: str) -> bool:
        return path in TOKEN_PATHS or path.startswith(IMPORT_PREFIX + "/")

    def auth_error(self, request: web.Request) -> ApiError | None:
        if request.path in TOKEN_PATHS:
            return token_refusal(request.headers, request.query, self.credentials, self.clock())
        return bearer_refusal(request.headers, self.state.token_valid)

    def routes(self, app: web.Application, endpoint: Endpoint) -> None:
        add, p = app.router, IMPORT_PREFIX

        def serve(handler: Handler) -> Route:
            return endpoint(self._settled(handler))

        for path in TOKEN_PATHS:
            add.add_get(path, endpoint(self._token))
        add.add_post(p + "/offers", serve(self._create_offer))
        add.add_get(p + "/offers", serve(self._list_offers))
        add.add_get(p + "/offers/{offer_id}", serve(self._get_offer))
        add.add_patch(p + "/offers/{offer_id}", serve(self._update_offer))
        add.add_post(
            p + "/offers/{offer_id}/inventory", self._reading_form(serve(self._add_inventory))
        )
        add.add_get(p + "/jobs/{job_id}", serve(self._job))
        add.add_get(p + "/prices/simulations", serve(self._simulation))
        add.add_get(p + "/bestsellers", serve(self._bestsellers))

    def _reading_form(self, serve: Route) -> Route:
        """Read a multipart upload before the endpoint (which expects JSON or nothing) sees
        the request; the endpoint then reads an empty body and the handler takes the form."""

        async def read_form(request: web.Request) -> web.StreamResponse:
            if request.content_type != "multipart/form-data":
                return await serve(request)
            self._forms[id(request)] = await _form(request)
            try:
                return await serve(request)
            finally:
                del self._forms[id(request)]

        return read_form

    # ----------------------------------------------------------------- steering

    @property
    def offers(self) -> dict[str, SimOffer]:
        """Offers whose creation job has been seen ``completed``, by offer id."""
        self.state.settle()
        return self.state.offers

    @property
    def jobs(self) -> dict[str, SimJob]:
        return self.state.jobs

    @property
    def token_ttl(self) -> float:
        return self.state.token_ttl

    @token_ttl.setter
    def token_ttl(self, seconds: float) -> None:
        """How long tokens handed out from now on live (seconds; ``expires_in``)."""
        self.state.token_ttl = seconds

    @property
    def token_requests(self) -> int:
        """How many tokens ``GET /token`` has handed out."""
        return self.state.token_requests

    def expire_tokens(self) -> None:
        self.state.expire_tokens()

    def fail_job_next(
        self, code: str, message: str, *, cancelled: bool = False, times: int = 1
    ) -> None:
        """The next ``times`` offer creations end ``failed`` (or ``cancelled``) with ``code``
        and ``message``, and create no offer."""
        status: JobStatus = "cancelled" if cancelled else "failed"
        self.state.queue_outcome(JobOutcome(status, code, message), times)

    def set_job_timing(self, *, step_seconds: float | None, polls_per_step: int = 1) -> None:
        """Jobs move one status on every ``polls_per_step`` polls, or every
        ``step_seconds`` of clock time (None: polls only; 0: at once)."""
        if polls_per_step < 1:
            raise ValueError("polls_per_step must be at least 1")
        self.state.job_step_seconds = step_seconds
        self.state.job_polls_per_step = polls_per_step

    def record_sale(self, offer_id: str, quantity: int = 1) -> None:
        """A G2A customer bought ``quantity`` of the offer (counts ``sold``, takes stock)."""
        self.state.record_sale(offer_id, quantity)

    def set_bestseller_sales(self, product_id: str, sales: int) -> None:
        if product_id not in self.products:
            raise KeyError(product_id)
        self.sales[product_id] = sales

    def set_commission(self, country: str, rate: float) -> None:
        """G2A's commission rate (0..1) for a country code, or ``OTHER`` for the rest."""
        if not 0 <= rate < 1:
            raise ValueError("rate must be in [0, 1)")
        self.commissions[country.upper()] = rate

    # ----------------------------------------------------------------- handlers

    def _settled(self, handler: Handler) -> Handler:
        async def settled(request: web.Request, body: Any) -> Any:
            self.state.settle()
            return await handler(request, body)

        return settled

    async def _token(self, request: web.Request, body: Any) -> dict[str, Any]:
        return self.state.issue_token()

    async def _create_offer(self, request: web.Request, body: Any) -> dict[str, Any]:
        req = parse_body(CreateOfferRequest, body)
        if req.inventory is not None and req.inventory.tmpInventoryId is not None:
            raise bad_request("inventory.tmpInventoryId: upload keys once the offer exists")
        now = self.clock()
        offer = SimOffer(
            offer_id=str(uuid.uuid4()),
            offer_type=req.offerType,
            product_id=req.productId,
            price=req.price,
            visibility=req.visibility,
            active=True,
            size=(req.inventory.size or 0) if req.inventory is not None else 0,
            variant=req.variant,
            created_at=now,
            updated_at=now,
        )
        refusal = None
        if req.productId not in self.products:
            refusal = JobOutcome("failed", PRODUCT_NOT_FOUND, "Product not found")
        elif self.state.pending_offer_for(req.productId, req.offerType):
            message = f"A {req.offerType} offer for product {req.productId} already exists"
            refusal = JobOutcome("failed", OFFER_EXISTS, message)
        return {"jobId": self.state.start_job(offer, refusal).job_id}

    async def _job(self, request: web.Request, body: Any) -> dict[str, Any]:
        return self.state.poll_job(request.match_info["job_id"]).doc()

    async def _list_offers(self, request: web.Request, body: Any) -> dict[str, Any]:
        query = request.query
        page, per_page = paging(query, OFFER_PER_PAGE)
        product_id = query.get("productId")
        status = choice_param(query, "status", ("active", "inactive"))
        offer_type = choice_param(query, "offerType", OFFER_TYPES)
        active = bool_param(query, "active", True) if "active" in query else None
        found = [
            offer.doc()
            for offer in self.state.offers.values()
            if (product_id is None or offer.product_id == product_id)
            and (status is None or offer.status == status)
            and (offer_type is None or offer.offer_type == offer_type)
            and (active is None or offer.active == active)
        ]
        return page_of(found, page, per_page)

    async def _get_offer(self, request: web.Request, body: Any) -> dict[str, Any]:
        return self.state.offer(request.match_info["offer_id"]).doc()

    async def _update_offer(self, request: web.Request, body: Any) -> dict[str, Any]:
        offer = self.state.offer(request.match_info["offer_id"])
        if offer.offer_type not in EDITABLE_TYPES:
            raise error(400, OFFER_NOT_EDITABLE, f"A {offer.offer_type} offer cannot be edited")
        req = parse_body(UpdateOfferRequest, body)
        inventory = req.inventory
        promo = offer.offer_type == "promo"
        if inventory is not None:
            if inventory.tmpInventoryId is not None and not promo:
                raise _inventory_not_allowed(offer)
            if inventory.size is not None and promo:
                raise bad_request("inventory.size: a promo offer's stock is its keys")
            if inventory.tmpInventoryId is not None:
                self.state.attach(offer, inventory.tmpInventoryId)
            if inventory.size is not None:
                offer.size = inventory.size
        if req.price is not None:
            offer.price = req.price
        if req.visibility is not None:
            offer.visibility = req.visibility
        if req.active is not None:
            offer.active = req.active
        if "variant" in req.model_fields_set:
            offer.variant = req.variant
        offer.updated_at = self.clock()
        return offer.doc()

    async def _add_inventory(self, request: web.Request, body: Any) -> dict[str, Any]:
        offer = self.state.offer(request.match_info["offer_id"])
        if offer.offer_type != "promo":
            raise _inventory_not_allowed(offer)
        images: list[bytes] = []
        form = self._forms.get(id(request))
        if form is None:
            keys = parse_body(AddInventoryRequest, body).keys
        else:
            keys, images = form
            if not keys and not images:
                raise bad_request("The form holds no keys and no image files")
        return {"collectionUuid": self.state.add_collection(offer, keys, images)}

    async def _simulation(self, request: web.Request, body: Any) -> dict[str, Any]:
        query = simulation_query(request.query)
        if query.productId not in self.products:
            raise error(404, PRODUCT_NOT_FOUND, "Product not found")
        return simulate(query.price, self.commissions, query.country)

    async def _bestsellers(self, request: web.Request, body: Any) -> dict[str, Any]:
        return bestsellers(self.products.values(), self.sales, request.query)


def _inventory_not_allowed(offer: SimOffer) -> ApiError:
    return error(
        400, INVENTORY_NOT_ALLOWED, f"Keys can be added to promo offers, not {offer.offer_type}"
    )


async def _form(request: web.Request) -> Form:
    keys: list[str] = []
    images: list[bytes] = []
    async for part in await request.multipart():
        if not isinstance(part, BodyPartReader):
            continue
        if part.filename:
            images.append(bytes(await part.read()))
        elif part.name in ("keys", "keys[]"):
            keys.extend(k for k in (await part.text()).splitlines() if k.strip())
    return keys, images
