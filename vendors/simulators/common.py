"""Small helpers more than one simulator uses: UTC time as text, key codes, and logging an
order's status change. What a vendor puts on the wire stays in that vendor's own module.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime
from typing import Protocol, TypeVar

KEY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to mix up

S = TypeVar("S", bound=str)


def utc(timestamp: float) -> datetime:
    """A clock time (unix seconds) as an aware UTC datetime."""
    return datetime.fromtimestamp(timestamp, UTC)


def iso(timestamp: float, timespec: str = "seconds") -> str:
    """``2020-10-28T08:40:44+00:00`` (``timespec="milliseconds"``: ``...08:40:44.025+00:00``)."""
    return utc(timestamp).isoformat(timespec=timespec)


def unique_code(
    issued: set[str], *, groups: int = 3, length: int = 5, prefix: str | None = None
) -> str:
    """A random key code such as ``ABCDE-FGHJK-LMNPQ`` (``groups`` groups of ``length``
    characters, after ``prefix`` if given) not in ``issued``, which it is added to."""
    while True:
        parts = [
            "".join(secrets.choice(KEY_ALPHABET) for _ in range(length)) for _ in range(groups)
        ]
        code = "-".join(parts if prefix is None else [prefix, *parts])
        if code not in issued:
            issued.add(code)
            return code


class TracksStatus(Protocol[S]):
    """An order whose status is derived from the clock and whose last logged one is kept."""

    logged_status: S

    @property
    def order_id(self) -> object: ...

    @property
    def status(self) -> S: ...


def note_status(logger: logging.Logger, order: TracksStatus[S]) -> tuple[S, bool]:
    """The order's status now, and whether it changed since it was last noted; a change is
    logged (the order's id and statuses only: never a key)."""
    status = order.status
    if status == order.logged_status:
        return status, False
    logger.info("order %s: %s -> %s", order.order_id, order.logged_status, status)
    order.logged_status = status
    return status, True
