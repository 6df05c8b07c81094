"""Offer covers for the Mini App, fetched from the vendor by the shop and served from
`/app/covers/<sku>`: same origin for the page's strict CSP, any vendor's scheme, and the
customer's phone never asks a vendor's CDN. Kept a while in this process (a cache: every
replica fills its own)."""

from __future__ import annotations

import time
from collections import OrderedDict

import httpx
from aiohttp import web

from bot.catalog import Catalog
from bot.offers import LiveOffer, OfferService

KEEP_SECONDS = 3600.0
MISSING_SECONDS = 300.0  # a cover the vendor did not give: asked again after this
KEEP_AT_MOST = 500  # covers in memory
MAX_BYTES = 2 * 1024 * 1024


class Covers:
    def __init__(self, catalog: Catalog, offers: OfferService, timeout: float = 5.0) -> None:
        self._catalog = catalog
        self._offers = offers
        self._timeout = timeout
        self._kept: OrderedDict[str, tuple[float, bytes, str]] = OrderedDict()

    def route(self, app: web.Application) -> None:
        app.router.add_get("/app/covers/{sku}", self._serve)

    @staticmethod
    def url_of(live: LiveOffer) -> str | None:
        """Where the page finds the offer's cover (None: the vendor shows none)."""
        has_cover = live.vendor is not None and live.vendor.image_url
        return f"covers/{live.offer.sku}" if has_cover else None

    async def _serve(self, request: web.Request) -> web.Response:
        sku = request.match_info["sku"]
        kept = self._kept.get(sku)
        if kept is None or kept[0] < time.monotonic():
            fetched = await self._fetch(sku)
            # none, too: a stranger asking again and again does not reach the vendor's CDN
            keep = KEEP_SECONDS if fetched else MISSING_SECONDS
            kept = (time.monotonic() + keep, *(fetched or (b"", "")))
            self._kept[sku] = kept
            while len(self._kept) > KEEP_AT_MOST:
                self._kept.popitem(last=False)
        if not kept[1]:
            raise web.HTTPNotFound()
        return web.Response(
            body=kept[1],
            content_type=kept[2],
            headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
        )

    async def _fetch(self, sku: str) -> tuple[bytes, str] | None:
        offer = self._catalog.offer(sku)
        live = await self._offers.live(offer) if offer else None  # the vendor's, cached
        url = live.vendor.image_url if live and live.vendor else None
        if not url or not url.startswith(("https://", "http://")):
            return None
        try:
            async with httpx.AsyncClient(timeout=self._timeout) as http:
                answer = await http.get(url)
        except httpx.HTTPError:
            return None
        kind = answer.headers.get("Content-Type", "").split(";")[0].strip()
        if answer.status_code != 200 or not kind.startswith("image/"):
            return None
        if len(answer.content) > MAX_BYTES:
            return None
        return answer.content, kind
