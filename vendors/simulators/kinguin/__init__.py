"""Kinguin eCommerce API (ESA) simulator: an aiohttp server speaking the vendor's wire protocol.

The real API lives at ``https://gateway.kinguin.net/esa/api``; the simulator serves the same
routes (``/v1/...``, ``/v2/...``) at its root, so a client configured with the simulator's
``base_url`` appends ``/v1/order`` etc. exactly as it would for the gateway.

Served: products (get v1/v2, search), orders (place v1/v2, get, search), keys (v2, paged),
the deprecated dispatch, and the balance. Errors use Kinguin's error object
(``kind``, ``status``, ``title``, ``detail``, ``path``, ``method``, ``trace``, ``timestamp``,
``propertyPath``, ``invalidValue``); a bad API key gets the documented 401 body.

Time is lazy, read from one injectable clock (like the CodeGames simulator): every key of an
order has a delivery (or cancellation) time fixed when the order is placed, keys are
delivered one by one over the product's ``processing_seconds``, and the order's status is
derived from its keys. A pre-order's keys wait (PENDING) until the product is released:
``release_preorder`` or its release time passing.

Like Kinguin, the simulator pushes ``order.status`` webhooks when an order's status changes
(a background task started by ``start``) and ``product.update`` webhooks on request.

Keys are secrets: they are never logged.

Modules: ``catalog`` (products), ``orders`` (orders, keys, key images), ``checks`` (what a
new order must satisfy), ``params`` (query parameters), ``errors`` (the error object),
``webhooks`` (the pusher) and ``server`` (routes, steering, handlers).
"""

from vendors.simulators.base import Clock
from vendors.simulators.kinguin.catalog import (
    DAY,
    DEFAULT_PROCESSING_SECONDS,
    DEFAULT_PRODUCTS,
    DEFAULT_STOCK,
    KeyKind,
    Outcome,
    SimProduct,
)
from vendors.simulators.kinguin.checks import MAX_PRODUCTS_PER_ORDER, MAX_QTY_PER_PRODUCT
from vendors.simulators.kinguin.errors import UNAUTHORIZED_BODY
from vendors.simulators.kinguin.orders import (
    KeyStatus,
    OrderStatus,
    SimKey,
    SimOrder,
    SimOrderLine,
    key_image,
)
from vendors.simulators.kinguin.params import DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT
from vendors.simulators.kinguin.server import API_KEY_HEADERS, DEFAULT_BALANCE, KinguinSimulator
from vendors.simulators.kinguin.webhooks import (
    WEBHOOK_ORDER_STATUS,
    WEBHOOK_PRODUCT_UPDATE,
    WebhookDelivery,
)

__all__ = [
    "API_KEY_HEADERS",
    "DAY",
    "DEFAULT_BALANCE",
    "DEFAULT_PAGE_LIMIT",
    "DEFAULT_PROCESSING_SECONDS",
    "DEFAULT_PRODUCTS",
    "DEFAULT_STOCK",
    "MAX_PAGE_LIMIT",
    "MAX_PRODUCTS_PER_ORDER",
    "MAX_QTY_PER_PRODUCT",
    "UNAUTHORIZED_BODY",
    "WEBHOOK_ORDER_STATUS",
    "WEBHOOK_PRODUCT_UPDATE",
    "Clock",
    "KeyKind",
    "KeyStatus",
    "KinguinSimulator",
    "OrderStatus",
    "Outcome",
    "SimKey",
    "SimOrder",
    "SimOrderLine",
    "SimProduct",
    "WebhookDelivery",
    "key_image",
]
