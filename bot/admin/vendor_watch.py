"""Vendor health alerts: a vendor that starts failing is reported once, and once more when
it recovers; a balance under `VENDOR_BALANCE_ALERT_BELOW` is reported once until it is
topped up. Checked by the worker's housekeeping round, in whichever worker runs it: what
has been reported is kept in the database, so a job that moves reports nothing twice."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

from aiogram.utils.i18n import lazy_gettext as __

from bot.orders.notify import Notifier
from storage.flags import FlagRepo
from vendors.base import Vendor

log = logging.getLogger(__name__)
FAILING_AFTER = 5  # calls in a row that failed
RECENT = 600.0  # ... the last of them within this many seconds
BALANCE_EVERY = 300.0  # a balance is a vendor call too: asked this often at most


class VendorWatch:
    def __init__(
        self,
        vendors: Mapping[str, Vendor],
        notifier: Notifier,
        balance_below: float | None = None,
        flags: FlagRepo | None = None,
    ) -> None:
        self._vendors = vendors
        self._notifier = notifier
        self._balance_below = balance_below
        self._flags = flags  # None: remembered in this process only
        self._reported: dict[str, bool] = {}
        self._balance_due = 0.0

    async def check(self) -> None:
        now = time.time()
        balances = self._balance_below is not None and now >= self._balance_due
        if balances:
            self._balance_due = now + BALANCE_EVERY
        for name, vendor in sorted(self._vendors.items()):
            await self._failures(name, vendor, now)
            if balances:
                await self._balance(name, vendor)

    async def _failures(self, name: str, vendor: Vendor, now: float) -> None:
        outcomes = vendor.health.outcomes[-FAILING_AFTER:]
        failing = (
            len(outcomes) == FAILING_AFTER
            and not any(ok for _at, ok in outcomes)
            and outcomes[-1][0] >= now - RECENT
        )
        recovered = bool(outcomes) and outcomes[-1][1]
        if failing and not await self._was(f"failing:{name}"):
            await self._remember(f"failing:{name}", True)
            await self._notifier.alert_admins(
                __("Vendor {vendor} is failing: its last {count} calls failed ({error})."),
                vendor=name,
                count=FAILING_AFTER,
                error=vendor.health.last_error or "-",
            )
        elif recovered and await self._was(f"failing:{name}"):
            await self._remember(f"failing:{name}", False)
            await self._notifier.alert_admins(
                __("Vendor {vendor} has recovered: its calls succeed again."), vendor=name
            )

    async def _balance(self, name: str, vendor: Vendor) -> None:
        try:
            balance = await vendor.balance()
        except Exception as exc:  # reported through the failing check, not here
            log.info("balance of %s unknown: %s", name, exc)
            return
        if balance is None:
            return
        assert self._balance_below is not None
        if balance < self._balance_below and not await self._was(f"low:{name}"):
            await self._remember(f"low:{name}", True)
            await self._notifier.alert_admins(
                __("Vendor {vendor} balance is {balance:.2f}, under {limit:.2f}: top it up."),
                vendor=name,
                balance=balance,
                limit=self._balance_below,
            )
        elif balance >= self._balance_below and await self._was(f"low:{name}"):
            await self._remember(f"low:{name}", False)

    async def _was(self, what: str) -> bool:
        if what not in self._reported and self._flags is not None:
            self._reported[what] = await self._flags.get(f"vendor-watch:{what}") == "1"
        return self._reported.get(what, False)

    async def _remember(self, what: str, reported: bool) -> None:
        self._reported[what] = reported
        if self._flags is not None:
            await self._flags.set(f"vendor-watch:{what}", "1" if reported else "0")
