"""What every vendor simulator shares: an aiohttp server on 127.0.0.1, a request log, fault
injection, and request-body parsing that answers a malformed request the vendor's way.

A simulator subclasses `SimulatorServer`, registers its routes in `routes()`, and raises
`ApiError(status, body)` from its handlers; `handle` turns that into the vendor's error
answer. Its state is lazy over one injectable clock (`self.clock`). Tests steer a simulator
through plain methods and `fail_next`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, Protocol, Self, TypeVar

from aiohttp import web
from multidict import CIMultiDict
from pydantic import BaseModel, ConfigDict, ValidationError

Clock = Callable[[], float]
FaultKind = Literal["500", "garbled", "timeout", "disconnect", "429", "slow"]
Handler = Callable[[web.Request, Any], Awaitable[Any]]
GARBLED_FALLBACK = b'{"orderId": 10502, "sta'
_M = TypeVar("_M", bound=BaseModel)


class ApiError(Exception):
    """A vendor's error answer: an HTTP status and the JSON body the vendor would send."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.body = body


def parse(model: type[_M], body: Any, error: Callable[[str], ApiError]) -> _M:
    """Validate a request body; a mistake becomes the vendor's own 400 answer."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}"
            for err in exc.errors()
        )
        raise error(f"Invalid request: {problems}") from None


class Parser(Protocol):
    def __call__(self, model: type[_M], body: Any) -> _M: ...


def parser(error: Callable[[str], ApiError]) -> Parser:
    """`parse` with a vendor's own 400 answer: `_parse = parser(_bad_request)`."""

    def bound(model: type[_M], body: Any) -> _M:
        return parse(model, body, error)

    return bound


class RequestBody(BaseModel):
    """A request body as the vendors read it: unknown fields ignored, numbers taken as text."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)


class NotJson:
    """Marker for a request body that is not valid JSON (kept as text in the log)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"<not json: {self.text[:60]!r}>"


