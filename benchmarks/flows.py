"""What a benchmark customer does: open an offer by deep link, buy, pay; wait for the key."""

from __future__ import annotations

import statistics
from collections.abc import Iterable

from tests.support.fake_telegram import Call, FakeTelegram, FakeUser


async def buy(tg: FakeTelegram, user: FakeUser, sku: str) -> str:
    """Our order id, once the invoice is paid."""

    def mine(call: Call) -> bool:
        return call.params.get("chat_id") == user.id

    mark = await user.send(f"/start offer-{sku}")
    await tg.wait_for("sendMessage", where=mine, since=mark, timeout=60)
    mark = await user.press(lambda button: button["text"].startswith("🛒"))
    await tg.wait_for("sendInvoice", where=mine, since=mark, timeout=60)
    answer = await user.pay()
    assert answer.params["ok"], answer.params
    invoice = user.last_invoice().invoice
    assert invoice is not None
    return invoice.payload


async def key_message(tg: FakeTelegram, user: FakeUser) -> Call:
    def is_key(call: Call) -> bool:
        return call.params.get("chat_id") == user.id and "Your key" in call.params.get("text", "")

    return await tg.wait_for("sendMessage", where=is_key, timeout=120)


def spread(values: Iterable[float]) -> str:
    """min, median, p90 and max of some durations (seconds), for a benchmark's line."""
    ordered = sorted(values)
    return (
        f"min {ordered[0]:.3f}  median {statistics.median(ordered):.3f}  "
        f"p90 {ordered[int(0.9 * (len(ordered) - 1))]:.3f}  max {ordered[-1]:.3f}"
    )
