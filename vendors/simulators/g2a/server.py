"""The G2A Export API simulator's HTTP server: routes, authentication, steering, handlers."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from vendors.simulators.base import ApiError, Clock, SimulatorServer, matches_suffix
from vendors.simulators.common import note_status, unique_code
from vendors.simulators.g2a.auth import refusal
from vendors.simulators.g2a.catalog import (
    DEFAULT_PRODUCTS,
    PAGE_SIZE,
    SimProduct,
    listing_filter,
    png_for_key,
)
from vendors.simulators.g2a.import_api import ImportApi
from vendors.simulators.g2a.import_auth import TokenCredentials
from vendors.simulators.g2a.import_state import DEFAULT_TOKEN_TTL
from vendors.simulators.g2a.orders import SimOrder
from vendors.simulators.g2a.wire import (
    ALREADY_PAID,
    OUT_OF_STOCK,
    PAY_ERRORS,
    PRICE_ABOVE_MAX,
    PRODUCT_NOT_FOUND,
    RATE_LIMITED,
    ROUTE_NOT_FOUND,
    CreateOrderRequest,
    PayErrorCode,
    bad_request,
    error,
    parse_body,
    pay_error,
)
from vendors.simulators.images import b64

logger = logging.getLogger("vendors.simulators.g2a")

EXPORT_PREFIX = "/v1"
DEFAULT_BALANCE = 10_000.0  # EUR
DEFAULT_PAY_DEADLINE = 600.0  # seconds after creation an order can still be paid
FIRST_ORDER_ID = 20_000_000_001


class G2ASimulator(SimulatorServer):
    """HTTP server implementing G2A's Export API and, beside it, the Import API
    (``imports``: its state and steering, see ``import_api``)."""

    name = "g2a"

    def __init__(
        self,
        products: Sequence[SimProduct] = DEFAULT_PRODUCTS,
        *,
        api_hash: str | None = None,
        api_key: str | None = None,
        email: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        token_ttl: float = DEFAULT_TOKEN_TTL,
        clock: Clock = time.time,
        balance: float = DEFAULT_BALANCE,
        pay_deadline_seconds: float = DEFAULT_PAY_DEADLINE,
        hang_seconds: float = 30.0,
    ) -> None:
        if (api_hash is None) != (api_key is None):
            raise ValueError("give both api_hash and api_key, or neither")
        super().__init__(clock=clock, hang_seconds=hang_seconds)
        self.api_hash = api_hash
        self.api_key = api_key
        self.email = email
        self.balance = balance
        self.pay_deadline_seconds = pay_deadline_seconds
        now = clock()
        self.products: dict[str, SimProduct] = {}
        for product in products:
            copy = product.model_copy(deep=True)
            if copy.updated_at is None:
                copy.updated_at = now
            self.products[copy.product_id] = copy
        self.orders: dict[str, SimOrder] = {}
        self._next_order_id = FIRST_ORDER_ID
        self._issued_keys: set[str] = set()
        self._pay_errors: list[str] = []
        self._rate_limited = 0
        self._ip_blocked = False
        self._forbidden: set[str] = set()
        credentials = TokenCredentials(api_hash, api_key, email, client_id, client_secret)
        self.imports = ImportApi(self.products, clock, credentials, token_ttl=token_ttl)

    # ----------------------------------------------------------------- wiring

    def routes(self, app: web.Application) -> None:
        self.export_routes(app)
        self.imports.routes(app, self.endpoint)
        app.router.add_route("*", "/{tail:.*}", self.endpoint(self._route_not_found))

    def export_routes(self, app: web.Application) -> None:
        """The Export API (buying): products, orders, payment, keys."""
        add, p = app.router, EXPORT_PREFIX
        add.add_get(p + "/products", self.endpoint(self._list_products))
        add.add_get(p + "/products/{product_id}", self.endpoint(self._get_product))
        add.add_post(p + "/order", self.endpoint(self._create_order))
        add.add_put(p + "/order/pay/{order_id}", self.endpoint(self._pay_order))
        add.add_get(p + "/order/details/{order_id}", self.endpoint(self._order_details))
        add.add_get(p + "/order/key/{order_id}", self.endpoint(self._order_key))

    def auth_error(self, request: web.Request) -> ApiError | None:
        if self._rate_limited > 0:
            self._rate_limited -= 1
            return error(429, RATE_LIMITED, "Too many requests to the API")
        if self.imports.serves(request.path):
            refused = self.imports.auth_error(request)
        else:
            refused = self._export_auth_error(request)
        if refused is not None:
            return refused
        if self._ip_blocked:
            return error(401, "AUTH03", "Unallowed IP address")
        if any(matches_suffix(request.path, suffix) for suffix in self._forbidden):
            return error(401, "AUTH04", "No privileges to this method")
        return None

    def error_answer(self, error: ApiError) -> web.Response:
        headers = {"Retry-After": str(self.retry_after)} if error.status == 429 else None
        return web.json_response(error.body, status=error.status, headers=headers)

    def bad_json(self) -> ApiError:
        return bad_request("Request body must be empty or JSON")

    def _export_auth_error(self, request: web.Request) -> ApiError | None:
        if self.api_hash is None or self.api_key is None:
            return None
        return refusal(request.headers, self.api_hash, self.api_key, self.email, self.clock())

    # ----------------------------------------------------------------- steering

    @property
    def orders_created(self) -> int:
        return len(self.orders)

    @property
    def paid_orders(self) -> int:
        return sum(order.paid for order in self.orders.values())

    def order(self, order_id: str) -> SimOrder:
        return self.orders[order_id]

    def set_price(self, product_id: str, price: float) -> None:
        product = self.products[product_id]
        product.min_price = price
        product.updated_at = self.clock()

    def set_stock(self, product_id: str, qty: int) -> None:
        product = self.products[product_id]
        product.qty = qty
        product.updated_at = self.clock()

    def set_available(self, product_id: str, available: bool) -> None:
        """Set ``availableToBuy`` (an in-stock product G2A will still not sell)."""
        product = self.products[product_id]
        product.available_to_buy = available
        product.updated_at = self.clock()

    def set_processing_seconds(self, product_id: str, seconds: float) -> None:
        """How long orders paid from now on stay ``pending`` after payment."""
        self.products[product_id].processing_seconds = seconds

    def set_pay_error(self, code: PayErrorCode, times: int = 1) -> None:
        """Make the next ``times`` payments of an existing order answer ``code`` (with the
        contract's HTTP status) without charging anything."""
        if code not in PAY_ERRORS:
            raise ValueError(f"not a pay error code: {code}")
        self._pay_errors.extend([code] * times)

    def set_rate_limited(self, n: int) -> None:
        """Answer the next ``n`` requests (any path) 429 BR03 with ``Retry-After``."""
        self._rate_limited = n

    def set_ip_blocked(self, blocked: bool) -> None:
        """Refuse every request with 401 AUTH03 (after the credentials check)."""
        self._ip_blocked = blocked

    def set_method_forbidden(self, path_suffix: str | None) -> None:
        """Refuse requests to matching paths with 401 AUTH04; None lifts every ban."""
        if path_suffix is None:
            self._forbidden.clear()
        else:
            self._forbidden.add(path_suffix)

    # ----------------------------------------------------------------- products

    async def _list_products(self, request: web.Request, body: Any) -> dict[str, Any]:
        page, wanted = listing_filter(request.query)
        found = [p for p in self.products.values() if wanted(p)]
        docs = found[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        return {"total": len(found), "page": page, "docs": [p.doc() for p in docs]}

    async def _get_product(self, request: web.Request, body: Any) -> dict[str, Any]:
        return self._product(request.match_info["product_id"]).doc()

    def _product(self, product_id: str) -> SimProduct:
        product = self.products.get(product_id)
        if product is None:
            raise error(404, PRODUCT_NOT_FOUND, "Product not found")
        return product

    # ----------------------------------------------------------------- orders

    async def _create_order(self, request: web.Request, body: Any) -> dict[str, Any]:
        req = parse_body(CreateOrderRequest, body)
        if req.currency.upper() != "EUR":
            raise bad_request(f"Unsupported currency: {req.currency}")
        product = self._product(req.product_id)
        if not product.buyable:
            raise error(400, OUT_OF_STOCK, "Product is out of stock")
        if req.max_price is not None and round(product.min_price, 2) > round(req.max_price, 2):
            raise error(
                400,
                PRICE_ABOVE_MAX,
                f"Product price {product.min_price:.2f} EUR is above max_price",
            )
        order = SimOrder(
            order_id=str(self._next_order_id),
            product_id=product.product_id,
            price=product.min_price,
            currency="EUR",
            is_file=product.key_kind == "image",
            created_at=self.clock(),
            processing_seconds=product.processing_seconds,
            clock=self.clock,
            key=self._new_key(),
        )
        self._next_order_id += 1
        self.orders[order.order_id] = order
        logger.info(
            "order %s created: product %s, price %.2f %s (not paid)",
            order.order_id,
            order.product_id,
            order.price,
            order.currency,
        )
        return {"order_id": order.order_id, "price": order.price, "currency": order.currency}

    async def _pay_order(self, request: web.Request, body: Any) -> dict[str, Any]:
        if body is not None:
            raise bad_request("Request body must be empty")
        order = self._order(request.match_info["order_id"])
        order.pay_calls += 1
        if self._pay_errors:
            code = self._pay_errors.pop(0)
            logger.info("order %s: injected pay error %s", order.order_id, code)
            raise pay_error(code)
        if order.paid:
            if order.status == "pending":
                raise pay_error("ORD05")
            raise error(400, ALREADY_PAID, "Order has been paid already")
        now = self.clock()
        if now - order.created_at > self.pay_deadline_seconds:
            raise pay_error("ORD114")
        if order.price > self.balance:
            raise pay_error("ORD112")
        self.balance -= order.price
        order.paid = True
        order.paid_at = now
        order.transaction_id = secrets.token_hex(12)
        product = self.products.get(order.product_id)
        if product is not None:
            product.qty = max(0, product.qty - 1)
            product.updated_at = now
        logger.info(
            "order %s paid: %.2f %s, balance left %.2f",
            order.order_id,
            order.price,
            order.currency,
            self.balance,
        )
        self._observe(order)
        return {"status": True, "transaction_id": order.transaction_id}

    async def _order_details(self, request: web.Request, body: Any) -> dict[str, Any]:
        order = self._order(request.match_info["order_id"])
        return {"status": order.status, "price": order.price, "currency": order.currency}

    async def _order_key(self, request: web.Request, body: Any) -> dict[str, Any]:
        order = self._order(request.match_info["order_id"])
        order.key_calls += 1
        if order.key_downloads > 0:
            raise error(400, "ORD004", "Order key has been downloaded already")
        if order.status != "complete":
            raise pay_error("ORD05")
        order.key_downloads += 1
        logger.info("order %s: key handed out", order.order_id)
        if order.is_file:
            return {"key": b64(png_for_key(order.key)), "isFile": True}
        return {"key": order.key, "isFile": False}

    async def _route_not_found(self, request: web.Request, body: Any) -> dict[str, Any]:
        raise error(404, ROUTE_NOT_FOUND, f"No route for {request.method} {request.path}")

    # ----------------------------------------------------------------- helpers

    def _order(self, order_id: str) -> SimOrder:
        order = self.orders.get(order_id)
        if order is None:
            raise error(404, "ORD02", "Order not found")
        self._observe(order)
        return order

    def _observe(self, order: SimOrder) -> None:
        """Log the order's state change the first time it is noticed (never the key)."""
        note_status(logger, order)

    def _new_key(self) -> str:
        return unique_code(self._issued_keys)
