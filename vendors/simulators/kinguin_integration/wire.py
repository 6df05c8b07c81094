"""The integration API's request bodies and error answers: a non-2xx status with
``{"code", "message"}`` (``code``: the HTTP status for authentication, else a kind from
Kinguin's error table)."""

from __future__ import annotations

from pydantic import Field

from vendors.simulators.base import ApiError, RequestBody, parser

MAX_QTY = 9
MAX_PRODUCTS = 10


class OrderLineRequest(RequestBody):
    kinguin_id: int = Field(alias="kinguinId")
    qty: int = Field(ge=1, le=MAX_QTY)
    price: float = Field(gt=0)
    name: str | None = None


class PlaceOrderRequest(RequestBody):
    products: list[OrderLineRequest] = Field(min_length=1, max_length=MAX_PRODUCTS)


class DispatchRequest(RequestBody):
    order_id: str = Field(alias="orderId", min_length=1)


def error(status: int, code: str | int, message: str) -> ApiError:
    return ApiError(status, {"code": code, "message": message})


def invalid(message: str) -> ApiError:
    return error(400, "ConstraintViolation", message)


parse_body = parser(invalid)
