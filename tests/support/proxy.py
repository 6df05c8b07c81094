"""A round-robin HTTP load balancer for tests: several bot instances behind one webhook URL.

    async with RoundRobinProxy([first.url, second.url]) as proxy:
        await bot.set_webhook(f"{proxy.url}/webhook", secret_token="s3cret")
        ...
        assert proxy.hits == {first.url: 1, second.url: 1}

Each request (method, path, query, headers, body) goes to the next target in turn; a target
that refuses the connection is skipped, as a balancer whose health checks took it out would;
502 when no target answers. ``targets`` may be changed at any time.
"""

from __future__ import annotations

import socket
from collections import Counter
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Self

import aiohttp
from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

# Hop-by-hop headers (RFC 9110 §7.6.1), and the ones aiohttp computes itself.
_NOT_FORWARDED = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)


class RoundRobinProxy:
    def __init__(self, targets: list[str], *, timeout: float = 30.0) -> None:
        self.targets = list(targets)  # base URLs, e.g. "http://127.0.0.1:8080"
        self.hits: Counter[str] = Counter()  # requests each target received
        self.timeout = timeout
        self.url = ""
        self._turn = 0
        self._session: aiohttp.ClientSession | None = None
        self._stack = AsyncExitStack()

    async def __aenter__(self) -> Self:
        # auto_decompress=False: bodies pass through as they are, Content-Encoding and all.
        self._session = aiohttp.ClientSession(auto_decompress=False)
        await self._stack.enter_async_context(self._session)
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self.url = await self._stack.enter_async_context(serve(app))
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._stack.aclose()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        body = await request.read()
        headers = _forwarded(request.headers)
        targets, start = list(self.targets), self._turn
        self._turn += 1
        for index in range(len(targets)):
            target = targets[(start + index) % len(targets)]
            url = URL(target.rstrip("/") + request.raw_path, encoded=True)
            try:
                async with self._session.request(
                    request.method,
                    url,
                    headers=headers,
                    data=body,
                    allow_redirects=False,
                    timeout=aiohttp.ClientTimeout(total=self.timeout),
                ) as upstream:
                    payload = await upstream.read()
            except aiohttp.ClientConnectorError:
                continue  # not listening: the next target
            except (aiohttp.ClientError, TimeoutError) as error:
                self.hits[target] += 1  # it got the request, but gave no (whole) answer
                status = 504 if isinstance(error, TimeoutError) else 502
                return web.Response(status=status, text=f"{target}: {error!r}")
            self.hits[target] += 1
            return web.Response(
                status=upstream.status,
                reason=upstream.reason,
                headers=_forwarded(upstream.headers),
                body=payload,
            )
        return web.Response(status=502, text="Bad Gateway: no target accepted the connection")


def _forwarded(headers: Mapping[str, str]) -> CIMultiDict[str]:
    """The end-to-end headers (every value of a repeated one)."""
    return CIMultiDict((k, v) for k, v in headers.items() if k.lower() not in _NOT_FORWARDED)


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """Run ``app`` on a random loopback port; yields its base URL."""
    runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


def refusing_url() -> str:
    """A loopback URL where nothing listens (connections are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"
