"""Tests of the fake Bot API server and the customer DSL, driven by a real aiogram Bot."""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
)
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    ChatMemberAdministrator,
    ChatMemberBanned,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberOwner,
    CopyTextButton,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQuery,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LabeledPrice,
    Message,
    PreCheckoutQuery,
)
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from .botapi_schema import BotApiSchema, UploadedFile, load_schema
from .fake_telegram import (
    DEFAULT_TOKEN,
    NEWER_THAN_SCHEMA,
    WEBHOOK_ACTIVE,
    FakeGroup,
    FakeTelegram,
    FakeUser,
    parse_html,
)
from .fake_webhook import SECRET_HEADER
from .proxy import RoundRobinProxy, refusing_url, serve

USER_ID = 1001
GROUP_ID = -1001234567890
BOT_ID = 42
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    bot = tg.make_bot()
    yield bot
    await bot.session.close()


@pytest.fixture
def ann(tg: FakeTelegram) -> FakeUser:
    return tg.user(USER_ID, first_name="Ann")


@pytest.fixture
def schema() -> BotApiSchema:
    return load_schema()


async def run_polling(bot: Bot, router: Router, body: Callable[[], Awaitable[None]]) -> None:
    """Run ``body`` while a Dispatcher with ``router`` long-polls the fake server."""
    dp = Dispatcher()
    dp.include_router(router)
    polling = asyncio.create_task(dp.start_polling(bot, handle_signals=False))
    try:
        await body()
    finally:
        await dp.stop_polling()
        await asyncio.wait_for(polling, 5)


def keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text="Buy ⭐ 50", callback_data="buy:7")],
            [
                InlineKeyboardButton(text="Copy key", copy_text=CopyTextButton(text="AAAA-BBBB")),
                InlineKeyboardButton(text="Site", url="https://example.com"),
            ],
        ]
    )


def dump(markup: InlineKeyboardMarkup) -> dict[str, Any]:
    return markup.model_dump(exclude_none=True)


async def send_invoice(bot: Bot, payload: str = "order:17", amount: int = 350) -> Message:
    return await bot.send_invoice(
        USER_ID,
        title="Elden Ring key",
        description="Steam key",
        payload=payload,
        currency="XTR",
        prices=[LabeledPrice(label="Key", amount=amount)],
    )


def assert_results_match_schema(tg: FakeTelegram, schema: BotApiSchema) -> None:
    for call in tg.calls:
        method = schema.method(call.method)
        if call.error is None and method is not None:
            result = without_newer_fields(call.result)
            assert schema.validate_value(method.returns, result, call.method) == []


def without_newer_fields(value: Any) -> Any:
    """``value`` without the fields of Bot API versions after the schema's (see
    NEWER_THAN_SCHEMA: aiogram requires them)."""
    if isinstance(value, dict):
        return {k: without_newer_fields(v) for k, v in value.items() if k not in NEWER_THAN_SCHEMA}
    if isinstance(value, list):
        return [without_newer_fields(item) for item in value]
    return value


# -- schema ------------------------------------------------------------------------------------


def test_schema_coerces_form_strings(schema: BotApiSchema) -> None:
    decoded = schema.decode_call(
        "sendMessage",
        {
            "chat_id": "1001",
            "text": "hi",
            "disable_notification": "true",
            "reply_markup": '{"inline_keyboard": [[{"text": "a", "callback_data": "x"}]]}',
        },
    )
    assert decoded.errors == []
    assert decoded.value["chat_id"] == 1001
    assert decoded.value["disable_notification"] is True
    assert decoded.value["reply_markup"]["inline_keyboard"][0][0]["text"] == "a"
    assert schema.decode_call("sendMessage", {"chat_id": "@shop", "text": "x"}).errors == []


@pytest.mark.parametrize(
    ("method", "params", "expected"),
    [
        ("sendMesage", {}, "sendMesage: unknown method"),
        ("sendMessage", {"chat_id": "1"}, "sendMessage.text: required field is missing"),
        ("sendMessage", {"chat_id": "1", "text": "x", "colour": "red"}, "unknown parameter"),
        ("sendMessage", {"chat_id": 1.5, "text": "x"}, "chat_id: matches none"),
        ("getUpdates", {"timeout": "1.5"}, "expected Integer, got str '1.5'"),
        (
            "sendMessage",
            {"chat_id": 1, "text": "x", "reply_markup": {"inline_keyboard": [[{"txt": "a"}]]}},
            "inline_keyboard[0][0].txt: unknown field",
        ),
        (
            "setMyCommands",
            {"commands": "[]", "scope": '{"type": "chats", "chat_id": 5}'},
            "scope.type: must be 'chat', got 'chats'",
        ),
        (
            "sendPhoto",
            {"chat_id": 1, "photo": "attach://nope"},
            "attach://nope refers to a missing",
        ),
        ("setWebhook", {"url": "https://x", "certificate": "file-id"}, "expected an uploaded"),
    ],
)
def test_schema_violations(schema: BotApiSchema, method: str, params: Any, expected: str) -> None:
    errors = schema.validate_call(method, params)
    assert any(expected in error for error in errors), errors


