"""G2A simulator: the Export API (buying: products, orders, payment, keys) and, on the same
server, the Import API (selling: token, offers and their jobs, inventory, price
simulations, bestsellers; see ``import_api``, steered through ``G2ASimulator.imports``).

The real Export API lives at ``https://api.g2a.com/v1/...``; this server serves the same
``/v1/...`` paths at its root. With SANDBOX=1 the bot runs it in-process; tests run it
too and steer it through plain methods and the base class's ``fail_next``.

Purchase flow: ``POST /v1/order`` creates an unpaid order (nothing is charged), ``PUT
/v1/order/pay/{id}`` (empty body) charges the balance, ``GET /v1/order/details/{id}``
says ``pending`` until ``paid_at + processing_seconds`` and ``complete`` afterwards, and
``GET /v1/order/key/{id}`` hands the key out exactly once. Order state is computed lazily
from one injectable clock. Keys are secrets and are never logged.

Authentication (checked only when both ``api_hash`` and ``api_key`` are given); any of
three schemes is accepted:

* ``hash`` (the contract's): ``X-API-HASH``, ``X-API-KEY``, ``X-G2A-Timestamp`` (unix
  seconds, at most 300 s off the simulator's clock) and ``X-G2A-Hash`` = hex
  SHA-256(hash + key + timestamp);
* ``sandbox``: ``Authorization: "{hash}, {key}"``;
* ``production``: ``Authorization: "{key}, {sha256hex(key + email + hash)}"`` (only when
  the simulator was given an ``email``).

Errors are ``{"status": "ERROR", "code": ..., "message": ...}``. Codes from the contract:
AUTH01 400 (neither ``Authorization`` nor any ``X-API-*``/``X-G2A-*`` header), AUTH02 401
(credentials, signature or timestamp do not match), AUTH03 401 (``set_ip_blocked``),
AUTH04 401 (``set_method_forbidden``), BR03 429 with ``Retry-After`` (``set_rate_limited``),
ORD02 404, ORD004 400, ORD05 402, ORD03/ORD112/ORD114/ORD121 403, ORD122 502.

Codes the contract leaves open, chosen here (module constants of the same names):

* ``PRODUCT_NOT_FOUND`` = PRD01, 404: unknown product (``GET /v1/products/{id}``, and
  ``POST /v1/order`` for an unknown ``product_id``);
* ``OUT_OF_STOCK`` = ORD01, 400: ordering a product with ``qty`` 0 or ``availableToBuy``
  false;
* ``PRICE_ABOVE_MAX`` = ORD06, 400: the product's ``minPrice`` is above ``max_price``;
* ``ALREADY_PAID`` = ORD07, 400: paying an order whose payment is complete (while the
  payment is still processing the answer is ORD05, 402);
* ``BAD_REQUEST`` = BR01, 400: malformed body or query parameter, unsupported currency,
  or a non-empty body on ``PUT /v1/order/pay/{id}``;
* ``ROUTE_NOT_FOUND`` = NF01, 404: any path the Export API does not have, notably
  ``GET /v1/products/{id}/stock`` and ``POST /v1/products/prices``.

Fault-injection suffixes: besides the base class's "path ends with" rule, a suffix ending in
``/`` also matches the path up to its last segment, so ``fail_next("/v1/order/key/", ...)``
or ``fail_next("/pay/", ...)`` hit ``/v1/order/key/{id}`` and ``/v1/order/pay/{id}``
(the same rule serves ``calls()`` and ``set_method_forbidden``).

Modules: ``catalog`` (products, key PNGs), ``orders``, ``auth`` (the three schemes),
``wire`` (error codes, request body, query parameters) and ``server``; the Import API's
``import_api`` (routes, handlers, steering), ``import_auth`` (``GET /token`` and bearer
tokens), ``import_state`` (tokens, offers, jobs), ``import_market`` (price simulations,
bestsellers) and ``import_wire`` (its codes, bodies and paging).
"""

from vendors.simulators.base import Clock
from vendors.simulators.g2a.auth import TIMESTAMP_TOLERANCE, sha256_hex
from vendors.simulators.g2a.catalog import (
    DEFAULT_PRODUCTS,
    MAX_PAGE,
    PAGE_SIZE,
    KeyKind,
    SimProduct,
    png_for_key,
)
from vendors.simulators.g2a.import_api import ImportApi
from vendors.simulators.g2a.import_auth import TokenCredentials
from vendors.simulators.g2a.import_market import BUSINESS_DISCOUNT, DEFAULT_COMMISSIONS
from vendors.simulators.g2a.import_state import (
    DEFAULT_TOKEN_TTL,
    JobOutcome,
    SimJob,
    SimOffer,
)
from vendors.simulators.g2a.import_wire import (
    COLLECTION_NOT_FOUND,
    IMPORT_PREFIX,
    INVENTORY_NOT_ALLOWED,
    JOB_NOT_FOUND,
    OFFER_EXISTS,
    OFFER_NOT_EDITABLE,
    OFFER_NOT_FOUND,
    OFFER_TYPES,
    TOKEN_PATHS,
    JobStatus,
    OfferType,
)
from vendors.simulators.g2a.orders import OrderStatus, SimOrder
from vendors.simulators.g2a.server import (
    DEFAULT_BALANCE,
    DEFAULT_PAY_DEADLINE,
    EXPORT_PREFIX,
    FIRST_ORDER_ID,
    G2ASimulator,
)
from vendors.simulators.g2a.wire import (
    ALREADY_PAID,
    BAD_REQUEST,
    DATETIME_FORMAT,
    OUT_OF_STOCK,
    PAY_ERRORS,
    PRICE_ABOVE_MAX,
    PRODUCT_NOT_FOUND,
    RATE_LIMITED,
    ROUTE_NOT_FOUND,
    CreateOrderRequest,
    PayErrorCode,
    format_datetime,
)

__all__ = [
    "ALREADY_PAID",
    "BAD_REQUEST",
    "BUSINESS_DISCOUNT",
    "COLLECTION_NOT_FOUND",
    "DATETIME_FORMAT",
    "DEFAULT_BALANCE",
    "DEFAULT_COMMISSIONS",
    "DEFAULT_PAY_DEADLINE",
    "DEFAULT_PRODUCTS",
    "DEFAULT_TOKEN_TTL",
    "EXPORT_PREFIX",
    "FIRST_ORDER_ID",
    "IMPORT_PREFIX",
    "INVENTORY_NOT_ALLOWED",
    "JOB_NOT_FOUND",
    "MAX_PAGE",
    "OFFER_EXISTS",
    "OFFER_NOT_EDITABLE",
    "OFFER_NOT_FOUND",
    "OFFER_TYPES",
    "OUT_OF_STOCK",
    "PAGE_SIZE",
    "PAY_ERRORS",
    "PRICE_ABOVE_MAX",
    "PRODUCT_NOT_FOUND",
    "RATE_LIMITED",
    "ROUTE_NOT_FOUND",
    "TIMESTAMP_TOLERANCE",
    "TOKEN_PATHS",
    "Clock",
    "CreateOrderRequest",
    "G2ASimulator",
    "ImportApi",
    "JobOutcome",
    "JobStatus",
    "KeyKind",
    "OfferType",
    "OrderStatus",
    "PayErrorCode",
    "SimJob",
    "SimOffer",
    "SimOrder",
    "SimProduct",
    "TokenCredentials",
    "format_datetime",
    "png_for_key",
    "sha256_hex",
]
