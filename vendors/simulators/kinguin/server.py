"""The Kinguin ESA simulator's HTTP server: routes, authentication, steering, handlers."""

from __future__ import annotations

import secrets
import time
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from vendors.simulators.base import ApiError, Clock
from vendors.simulators.common import note_status
from vendors.simulators.kinguin import checks, params
from vendors.simulators.kinguin.catalog import (
    DEFAULT_PRODUCTS,
    Outcome,
    SimProduct,
    day,
    money,
    product_json,
    search,
    stocked,
)
from vendors.simulators.kinguin.errors import CURRENT_REQUEST, UNAUTHORIZED_BODY, error, violation
from vendors.simulators.kinguin.orders import (
    OrderStatus,
    SimOrder,
    SimOrderLine,
    key_image,
    order_filter,
)
from vendors.simulators.kinguin.webhooks import WebhookPusher

DEFAULT_BALANCE = 10_000.0
API_KEY_HEADERS = ("X-Api-Key", "Api-Ecommerce-Auth")

_ORDER_ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


class KinguinSimulator(WebhookPusher):
    """HTTP server implementing Kinguin's ESA products, orders, keys and balance.

    Steering (plain methods, for tests): ``set_price``, ``set_stock``, ``set_outcome``,
    ``set_balance`` (or the ``balance`` attribute), ``release_preorder``, ``force_status``,
    ``order_by_external_id``, ``orders``/``orders_created``, ``products``, ``coupons`` and the
    base class's ``fail_next``. A canceled key gives its price back to the balance.
    Webhooks: see ``WebhookPusher``.
    """

    name = "kinguin"

    def __init__(
        self,
        products: Sequence[SimProduct] = DEFAULT_PRODUCTS,
        api_key: str | None = None,
        *,
        clock: Clock = time.time,
        balance: float = DEFAULT_BALANCE,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        user_email: str = "sandbox@kinguin.io",
        store_id: int = 1,
        hang_seconds: float = 30.0,
    ) -> None:
        super().__init__(
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
            clock=clock,
            hang_seconds=hang_seconds,
        )
        self.api_key = api_key
        self._balance = money(balance)
        self.user_email = user_email
        self.store_id = store_id
        self.coupons: dict[str, float] = {}  # code -> discount (0.1 = 10 % off)
        now = clock()
        self.products = {p.kinguin_id: p for p in (stocked(t, now) for t in products)}
        self.orders = {}
        self._by_external_id: dict[str, str] = {}
        self._issued: set[str] = set()
        self._next_dispatch_id = 1

    # ----------------------------------------------------------------- server

    def routes(self, app: web.Application) -> None:
        e = self.endpoint
        app.router.add_get("/v1/products", e(self._search_products))
        app.router.add_get("/v1/products/{kinguinId}", e(self._get_product_v1))
        app.router.add_get("/v2/products/{productId}", e(self._get_product_v2))
        app.router.add_post("/v1/order", e(self._place_v1))
        app.router.add_get("/v1/order", e(self._search_orders))
        app.router.add_get("/v1/order/{orderId}", e(self._get_order))
        app.router.add_post("/v2/order", e(self._place_v2))
        app.router.add_get("/v2/order/{orderId}/keys", e(self._get_keys))
        app.router.add_post("/v2/order/{orderId}/dispatch", e(self._dispatch))
        app.router.add_get("/v1/balance", e(self._get_balance))
        app.router.add_get("/media/{productId}/{image}", self._media)  # public, like a CDN
        app.router.add_route("*", "/{tail:.*}", e(self._no_route))

    def auth_error(self, request: web.Request) -> ApiError | None:
        CURRENT_REQUEST.set(request)
        if self.api_key is None:
            return None
        if any(request.headers.get(h) == self.api_key for h in API_KEY_HEADERS):
            return None
        return ApiError(401, dict(UNAUTHORIZED_BODY))

    def bad_json(self) -> ApiError:
        return error(400, "Http", "Invalid JSON: Syntax error", now=self.clock())

    # ----------------------------------------------------------------- steering

    @property
    def balance(self) -> float:
        for order in self.orders.values():
            self._observe(order)
        return self._balance

    @balance.setter
    def balance(self, value: float) -> None:
        self._balance = money(value)

    def set_balance(self, value: float) -> None:
        self.balance = value

    @property
    def orders_created(self) -> int:
        return len(self.orders)

    def set_price(self, kinguin_id: int, price: float) -> None:
        product = self.products[kinguin_id]
        product.price = price
        product.updated_at = self.clock()

    def set_stock(self, kinguin_id: int, qty: int, text_qty: int | None = None) -> None:
        """Set the stock; ``text_qty`` defaults to ``qty`` for text products, 0 for images."""
        product = self.products[kinguin_id]
        product.qty = qty
        if text_qty is None:
            text_qty = product.default_text_qty(qty)
        product.text_qty = min(text_qty, qty)
        product.updated_at = self.clock()

    def set_outcome(
        self, kinguin_id: int, outcome: Outcome, processing_seconds: float | None = None
    ) -> None:
        """Change the outcome (and optionally the delay) of orders placed from now on."""
        product = self.products[kinguin_id]
        product.outcome = outcome
        if processing_seconds is not None:
            product.processing_seconds = processing_seconds

    def release_preorder(self, kinguin_id: int) -> None:
        """Release a pre-order now: its waiting orders start delivering their keys."""
        now = self.clock()
        product = self.products[kinguin_id]
        product.is_preorder = False
        product.release_at = now
        product.release_date = day(now)
        product.updated_at = now
        for order in self.orders.values():
            order.release(kinguin_id, product.release_date, now)
        self._logger.info("pre-order %s released", kinguin_id)

    def force_status(self, order_id: str, status: OrderStatus) -> None:
        """Make the order ``status`` now. ``completed`` delivers the missing keys,
        ``canceled`` cancels them, ``refunded`` refunds every key and the payment,
        ``processing`` keeps the undelivered keys waiting forever."""
        order = self.orders[order_id]
        order.force(status, self.clock())
        self._observe(order)

    def order_by_external_id(self, external_id: str) -> SimOrder | None:
        order_id = self._by_external_id.get(external_id)
        return None if order_id is None else self.orders[order_id]

    # ----------------------------------------------------------------- products

    def _shown(self, product: SimProduct | None) -> dict[str, Any]:
        """The product object of a product in stock (Kinguin answers 404 when it is not)."""
        if product is None or product.qty <= 0:
            raise error(404, "Http", "Product not found", now=self.clock())
        return self._product_json(product)

    def _product_json(self, product: SimProduct) -> dict[str, Any]:
        media = f"{self.base_url or 'https://cdns.kinguin.net'}/media/{product.product_id}"
        return product_json(product, self.clock(), media)

    def _by_product_id(self, product_id: str) -> SimProduct | None:
        return next((p for p in self.products.values() if p.known_as(product_id)), None)

    async def _get_product_v1(self, request: web.Request, body: Any) -> dict[str, Any]:
        raw = request.match_info["kinguinId"]
        return self._shown(self.products.get(int(raw)) if raw.isdigit() else None)

    async def _get_product_v2(self, request: web.Request, body: Any) -> dict[str, Any]:
        return self._shown(self._by_product_id(request.match_info["productId"]))

    async def _search_products(self, request: web.Request, body: Any) -> dict[str, Any]:
        chunk, count = search(self.products.values(), request.query, self.clock())
        return {"results": [self._product_json(p) for p in chunk], "item_count": count}

    async def _media(self, request: web.Request) -> web.Response:
        label = f"{request.match_info['productId']}/{request.match_info['image']}"
        return web.Response(body=key_image("image/png", label), content_type="image/png")

    async def _no_route(self, request: web.Request, body: Any) -> dict[str, Any]:
        raise error(
            404, "Http", f'No route found for "{request.method} {request.path}"', now=self.clock()
        )

    # ----------------------------------------------------------------- orders

    async def _place_v1(self, request: web.Request, body: Any) -> web.Response:
        req = checks.validate(checks.OrderV1, body, self.clock())
        lines: list[checks.Asked] = [
            (self.products.get(line.kinguin_id), line) for line in req.products
        ]
        return self._place(req.order_external_id, req.coupon_code, lines)

    async def _place_v2(self, request: web.Request, body: Any) -> web.Response:
        req = checks.validate(checks.OrderV2, body, self.clock())
        lines: list[checks.Asked] = [
            (self._by_product_id(line.product_id), line) for line in req.products
        ]
        return self._place(req.order_external_id, req.coupon_code, lines)

    def _place(
        self, external_id: str | None, coupon_code: str | None, lines: list[checks.Asked]
    ) -> web.Response:
        """Validate an order the way Kinguin does (shape, external id, products,
        pre-order rules, price and stock, balance), then create and charge it."""
        now = self.clock()
        wanted = checks.check_shape(lines, now)
        if external_id is not None:
            self._check_external_id(external_id, now)
        products = checks.resolve(lines, now)
        checks.check_preorders(products, lines, now)
        requested = [line for _, line in lines]
        checks.check_offers(products, requested, wanted, now)
        total = money(sum(p.price * ln.qty for p, ln in zip(products, requested, strict=True)))
        discount = self.coupons.get(coupon_code, 0.0) if coupon_code else 0.0
        payment = money(total * (1 - discount))
        balance = self.balance
        if payment > balance:
            raise error(
                400,
                "InsufficientBalance",
                f"There are not enough funds to place an order "
                f"(balance {balance:.2f} EUR, required {payment:.2f} EUR).",
                now=now,
            )
        order = SimOrder(
            order_id=self._new_order_id(),
            external_id=external_id,
            coupon_code=coupon_code,
            created_at=now,
            lines=[
                SimOrderLine.take(p, ln, now, self._issued)
                for p, ln in zip(products, requested, strict=True)
            ],
            total_price=total,
            request_total_price=money(sum(ln.price * ln.qty for ln in requested)),
            payment_price=payment,
            clock=self.clock,
        )
        self.orders[order.order_id] = order
        if external_id is not None:
            self._by_external_id[external_id] = order.order_id
        self._balance = money(self._balance - payment)
        self._logger.info(
            "order %s created: external id %s, %s unit(s), %.2f EUR charged, balance left %.2f",
            order.order_id,
            external_id,
            order.qty,
            payment,
            self._balance,
        )
        self._observe(order)
        return web.json_response(self._order_json(order, with_keys=False), status=201)

    def _check_external_id(self, external_id: str, now: float) -> None:
        existing = self.order_by_external_id(external_id)
        if existing is None:
            return
        existing.create_calls += 1
        self._logger.info(
            "order %s: refused a repeated order for external id %s (call %s)",
            existing.order_id,
            external_id,
            existing.create_calls,
        )
        raise violation("orderExternalId", "orderExternalId must be unique.", now, external_id)

    def _order(self, request: web.Request) -> SimOrder:
        order = self.orders.get(request.match_info["orderId"])
        if order is None:
            raise error(404, "OrderNotFound", "Order not found", now=self.clock())
        self._observe(order)
        return order

    def _order_json(self, order: SimOrder, *, with_keys: bool = True) -> dict[str, Any]:
        return order.json(self.user_email, self.store_id, with_keys=with_keys)

    async def _get_order(self, request: web.Request, body: Any) -> dict[str, Any]:
        return self._order_json(self._order(request))

    async def _search_orders(self, request: web.Request, body: Any) -> dict[str, Any]:
        now = self.clock()
        page, limit = params.paging(request.query, now)
        wanted = order_filter(request.query, now)
        found = []
        for order in self.orders.values():
            self._observe(order)
            if wanted(order):
                found.append(order)
        found.reverse()  # newest first (the sort is stable: later orders first on a tie)
        found.sort(key=lambda o: o.created_at, reverse=True)
        chunk = found[(page - 1) * limit : page * limit]
        return {"results": [self._order_json(o) for o in chunk], "item_count": len(found)}

    async def _get_keys(self, request: web.Request, body: Any) -> list[dict[str, Any]]:
        order = self._order(request)
        now = self.clock()
        page, limit = params.paging(request.query, now)
        delivered = [
            line.key_json(key)
            for line in order.lines
            for key in line.keys
            if key.status(now) == "DELIVERED"
        ]
        return delivered[(page - 1) * limit : page * limit]

    async def _dispatch(self, request: web.Request, body: Any) -> web.Response:
        order = self._order(request)
        dispatch_id = self._next_dispatch_id
        self._next_dispatch_id += 1
        self._logger.info("order %s dispatched (deprecated): %s", order.order_id, dispatch_id)
        return web.json_response({"dispatchId": dispatch_id}, status=201)

    async def _get_balance(self, request: web.Request, body: Any) -> dict[str, Any]:
        return {"balance": self.balance}

    # ----------------------------------------------------------------- helpers

    def _observe(self, order: SimOrder) -> None:
        """Log the order's status change the first time it is noticed (never a key) and
        give back the money of keys that will not be delivered."""
        status, changed = note_status(self._logger, order)
        if not changed:
            return
        owed = order.owed(status, self.clock())
        if owed > order.refunded_amount:
            self._balance = money(self._balance + owed - order.refunded_amount)
            self._logger.info(
                "order %s: %.2f EUR back to the balance",
                order.order_id,
                owed - order.refunded_amount,
            )
            order.refunded_amount = owed

    def _new_order_id(self) -> str:
        while True:
            order_id = "".join(secrets.choice(_ORDER_ID_ALPHABET) for _ in range(11))
            if order_id not in self.orders and not order_id.isdigit():
                return order_id
