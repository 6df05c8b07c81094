"""The bot's HTTP server (aiohttp): vendor webhooks and a health check. Later work puts
Telegram webhooks and metrics here too."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

from aiohttp import web

from bot.webhooks import VendorEvents
from bot.worker import Worker
from storage.db import Database
from vendors.base import Vendor, WebhookRefused

log = logging.getLogger(__name__)
MAX_WEBHOOK_BYTES = 1024 * 1024


class HttpServer:
    def __init__(
        self,
        events: VendorEvents,
        db: Database,
        worker: Worker,
        vendors: Mapping[str, Vendor],
    ) -> None:
        self._events = events
        self._db = db
        self._worker = worker
        self._vendors = vendors
        self._runner: web.AppRunner | None = None

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_WEBHOOK_BYTES)
        app.router.add_post("/webhooks/{vendor}", self._webhook)
        app.router.add_get("/health", self._health)
        return app

    async def start(self, host: str, port: int) -> str:
        runner = web.AppRunner(self.app(), access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        self._runner = runner
        bound = runner.addresses[0]
        log.info("HTTP server on %s:%s (webhooks, /health)", bound[0], bound[1])
        return f"http://{bound[0]}:{bound[1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _webhook(self, request: web.Request) -> web.Response:
        vendor = request.match_info["vendor"]
        try:
            await self._events.receive(vendor, request.headers, await request.read())
        except WebhookRefused as refused:
            log.warning("webhook %s refused (%s): %s", vendor, refused.status, refused)
            return web.Response(status=refused.status)
        return web.Response(status=204)  # Kinguin: any 2xx with an empty body

    async def _health(self, request: web.Request) -> web.Response:
        now = time.time()
        try:
            await self._db.fetchone("SELECT 1")
            database = True
        except Exception:
            log.exception("health: the database does not answer")
            database = False
        vendors = {
            name: {
                "last_success": vendor.health.last_success,
                "last_error_at": vendor.health.last_error_at,
            }
            for name, vendor in sorted(self._vendors.items())
        }
        body = {
            "database": database,
            "worker": self._worker.alive(now),
            "vendors": vendors,
        }
        return web.json_response(body, status=200 if database else 503)