def test_schema_unions_and_legacy_fields(schema: BotApiSchema) -> None:
    scope = '{"type": "chat_member", "chat_id": -100, "user_id": 5}'
    assert schema.validate_call("setMyCommands", {"commands": "[]", "scope": scope}) == []
    legacy = {"chat_id": 1, "text": "x", "disable_web_page_preview": "true"}
    assert schema.validate_call("sendMessage", legacy) == []
    rich_text = ["plain", {"type": "bold", "text": "bold"}]
    assert schema.validate_value(["RichText"], rich_text) == []
    upload = UploadedFile("part", "a.png", "image/png", PNG)
    assert schema.validate_call("sendPhoto", {"chat_id": 1, "photo": upload}) == []


# -- sending through a real aiogram Bot --------------------------------------------------------


async def test_send_message_with_keyboard_and_html(
    tg: FakeTelegram, bot: Bot, ann: FakeUser, schema: BotApiSchema
) -> None:
    sent = await bot.send_message(
        USER_ID, "<b>Game</b> &lt;3 <i>x</i>", parse_mode="HTML", reply_markup=keyboard()
    )

    assert tg.violations == []
    assert sent.text == "Game <3 x"
    assert sent.html_text == "<b>Game</b> &lt;3 <i>x</i>"
    assert sent.reply_markup is not None
    assert sent.reply_markup.model_dump(exclude_none=True) == dump(keyboard())
    assert sent.from_user is not None and sent.from_user.username == "storefront_test_bot"
    state = ann.last_message(with_keyboard=True)
    assert state.button_texts() == ["Buy ⭐ 50", "Copy key", "Site"]
    assert ann.texts() == ["Game <3 x"]
    assert tg.calls_of("sendMessage", chat_id=USER_ID)[0].params["parse_mode"] == "HTML"
    assert_results_match_schema(tg, schema)


async def test_default_bot_properties_produce_no_violations(tg: FakeTelegram) -> None:
    props = DefaultBotProperties(parse_mode="HTML", link_preview_is_disabled=True)
    bot = tg.make_bot(default=props)
    try:
        await bot.send_message(USER_ID, "<b>hi</b> https://example.com")
    finally:
        await bot.session.close()
    assert tg.violations == []
    assert tg.calls_of("sendMessage")[0].params["disable_web_page_preview"] is True


async def test_send_invoice_in_stars(
    tg: FakeTelegram, bot: Bot, ann: FakeUser, schema: BotApiSchema
) -> None:
    message = await send_invoice(bot)

    assert tg.violations == []
    assert message.invoice is not None and message.invoice.total_amount == 350
    invoice = ann.last_invoice().invoice
    assert invoice is not None and (invoice.payload, invoice.currency) == ("order:17", "XTR")
    assert_results_match_schema(tg, schema)


async def test_send_photo_upload(tg: FakeTelegram, bot: Bot, ann: FakeUser) -> None:
    photo = BufferedInputFile(PNG, filename="cover.png")
    message = await bot.send_photo(USER_ID, photo, caption="<b>Cover</b>", parse_mode="HTML")

    assert tg.violations == []
    assert message.photo and message.caption == "Cover"
    upload = tg.calls_of("sendPhoto")[0].params["photo"]
    assert isinstance(upload, UploadedFile) and upload.filename == "cover.png"
    assert ann.last_message().photo == PNG
    again = await bot.send_photo(USER_ID, message.photo[-1].file_id)
    assert again.photo and ann.last_message().photo == PNG


async def test_raw_invalid_calls_are_rejected(tg: FakeTelegram) -> None:
    base = f"{tg.url}/bot{DEFAULT_TOKEN}"
    async with aiohttp.ClientSession() as http:
        unknown = await http.post(
            f"{base}/sendMessage", data={"chat_id": "1", "text": "hi", "x": "1"}
        )
        missing = await http.post(f"{base}/sendMessage", json={"chat_id": 1})
        no_method = await http.get(f"{base}/sendMagic?chat_id=1")
        bodies = [await r.json() for r in (unknown, missing, no_method)]

    assert [unknown.status, missing.status, no_method.status] == [400, 400, 404]
    assert bodies[0]["description"] == "Bad Request: sendMessage.x: unknown parameter"
    assert bodies[2] == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert tg.violations == [
        "sendMessage.x: unknown parameter",
        "sendMessage.text: required field is missing",
        "sendMagic: unknown method",
    ]
    assert [call.token for call in tg.calls] == [DEFAULT_TOKEN] * 3
    assert tg.calls[0].error is not None


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("<b>unclosed", 'Can\'t find end tag corresponding to start tag "b"'),
        ("price < 5", "Unclosed start tag at byte offset 6"),
        ("mail <ann@example.com>", 'Unsupported start tag "ann@example.com" at byte offset 5'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
    ],
)
async def test_bad_html_is_rejected_like_telegram(bot: Bot, text: str, error: str) -> None:
    with pytest.raises(TelegramBadRequest, match="can't parse entities") as raised:
        await bot.send_message(USER_ID, text, parse_mode="HTML")
    assert error in raised.value.message


def test_parse_html_entities() -> None:
    text, entities = parse_html(
        '🎮 <a href="https://x.io">link</a> <pre><code class="language-py">x=1</code></pre>'
    )
    assert text == "🎮 link x=1"
    assert entities == [
        {"type": "text_link", "offset": 3, "length": 4, "url": "https://x.io"},
        {"type": "pre", "offset": 8, "length": 3, "language": "py"},
    ]