def decode(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return NotJson(raw.decode("utf-8", "replace"))


@dataclass
class _Fault:
    suffix: str
    kind: FaultKind
    remaining: int
    after_commit: bool
    method: str | None


@dataclass
class _Chaos:
    rate: float
    kinds: tuple[FaultKind, ...]
    lost_share: float
    chance: random.Random

    def draw(self) -> _Fault | None:
        if self.chance.random() >= self.rate:
            return None
        kind = self.chance.choice(self.kinds)
        after_commit = kind != "429" and self.chance.random() < self.lost_share
        return _Fault("", kind, 1, after_commit, None)


@dataclass(frozen=True)
class Recorded:
    """One request as the simulator received it (for tests: what the client sent)."""

    method: str
    path: str
    query: dict[str, str]
    headers: Mapping[str, str]  # case-insensitive, as HTTP's are
    body: Any
    at: float = 0.0  # when it arrived (wall clock): for rate checks


class SimulatorServer:
    """Lifecycle, request log and fault injection; subclasses add the vendor's routes."""

    name = "simulator"

    def __init__(
        self, *, clock: Clock = time.time, hang_seconds: float = 30.0, retry_after: int = 1
    ) -> None:
        self.clock = clock  # every lazy state (order statuses, deadlines) is read from it
        self.hang_seconds = hang_seconds
        self.retry_after = retry_after  # seconds announced by an injected 429
        self.base_url: str | None = None
        self.log: list[Recorded] = []
        self._faults: list[_Fault] = []
        self._chaos: _Chaos | None = None
        self.injected: Counter[str] = Counter()  # faults injected, by kind ("lost" after commit)
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()
        self._logger = logging.getLogger(f"vendors.simulators.{self.name}")

    # ----------------------------------------------------------------- for subclasses

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def auth_error(self, request: web.Request) -> ApiError | None:
        """The vendor's answer to a request with wrong credentials (None: accepted)."""
        return None

    def error_answer(self, error: ApiError) -> web.Response:
        return web.json_response(error.body, status=error.status)

    def bad_json(self) -> ApiError:
        return ApiError(400, {"message": "Request body must be JSON"})

    def endpoint(self, handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """Wrap a handler `(request, body) -> JSON-able | web.Response` with the log,
        authentication, fault injection and error answers."""

        async def serve(request: web.Request) -> web.StreamResponse:
            body = decode(await request.read())
            self.log.append(
                Recorded(
                    request.method,
                    request.path,
                    dict(request.query),
                    CIMultiDict(request.headers),
                    body,
                    time.time(),
                )
            )
            refused = self.auth_error(request)
            if refused is not None:
                return self.error_answer(refused)
            fault = self._take_fault(request)
            if fault is not None and not fault.after_commit:
                return await self._inject(request, fault.kind, None)
            try:
                if isinstance(body, NotJson):
                    raise self.bad_json()
                result = await handler(request, body)
                response = result if isinstance(result, web.Response) else _json(result)
            except ApiError as err:
                response = self.error_answer(err)
            if fault is not None:
                return await self._inject(request, fault.kind, response)
            return response

        return serve

    # ----------------------------------------------------------------- lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        if self._runner is not None:
            raise RuntimeError("simulator already started")
        app = web.Application(client_max_size=4 * 1024 * 1024)
        self.routes(app)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        self._runner = runner
        self._stopping = asyncio.Event()
        bound_host, bound_port = runner.addresses[0][:2]
        self.base_url = f"http://{bound_host}:{bound_port}"
        self._logger.info("%s simulator listening on %s", self.name, self.base_url)
        return self.base_url

    async def stop(self) -> None:
        if self._runner is None:
            return
        self._stopping.set()
        runner, self._runner = self._runner, None
        await runner.cleanup()
        self._logger.info("%s simulator on %s stopped", self.name, self.base_url)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ----------------------------------------------------------------- steering

    def calls(self, path_suffix: str = "", method: str | None = None) -> list[Recorded]:
        """Requests received whose path ends with `path_suffix` (and of `method`)."""
        return [
            r
            for r in self.log
            if matches_suffix(r.path, path_suffix) and (method is None or r.method == method)
        ]

    def fail_next(
        self,
        path_suffix: str,
        kind: FaultKind,
        times: int = 1,
        *,
        after_commit: bool = False,
        method: str | None = None,
    ) -> None:
        """Break the next `times` requests whose path ends with `path_suffix`.

        Kinds: "500", "garbled" (half a JSON body), "timeout" (hang), "disconnect" (drop
        the connection), "429" (Too Many Requests with Retry-After), "slow" (answer after
        `hang_seconds`). With `after_commit` the request is processed first (e.g. the
        order is created and charged) and only the answer is broken: a lost answer.
        """
        self._faults.append(_Fault(path_suffix, kind, times, after_commit, method))

    def heal(self) -> None:
        """Forget the faults not injected yet and stop any chaos: every request is answered
        normally again."""
        self._faults.clear()
        self._chaos = None

    def chaos(
        self,
        rate: float,
        kinds: tuple[FaultKind, ...] = ("500", "garbled", "timeout", "disconnect", "429"),
        *,
        lost_share: float = 0.3,
        seed: int | None = None,
    ) -> None:
        """Break about `rate` of all requests from now on, each with a random kind; of those,
        `lost_share` after the vendor acted (the answer lost after the commit). Counted in
        `injected`. Planned faults (`fail_next`) go first."""
        self._chaos = _Chaos(rate, kinds, lost_share, random.Random(seed))

    # ----------------------------------------------------------------- plumbing

    def _take_fault(self, request: web.Request) -> _Fault | None:
        fault = self._planned_fault(request)
        if fault is None and self._chaos is not None:
            fault = self._chaos.draw()
        if fault is not None:
            self.injected["lost" if fault.after_commit else fault.kind] += 1
        return fault

    def _planned_fault(self, request: web.Request) -> _Fault | None:
        for fault in self._faults:
            if matches_suffix(request.path, fault.suffix) and fault.method in (
                None,
                request.method,
            ):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    async def _inject(
        self, request: web.Request, kind: FaultKind, response: web.Response | None
    ) -> web.StreamResponse:
        self._logger.info("injecting fault %s on %s", kind, request.path)
        if kind == "500":
            return web.json_response({"message": "Internal Server Error"}, status=500)
        if kind == "429":
            return web.json_response(
                {"message": "Too Many Requests"},
                status=429,
                headers={"Retry-After": str(self.retry_after)},
            )
        if kind == "garbled":
            full = response.body if response is not None else None
            text = full[: len(full) // 2] if isinstance(full, bytes) and full else GARBLED_FALLBACK
            return web.Response(body=text, content_type="application/json")
        if kind in ("timeout", "slow"):
            await self._hang()
            return response or web.json_response({"message": "Gateway Timeout"}, status=504)
        if request.transport is not None:  # "disconnect": drop the connection, answer nothing
            request.transport.abort()
        return web.Response(status=500)  # never reaches the client

    async def _hang(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), self.hang_seconds)


def matches_suffix(path: str, suffix: str) -> bool:
    """`path` ends with `suffix`, or `suffix` ends with "/" and the path without its last
    segment ends with it ("/v1/order/key/" matches "/v1/order/key/17")."""
    if path.endswith(suffix):
        return True
    return suffix.endswith("/") and path[: path.rfind("/") + 1].endswith(suffix)


def _json(result: Any) -> web.Response:
    return web.json_response(result)
