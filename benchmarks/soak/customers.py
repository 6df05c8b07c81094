"""What the soak's customers do: buy through the chat's buttons like a person would (and
try again when the shop did not answer: a killed process, a Telegram error), pay in
Stars, and, on G2A, buy through the dropshipping endpoints. Each purchase is recorded for
the verdict."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.e2e.flows import put_up, shows
from tests.support.fake_telegram import Call, FakeTelegram, FakeUser, SentMessage
from vendors.simulators.g2a_buyer import G2ABuyer, new_order_id

log = logging.getLogger(__name__)
STEP_WAIT = 25.0  # a step the shop did not answer within this is tried again
ATTEMPTS = 8


@dataclass(frozen=True)
class Offer:
    category: str
    title: str
    vendor: str
    quantity: int = 1
    player_id: bool = False  # a top-up: the vendor needs the customer's player ID


# what the chat customers buy, round robin: every vendor, text and image keys, top-ups,
# quantities, a partial delivery (credit), a pre-order
CHAT_OFFERS = (
    Offer("Gift cards", "Steam Wallet 5 USD", "codegames"),
    Offer("PUBG Mobile", "PUBG Mobile 60 UC", "codegames", player_id=True),
    Offer("PC games", "Counter-Strike: Source", "kinguin", quantity=2),
    Offer("PC games", "Minecraft", "kinguin"),
    Offer("PC games", "Stardew Valley", "kinguin", quantity=3),  # 1 of 3 comes: credit
    Offer("Classic games", "Anno 1602", "kinguin-integration", quantity=2),
    Offer("Classic games", "Aliens", "kinguin-integration"),  # image keys
    Offer("PC games", "Terraria", "g2a"),
    Offer("PC games", "Cyberpunk 2077", "g2a"),
    Offer("PC games", "Hades II", "kinguin"),  # a pre-order, released near the end
)
AFTER_CREDIT = Offer("Gift cards", "Steam Wallet 5 USD", "codegames")  # paid partly by credit


@dataclass
class Purchase:
    """One paid purchase, as the customer (or G2A) saw it."""

    channel: str  # "telegram" or "g2a"
    vendor: str
    user_id: int
    order_id: str | None = None  # ours: the invoice payload (Telegram)
    g2a_order_id: str | None = None
    quantity: int = 1
    payment_lost: bool = False  # Telegram took the Stars; the update never came
    blocked: bool = False  # the customer blocked the bot right after paying
    keys: list[str] = field(default_factory=list)  # what G2A's buyer collected


class Customers:
    def __init__(self, tg: FakeTelegram, chance: random.Random) -> None:
        self._tg = tg
        self._chance = chance
        self.purchases: list[Purchase] = []
        self.gave_up = 0  # purchases the customer abandoned (the shop kept failing)

    async def buy(
        self, user: FakeUser, offer: Offer, *, lose_payment: bool = False, block: bool = False
    ) -> Purchase | None:
        for attempt in range(ATTEMPTS):
            try:
                invoice = await self._to_invoice(user, offer)
                paid = await self._pay(user, invoice, lose_payment)
            except Exception as exc:  # no answer in time (a killed process, a Telegram error)
                log.info("customer %s: %r, again (%s)", user.id, exc, offer.title)
                await asyncio.sleep(1 + attempt)
                continue
            if paid is None:
                await asyncio.sleep(1 + attempt)
                continue
            purchase = Purchase(
                "telegram",
                offer.vendor,
                user.id,
                order_id=paid,
                quantity=offer.quantity,
                payment_lost=lose_payment,
                blocked=block,
            )
            if block:
                self._tg.block(user.id)
            self.purchases.append(purchase)
            return purchase
        self.gave_up += 1
        return None

    async def buy_on_g2a(self, buyer: G2ABuyer, product_id: str, quantity: int) -> Purchase:
        """G2A's buyer: reserve, confirm, collect the keys (trying again as G2A does)."""
        order_id = new_order_id()
        purchase = Purchase("g2a", "kinguin", 0, g2a_order_id=order_id, quantity=quantity)
        for attempt in range(ATTEMPTS * 3):
            try:
                bought = await buyer.buy(product_id, quantity, order_id=order_id, within=120)
            except Exception as exc:  # a killed replica, a refusal while the source is down
                log.info("g2a buyer: %s, again", exc)
                await asyncio.sleep(1 + attempt % 5)
                continue
            purchase.keys = list(bought.keys)
            break
        self.purchases.append(purchase)
        return purchase

    async def _to_invoice(self, user: FakeUser, offer: Offer) -> SentMessage:
        """From /start to the invoice, each button pressed on the message that showed it."""
        tg = self._tg
        mark = await user.send("/start")
        menu = await self._wait("sendMessage", shows(user, offer.category.__eq__), mark)
        mark = await user.press(offer.category, message=put_up(tg, menu))
        listed = await self._wait(
            "editMessageText", shows(user, lambda b: b.startswith(offer.title)), mark
        )
        mark = await user.press(
            lambda button: button["text"].startswith(offer.title), message=put_up(tg, listed)
        )
        card = await self._wait("editMessageText", shows(user, _buy_button), mark)
        for _ in range(offer.quantity - 1):
            mark = await user.press("➕", message=put_up(tg, card))
            card = await self._wait("editMessageText", shows(user, _buy_button), mark)
        mark = await user.press(_buy_button_dict, message=put_up(tg, card))
        if offer.player_id:
            await self._wait("sendMessage", _says(user, "player ID"), mark)
            mark = await user.send(str(5_000_000_000 + user.id))
            check = await self._wait("sendMessage", _says(user, "check your order"), mark)
            mark = await user.press(lambda b: b["text"].startswith("✅"), put_up(tg, check))
        await self._wait("sendInvoice", lambda c: c.params["chat_id"] == user.id, mark)
        return user.last_invoice()

    async def _pay(self, user: FakeUser, invoice: SentMessage, lose: bool) -> str | None:
        """Pay: the order id when Telegram took the Stars, None when the shop said no."""
        answer = await user.checkout(invoice)
        await self._settled(answer)
        if answer.error or not answer.params.get("ok"):
            return None  # the shop's answer did not reach Telegram, or it refused
        await user.successful_payment(invoice, deliver=not lose)
        assert invoice.invoice is not None
        return str(invoice.invoice.payload)

    async def _wait(self, method: str, where: Callable[[Call], bool], since: int) -> Call:
        try:
            return await self._tg.wait_for(method, where=where, since=since, timeout=STEP_WAIT)
        except AssertionError:  # the fake's "no matching call": the shop did not answer
            raise TimeoutError from None

    async def _settled(self, call: Call) -> None:
        for _ in range(int(STEP_WAIT / 0.05)):
            if call.result is not None or call.error is not None:
                return
            await asyncio.sleep(0.05)
        raise TimeoutError

    def pick(self, offers: tuple[Offer, ...], n: int) -> Offer:
        return offers[n % len(offers)]


