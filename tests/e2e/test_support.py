"""/support through the real bot: a customer writes (text, screenshots), the admin group
sees it (a forum topic per customer, or a message naming them in a plain group), and an
admin's answer goes back, photos both ways; plain members and other chats reach nobody."""

from __future__ import annotations

import asyncio

import pytest

from storage import FlagRepo, OrderState, UserRepo
from storage.flags import MAINTENANCE
from tests.e2e.flows import paid_order, settled, wait_text

ADMIN_CHAT = -100500
OWNER, OPERATOR, MEMBER = 9001, 9002, 9003
SCREENSHOT = b"\x89PNG customer screenshot"
ANSWER = b"\x89PNG how to redeem"


@pytest.fixture
def shop_env(shop_env):
    return shop_env | {"OWNER_IDS": str(OWNER)}


def admin_group(tg, is_forum: bool):
    group = tg.group(ADMIN_CHAT, "Shop admins", is_forum=is_forum)
    group.set_member(tg.user(OWNER), "creator")
    group.set_member(tg.user(OPERATOR), "administrator")
    group.set_member(tg.user(MEMBER), "member")
    return group


@pytest.fixture
def forum(tg):
    return admin_group(tg, is_forum=True)


@pytest.fixture
def plain(tg):
    return admin_group(tg, is_forum=False)


def copied_to(chat_id: int):
    return lambda call: call.params["chat_id"] == chat_id


def sent_by(tg, call):
    """The message a copyMessage call created."""
    return tg.messages[(call.params["chat_id"], call.result["message_id"])]


async def open_support(tg, customer) -> None:
    mark = await customer.send("/support")
    await wait_text(tg, customer, "Write your message", since=mark)


async def nothing_reaches(tg, customer, member, group, **where) -> None:
    """`member` writes in the admin group: the bot checks who they are, and passes nothing."""
    before = len(customer.messages())
    mark = await member.send("psst, customer", chat=group, **where)
    await tg.wait_for("getChatMember", where=lambda c: c.params["user_id"] == member.id, since=mark)
    await asyncio.sleep(0.3)
    assert len(customer.messages()) == before


async def test_a_forum_topic_per_customer_with_photos_both_ways(tg, forum, shop):
    customer = tg.user(5101, first_name="Anna", username="anna")
    await open_support(tg, customer)
    mark = await customer.send_photo("the key does not work", data=SCREENSHOT)
    call = await tg.wait_for("copyMessage", where=copied_to(ADMIN_CHAT), since=mark)
    thread = call.params["message_thread_id"]
    assert forum.topics[thread] == "Anna (@anna) · 5101"
    intro, screenshot = forum.messages(thread)  # who writes, then what they sent
    assert intro.text is not None and "Anna (@anna) · 5101" in intro.text
    assert "No orders yet" in intro.text and "Write in this topic" in intro.text
    assert screenshot.photo == SCREENSHOT and screenshot.text == "the key does not work"
    await wait_text(tg, customer, "Sent to our team", since=mark)

    mark = await customer.send("order #AB12, Elden Ring")  # the same topic, no second one
    await tg.wait_for("copyMessage", where=copied_to(ADMIN_CHAT), since=mark)
    assert forum.texts(thread)[-1] == "order #AB12, Elden Ring"
    assert len(tg.calls_of("createForumTopic")) == 1

    operator = tg.user(OPERATOR)
    mark = await operator.send_photo("redeem it here", chat=forum, thread_id=thread, data=ANSWER)
    answer = sent_by(tg, await tg.wait_for("copyMessage", where=copied_to(customer.id), since=mark))
    assert answer.photo == ANSWER
    assert answer.text is not None and answer.text.startswith("💬 Support:")
    assert "redeem it here" in answer.text
    assert answer.button_texts() == ["✍️ Reply"]

    mark = await tg.user(OWNER).send("Solved? Tell us.", chat=forum, thread_id=thread)
    assert "Solved? Tell us." in await wait_text(tg, customer, "Support:", since=mark)

    await nothing_reaches(tg, customer, tg.user(MEMBER), forum, thread_id=thread)
    mark = await operator.send("/vendors", chat=forum, thread_id=thread)  # a command stays
    await tg.wait_for("sendMessage", where=copied_to(ADMIN_CHAT), since=mark)
    assert not any("/vendors" in text for text in customer.texts())


