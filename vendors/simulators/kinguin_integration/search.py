"""``GET /v1/order`` of the integration simulator: query parameters, filters, sorting."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from vendors.simulators.kinguin_integration.orders import STATUSES, SimOrder, order_object
from vendors.simulators.kinguin_integration.wire import invalid

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
SORT_FIELDS = ("createdAt", "totalPrice", "status")


def search(
    orders: Iterable[SimOrder], query: Any, observe: Callable[[SimOrder], None]
) -> dict[str, Any]:
    """The page of orders asked for (each one ``observe``d) and how many match in all."""
    page = _int_param(query, "page", 1, minimum=1)
    limit = _int_param(query, "limit", DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT)
    sort_by = query.get("sortBy") or "createdAt"
    if sort_by not in SORT_FIELDS:
        raise invalid(f"Invalid sortBy {sort_by!r}: use one of {', '.join(SORT_FIELDS)}.")
    sort_type = (query.get("sortType") or "desc").lower()
    if sort_type not in ("asc", "desc"):
        raise invalid(f"Invalid sortType {sort_type!r}: use asc or desc.")
    filters = _filters(query)
    found = [o for o in orders if _matches(o, filters)]
    for order in found:
        observe(order)

    def sort_key(order: SimOrder) -> tuple[Any, int]:
        value: Any = {
            "createdAt": math.floor(order.created_at),
            "totalPrice": order.total_price,
            "status": order.status,
        }[sort_by]
        return value, int(order.order_id)

    found.sort(key=sort_key, reverse=sort_type == "desc")
    start = (page - 1) * limit
    return {
        "results": [order_object(o, listed=True) for o in found[start : start + limit]],
        "item_count": len(found),
    }


@dataclass(frozen=True)
class _Filters:
    price_from: float | None
    price_to: float | None
    created_from: float | None
    created_to: float | None
    kinguin_ids: frozenset[int] | None
    name: str | None
    statuses: frozenset[str] | None


def _filters(query: Any) -> _Filters:
    kinguin_ids = _csv(query.get("kinguinId"))
    statuses = _csv(query.get("status"))
    if kinguin_ids is not None and not all(v.isdigit() for v in kinguin_ids):
        raise invalid("Query parameter kinguinId must be an integer (or a comma list).")
    if statuses is not None and not statuses <= set(STATUSES):
        unknown = ", ".join(sorted(statuses - set(STATUSES)))
        raise invalid(f"Unknown status {unknown}: use {', '.join(STATUSES)}.")
    name = (query.get("name") or "").strip().casefold()
    return _Filters(
        price_from=_float_param(query, "totalPriceFrom"),
        price_to=_float_param(query, "totalPriceTo"),
        created_from=_date_param(query, "createdAtFrom", end_of_day=False),
        created_to=_date_param(query, "createdAtTo", end_of_day=True),
        kinguin_ids=None if kinguin_ids is None else frozenset(int(v) for v in kinguin_ids),
        name=name or None,
        statuses=None if statuses is None else frozenset(statuses),
    )


def _matches(order: SimOrder, f: _Filters) -> bool:
    created = math.floor(order.created_at)
    return (
        (f.price_from is None or order.total_price >= f.price_from)
        and (f.price_to is None or order.total_price <= f.price_to)
        and (f.created_from is None or created >= f.created_from)
        and (f.created_to is None or created <= f.created_to)
        and (f.kinguin_ids is None or any(map(order.has_product, f.kinguin_ids)))
        and (f.name is None or any(f.name in line.name.casefold() for line in order.products))
        and (f.statuses is None or order.status in f.statuses)
    )


def _csv(raw: str | None) -> set[str] | None:
    if raw is None or not raw.strip():
        return None
    return {part.strip() for part in raw.split(",") if part.strip()}


def _int_param(
    query: Any, name: str, default: int, *, minimum: int, maximum: int | None = None
) -> int:
    raw = (query.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < minimum or (maximum is not None and int(raw) > maximum):
        bounds = f"{minimum}..{maximum}" if maximum is not None else f">= {minimum}"
        raise invalid(f"Query parameter {name} must be an integer {bounds}.")
    return int(raw)


def _float_param(query: Any, name: str) -> float | None:
    raw = (query.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise invalid(f"Query parameter {name} must be a number.") from None
    if not math.isfinite(value):
        raise invalid(f"Query parameter {name} must be a number.")
    return value


_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
# A "+" left unencoded in a query string arrives as a space: "2024-01-01T10:00:00 02:00".
_SPACED_OFFSET = re.compile(r"(.*\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}:?\d{2})")


def parse_utc(raw: str, *, end_of_day: bool = False) -> datetime:
    """A date of the API's query strings as an aware datetime (naive means UTC).

    Accepts ``Y-m-d``, ``Y-m-d H:i:s``, ``Y-m-dTH:i:s``, optionally with an offset
    (``Z``, ``+00:00``, ``+0000``). A bare date is its midnight, or with ``end_of_day`` its
    last second. Raises ``ValueError`` for anything else.
    """
    text = raw.strip()
    spaced = _SPACED_OFFSET.fullmatch(text)
    if spaced:
        text = f"{spaced[1]}+{spaced[2]}"
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if end_of_day and _DATE_ONLY.fullmatch(text):
        value += timedelta(days=1, seconds=-1)
    return value


def _date_param(query: Any, name: str, *, end_of_day: bool) -> float | None:
    raw = (query.get(name) or "").strip()
    if not raw:
        return None
    try:
        return parse_utc(raw, end_of_day=end_of_day).timestamp()
    except ValueError:
        raise invalid(
            f"Query parameter {name} must be a UTC date (Y-m-d, Y-m-d H:i:s or Y-m-dTH:i:s)."
        ) from None
