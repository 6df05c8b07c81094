"""The HTTP server alone: /health for strangers and for the owner's token, /metrics under
the token, /health without a database, and webhooks for unknown vendors."""

from __future__ import annotations

import httpx

from bot.offers import OfferService
from bot.orders.vendor_events import VendorEvents
from bot.runtime.server import HealthSources, HttpServer
from bot.runtime.signals import Signals
from storage import AlertRepo, KeyCipher, OrderRepo

TOKEN = "owner-health-token"


async def test_health_tells_strangers_the_status_alone_and_503_without_the_database(db, tmp_path):
    orders = OrderRepo(db, KeyCipher.from_file(tmp_path / "keys.secret"))
    events = VendorEvents({}, orders, OfferService({}, ttl=1), Signals())
    health = HealthSources("all", db, orders, AlertRepo(db), {}, worker_alive=lambda now: True)
    health.token = TOKEN
    server = HttpServer(health, [events.route])
    url = await server.start("127.0.0.1", 0)
    owner = {"Authorization": f"Bearer {TOKEN}"}
    try:
        async with httpx.AsyncClient(base_url=url) as http:
            stranger = await http.get("/health")
            assert stranger.status_code == 200 and stranger.json() == {"status": "ok"}
            wrong = await http.get("/health", headers={"Authorization": "Bearer guess"})
            assert wrong.json() == {"status": "ok"}
            details = (await http.get("/health", headers=owner)).json()
            assert details["role"] == "all" and details["worker"] is True
            assert details["database"] == {"kind": db.kind, "ok": True}
            assert details["redis"] is None and details["vendors"] == {}

            assert (await http.get("/metrics")).status_code == 401
            metrics = await http.get("/metrics", headers=owner)
            assert metrics.status_code == 200
            assert "storefront_alerts_waiting 0.0" in metrics.text
            assert "storefront_order_step_lag_seconds" in metrics.text

            assert (await http.post("/webhooks/nobody", content=b"{}")).status_code == 404
            await db.close()
            down = await http.get("/health")
        assert down.status_code == 503 and down.json() == {"status": "unavailable"}
    finally:
        await server.stop()
