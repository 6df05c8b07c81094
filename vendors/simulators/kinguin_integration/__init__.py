"""Kinguin's older integration API (``https://api2.kinguin.net/integration``) as a simulator.

An aiohttp server speaking the wire protocol of seed 002 (order API ``v1``): place an
order, dispatch it, download the keys of a dispatch, get one order, search orders. The
sim serves the routes at its root (``/v1/order``, ...), where the real API has them under
``/integration``. The bot runs it in-process in sandbox mode; tests steer it through plain
methods (prices, stock, outcomes, balance) and the base class's fault injection.

Interpretations of the seed (it leaves these open):

* Authentication: header ``api-ecommerce-auth`` (``X-Api-Key`` is accepted as an alias,
  as on Kinguin's newer gateway). Errors are a non-2xx status with ``{"code", "message"}``;
  ``code`` is the HTTP status for authentication (401) and otherwise a kind from Kinguin's
  error table: ``ConstraintViolation``, ``ProductUnavailable``, ``InsufficientBalance``,
  ``OrderNotFound``, ``OrderFailed``, and ``ProductNotFound`` (product endpoint).
* ``POST /v1/order``: every ``qty`` 1..9, 1..10 product lines, ``price`` > 0 (the most
  the buyer pays per unit). An unknown ``kinguinId`` is 400 ``ProductUnavailable`` and
  nothing is created. A price below the current price or a stock below the quantity does
  *not* fail the request: the order is created and, after its pending time, ends in
  ``out_of_stock`` ("Out of requested quantity with given price"). A total above the
  balance is 400 ``InsufficientBalance`` and nothing is created. There is no idempotency
  key: repeating a request buys again.
* Money: each line is recorded at the current price when the offered price covers it
  (else at the offered price); the total is charged on creation and given back when the
  order ends ``out_of_stock`` or ``error``. Stock is taken on creation by orders that will
  complete.
* Statuses are lazy, from one injectable clock: ``pending`` for the products' (longest)
  ``pending_seconds``, then ``processing`` (awaits dispatch), ``completed`` once
  dispatched; or ``out_of_stock`` / ``error`` (the product's steerable ``outcome``).
* ``POST /v1/order/dispatch`` (201 ``{"dispatchId": int}``) works on a ``processing``
  order and issues its keys (one per unit); on an already dispatched order it answers the
  same ``dispatchId`` and issues nothing. ``pending`` is 400 ``ConstraintViolation``;
  ``out_of_stock`` / ``error`` is 400 ``OrderFailed``.
* Keys: ``text/plain`` serials look like Steam keys; ``image/*`` serials are base64 images
  (a tiny PNG or GIF built here, or the seed's own JPEG) carrying a distinct code, so every
  key is distinct. ``name`` is the order line's name (the request's ``name``, else the
  catalogue name; with ``keeps_line_names = False`` always the catalogue name).
* ``GET /v1/order`` (search): the "Get orders" example lists an ``error`` order without
  ``orderId`` and with an extra ``product_id`` per line, and the Order Object table marks
  ``orderId`` optional; the search answers exactly that shape (``error`` orders without
  ``orderId``, ``product_id`` on every line). ``GET /v1/order/{orderId}`` answers the
  shape of its own example (always with ``orderId``, no ``product_id``). Filters are
  inclusive; ``createdAtFrom/To`` accept ``Y-m-d``, ``Y-m-d H:i:s``, ``Y-m-dTH:i:s``, with
  or without an offset (naive means UTC); a bare date as ``createdAtTo`` means the end of
  that day. ``name`` is a case-insensitive substring of a line name; ``kinguinId`` and
  ``status`` take comma lists. Bad values are 400 ``ConstraintViolation``; ``limit`` must
  be 1..100 (default 10), ``page`` >= 1. Ties in sorting are broken by order id.
* ``GET /v1/products/{kinguinId}`` is *not* in seed 002: it is a subset of the Product
  Object of Kinguin's products API v1 (kinguinId, productId, name, originalName, platform,
  releaseDate, qty, textQty, price, isPreorder, images.cover), so the shop can read the
  current price and stock.

Keys (serials) are secrets and are never logged.

Modules: ``catalog`` (products, key images), ``orders`` (orders and the Order Object),
``search`` (``GET /v1/order``), ``wire`` (request bodies, errors) and ``server``.
"""

from vendors.simulators.base import Clock
from vendors.simulators.kinguin_integration.catalog import (
    DEFAULT_PENDING_SECONDS,
    DEFAULT_PRODUCTS,
    DEFAULT_STOCK,
    SEED_JPEG,
    SEED_JPEG_BASE64,
    KeyType,
    Outcome,
    SimProduct,
    key_image,
)
from vendors.simulators.kinguin_integration.orders import (
    FINAL_FAILURES,
    STATUSES,
    STORE_ID,
    SimKey,
    SimOrder,
    SimOrderLine,
    Status,
)
from vendors.simulators.kinguin_integration.search import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    SORT_FIELDS,
    parse_utc,
)
from vendors.simulators.kinguin_integration.server import (
    DEFAULT_BALANCE,
    FIRST_DISPATCH_ID,
    FIRST_ORDER_ID,
    KinguinIntegrationSimulator,
)
from vendors.simulators.kinguin_integration.wire import (
    MAX_PRODUCTS,
    MAX_QTY,
    DispatchRequest,
    OrderLineRequest,
    PlaceOrderRequest,
)

__all__ = [
    "DEFAULT_BALANCE",
    "DEFAULT_LIMIT",
    "DEFAULT_PENDING_SECONDS",
    "DEFAULT_PRODUCTS",
    "DEFAULT_STOCK",
    "FINAL_FAILURES",
    "FIRST_DISPATCH_ID",
    "FIRST_ORDER_ID",
    "MAX_LIMIT",
    "MAX_PRODUCTS",
    "MAX_QTY",
    "SEED_JPEG",
    "SEED_JPEG_BASE64",
    "SORT_FIELDS",
    "STATUSES",
    "STORE_ID",
    "Clock",
    "DispatchRequest",
    "KeyType",
    "KinguinIntegrationSimulator",
    "OrderLineRequest",
    "Outcome",
    "PlaceOrderRequest",
    "SimKey",
    "SimOrder",
    "SimOrderLine",
    "SimProduct",
    "Status",
    "key_image",
    "parse_utc",
]
