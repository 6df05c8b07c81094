"""The background worker loop: lease due orders, run their steps concurrently, refund stray
payments, cancel expired invoices. Several workers (processes or machines) can share one
database: an order step is leased to one of them at a time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Sequence

from bot.fulfillment import Fulfillment
from bot.reconcile import PaymentReconciler
from storage.orders import OrderRepo
from storage.payments import StrayPaymentRepo

log = logging.getLogger(__name__)


class Worker:
    def __init__(
        self,
        orders: OrderRepo,
        strays: StrayPaymentRepo,
        fulfillment: Fulfillment,
        reconciler: PaymentReconciler,
        *,
        idle: float,
        housekeeping: float,
        lease_seconds: float,
        invoice_ttl: float,
        concurrency: int = 16,
        pushing_vendors: tuple[str, ...] = (),
        chores: Sequence[Callable[[], Awaitable[object]]] = (),
    ) -> None:
        self._orders = orders
        self._strays = strays
        self._fulfillment = fulfillment
        self._reconciler = reconciler
        self._idle = idle
        self._housekeeping = housekeeping
        self._lease = lease_seconds
        self._invoice_ttl = invoice_ttl
        self._concurrency = concurrency
        self._pushing_vendors = pushing_vendors  # whose webhooks a restart may have missed
        self._chores = list(chores)  # more housekeeping: vendor health, the catalog...
        self._owner = f"{socket.gethostname()}:{os.getpid()}"
        self._wake = asyncio.Event()
        self._last_round = 0.0
        self._running: set[asyncio.Task[None]] = set()

    def add_chore(self, chore: Callable[[], Awaitable[object]]) -> None:
        self._chores.append(chore)

    def alive(self, now: float) -> bool:
        """Has the loop come round lately (for /health)?"""
        return now - self._last_round < max(30.0, 3 * self._idle)

    def wake(self) -> None:
        """Something became due now (a payment arrived): do not wait for the next round."""
        self._wake.set()

    async def run(self) -> None:
        log.info("worker %s started", self._owner)
        if self._pushing_vendors:
            woken = await self._orders.due_now(self._pushing_vendors)
            if woken:
                log.info("%s open orders of push vendors checked after the start", woken)
        next_housekeeping = 0.0
        try:
            while True:
                self._wake.clear()
                self._last_round = time.time()
                if time.monotonic() >= next_housekeeping:
                    await self._tidy_up()
                    next_housekeeping = time.monotonic() + self._housekeeping
                try:
                    started = await self._start_due_steps()
                    for payment in await self._strays.due(limit=self._concurrency):
                        await self._fulfillment.refund_stray(payment)
                except Exception:  # the worker must outlive a bad order or a database blip
                    log.exception("worker round failed")
                    started = 0
                if not started:
                    await self._sleep()
        finally:
            for task in self._running:
                task.cancel()
            await asyncio.gather(*self._running, return_exceptions=True)

    async def _tidy_up(self) -> None:
        """Recover payments whose update was lost, expire unpaid invoices (at start, then
        every `housekeeping` seconds); a failure here never stops the order steps."""
        try:
            await self._reconciler.run()
        except Exception:
            log.exception("reading the Stars ledger failed; trying again later")
        try:
            await self._orders.cancel_stale_unpaid(self._invoice_ttl)
        except Exception:
            log.exception("expiring unpaid invoices failed; trying again later")
        for chore in self._chores:
            try:
                await chore()
            except Exception:
                log.exception("housekeeping chore %s failed; trying again later", chore)

    async def _start_due_steps(self) -> int:
        free = self._concurrency - len(self._running)
        if free <= 0:
            return 0
        claimed = await self._orders.claim_due(self._owner, lease_seconds=self._lease, limit=free)
        for order in claimed:
            task = asyncio.create_task(self._fulfillment.guarded_step(order))
            self._running.add(task)
            task.add_done_callback(self._step_done)
        return len(claimed)

    def _step_done(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._wake.set()  # a slot is free, and the order's next step may be due at once

    async def _sleep(self) -> None:
        due = await self._orders.next_due_at()
        delay = self._idle if due is None else min(self._idle, max(0.0, due - time.time()))
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
        # that races a wake-up (a webhook), and the worker would then never stop
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await self._wake.wait()
