"""G2A's access to the dropshipping endpoints: `POST /oauth/token` on the bot's HTTP server,
asked by the simulated G2A buyer over HTTP, and bearer tokens that expire."""

from __future__ import annotations

import httpx
import pytest
from aiohttp import web

from bot.g2a.auth import TOKEN_SECONDS, DropshippingAuth
from bot.runtime.server import HealthSources, HttpServer
from storage import AlertRepo, Database, KeyCipher, OrderRepo
from vendors.simulators.g2a_buyer import G2ABuyer, Refused

CLIENT_ID, SECRET = "g2a-client", "s3cret-for-g2a"


class Clock:
    now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def served(tmp_path):  # -> (url, auth, clock); untyped like test_server's stubs
    clock = Clock()
    auth = DropshippingAuth(CLIENT_ID, SECRET, clock=clock)

    async def protected(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    def routes(app: web.Application) -> None:
        auth.routes(app)
        app.router.add_get("/integration-api/v1/inventory/{order}", auth.required(protected))

    db = await Database.open(tmp_path / "shop.sqlite3")
    orders = OrderRepo(db, KeyCipher.from_file(tmp_path / "keys.secret"))
    server = HttpServer(HealthSources("bot", db, orders, AlertRepo(db), {}), [routes])
    url = await server.start("127.0.0.1", 0)
    yield url, auth, clock
    await server.stop()
    await db.close()


@pytest.mark.parametrize("credentials", ["body", "basic"])
async def test_g2a_gets_a_token_that_opens_the_endpoints(served, credentials):
    url, _auth, _clock = served
    async with G2ABuyer(url, CLIENT_ID, SECRET, credentials=credentials) as buyer:
        answer = await buyer.request_token()
        assert answer.status == 200 and answer.body.expires_in == TOKEN_SECONDS
        token = answer.body.access_token
    async with httpx.AsyncClient(base_url=url) as http:
        inventory = "/integration-api/v1/inventory/1"
        ok = await http.get(inventory, headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200 and ok.json() == {"ok": True}
        assert (await http.get(inventory)).status_code == 401
        forged = await http.get(inventory, headers={"Authorization": f"Bearer {token[:-4]}AAAA"})
        assert forged.status_code == 401 and forged.json()["error"] == "invalid_token"


async def test_wrong_credentials_and_grants_get_no_token(served):
    url, _auth, _clock = served
    async with G2ABuyer(url, CLIENT_ID, "wrong") as buyer:
        with pytest.raises(Refused):
            await buyer.request_token()
    async with httpx.AsyncClient(base_url=url) as http:
        wrong = await http.post(
            "/oauth/token", data={"grant_type": "password", "client_id": CLIENT_ID}
        )
        assert wrong.status_code == 400 and wrong.json()["error"] == "unsupported_grant_type"
        nobody = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "client_id": "x", "client_secret": SECRET},
        )
        assert nobody.status_code == 401 and nobody.json()["error"] == "invalid_client"
        assert SECRET not in nobody.text


async def test_tokens_expire_and_another_secret_revokes_them(served):
    _url, auth, clock = served
    token = auth.issue(CLIENT_ID, SECRET)
    assert token is not None and auth.accepts(f"Bearer {token}")
    assert not auth.accepts(f"Basic {token}") and not auth.accepts(None)
    clock.now += TOKEN_SECONDS + 1
    assert not auth.accepts(f"Bearer {token}")
    other = DropshippingAuth(CLIENT_ID, "a new secret", clock=clock)
    assert not other.accepts(f"Bearer {auth.issue(CLIENT_ID, SECRET)}")
    replica = DropshippingAuth(CLIENT_ID, SECRET, clock=clock)  # another replica
    assert replica.accepts(f"Bearer {auth.issue(CLIENT_ID, SECRET)}")
