"""What a customer does, step by step, and how the tests wait for the bot to react."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

from storage import Order, OrderRepo, OrderState
from tests.support.fake_telegram import FakeGroup, FakeTelegram, FakeUser, SentMessage

ADMIN_CHAT = -100500  # the shop_env's ADMIN_CHAT_ID
OWNER, OPERATOR, MEMBER = 9001, 9002, 9003  # in admin_group: OWNER_IDS must name OWNER


async def eventually(check: Callable[[], Any], within: float = 10.0) -> Any:
    """The first truthy result of `check`, polled every 50 ms."""
    for _ in range(int(within / 0.05)):
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        await asyncio.sleep(0.05)
    raise AssertionError(f"not true within {within}s: {check}")


def _to(user: FakeUser) -> Callable[[Any], bool]:
    return lambda call: call.params.get("chat_id") == user.id


async def open_offer(tg: FakeTelegram, user: FakeUser, category: str, title: str) -> None:
    mark = await user.send("/start")
    await tg.wait_for("sendMessage", where=_to(user), since=mark)
    mark = await user.press(category)
    await tg.wait_for("editMessageText", where=_to(user), since=mark)
    mark = await user.press(lambda button: button["text"].startswith(title))
    await tg.wait_for("editMessageText", where=_to(user), since=mark)


async def buy_now(tg: FakeTelegram, user: FakeUser) -> None:
    mark = await user.press(lambda button: button["text"].startswith("🛒"))
    await tg.wait_for("sendInvoice", where=_to(user), since=mark)


async def invoice_for(tg: FakeTelegram, user: FakeUser, category: str, title: str) -> SentMessage:
    """Browse to an offer without fields and press Buy: the invoice the bot sends."""
    await open_offer(tg, user, category, title)
    await buy_now(tg, user)
    return user.last_invoice()


async def paid_order(tg: FakeTelegram, user: FakeUser, category: str, title: str) -> str:
    """Buy and pay an offer without fields; returns our order id."""
    invoice = await invoice_for(tg, user, category, title)
    assert (await user.pay(invoice)).params["ok"] is True
    assert invoice.invoice is not None
    return invoice.invoice.payload


async def settled(orders: OrderRepo, order_id: str, state: OrderState) -> Order:
    """The order once it reached `state` (the bot commits right after its last Bot API call)."""

    async def reached() -> Order | None:
        order = await orders.get(order_id)
        return order if order is not None and order.state is state else None

    order: Order = await eventually(reached)
    return order


async def wait_text(tg: FakeTelegram, user: FakeUser, needle: str, since: int = 0) -> str:
    call = await tg.wait_for(
        "sendMessage",
        where=lambda c: c.params.get("chat_id") == user.id and needle in c.params.get("text", ""),
        since=since,
    )
    return str(call.params["text"])


def messages_with(tg: FakeTelegram, user: FakeUser, needle: str) -> int:
    return sum(needle in c.params.get("text", "") for c in tg.calls_of("sendMessage", user.id))


async def started(tg: FakeTelegram, bot_process: Any, **env: str) -> None:
    """Start `python -m bot` and wait until it long-polls."""
    mark = tg.mark()
    bot_process.start(**env)
    try:
        await tg.wait_for("getUpdates", since=mark, timeout=30)
    except AssertionError as exc:  # say why it did not start
        raise AssertionError(f"{exc}\nbot output:\n{bot_process.output()[-3000:]}") from None


def admin_group(tg: FakeTelegram) -> FakeGroup:
    """The admin group: the owner created it, an operator administers, a member reads."""
    group = tg.group(ADMIN_CHAT, "Shop admins")
    group.set_member(tg.user(OWNER), "creator")
    group.set_member(tg.user(OPERATOR), "administrator")
    group.set_member(tg.user(MEMBER), "member")
    return group


async def reply_in(tg: FakeTelegram, group: FakeGroup, since: int, needle: str = "") -> str:
    """The bot's next message in `group` containing `needle`."""
    call = await tg.wait_for(
        "sendMessage",
        where=lambda c: c.params["chat_id"] == group.id and needle in c.params["text"],
        since=since,
    )
    return str(call.params["text"])


def put_up(tg: FakeTelegram, call: Any) -> SentMessage:
    """The message a sendMessage or editMessageText call showed, as it is now."""
    message_id = call.params.get("message_id") or call.result["message_id"]
    return tg.messages[(call.params["chat_id"], message_id)]


def shows(user: FakeUser, wanted: Callable[[str], bool]) -> Callable[[Any], bool]:
    """A Bot API call that put a message with a button `wanted` into the user's chat (and
    worked: Telegram answered it)."""

    def matches(call: Any) -> bool:
        rows = (call.params.get("reply_markup") or {}).get("inline_keyboard", [])
        buttons = [button.get("text", "") for row in rows for button in row]
        return (
            call.params.get("chat_id") == user.id
            and call.result is not None
            and any(wanted(b) for b in buttons)
        )

    return matches
