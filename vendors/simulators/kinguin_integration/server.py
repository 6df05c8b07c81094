"""The integration simulator's HTTP server: routes, authentication, steering, handlers."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from vendors.simulators.base import ApiError, Clock, SimulatorServer
from vendors.simulators.common import note_status, unique_code
from vendors.simulators.images import b64
from vendors.simulators.kinguin_integration.catalog import (
    DEFAULT_PRODUCTS,
    KeyType,
    Outcome,
    SimProduct,
    key_image,
)
from vendors.simulators.kinguin_integration.orders import (
    FINAL_FAILURES,
    SimKey,
    SimOrder,
    SimOrderLine,
    order_object,
    order_outcome,
)
from vendors.simulators.kinguin_integration.search import search
from vendors.simulators.kinguin_integration.wire import (
    DispatchRequest,
    PlaceOrderRequest,
    error,
    invalid,
    parse_body,
)

logger = logging.getLogger("vendors.simulators.kinguin_integration")

FIRST_ORDER_ID = 20549751
FIRST_DISPATCH_ID = 14169762
DEFAULT_BALANCE = 10_000.0


class KinguinIntegrationSimulator(SimulatorServer):
    """HTTP server implementing Kinguin's integration order API v1 (and a product read)."""

    name = "kinguin_integration"

    def __init__(
        self,
        products: Sequence[SimProduct] = DEFAULT_PRODUCTS,
        api_key: str | None = None,
        *,
        clock: Clock = time.time,
        balance: float = DEFAULT_BALANCE,
        hang_seconds: float = 30.0,
    ) -> None:
        super().__init__(clock=clock, hang_seconds=hang_seconds)
        self.products: dict[int, SimProduct] = {p.kinguin_id: p.model_copy() for p in products}
        self.api_key = api_key
        self._balance = balance
        self.orders: dict[str, SimOrder] = {}
        self._dispatches: dict[int, str] = {}
        self._issued_codes: set[str] = set()
        self._next_order_id = FIRST_ORDER_ID
        self._next_dispatch_id = FIRST_DISPATCH_ID
        # False: order lines get the catalogue name whatever the request's `name` said (the
        # seed leaves open whether the API keeps it), so only the search tells orders apart
        self.keeps_line_names = True

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/v1/order/dispatch/keys", self.endpoint(self._keys))
        app.router.add_post("/v1/order/dispatch", self.endpoint(self._dispatch))
        app.router.add_post("/v1/order", self.endpoint(self._place_order))
        app.router.add_get("/v1/order", self.endpoint(self._search_orders))
        app.router.add_get("/v1/order/{orderId}", self.endpoint(self._get_order))
        app.router.add_get("/v1/products/{kinguinId}", self.endpoint(self._get_product))

    def auth_error(self, request: web.Request) -> ApiError | None:
        if self.api_key is None:
            return None
        given = {request.headers.get("api-ecommerce-auth"), request.headers.get("X-Api-Key")}
        if self.api_key in given:
            return None
        return error(401, 401, "Invalid authentication data.")

    def bad_json(self) -> ApiError:
        return invalid("Request body must be JSON")

    # ----------------------------------------------------------------- steering

    @property
    def balance(self) -> float:
        """What is left to spend (refunds of orders that failed meanwhile included)."""
        for order in self.orders.values():
            self._observe(order)
        return self._balance

    @balance.setter
    def balance(self, value: float) -> None:
        self._balance = value

    @property
    def orders_created(self) -> int:
        return len(self.orders)

    def set_price(self, kinguin_id: int, price: float) -> None:
        self.products[kinguin_id].price = price

    def set_stock(self, kinguin_id: int, qty: int) -> None:
        self.products[kinguin_id].qty = qty

    def set_key_type(self, kinguin_id: int, key_type: KeyType) -> None:
        self.products[kinguin_id].key_type = key_type

    def set_outcome(
        self, kinguin_id: int, outcome: Outcome, pending_seconds: float | None = None
    ) -> None:
        """Change the outcome (and optionally the pending time) of orders created from now."""
        product = self.products[kinguin_id]
        product.outcome = outcome
        if pending_seconds is not None:
            product.pending_seconds = pending_seconds

    def order(self, order_id: str | int) -> SimOrder:
        order = self.orders[str(order_id)]
        self._observe(order)
        return order

    def orders_for(self, kinguin_id: int) -> list[SimOrder]:
        """Orders with a line of ``kinguin_id``, oldest first."""
        found = [o for o in self.orders.values() if o.has_product(kinguin_id)]
        for order in found:
            self._observe(order)
        return found

    # ----------------------------------------------------------------- endpoints

    async def _place_order(self, request: web.Request, body: Any) -> web.Response:
        req = parse_body(PlaceOrderRequest, body)
        lines: list[SimOrderLine] = []
        wanted: dict[int, int] = {}
        short = False
        for item in req.products:
            product = self.products.get(item.kinguin_id)
            if product is None:
                raise error(
                    400,
                    "ProductUnavailable",
                    f"Unable to find any offer matching order request criteria "
                    f"(kinguinId {item.kinguin_id}).",
                )
            too_cheap = round(item.price, 2) < round(product.price, 2)
            short = short or too_cheap
            wanted[product.kinguin_id] = wanted.get(product.kinguin_id, 0) + item.qty
            lines.append(
                SimOrderLine(
                    kinguin_id=product.kinguin_id,
                    product_id=product.product_id,
                    qty=item.qty,
                    name=(item.name if self.keeps_line_names else None) or product.name,
                    price=round(item.price if too_cheap else product.price, 2),
                    requested_price=item.price,
                )
            )
        used = [self.products[kinguin_id] for kinguin_id in wanted]
        short = short or any(wanted[p.kinguin_id] > p.qty for p in used)
        total = round(sum(line.price * line.qty for line in lines), 2)
        if total > round(self._balance, 2):
            raise error(
                400,
                "InsufficientBalance",
                "There are not enough funds to place an order "
                f"(total {total:.2f} EUR, balance {self._balance:.2f} EUR).",
            )
        outcome = order_outcome(used, short)
        order = self._commit(lines, total, outcome, max(p.pending_seconds for p in used))
        if outcome == "completed":
            for product in used:
                product.qty -= wanted[product.kinguin_id]
        return web.json_response({"orderId": order.order_id}, status=201)

    def _commit(
        self, lines: list[SimOrderLine], total: float, outcome: Outcome, pending: float
    ) -> SimOrder:
        now = self.clock()
        order = SimOrder(
            order_id=str(self._next_order_id),
            products=lines,
            total_price=total,
            created_at=now,
            due_at=now + pending,
            final_status=outcome,
            clock=self.clock,
        )
        self._next_order_id += 1
        self._balance -= total
        self.orders[order.order_id] = order
        logger.info(
            "order %s created: %s, total %.2f EUR, balance left %.2f EUR",
            order.order_id,
            ", ".join(f"{line.qty} x {line.kinguin_id}" for line in lines),
            total,
            self._balance,
        )
        self._observe(order)
        return order

    async def _get_order(self, request: web.Request, body: Any) -> dict[str, Any]:
        return order_object(self._order(request.match_info["orderId"]))

    async def _dispatch(self, request: web.Request, body: Any) -> web.Response:
        order = self._order(parse_body(DispatchRequest, body).order_id)
        order.dispatch_calls += 1
        if order.dispatch_id is not None:
            logger.info(
                "order %s: dispatched again (call %s), same dispatch %s",
                order.order_id,
                order.dispatch_calls,
                order.dispatch_id,
            )
            return web.json_response({"dispatchId": order.dispatch_id}, status=201)
        status = order.status
        if status == "pending":
            raise invalid(f"Order {order.order_id} is pending and cannot be dispatched yet.")
        if status != "processing":
            raise error(400, "OrderFailed", f"Order {order.order_id} is {status} and has no keys.")
        order.dispatch_id = self._next_dispatch_id
        order.dispatched_at = self.clock()
        self._next_dispatch_id += 1
        self._dispatches[order.dispatch_id] = order.order_id
        for line in order.products:
            key_type = self.products[line.kinguin_id].key_type
            for _ in range(line.qty):
                serial = self._new_serial(key_type)
                order.key_items.append(SimKey(serial, key_type, line.name, line.kinguin_id))
        logger.info(
            "order %s dispatched: dispatch %s, %s keys",
            order.order_id,
            order.dispatch_id,
            len(order.key_items),
        )
        self._observe(order)
        return web.json_response({"dispatchId": order.dispatch_id}, status=201)

    async def _keys(self, request: web.Request, body: Any) -> list[dict[str, Any]]:
        raw = request.query.get("dispatchId", "")
        if not raw.strip().isdigit():
            raise invalid("Query parameter dispatchId must be an integer.")
        order_id = self._dispatches.get(int(raw))
        if order_id is None:
            raise error(404, "OrderNotFound", f"Dispatch {int(raw)} not found.")
        return [
            {"serial": k.serial, "type": k.type, "name": k.name, "kinguinId": k.kinguin_id}
            for k in self.orders[order_id].key_items
        ]

    async def _search_orders(self, request: web.Request, body: Any) -> dict[str, Any]:
        return search(self.orders.values(), request.query, self._observe)

    async def _get_product(self, request: web.Request, body: Any) -> dict[str, Any]:
        raw = request.match_info["kinguinId"]
        product = self.products.get(int(raw)) if raw.isdigit() else None
        if product is None:
            raise error(404, "ProductNotFound", f"Product {raw} not found.")
        return product.product_object()

    # ----------------------------------------------------------------- helpers

    def _order(self, order_id: str) -> SimOrder:
        order = self.orders.get(order_id.strip())
        if order is None:
            raise error(404, "OrderNotFound", f"Order {order_id} not found.")
        self._observe(order)
        return order

    def _observe(self, order: SimOrder) -> None:
        """Log a status change the first time it is noticed and give back the money of a
        failed order (never logs a key)."""
        status, _ = note_status(logger, order)
        if status in FINAL_FAILURES and not order.refunded:
            order.refunded = True
            self._balance += order.total_price
            logger.info(
                "order %s: %.2f EUR given back, balance %.2f EUR",
                order.order_id,
                order.total_price,
                self._balance,
            )

    def _new_serial(self, key_type: KeyType) -> str:
        code = unique_code(self._issued_codes)
        return code if key_type == "text/plain" else b64(key_image(key_type, code))
