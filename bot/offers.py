"""Live vendor data for catalog offers: price and availability, with a short cache.

Concurrent requests for the same offer share one vendor call, so a busy shop never
waits longer than one vendor answer and never floods the vendor.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from storage.models import Offer
from vendors.base import OfferNotFound, Vendor, VendorError, VendorOffer

log = logging.getLogger(__name__)
PriceListener = Callable[[str, str, "VendorOffer | None"], Coroutine[Any, Any, None]]


class Availability(StrEnum):
    AVAILABLE = "available"
    SOLD_OUT = "sold_out"  # the vendor does not sell it now, or above our price limit
    UNKNOWN = "unknown"  # the vendor did not answer


@dataclass(frozen=True)
class LiveOffer:
    offer: Offer
    vendor: VendorOffer | None
    availability: Availability

    @property
    def max_units(self) -> int:
        """How many the customer may buy at once now: the catalog's limit, within stock."""
        stock = self.vendor.stock if self.vendor else None
        return max(1, min(self.offer.max_quantity, stock if stock is not None else 10**9))

    @property
    def required_fields(self) -> tuple[str, ...]:
        if self.vendor is None or self.vendor.delivers_key:
            return ()
        return self.vendor.required_fields


@dataclass(frozen=True)
class _Cached:
    expires: float
    value: VendorOffer | None  # None: the vendor says it does not exist


class OfferService:
    def __init__(self, vendors: Mapping[str, Vendor], ttl: float, timeout: float = 8.0) -> None:
        self._vendors = vendors
        self._ttl = ttl
        self._timeout = timeout
        self._cache: dict[tuple[str, str], _Cached] = {}
        self._inflight: dict[tuple[str, str], asyncio.Task[VendorOffer | None]] = {}
        self._listeners: list[PriceListener] = []
        self._told: set[asyncio.Task[None]] = set()

    def on_change(self, listener: PriceListener) -> None:
        """`listener(vendor, offer_id, offer)` runs (in the background) whenever a vendor's
        answer differs from the last one in price or availability (e.g. the G2A margin
        guard)."""
        self._listeners.append(listener)

    async def live(
        self, offer: Offer, *, fresh: bool = False, wait_at_most: float | None = None
    ) -> LiveOffer:
        """The offer as the vendor sells it now; `fresh` skips the cache (before charging).

        A vendor that has not answered within `wait_at_most` gives UNKNOWN, while its answer
        still fills the cache for the next customer."""
        key = (offer.vendor, offer.vendor_offer_id)
        cached = self._cache.get(key)
        if not fresh and cached and cached.expires > time.monotonic():
            return _judge(offer, cached.value)
        try:
            value = await asyncio.wait_for(
                asyncio.shield(self._fetch(key)), wait_at_most or self._timeout
            )
        except (VendorError, TimeoutError) as exc:
            log.warning("offer %s: vendor check failed: %s", offer.sku, exc)
            return LiveOffer(offer, None, Availability.UNKNOWN)
        return _judge(offer, value)

    def last_seen(self, offer: Offer) -> VendorOffer | None:
        """What the vendor last said about `offer`, however old, without asking (e.g. its
        cover for an inline result, where a vendor call per keystroke would be too slow)."""
        cached = self._cache.get((offer.vendor, offer.vendor_offer_id))
        return cached.value if cached else None

    async def refresh(self, vendor: str, offer_ids: Iterable[str]) -> None:
        """A vendor said these changed (a webhook): ask again now, for the next customer."""
        for offer_id in offer_ids:
            key = (vendor, offer_id)
            cached = self._cache.get(key)
            if cached is not None:  # expired, but kept to tell what changed
                self._cache[key] = _Cached(0.0, cached.value)
                self._fetch(key)

    def _fetch(self, key: tuple[str, str]) -> asyncio.Task[VendorOffer | None]:
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.create_task(self._ask_vendor(key))
            self._inflight[key] = task
            task.add_done_callback(lambda done: self._forget(key, done))
        return task

    def _forget(self, key: tuple[str, str], task: asyncio.Task[VendorOffer | None]) -> None:
        self._inflight.pop(key, None)
        if not task.cancelled():
            task.exception()  # retrieved here: a customer who gave up waiting may never ask

    async def _ask_vendor(self, key: tuple[str, str]) -> VendorOffer | None:
        vendor_name, offer_id = key
        try:
            value: VendorOffer | None = await self._vendors[vendor_name].get_offer(offer_id)
        except OfferNotFound:
            value = None
        previous = self._cache.get(key)
        self._cache[key] = _Cached(time.monotonic() + self._ttl, value)
        if previous is None or _moved(previous.value, value):
            for listener in self._listeners:
                told = asyncio.create_task(listener(*key, value))
                self._told.add(told)
                told.add_done_callback(self._heard)
        return value

    def _heard(self, task: asyncio.Task[None]) -> None:
        self._told.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a price listener failed", exc_info=task.exception())


def _moved(old: VendorOffer | None, new: VendorOffer | None) -> bool:
    if old is None or new is None:
        return old is not new
    return (old.price, old.currency, old.available) != (new.price, new.currency, new.available)


def _judge(offer: Offer, value: VendorOffer | None) -> LiveOffer:
    if value is None or not value.available or value.price > offer.max_vendor_price:
        return LiveOffer(offer, value, Availability.SOLD_OUT)
    return LiveOffer(offer, value, Availability.AVAILABLE)
