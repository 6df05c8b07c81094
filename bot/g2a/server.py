"""The dropshipping endpoints G2A calls on the bot's HTTP server (seed 004), each behind a
bearer token from `POST /oauth/token` (bot.g2a.auth). Bodies are validated; a refusal is
G2A's error shape `{status, code, message}` and changes nothing."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.g2a.auth import DropshippingAuth
from bot.g2a.sales import G2ASales, SaleRefused
from bot.runtime.public import read_body
from storage.g2a import Reservation

log = logging.getLogger(__name__)
PREFIX = "/integration-api/v1"
MAX_BODY = 64 * 1024


class ReservationRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    orderId: str = Field(min_length=1, max_length=64)
    productId: str = Field(pattern=r"^[0-9]{1,20}$")
    quantity: int = Field(ge=1, le=100)

    @field_validator("orderId", "productId", mode="before")
    @classmethod
    def _ids_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class DropshippingApi:
    def __init__(self, sales: G2ASales, auth: DropshippingAuth) -> None:
        self._sales = sales
        self._auth = auth

    def routes(self, app: web.Application) -> None:
        self._auth.routes(app)
        guard = self._auth.required
        app.router.add_post(PREFIX + "/reservations", guard(self._reserve))
        app.router.add_post(PREFIX + "/reservations/{id}/confirm", guard(self._confirm))
        app.router.add_get(PREFIX + "/inventory/{order_id}", guard(self._inventory))

    async def _reserve(self, request: web.Request) -> web.Response:
        try:
            body = ReservationRequest.model_validate_json(await read_body(request, MAX_BODY))
        except ValidationError as exc:
            where = ", ".join(".".join(map(str, e["loc"])) or e["type"] for e in exc.errors())
            return _error(400, "BR01", f"invalid request: {where}")
        try:
            reservation = await self._sales.reserve(body.orderId, body.productId, body.quantity)
        except SaleRefused as refused:
            return _refused(refused)
        return web.json_response(_reservation_json(reservation))

    async def _confirm(self, request: web.Request) -> web.Response:
        reservation_id = request.match_info["id"]
        try:
            reservation, ready = await self._sales.confirm(reservation_id)
        except SaleRefused as refused:
            return _refused(refused)
        body = {"reservationId": reservation.id, "status": "confirmed", "stockReady": ready}
        return web.json_response(body, status=200 if ready else 202)

    async def _inventory(self, request: web.Request) -> web.Response:
        order_id = request.match_info["order_id"]
        try:
            stock = await self._sales.inventory(order_id)
        except SaleRefused as refused:
            return _refused(refused)
        body: dict[str, object] = {"orderId": order_id, "stockReady": stock.ready}
        if stock.ready:
            body["keys"] = stock.keys
        return web.json_response(body, headers={"Cache-Control": "no-store"})


def _reservation_json(reservation: Reservation) -> dict[str, object]:
    return {
        "reservationId": reservation.id,
        "orderId": reservation.g2a_order_id,
        "productId": reservation.product_id,
        "quantity": reservation.quantity,
        "status": reservation.state.value,
        "expiresAt": _iso(reservation.expires_at),
        "createdAt": _iso(reservation.created_at),
    }


def _iso(timestamp: float) -> str:
    return (
        datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    )


def _refused(refused: SaleRefused) -> web.Response:
    log.info("g2a: refused (%s): %s", refused.refusal.code, refused)
    return _error(refused.refusal.status, refused.refusal.code, str(refused))


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"status": "ERROR", "code": code, "message": message}, status=status)
