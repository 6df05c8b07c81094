"""The G2A Export API's wire details: error codes and answers, the order request body,
query parameters and the date format."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Literal, TypeVar

from vendors.simulators.base import ApiError, RequestBody, parser
from vendors.simulators.common import utc

N = TypeVar("N", int, float)
PayErrorCode = Literal["ORD112", "ORD114", "ORD03", "ORD05", "ORD121", "ORD122"]

DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # updated_at and the updatedAt* filters (UTC)

PRODUCT_NOT_FOUND = "PRD01"
OUT_OF_STOCK = "ORD01"
PRICE_ABOVE_MAX = "ORD06"
ALREADY_PAID = "ORD07"
BAD_REQUEST = "BR01"
ROUTE_NOT_FOUND = "NF01"
RATE_LIMITED = "BR03"

# The contract's pay errors: code -> (HTTP status, message).
PAY_ERRORS: dict[str, tuple[int, str]] = {
    "ORD112": (403, "Not enough funds to pay for order"),
    "ORD114": (403, "Payment is too late. Try with another order"),
    "ORD03": (403, "Payment is not ready yet. Try again later"),
    "ORD05": (402, "Payment required or in progress"),
    "ORD121": (403, "G2A PAY limit reached"),
    "ORD122": (502, "Bad Gateway"),
}


class CreateOrderRequest(RequestBody):
    product_id: str
    currency: str = "EUR"
    max_price: float | None = None


def error(status: int, code: str, message: str) -> ApiError:
    """G2A answers errors as ``{"status": "ERROR", "code": ..., "message": ...}``."""
    return ApiError(status, {"status": "ERROR", "code": code, "message": message})


def pay_error(code: str) -> ApiError:
    """One of the contract's pay errors, with its HTTP status and message."""
    status, message = PAY_ERRORS[code]
    return error(status, code, message)


def bad_request(message: str) -> ApiError:
    return error(400, BAD_REQUEST, message)


parse_body = parser(bad_request)


def format_datetime(timestamp: float) -> str:
    return utc(timestamp).strftime(DATETIME_FORMAT)


def int_param(query: Mapping[str, str], name: str) -> int | None:
    return _number(query, name, int, "an integer")


def float_param(query: Mapping[str, str], name: str) -> float | None:
    return _number(query, name, float, "a number")


def _number(query: Mapping[str, str], name: str, kind: Callable[[str], N], what: str) -> N | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        return kind(raw)
    except ValueError:
        raise bad_request(f"{name} must be {what}") from None


def bool_param(query: Mapping[str, str], name: str, default: bool) -> bool:
    raw = query.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise bad_request(f"{name} must be true or false")


def datetime_param(query: Mapping[str, str], name: str) -> int | None:
    """A ``yyyy-mm-dd hh:mm:ss`` (UTC) filter as unix seconds."""
    raw = query.get(name)
    if raw is None:
        return None
    try:
        parsed = datetime.strptime(raw, DATETIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        raise bad_request(f"{name} must look like yyyy-mm-dd hh:mm:ss") from None
    return int(parsed.timestamp())
