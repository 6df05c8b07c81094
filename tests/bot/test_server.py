"""The HTTP server alone: /health without a database, and webhooks for unknown vendors."""

from __future__ import annotations

import httpx

from bot.offers import OfferService
from bot.server import HttpServer
from bot.webhooks import VendorEvents
from storage import Database, KeyCipher, OrderRepo


class _Worker:
    def alive(self, now: float) -> bool:
        return True

    def wake(self) -> None:
        pass


async def test_health_is_503_without_the_database_and_unknown_vendors_are_404(tmp_path):
    db = await Database.open(tmp_path / "shop.sqlite3")
    orders = OrderRepo(db, KeyCipher.from_file(tmp_path / "keys.secret"))
    worker = _Worker()
    events = VendorEvents({}, orders, OfferService({}, ttl=1), worker)
    server = HttpServer(events, db, worker, {})
    url = await server.start("127.0.0.1", 0)
    try:
        async with httpx.AsyncClient(base_url=url) as http:
            assert (await http.get("/health")).status_code == 200
            assert (await http.post("/webhooks/nobody", content=b"{}")).status_code == 404
            await db.close()
            down = await http.get("/health")
        assert down.status_code == 503 and down.json()["database"] is False
    finally:
        await server.stop()
