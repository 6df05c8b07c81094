"""The background worker loop: lease due orders, run their steps concurrently, refund stray
payments, cancel expired invoices. Several workers (processes or machines) can share one
database: an order step is leased to one of them at a time, and each housekeeping job runs
in one worker per round (a job lease), moving to another when that one dies."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from bot.orders.fulfillment import Fulfillment
from bot.orders.reconcile import PaymentReconciler
from bot.runtime import process_name
from storage.leases import LeaseRepo
from storage.orders import OrderRepo
from storage.payments import StrayPaymentRepo
from vendors.pace import background

log = logging.getLogger(__name__)
JOB_LEASE_SECONDS = 300.0  # a housekeeping job of a worker that died is free again after this
STRAYS_EVERY = 1.0  # seconds between looks for payments to refund


@dataclass(frozen=True)
class Chore:
    """A housekeeping job: `shared` ones run once a round for the whole shop (in whichever
    worker takes the job's lease); the others in every process (a cache refresh)."""

    name: str
    run: Callable[[], Awaitable[object]]
    shared: bool = True


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
        chores: Sequence[Chore] = (),
        leases: LeaseRepo | None = None,
    ) -> None:
        self._orders = orders
        self._strays = strays
        self._fulfillment = fulfillment
        self._idle = idle
        self._housekeeping = housekeeping
        self._lease = lease_seconds
        self._concurrency = concurrency
        self._pushing_vendors = pushing_vendors  # whose webhooks a restart may have missed
        self._chores = [
            Chore("stars-ledger", reconciler.run),
            Chore("invoice-expiry", lambda: orders.cancel_stale_unpaid(invoice_ttl)),
            *chores,  # more housekeeping: vendor health, the catalog...
        ]
        self._leases = leases  # None: this is the shop's only worker
        self._rest = housekeeping * 0.9  # a job rests this long after a run, in any worker
        self._owner = process_name()
        self._wake = asyncio.Event()
        self._last_round = 0.0
        self._running: dict[asyncio.Task[None], str] = {}  # step -> its order

    def add_chore(self, chore: Chore) -> None:
        self._chores.append(chore)

    def alive(self, now: float) -> bool:
        """Has the loop come round lately (for /health)?"""
        return now - self._last_round < max(30.0, 3 * self._idle)

    def wake(self) -> None:
        """Something became due now (a payment arrived): do not wait for the next round."""
        self._wake.set()

    async def run(self) -> None:
        with background():  # customers' vendor calls go first (vendors.pace)
            await self._run()

    async def _run(self) -> None:
        log.info("worker %s started", self._owner)
        try:
            await self._after_start()
        except Exception:  # e.g. the database restarts: the rounds catch up
            log.exception("worker start-up checks failed; going on")
        next_housekeeping = next_strays = 0.0
        renewing = asyncio.create_task(self._renew_leases(), name="lease-renewal")
        try:
            while True:
                self._wake.clear()
                self._last_round = time.time()
                if time.monotonic() >= next_housekeeping:
                    await self._tidy_up()
                    next_housekeeping = time.monotonic() + self._housekeeping
                try:
                    started = await self._start_due_steps()
                    if time.monotonic() >= next_strays:  # not once per step: a backlog of
                        next_strays = time.monotonic() + STRAYS_EVERY  # polls runs many
                        for payment in await self._strays.due(self._concurrency, self._lease):
                            await self._fulfillment.refund_stray(payment)
                except Exception:  # the worker must outlive a bad order or a database blip
                    log.exception("worker round failed")
                    started = 0
                if not started:
                    await self._sleep()
        finally:
            renewing.cancel()
            for task in self._running:
                task.cancel()
            await asyncio.gather(renewing, *self._running, return_exceptions=True)

    async def _after_start(self) -> None:
        if self._leases is not None:  # a crash may have lost something: look at once
            await self._leases.due_now([self._job(c.name) for c in self._chores if c.shared])
        if self._pushing_vendors:
            woken = await self._orders.due_now(self._pushing_vendors)
            if woken:
                log.info("%s open orders of push vendors checked after the start", woken)

    async def _tidy_up(self) -> None:
        """Recover payments whose update was lost, expire unpaid invoices, and the other
        chores (at start, then every `housekeeping` seconds); a failing chore never stops
        the order steps or the other chores."""
        for chore in self._chores:
            try:
                if chore.shared and not await self._take_job(chore.name):
                    continue  # another worker runs it, or ran it lately
                try:
                    await chore.run()
                finally:
                    if chore.shared and self._leases is not None:
                        job = self._job(chore.name)
                        await self._leases.release(job, self._owner, rest=self._rest)
            except Exception:
                log.exception("housekeeping %s failed; trying again later", chore.name)

    async def _take_job(self, name: str) -> bool:
        if self._leases is None:
            return True
        return await self._leases.take(self._job(name), self._owner, JOB_LEASE_SECONDS)

    @staticmethod
    def _job(name: str) -> str:
        return f"job:{name}"

    async def _start_due_steps(self) -> int:
        free = self._concurrency - len(self._running)
        if free <= 0:
            return 0
        claimed = await self._orders.claim_due(self._owner, lease_seconds=self._lease, limit=free)
        for order in claimed:
            task = asyncio.create_task(self._fulfillment.guarded_step(order))
            self._running[task] = order.id
            task.add_done_callback(self._step_done)
        return len(claimed)

    def _step_done(self, task: asyncio.Task[None]) -> None:
        self._running.pop(task, None)
        self._wake.set()  # a slot is free, and the order's next step may be due at once

    async def _renew_leases(self) -> None:
        """While a step runs, its order's lease is renewed: only a worker that stopped (or
        stalled for a whole lease) loses its orders to another worker."""
        while True:
            await asyncio.sleep(self._lease / 3)
            try:
                await self._orders.renew_leases(
                    self._owner, list(self._running.values()), self._lease
                )
            except Exception:
                log.exception("renewing order leases failed; trying again")

    async def _sleep(self) -> None:
        """Until a step may be started: a slot frees up (a step ends and wakes us), an order
        becomes due, or something is pushed; at most the idle time."""
        due = None
        if len(self._running) < self._concurrency:  # else only a finished step matters
            try:
                due = await self._orders.next_due_at()
            except Exception:  # the database is away: look again after the idle time
                log.warning("worker: the database does not answer; waiting")
        delay = self._idle if due is None else min(self._idle, max(0.0, due - time.time()))
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
        # that races a wake-up (a webhook), and the worker would then never stop
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await self._wake.wait()