async def test_edits_deletes_and_errors(tg: FakeTelegram, bot: Bot, ann: FakeUser) -> None:
    sent = await bot.send_message(USER_ID, "v1", reply_markup=keyboard())
    await bot.edit_message_text("v2", chat_id=USER_ID, message_id=sent.message_id)
    state = ann.last_message()
    assert (state.text, state.reply_markup) == ("v2", None)  # no reply_markup: keyboard removed
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text("v2", chat_id=USER_ID, message_id=sent.message_id)
    with pytest.raises(TelegramBadRequest, match="no caption in the message"):
        await bot.edit_message_caption(chat_id=USER_ID, message_id=sent.message_id, caption="c")
    await bot.delete_message(USER_ID, sent.message_id)
    assert ann.texts() == []
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(USER_ID, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        markup = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text="x", callback_data="x" * 65)]]
        )
        await bot.send_message(USER_ID, "long data", reply_markup=markup)
    assert tg.violations == []


async def test_fail_next_injects_errors(tg: FakeTelegram, bot: Bot) -> None:
    tg.fail_next("sendMessage", "Bad Request: chat not found")
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(USER_ID, "first")
    await bot.send_message(USER_ID, "second")
    assert [call.error for call in tg.calls_of("sendMessage")] == [
        "Bad Request: chat not found",
        None,
    ]


async def test_the_flood_limit_refuses_the_messages_beyond_it_with_retry_after(
    tg: FakeTelegram, bot: Bot
) -> None:
    tg.flood_limit = 3
    for n in range(3):
        await bot.send_message(USER_ID, f"message {n}")
    with pytest.raises(TelegramRetryAfter) as refused:
        await bot.send_message(USER_ID, "one too many")
    assert refused.value.retry_after == 1 and tg.flooded == 1
    await bot.get_me()  # not a message: not limited
    await asyncio.sleep(1.05)
    await bot.send_message(USER_ID, "after a second")
    assert tg.flooded == 1


# -- long polling --------------------------------------------------------------------------------


async def test_get_updates_long_polling_semantics(
    tg: FakeTelegram, bot: Bot, ann: FakeUser
) -> None:
    started = time.monotonic()
    assert await bot.get_updates(timeout=1) == []
    assert time.monotonic() - started >= 0.9

    poll = asyncio.create_task(bot.get_updates(timeout=5, allowed_updates=["message"]))
    await tg.wait_polling()
    await ann.send("/start deep-link")
    [update] = await asyncio.wait_for(poll, 2)
    assert update.message is not None and update.message.text == "/start deep-link"
    assert update.message.entities and update.message.entities[0].type == "bot_command"
    assert update.message.entities[0].length == len("/start")
    assert tg.allowed_updates == ["message"]

    again = await bot.get_updates(timeout=0)
    assert [u.update_id for u in again] == [update.update_id]  # not confirmed yet
    assert await bot.get_updates(offset=update.update_id + 1, timeout=0) == []


