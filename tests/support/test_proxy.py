"""Tests of the round-robin load balancer used in front of several bot instances."""

from __future__ import annotations

import aiohttp
from aiohttp import web

from .fake_webhook import SECRET_HEADER
from .proxy import RoundRobinProxy, refusing_url, serve


def target(name: str) -> web.Application:
    """Answers 201 with what it received, and its name in a header."""

    async def handle(request: web.Request) -> web.Response:
        body = await request.read()
        received = {
            "method": request.method,
            "path_qs": request.path_qs,
            "secret": request.headers.get(SECRET_HEADER),
            "body": body.decode(),
        }
        return web.json_response(received, status=201, headers={"X-Served-By": name})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


async def test_proxy_forwards_requests_to_the_targets_in_turn() -> None:
    async with (
        serve(target("a")) as a,
        serve(target("b")) as b,
        RoundRobinProxy([a, b]) as proxy,
        aiohttp.ClientSession() as http,
    ):
        served_by = []
        for n in range(4):
            async with http.put(
                f"{proxy.url}/hook/{n}?x=1&y=%20",
                data=b'{"update_id": 7}',
                headers={SECRET_HEADER: "s3cr3t"},
            ) as response:
                assert response.status == 201
                served_by.append(response.headers["X-Served-By"])
                assert await response.json() == {
                    "method": "PUT",
                    "path_qs": f"/hook/{n}?x=1&y=%20",
                    "secret": "s3cr3t",
                    "body": '{"update_id": 7}',
                }
    assert served_by == ["a", "b", "a", "b"]
    assert proxy.hits == {a: 2, b: 2}


async def test_proxy_skips_targets_that_refuse_connections() -> None:
    dead = refusing_url()
    async with (
        serve(target("a")) as a,
        serve(target("b")) as b,
        RoundRobinProxy([a, dead, b]) as proxy,
        aiohttp.ClientSession() as http,
    ):
        statuses = []
        for _ in range(4):
            async with http.post(f"{proxy.url}/hook", json={}) as response:
                statuses.append(response.status)
        assert statuses == [201] * 4
        assert proxy.hits == {a: 2, b: 2}  # the dead target's turn went to the next one

        proxy.targets = [dead]
        async with http.post(f"{proxy.url}/hook", json={}) as response:
            assert response.status == 502
        proxy.targets = [dead, b]  # back in rotation
        async with http.post(f"{proxy.url}/hook", json={}) as response:
            assert response.headers["X-Served-By"] == "b"
    assert dead not in proxy.hits and proxy.hits[b] == 3