async def test_a_plain_group_names_the_customer_and_replies_answer(tg, plain, shop, orders):
    customer = tg.user(5102, first_name="Boris")
    order_id = await paid_order(tg, customer, "Gift cards", "Steam Wallet 5 USD")
    await settled(orders, order_id, OrderState.DELIVERED)

    await open_support(tg, customer)
    mark = await customer.send_photo(data=SCREENSHOT)  # a screenshot without a caption
    await tg.wait_for("copyMessage", where=copied_to(ADMIN_CHAT), since=mark)
    header, screenshot = plain.messages()[-2:]
    assert header.text is not None
    assert "Boris · 5102" in header.text
    assert order_id[:8].upper() in header.text and "Steam Wallet 5 USD" in header.text
    assert "delivered" in header.text
    assert screenshot.photo == SCREENSHOT and screenshot.thread_id is None
    assert tg.calls_of("createForumTopic") == []
    await wait_text(tg, customer, "Sent to our team", since=mark)  # remembered for replies

    operator = tg.user(OPERATOR)
    mark = await operator.send_photo("this one?", chat=plain, reply_to=screenshot, data=ANSWER)
    answer = sent_by(tg, await tg.wait_for("copyMessage", where=copied_to(customer.id), since=mark))
    assert answer.photo == ANSWER and answer.text == "💬 Support:\nthis one?"

    mark = await tg.user(OWNER).send("All good now.", chat=plain, reply_to=header)
    await wait_text(tg, customer, "All good now.", since=mark)

    await nothing_reaches(tg, customer, tg.user(MEMBER), plain, reply_to=header)
    before = len(customer.messages())
    mark = await operator.send("just chatting", chat=plain)  # not a reply: stays in the group
    await tg.wait_for("getUpdates", since=mark)
    await asyncio.sleep(0.3)
    assert len(customer.messages()) == before


async def test_done_or_another_command_ends_support_mode(tg, forum, shop):
    customer = tg.user(5103)
    await open_support(tg, customer)
    mark = await customer.press("✅ Done")
    await wait_text(tg, customer, "Thank you", since=mark)
    mark = await customer.send("elden")  # a search again, not a support message
    await wait_text(tg, customer, "Found for", since=mark)

    await open_support(tg, customer)
    mark = await customer.send("/orders")
    await tg.wait_for("sendMessage", where=copied_to(customer.id), since=mark)
    mark = await customer.send("elden")
    await wait_text(tg, customer, "Found for", since=mark)
    assert tg.calls_of("copyMessage") == []

    mark = await customer.send("/start")  # the menu has a way in too
    await tg.wait_for("sendMessage", where=copied_to(customer.id), since=mark)
    mark = await customer.press("💬 Support")
    await wait_text(tg, customer, "Write your message", since=mark)
    mark = await customer.send("/cancel")
    await wait_text(tg, customer, "Thank you", since=mark)


async def test_banned_customers_and_maintenance_still_reach_support(tg, forum, shop, orders):
    customer = tg.user(5104)
    await UserRepo(orders._db).set_banned(customer.id, True)
    await FlagRepo(orders._db).set(MAINTENANCE, "on")
    await open_support(tg, customer)
    mark = await customer.send("why was I banned?")
    await tg.wait_for("copyMessage", where=copied_to(ADMIN_CHAT), since=mark)
    assert "why was I banned?" in forum.texts()


async def test_a_deleted_topic_is_opened_again_and_a_blocked_customer_is_reported(tg, forum, shop):
    customer = tg.user(5105, first_name="Cleo")
    await open_support(tg, customer)
    mark = await customer.send("hello")
    first = await tg.wait_for("copyMessage", where=copied_to(ADMIN_CHAT), since=mark)
    del forum.topics[first.params["message_thread_id"]]  # an admin deleted the topic

    mark = await customer.send("anyone?")
    await tg.wait_for("createForumTopic", since=mark)
    again = await tg.wait_for(
        "copyMessage", where=lambda c: c.params["chat_id"] == ADMIN_CHAT and not c.error, since=mark
    )
    [gone] = [c for c in tg.calls_of("copyMessage", ADMIN_CHAT)[1:] if c.error]
    assert "message thread not found" in gone.error
    thread = again.params["message_thread_id"]
    assert forum.topics[thread] == "Cleo · 5105" and forum.texts(thread)[1:] == ["anyone?"]

    tg.block(customer.id)
    mark = await tg.user(OPERATOR).send("we are here", chat=forum, thread_id=thread)
    notice = await tg.wait_for("sendMessage", where=copied_to(ADMIN_CHAT), since=mark)
    assert "blocked the bot" in notice.params["text"]
    assert notice.params.get("message_thread_id") == thread
