"""Query parameters as Kinguin reads them; a bad one is a ``ConstraintViolation``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from vendors.simulators.kinguin.errors import constraint

DEFAULT_PAGE_LIMIT = 25
MAX_PAGE_LIMIT = 100


def page(query: Any, name: str, default: int, maximum: int | None, now: float) -> int:
    """A positive whole number (``page``, ``limit``) of at most ``maximum``."""
    raw = query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1 or (maximum is not None and value > maximum):
        limit = f" and lower than or equal {maximum}" if maximum is not None else ""
        raise constraint(name, f"Value must be greater than or equal 1{limit}.", now, raw)
    return value


def paging(query: Any, now: float) -> tuple[int, int]:
    """``page`` and ``limit``, as every listing takes them."""
    return page(query, "page", 1, None, now), page(
        query, "limit", DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT, now
    )


def date(query: Any, name: str, now: float, *, end_of_day: bool = False) -> float | None:
    """Dates as the docs allow: ``Y-m-d``, ``Y-m-d H:i:s``, ``Y-m-dTH:i:s``,
    ``Y-m-dTH:i:s.uZ``, ``Y-m-dTH:i:sP`` (naive dates are UTC); None when not given."""
    raw = query.get(name)
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise constraint(name, "This value is not a valid date.", now, raw) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    if end_of_day and len(raw.strip()) == 10:  # a bare date as upper bound: the whole day
        parsed += timedelta(days=1) - timedelta(microseconds=1)
    return parsed.timestamp()


def yes_no(query: Any, name: str, now: float) -> bool | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    if raw not in ("yes", "no"):
        raise constraint(name, "Allowed values: yes, no.", now, raw)
    return raw == "yes"


def csv(query: Any, name: str) -> list[str]:
    raw = query.get(name) or ""
    return [part.strip() for part in raw.split(",") if part.strip()]