async def test_second_poller_terminates_the_first(tg: FakeTelegram, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await tg.wait_polling()
    second = asyncio.create_task(bot.get_updates(timeout=0))
    with pytest.raises(TelegramConflictError):
        await first
    assert await second == []


async def test_updates_outside_allowed_updates_are_dropped(
    tg: FakeTelegram, bot: Bot, ann: FakeUser
) -> None:
    await send_invoice(bot)
    await bot.get_updates(timeout=0, allowed_updates=["message"])
    await ann.pre_checkout()
    assert await bot.get_updates(timeout=0) == []
    assert "pre_checkout_query" in tg.dump()


async def test_dispatcher_replies_to_a_customer(tg: FakeTelegram, bot: Bot, ann: FakeUser) -> None:
    router = Router()

    @router.message()
    async def echo(message: Message) -> None:
        await message.answer(f"echo: {message.text}", reply_markup=keyboard())

    @router.callback_query(F.data == "buy:7")
    async def buy(query: CallbackQuery) -> None:
        await query.answer("Added")
        assert isinstance(query.message, Message)
        await query.message.edit_text("Bought!")

    async def scenario() -> None:
        mark = await ann.send("hello")
        reply = await tg.wait_for("sendMessage", since=mark)
        assert reply.params["chat_id"] == USER_ID
        assert ann.texts() == ["echo: hello"]

        mark = await ann.press("Buy")
        await tg.wait_for("answerCallbackQuery", since=mark)
        await tg.wait_for("editMessageText", since=mark)
        assert ann.last_message().text == "Bought!"

        with pytest.raises(AssertionError, match="no button matches 'Refund'"):
            await ann.press("Refund", message=tg.messages[(USER_ID, 2)])

    await run_polling(bot, router, scenario)
    assert tg.violations == []


async def test_wait_for_timeout_dumps_calls(tg: FakeTelegram, bot: Bot) -> None:
    await bot.send_message(USER_ID, "something else")
    with pytest.raises(AssertionError, match=r"no matching sendPhoto call(?s:.*)something else"):
        await tg.wait_for("sendPhoto", timeout=0.2)


# -- payments ------------------------------------------------------------------------------------


async def test_pay_and_refund(
    tg: FakeTelegram, bot: Bot, ann: FakeUser, schema: BotApiSchema
) -> None:
    router = Router()
    charges: list[str] = []

    @router.pre_checkout_query()
    async def checkout(query: PreCheckoutQuery) -> None:
        await query.answer(ok=query.invoice_payload == "order:17")

    @router.message(F.successful_payment)
    async def paid(message: Message) -> None:
        assert message.successful_payment is not None
        charges.append(message.successful_payment.telegram_payment_charge_id)
        await message.answer("Thanks! Your key: AAAA-BBBB")

    async def scenario() -> None:
        await send_invoice(bot)
        answer = await ann.pay()
        assert answer.params["ok"] is True
        await tg.wait_for("sendMessage", where=lambda c: "Thanks" in c.params["text"])

    await run_polling(bot, router, scenario)

    [charge_id] = charges
    assert tg.charges[charge_id].total_amount == 350
    assert await bot.refund_star_payment(USER_ID, charge_id) is True
    with pytest.raises(TelegramBadRequest, match="CHARGE_ALREADY_REFUNDED"):
        await bot.refund_star_payment(USER_ID, charge_id)
    with pytest.raises(TelegramBadRequest, match="CHARGE_NOT_FOUND"):
        await bot.refund_star_payment(USER_ID, "made-up")
    assert tg.violations == []
    assert_results_match_schema(tg, schema)


async def test_rejected_checkout_sends_no_payment(
    tg: FakeTelegram, bot: Bot, ann: FakeUser
) -> None:
    router = Router()

    @router.pre_checkout_query()
    async def checkout(query: PreCheckoutQuery) -> None:
        await query.answer(ok=False, error_message="Sold out")

    async def scenario() -> None:
        await send_invoice(bot)
        answer = await ann.pay()
        assert (answer.params["ok"], answer.params["error_message"]) == (False, "Sold out")

    await run_polling(bot, router, scenario)
    assert tg.charges == {}


def test_push_update_validates_against_schema(tg: FakeTelegram) -> None:
    with pytest.raises(ValueError, match=r"Update\.message\.chat: required field is missing"):
        tg.push_update({"message": {"message_id": 1, "date": 0}})


# -- admin group -----------------------------------------------------------------------------


@pytest.fixture
def admins(tg: FakeTelegram) -> FakeGroup:
    return tg.group(GROUP_ID, title="Shop admins")


async def test_get_chat_member_statuses(
    tg: FakeTelegram, bot: Bot, ann: FakeUser, admins: FakeGroup, schema: BotApiSchema
) -> None:
    bob, cid, dan, eve = (tg.user(uid, first_name=n) for uid, n in enumerate("BCDE", 2001))
    admins.set_member(ann, "creator")
    admins.set_member(bob, "administrator")
    admins.set_member(cid, "member")
    admins.set_member(dan, "left")
    admins.set_member(eve, "kicked")

    owner = await bot.get_chat_member(GROUP_ID, USER_ID)
    assert isinstance(owner, ChatMemberOwner) and owner.is_anonymous is False
    assert owner.user.first_name == "Ann"
    admin = await bot.get_chat_member(GROUP_ID, bob.id)
    assert isinstance(admin, ChatMemberAdministrator)
    assert (admin.can_delete_messages, admin.can_be_edited, admin.can_promote_members) == (
        True,
        False,
        False,
    )
    assert isinstance(await bot.get_chat_member(GROUP_ID, cid.id), ChatMemberMember)
    assert isinstance(await bot.get_chat_member(GROUP_ID, dan.id), ChatMemberLeft)
    banned = await bot.get_chat_member(GROUP_ID, eve.id)
    assert isinstance(banned, ChatMemberBanned) and banned.until_date is not None
    stranger = await bot.get_chat_member(GROUP_ID, 777)
    assert isinstance(stranger, ChatMemberLeft) and stranger.user.id == 777
    itself = await bot.get_chat_member(GROUP_ID, BOT_ID)
    assert isinstance(itself, ChatMemberAdministrator) and itself.user.is_bot

    administrators = await bot.get_chat_administrators(GROUP_ID)
    assert [(m.status, m.user.id) for m in administrators] == [
        ("creator", USER_ID),
        ("administrator", bob.id),
        ("administrator", BOT_ID),
    ]
    admins.set_member(bob, "member")  # demoted: Telegram answers with the new status
    assert isinstance(await bot.get_chat_member(GROUP_ID, bob.id), ChatMemberMember)

    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.get_chat_member(-100999, USER_ID)
    with pytest.raises(TelegramBadRequest, match="no administrators in the private chat"):
        await bot.get_chat_administrators(USER_ID)
    with pytest.raises(ValueError, match="unknown chat member status"):
        admins.set_member(ann, "owner")  # type: ignore[arg-type]
    assert tg.violations == []
    assert_results_match_schema(tg, schema)


async def test_group_messages_reach_the_dispatcher(
    tg: FakeTelegram, bot: Bot, ann: FakeUser, admins: FakeGroup
) -> None:
    router = Router()
    seen: list[Message] = []
    all_seen = asyncio.Event()

    @router.message()
    async def handle(message: Message) -> None:
        seen.append(message)
        if message.text == "/orders@storefront_test_bot":
            await message.answer("3 orders due")
        if len(seen) == 4:
            all_seen.set()

    async def scenario() -> None:
        admins.set_member(ann, "administrator")
        mark = await ann.send("/orders@storefront_test_bot", chat=admins)
        await tg.wait_for("sendMessage", since=mark)
        assert admins.texts() == ["3 orders due"]
        assert ann.texts() == []  # nothing went to the private chat
        status = admins.last_message()

        mark = await ann.send("on it", chat=admins, reply_to=status)
        await ann.send_photo(caption="proof", chat=admins, data=PNG)
        await ann.send("hi")  # the private chat still works as before
        await asyncio.wait_for(all_seen.wait(), 5)

    await run_polling(bot, router, scenario)

    command, reply, photo, private = seen
    assert command.chat.id == GROUP_ID and command.chat.type == "supergroup"
    assert command.chat.title == "Shop admins" and not command.chat.is_forum
    assert command.from_user is not None and command.from_user.id == USER_ID
    assert command.entities and command.entities[0].type == "bot_command"
    assert command.entities[0].length == len("/orders@storefront_test_bot")
    assert reply.reply_to_message is not None and reply.reply_to_message.text == "3 orders due"
    assert reply.reply_to_message.from_user is not None
    assert reply.reply_to_message.from_user.id == BOT_ID
    assert reply.message_thread_id == reply.reply_to_message.message_id  # a reply thread
    assert not reply.is_topic_message
    assert photo.chat.id == GROUP_ID and photo.caption == "proof" and photo.photo
    assert photo.photo[-1].file_id in tg.files
    assert private.chat.type == "private" and private.chat.id == USER_ID
    assert [m["chat"]["id"] for m in ann.sent] == [GROUP_ID] * 3 + [USER_ID]
    assert [m.message_id for m in seen[:3]] == [1, 3, 4]  # the group's ids (2: the bot)

    # The bot can forward the admin's photo by file_id; its bytes are known.
    again = await bot.send_photo(USER_ID, photo.photo[-1].file_id)
    assert again.photo and ann.last_message().photo == PNG
    assert tg.violations == []


async def test_non_members_cannot_act_in_the_group(ann: FakeUser, admins: FakeGroup) -> None:
    admins.set_member(ann, "kicked")
    with pytest.raises(AssertionError, match="not in group"):
        await ann.send("hello", chat=admins)
    admins.set_member(ann, "member")
    admins.bot_status = "left"
    with pytest.raises(AssertionError, match="the bot is not in group"):
        await ann.send("hello", chat=admins)


async def test_press_in_a_group(
    tg: FakeTelegram, bot: Bot, ann: FakeUser, admins: FakeGroup
) -> None:
    router = Router()
    pressed: list[CallbackQuery] = []

    @router.callback_query()
    async def buy(query: CallbackQuery) -> None:
        pressed.append(query)
        await query.answer()
        assert isinstance(query.message, Message)
        await query.message.edit_text(f"Refunded by {query.from_user.first_name}")

    async def scenario() -> None:
        await bot.send_message(USER_ID, "private keyboard", reply_markup=keyboard())
        await bot.send_message(GROUP_ID, "Order 17: key lost", reply_markup=keyboard())
        mark = await ann.press("Buy", chat=admins)
        await tg.wait_for("editMessageText", since=mark)
        assert admins.texts() == ["Refunded by Ann"]
        assert ann.last_message().text == "private keyboard"

        message_id = admins.last_message().message_id
        mark = await ann.press_data("forged", message_id=message_id, chat=admins)
        await tg.wait_for("answerCallbackQuery", since=mark)

    await run_polling(bot, router, scenario)

    first, forged = pressed
    assert first.data == "buy:7" and first.from_user.id == USER_ID
    assert isinstance(first.message, Message) and first.message.chat.id == GROUP_ID
    assert forged.data == "forged" and forged.message is not None
    assert forged.message.chat.id == GROUP_ID
    edit = tg.calls_of("editMessageText", chat_id=GROUP_ID)[0]
    assert edit.error is None and edit.result["chat"]["id"] == GROUP_ID
    assert admins.members[USER_ID] == "member"  # pressing made Ann a (plain) member
    assert tg.violations == []


async def test_forum_topics(
    tg: FakeTelegram, bot: Bot, ann: FakeUser, schema: BotApiSchema
) -> None:
    plain = tg.group(-1001000000111, title="Plain")
    forum = tg.group(GROUP_ID, title="Shop admins", is_forum=True)
    with pytest.raises(TelegramBadRequest, match="the chat is not a forum"):
        await bot.create_forum_topic(plain.id, "Orders")
    with pytest.raises(TelegramBadRequest, match="the chat is not a forum"):
        await bot.create_forum_topic(USER_ID, "Orders")

    topic = await bot.create_forum_topic(GROUP_ID, "Orders")
    assert (topic.name, topic.icon_color) == ("Orders", 0x6FB9F0)
    assert forum.topics == {topic.message_thread_id: "Orders"}
    thread = topic.message_thread_id

    sent = await bot.send_message(GROUP_ID, "Order 17 paid", message_thread_id=thread)
    assert sent.message_thread_id == thread and sent.is_topic_message
    assert sent.reply_to_message is not None and sent.reply_to_message.forum_topic_created
    assert forum.last_message().thread_id == thread
    csv = b"order,amount\n17,350\n"
    report = BufferedInputFile(csv, filename="orders.csv")
    await bot.send_document(GROUP_ID, report, message_thread_id=thread, caption="Today")
    assert forum.last_message(thread_id=thread).document == csv
    await bot.send_photo(GROUP_ID, BufferedInputFile(PNG, filename="chart.png"))  # General
    general = forum.last_message()
    assert (general.photo, general.thread_id) == (PNG, None)
    copied = await bot.copy_message(GROUP_ID, GROUP_ID, sent.message_id, message_thread_id=thread)
    assert tg.messages[(GROUP_ID, copied.message_id)].thread_id == thread
    assert forum.texts(thread) == ["Order 17 paid", "Today", "Order 17 paid"]

    for send in (
        bot.send_message(GROUP_ID, "lost", message_thread_id=9999),
        bot.send_photo(GROUP_ID, BufferedInputFile(PNG, "x.png"), message_thread_id=9999),
        bot.send_document(GROUP_ID, BufferedInputFile(csv, "x.csv"), message_thread_id=9999),
        bot.copy_message(GROUP_ID, GROUP_ID, sent.message_id, message_thread_id=9999),
        bot.send_message(plain.id, "reply thread", message_thread_id=1),
    ):
        with pytest.raises(TelegramBadRequest, match="message thread not found"):
            await send
    assert tg.violations == []
    assert_results_match_schema(tg, schema)


async def test_messages_in_a_forum_topic(
    tg: FakeTelegram, bot: Bot, ann: FakeUser, schema: BotApiSchema
) -> None:
    forum = tg.group(GROUP_ID, is_forum=True)
    forum.set_member(ann, "administrator")
    support = forum.add_topic("Support", by=ann)
    router = Router()
    seen: list[Message] = []

    @router.message()
    async def answer(message: Message) -> None:
        seen.append(message)
        await message.answer(f"ack {message.text}")  # aiogram keeps the topic

    async def scenario() -> None:
        mark = await ann.send("/stats", chat=forum, thread_id=support)
        await tg.wait_for("sendMessage", since=mark)
        ack = forum.last_message(thread_id=support)
        mark = await ann.send("thanks", reply_to=ack)  # the chat and topic come from ack
        await tg.wait_for("sendMessage", since=mark)

    await run_polling(bot, router, scenario)

    stats, thanks = seen
    assert (stats.chat.id, stats.chat.is_forum) == (GROUP_ID, True)
    assert stats.message_thread_id == support and stats.is_topic_message
    root = stats.reply_to_message  # Telegram's quirk: the topic's creation message
    assert root is not None and root.forum_topic_created is not None
    assert root.from_user is not None and root.from_user.id == USER_ID
    assert thanks.message_thread_id == support and thanks.reply_to_message is not None
    assert thanks.reply_to_message.text == "ack /stats"
    assert [m.thread_id for m in forum.messages()] == [support, support]
    with pytest.raises(AssertionError, match="has no topic 5"):
        await ann.send("x", chat=forum, thread_id=5)
    assert tg.violations == []
    assert_results_match_schema(tg, schema)


async def test_blocked_bot(tg: FakeTelegram, bot: Bot, ann: FakeUser, admins: FakeGroup) -> None:
    tg.block(USER_ID)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(USER_ID, "your key")
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_photo(USER_ID, BufferedInputFile(PNG, filename="cover.png"))
    with pytest.raises(TelegramForbiddenError):
        await bot.send_chat_action(USER_ID, "typing")
    await bot.send_message(GROUP_ID, "customer 1001 blocked us")  # other chats are fine
    assert ann.texts() == []

    await ann.send("/start")  # Restart: unblocks
    await bot.send_message(USER_ID, "welcome back")
    assert ann.texts() == ["welcome back"]

    admins.bot_status = "kicked"
    with pytest.raises(TelegramForbiddenError, match="bot was kicked from the supergroup"):
        await bot.send_message(GROUP_ID, "anyone?")
    assert tg.violations == []


async def test_inline_query_and_answer(tg: FakeTelegram, bot: Bot, ann: FakeUser) -> None:
    router = Router()

    @router.inline_query()
    async def search(query: InlineQuery) -> None:
        result = InlineQueryResultArticle(
            id="game:7",
            title=f"Results for {query.query}",
            input_message_content=InputTextMessageContent(message_text="Elden Ring"),
        )
        await query.answer([result], cache_time=1, is_personal=True)

    async def scenario() -> None:
        mark = await ann.inline_query("elden")
        await tg.wait_for("answerInlineQuery", since=mark)

    await run_polling(bot, router, scenario)

    query_id = ann.last_inline_query_id
    assert query_id is not None
    assert tg.inline_queries[query_id]["query"] == "elden"
    assert tg.inline_queries[query_id]["chat_type"] == "sender"
    answer = tg.inline_answers[query_id]
    assert [r["title"] for r in answer["results"]] == ["Results for elden"]
    assert answer["is_personal"] is True
    with pytest.raises(TelegramBadRequest, match="query ID is invalid"):
        await bot.answer_inline_query(query_id, [])  # answered already
    with pytest.raises(TelegramBadRequest, match="query ID is invalid"):
        await bot.answer_inline_query("made-up", [])
    assert tg.violations == []


async def test_rate_bookkeeping(tg: FakeTelegram, bot: Bot, admins: FakeGroup) -> None:
    assert tg.max_rate() == 0 and tg.per_chat_per_minute(GROUP_ID) == 0
    for n in range(5):
        await bot.send_message(GROUP_ID, f"alert {n}")
    await bot.send_message(USER_ID, "hi")
    await bot.send_chat_action(GROUP_ID, "typing")
    await bot.edit_message_text("edited", chat_id=USER_ID, message_id=1)

    assert tg.max_rate() == 7
    assert tg.max_rate(chat_id=GROUP_ID) == 6
    assert tg.max_rate("sendMessage", chat_id=USER_ID) == 1
    assert tg.max_rate(("send", "edit")) == 8
    assert tg.per_chat_per_minute(GROUP_ID) == 5  # chat actions are not messages

    # Spread the five alerts out in time: 0, 0.5, 1.2, 1.4 and 61 s.
    alerts = tg.calls_of("sendMessage", chat_id=GROUP_ID)
    for call, ts in zip(alerts, (0.0, 0.5, 1.2, 1.4, 61.0), strict=True):
        call.ts = ts
    assert tg.max_rate("sendMessage", chat_id=GROUP_ID) == 3  # 0.5, 1.2, 1.4
    assert tg.max_rate("sendMessage", chat_id=GROUP_ID, window=0.5) == 2
    assert tg.per_chat_per_minute(GROUP_ID) == 4

    tg.fail_next("sendMessage", "Too Many Requests: retry after 1", code=429)
    with pytest.raises(Exception, match="retry after"):
        await bot.send_message(GROUP_ID, "throttled")
    alerts[-1].ts = 0.1  # now overlaps the first four
    assert tg.per_chat_per_minute(GROUP_ID) == 5  # the refused message is not counted


# -- webhook -------------------------------------------------------------------------------------

SECRET = "s3cr3t_-x"


class Receiver:
    """A webhook endpoint: records each POST, answers ``statuses`` in turn and then 200; the
    updates of a chat in ``hold`` are answered once its event is set."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.updates: list[dict[str, Any]] = []
        self.secrets: list[str | None] = []
        self.hold: dict[int, asyncio.Event] = {}

    def ids(self, chat_id: int | None = None) -> list[int]:
        return [
            u["update_id"]
            for u in self.updates
            if chat_id is None or u.get("message", {}).get("chat", {}).get("id") == chat_id
        ]

    async def handle(self, request: web.Request) -> web.Response:
        update = await request.json()
        self.updates.append(update)
        self.secrets.append(request.headers.get(SECRET_HEADER))
        chat_id = update.get("message", {}).get("chat", {}).get("id")
        if chat_id in self.hold:
            await self.hold[chat_id].wait()
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200)

    @contextlib.asynccontextmanager
    async def serving(self) -> AsyncIterator[str]:
        """Yields the webhook URL."""
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        async with serve(app) as url:
            yield f"{url}/hook"


async def test_webhook_info_round_trip(
    tg: FakeTelegram, bot: Bot, ann: FakeUser, schema: BotApiSchema
) -> None:
    await ann.send("queued while polling")
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count, info.has_custom_certificate) == ("", 1, False)

    url = "https://shop.example.com/telegram"  # nothing listens: deliveries fail
    assert await bot.set_webhook(
        url,
        secret_token=SECRET,
        allowed_updates=["message", "callback_query"],
        max_connections=5,
        drop_pending_updates=True,
    )
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count, info.max_connections) == (url, 0, 5)
    assert info.allowed_updates == ["message", "callback_query"]
    assert info.last_error_date is None and tg.webhook.secret_token == SECRET

    await bot.set_webhook(url)  # again, other settings kept or defaulted as on Telegram
    info = await bot.get_webhook_info()
    assert (info.max_connections, info.allowed_updates) == (40, ["message", "callback_query"])
    assert tg.webhook.secret_token is None
    assert len(tg.calls_of("setWebhook")) == 2

    with pytest.raises(TelegramBadRequest, match="secret token contains unallowed characters"):
        await bot.set_webhook(url, secret_token=DEFAULT_TOKEN)
    with pytest.raises(TelegramBadRequest, match="invalid webhook URL"):
        await bot.set_webhook("ftp://shop.example.com")

    assert await bot.delete_webhook()
    info = await bot.get_webhook_info()
    assert (info.url, info.max_connections, info.allowed_updates) == ("", None, None)
    await bot.set_webhook(url)
    async with aiohttp.ClientSession() as http:  # aiogram leaves an empty url out
        answer = await http.post(f"{tg.url}/bot{DEFAULT_TOKEN}/setWebhook", json={"url": ""})
        assert (await answer.json())["result"] is True  # an empty URL removes the webhook
    assert tg.webhook.url == "" and tg.webhook.deliveries == []
    assert tg.violations == []
    assert_results_match_schema(tg, schema)


async def test_get_updates_conflicts_with_a_webhook(tg: FakeTelegram, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await tg.wait_polling()
    await bot.set_webhook("https://shop.example.com/telegram")
    with pytest.raises(TelegramConflictError, match="terminated by setWebhook request"):
        await poll
    with pytest.raises(TelegramConflictError, match=re.escape(WEBHOOK_ACTIVE)):
        await bot.get_updates(timeout=0)
    await bot.delete_webhook()
    assert await bot.get_updates(timeout=0) == []
    assert tg.violations == []


async def test_webhook_posts_updates_with_the_secret(
    tg: FakeTelegram, bot: Bot, ann: FakeUser
) -> None:
    receiver = Receiver()
    async with receiver.serving() as url:
        await bot.set_webhook(url, secret_token=SECRET)
        await ann.send("hello")
        delivery = await tg.wait_delivery(tg.last_update_id)
    assert (delivery.update_id, delivery.status, delivery.url) == (tg.last_update_id, 200, url)
    [update] = receiver.updates
    assert update == {"update_id": tg.last_update_id, "message": ann.sent[-1]}
    assert receiver.secrets == [SECRET]
    assert (await bot.get_webhook_info()).pending_update_count == 0
    assert tg.violations == []


async def test_failed_webhook_deliveries_are_retried(
    tg: FakeTelegram, bot: Bot, ann: FakeUser, schema: BotApiSchema
) -> None:
    receiver = Receiver(500)
    async with receiver.serving() as url:
        await bot.set_webhook(url)
        await ann.send("hello")
        update_id = tg.last_update_id
        await tg.wait_delivery(update_id)
        info = await bot.get_webhook_info()
    assert [(d.update_id, d.status) for d in tg.webhook.deliveries] == [
        (update_id, 500),
        (update_id, 200),
    ]
    assert tg.webhook.attempts(update_id) == 2 and receiver.ids() == [update_id] * 2
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
    assert info.last_error_date is not None and info.pending_update_count == 0

    # Nobody listening: the update stays pending, and reaches the next webhook.
    await bot.set_webhook(refusing_url() + "/hook")
    await ann.send("anyone?")
    failed = await tg.wait_delivery(tg.last_update_id, ok=False)
    assert (failed.status, failed.error) == (None, "Connection refused")
    info = await bot.get_webhook_info()
    assert (info.pending_update_count, info.last_error_message) == (1, "Connection refused")
    async with receiver.serving() as url:
        await bot.set_webhook(url)
        await tg.wait_delivery(tg.last_update_id)
    assert receiver.updates[-1]["message"]["text"] == "anyone?"
    assert tg.violations == []
    assert_results_match_schema(tg, schema)


async def test_webhook_respects_allowed_updates(tg: FakeTelegram, bot: Bot, ann: FakeUser) -> None:
    receiver = Receiver()
    async with receiver.serving() as url:
        await bot.set_webhook(url, allowed_updates=["message"])
        await ann.inline_query("elden")
        await ann.send("hello")
        await tg.wait_delivery(tg.last_update_id)
    assert [u["message"]["text"] for u in receiver.updates] == ["hello"]
    assert [u["inline_query"]["query"] for u in tg.dropped_updates] == ["elden"]
    assert tg.violations == []


async def test_webhook_serialises_the_updates_of_a_chat(
    tg: FakeTelegram, bot: Bot, ann: FakeUser
) -> None:
    bob = tg.user(1002, first_name="Bob")
    receiver = Receiver()
    receiver.hold[ann.id] = asyncio.Event()
    async with receiver.serving() as url:
        await bot.set_webhook(url)
        await ann.send("first")
        first = tg.last_update_id
        await ann.send("second")
        await bob.send("meanwhile")
        await tg.wait_delivery(tg.last_update_id)  # Bob's chat is not held up by Ann's
        assert tg.webhook.attempts(first + 1) == 0  # her second update waits for the first
        receiver.hold[ann.id].set()
        await tg.wait_delivery(first + 1)
    assert receiver.ids(ann.id) == [first, first + 1]
    assert tg.violations == []


def echo_app(tg: FakeTelegram, reply_in_answer: bool = False) -> web.Application:
    """A bot instance: a Dispatcher that echoes messages, served by aiogram at /webhook."""
    router = Router()

    @router.message()
    async def echo(message: Message) -> Any:
        answer = message.answer(f"echo: {message.text}")
        return answer if reply_in_answer else await answer

    dp = Dispatcher()
    dp.include_router(router)
    app = web.Application()
    handler = SimpleRequestHandler(
        dp, tg.make_bot(), secret_token=SECRET, handle_in_background=not reply_in_answer
    )
    handler.register(app, path="/webhook")  # closes its bot's session on shutdown
    return app


async def test_aiogram_instances_behind_a_load_balancer(
    tg: FakeTelegram, bot: Bot, ann: FakeUser
) -> None:
    async with (
        serve(echo_app(tg)) as first,
        serve(echo_app(tg)) as second,
        RoundRobinProxy([first, second]) as proxy,
    ):
        await bot.set_webhook(f"{proxy.url}/webhook", secret_token=SECRET)
        for text in ("hello", "again"):
            mark = await ann.send(text)
            await tg.wait_for("sendMessage", since=mark)
            await tg.wait_delivery(tg.last_update_id)
        async with aiohttp.ClientSession() as session:
            for secret in ({SECRET_HEADER: "wrong"}, {}):
                forged = await session.post(f"{proxy.url}/webhook", json={}, headers=secret)
                assert forged.status == 401
    assert ann.texts() == ["echo: hello", "echo: again"]
    assert proxy.hits == {first: 2, second: 2}
    assert [d.status for d in tg.webhook.deliveries] == [200, 200]
    assert tg.violations == []


async def test_reply_in_the_webhook_answer_is_executed(
    tg: FakeTelegram, bot: Bot, ann: FakeUser
) -> None:
    async with serve(echo_app(tg, reply_in_answer=True)) as url:
        await bot.set_webhook(f"{url}/webhook", secret_token=SECRET)
        mark = await ann.send("hello")
        reply = await tg.wait_for("sendMessage", since=mark)
    assert (reply.params["chat_id"], reply.token) == (USER_ID, DEFAULT_TOKEN)
    assert ann.texts() == ["echo: hello"]
    assert tg.violations == []