async def show_my_orders(tg: FakeTelegram, user: FakeUser) -> str:
    """The customer's /orders list, as text (after unblocking the bot)."""
    mark = await user.send("/orders")
    call = await tg.wait_for("sendMessage", where=_says(user, ""), since=mark, timeout=STEP_WAIT)
    return str(call.params.get("text", ""))


async def ask_for_key(tg: FakeTelegram, user: FakeUser, order_id: str) -> list[Call]:
    """Open the order in "My orders" and press its Show key button; the messages sent."""
    with contextlib.suppress(AssertionError):  # the fake's "no matching call in time"
        mark = await user.send("/orders")
        listed = await tg.wait_for(
            "sendMessage", where=shows(user, lambda b: True), since=mark, timeout=STEP_WAIT
        )
        short = order_id[:8].upper()
        mark = await user.press(lambda b: short in b["text"], message=put_up(tg, listed))
        card = await tg.wait_for(
            ("editMessageText", "sendMessage"),
            where=shows(user, lambda b: "key" in b.lower()),
            since=mark,
            timeout=STEP_WAIT,
        )
        mark = await user.press(lambda b: "key" in b["text"].lower(), put_up(tg, card))
        await asyncio.sleep(2.0)
        return [c for c in tg.calls[mark:] if c.params.get("chat_id") == user.id]
    return []


def _buy_button(text: str) -> bool:
    return text.startswith("🛒")


def _buy_button_dict(button: dict[str, Any]) -> bool:
    return _buy_button(str(button.get("text", "")))


def _says(user: FakeUser, needle: str) -> Callable[[Call], bool]:
    return lambda c: (
        c.params.get("chat_id") == user.id
        and c.result is not None
        and needle in c.params.get("text", "")
    )
