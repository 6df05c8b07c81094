"""A fake Telegram Bot API server that a real aiogram ``Bot`` long-polls, plus a customer DSL.

    async with FakeTelegram() as tg:
        bot = tg.make_bot()
        ann = tg.user(1001)
        mark = await ann.send("/start")
        await tg.wait_for("sendMessage", since=mark)
        await ann.press("Buy")

    In an admin group (a supergroup; ``is_forum=True`` for topics):

        admins = tg.group(-1001234567890, is_forum=True)
        admins.set_member(ann, "administrator")
        topic = admins.add_topic("Orders")
        await ann.send("/orders", chat=admins, thread_id=topic)
        await ann.press("Refund", chat=admins)

Every request is validated against the Bot API schema (``tg.violations``) and recorded
(``tg.calls``); sent messages are tracked with their current state (``tg.messages``).

After ``setWebhook`` the updates are POSTed to the webhook instead (see fake_webhook.py;
``tg.webhook.deliveries``, ``await tg.wait_delivery(update_id)``) and getUpdates answers 409.
"""

from __future__ import annotations

import asyncio
import inspect
import itertools
import json
import random
import re
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NoReturn, Self, TypeVar, get_args
from urllib.parse import urlsplit

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

from .botapi_schema import (
    ATTACH_PREFIX,
    BotApiSchema,
    UploadedFile,
    attachment_names,
    load_schema,
)
from .fake_webhook import Delivery, Webhook

T = TypeVar("T")
ChatId = int
Json = dict[str, Any]
MemberStatus = Literal["creator", "administrator", "member", "left", "kicked"]
MEMBER_STATUSES: frozenset[str] = frozenset(get_args(MemberStatus))
ADMIN_STATUSES = frozenset({"creator", "administrator"})

DEFAULT_TOKEN = "42:FAKE-storefront-test-token"
BOT_USER: Json = {
    "id": 42,
    "is_bot": True,
    "first_name": "Storefront",
    "username": "storefront_test_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
    "can_connect_to_business": False,
    "has_main_web_app": False,
}
# Update types Telegram leaves out when ``allowed_updates`` is empty or was never set.
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
WEBHOOK_SET = "Conflict: terminated by setWebhook request"  # ends a waiting long poll
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
MAX_TEXT, MAX_CAPTION, MAX_CALLBACK_DATA = 4096, 1024, 64
BLOCKED = "Forbidden: bot was blocked by the user"
THREAD_NOT_FOUND = "Bad Request: message thread not found"
NOT_A_FORUM = "Bad Request: the chat is not a forum"
INLINE_QUERY_INVALID = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
MAX_INLINE_RESULTS = 50
TOPIC_ICON_COLOR = 0x6FB9F0  # Telegram's default topic colour (7322096)
# Methods that put a message into ``chat_id`` (a blocked user refuses all of them).
_FORWARDING = frozenset({"copymessage", "copymessages", "forwardmessage", "forwardmessages"})
# Result fields newer than the schema (Bot API 10.3) that aiogram >= 3.31 requires, so the
# fake sends them as today's Telegram does.
NEWER_THAN_SCHEMA = frozenset({"can_send_welcome_messages"})
# Rights of an administrator (human or the bot) in a supergroup; the required booleans of
# ChatMemberAdministrator plus the supergroup-only optional ones.
ADMIN_RIGHTS: Mapping[str, bool] = {
    "can_send_welcome_messages": True,
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
    "can_pin_messages": True,
    "can_manage_topics": True,
}


class ApiError(Exception):
    """Makes the server answer ``{"ok": false, ...}`` with the given description."""

    def __init__(self, description: str, code: int = 400, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.code = code
        self.retry_after = retry_after  # 429: in the answer's parameters, as Telegram does


@dataclass
class Call:
    method: str
    params: Json
    token: str
    ts: float = field(default_factory=time.monotonic)
    result: Any = None
    error: str | None = None  # description of the error response, if the call failed
    test_environment: bool = False  # sent to /bot<token>/test/<method>

    def __str__(self) -> str:
        outcome = f" -> {self.error}" if self.error else ""
        return f"{self.method} {_short(self.params)}{outcome}"


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    upload: UploadedFile | None = None


@dataclass
class Invoice:
    title: str
    description: str
    payload: str
    currency: str
    total_amount: int

    def to_dict(self) -> Json:
        return {
            "title": self.title,
            "description": self.description,
            "start_parameter": "",
            "currency": self.currency,
            "total_amount": self.total_amount,
        }


@dataclass
class Charge:
    user_id: int
    currency: str
    total_amount: int
    payload: str
    refunded: bool = False


@dataclass
class SentMessage:
    """Current state of a message the bot sent (edits applied)."""

    chat: Json
    message_id: int
    kind: str  # "text" | "photo" | "document" | "invoice" | "copy"
    date: int
    text: str | None = None  # message text, or the caption of a media message
    entities: list[Json] = field(default_factory=list)
    reply_markup: Json | None = None  # inline keyboard (the only markup echoed in Message)
    reply_keyboard: Json | None = None  # ReplyKeyboardMarkup / ReplyKeyboardRemove / ForceReply
    file: StoredFile | None = None
    invoice: Invoice | None = None
    edit_date: int | None = None
    deleted: bool = False
    # Forum topic (message_thread_id) of a message sent into a registered forum group.
    thread_id: int | None = None
    # What Telegram shows as ``reply_to_message``: in a forum topic, the topic's
    # forum_topic_created service message.
    reply_to_message: Json | None = None

    @property
    def chat_id(self) -> ChatId:
        return int(self.chat["id"])

    @property
    def caption(self) -> str | None:
        return None if self.kind == "text" else self.text

    @property
    def photo(self) -> bytes | None:
        upload = self.file.upload if self.file and self.kind == "photo" else None
        return upload.data if upload else None

    @property
    def document(self) -> bytes | None:
        """The bytes of an uploaded document (e.g. a CSV export)."""
        upload = self.file.upload if self.file and self.kind == "document" else None
        return upload.data if upload else None

    def buttons(self) -> list[Json]:
        """Inline keyboard buttons (as sent, JSON dicts), row by row."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]

    def button_texts(self) -> list[str]:
        return [button["text"] for button in self.buttons()]

    def to_dict(self) -> Json:
        """The ``Message`` object Telegram would return for this message."""
        message: Json = {
            "message_id": self.message_id,
            "from": BOT_USER,
            "date": self.date,
            "chat": self.chat,
        }
        if self.thread_id is not None:
            message |= {"message_thread_id": self.thread_id, "is_topic_message": True}
        if self.reply_to_message is not None:
            message["reply_to_message"] = self.reply_to_message
        if self.edit_date is not None:
            message["edit_date"] = self.edit_date
        message |= self._content()
        if self.reply_markup:
            message["reply_markup"] = self.reply_markup
        return message

    def _content(self) -> Json:
        text_key, entities_key = ("text", "entities") if self.kind == "text" else _CAPTION_KEYS
        content: Json = {}
        if self.text is not None:
            content[text_key] = self.text
        if self.entities:
            content[entities_key] = self.entities
        if self.kind == "photo" and self.file:
            content["photo"] = _photo_sizes(self.file)
        if self.kind == "document" and self.file:
            content["document"] = _document(self.file)
        if self.invoice:
            content["invoice"] = self.invoice.to_dict()
        return content


_CAPTION_KEYS = ("caption", "caption_entities")


class FakeTelegram:
    def __init__(self, schema: BotApiSchema | None = None) -> None:
        self.schema = schema or load_schema()
        self.url = ""
        self.calls: list[Call] = []
        self.violations: list[str] = []
        self.messages: dict[tuple[ChatId, int], SentMessage] = {}
        self.deleted_user_messages: set[tuple[ChatId, int]] = set()
        self.users: dict[int, FakeUser] = {}
        self.charges: dict[str, Charge] = {}
        self.files: dict[str, StoredFile] = {}
        self.groups: dict[ChatId, FakeGroup] = {}
        self.blocked: set[ChatId] = set()  # users who blocked the bot (see block())
        self.inline_queries: dict[str, Json] = {}  # pushed inline queries by id
        self.inline_answers: dict[str, Json] = {}  # answerInlineQuery params by query id
        # Messages users sent (update payloads) by (chat id, message id): copyMessage source;
        # the bot may delete them (deleted_user_messages).
        self.user_messages: dict[tuple[ChatId, int], Json] = {}
        self.allowed_updates: list[str] | None = None
        self.dropped_updates: list[Json] = []  # filtered out by the bot's allowed_updates
        self._chaos: tuple[float, tuple[str, ...], float, random.Random] | None = None
        self.invoice_links: dict[str, Invoice] = {}  # createInvoiceLink's, by slug
        self.injected: Counter[str] = Counter()  # chaos faults, by kind
        self._pending: list[Json] = []
        self._next_update_id = 1
        self._message_ids: defaultdict[ChatId, int] = defaultdict(int)
        self._usernames: dict[str, ChatId] = {}
        self._failures: list[tuple[str, Callable[[Json], bool], ApiError]] = []
        self.flood_limit: int | None = None  # messages a second before 429 (None: no limit)
        self.flooded = 0  # messages refused with 429 by that limit
        self._sent_at: deque[float] = deque()
        self._ids = itertools.count(1)
        self._wakeup = asyncio.Event()
        self.polls_started = 0  # getUpdates requests received so far
        self.polls_waiting = 0  # long polls currently waiting for updates
        self._closing = False
        self._runner: web.AppRunner | None = None
        self.webhook = Webhook(self._deliverable, self._confirm_one, self._reply, self._notify)
        self._handlers: dict[str, Callable[[Json], Any]] = {
            "getMe": lambda _: BOT_USER,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendMediaGroup": self._send_media_group,
            "sendDocument": self._send_document,
            "sendInvoice": self._send_invoice,
            "createInvoiceLink": self._create_invoice_link,
            "copyMessage": self._copy_message,
            "editMessageText": self._edit_text,
            "editMessageCaption": self._edit_caption,
            "editMessageReplyMarkup": self._edit_reply_markup,
            "deleteMessage": self._delete_message,
            "refundStarPayment": self._refund_star_payment,
            "getStarTransactions": self._get_star_transactions,
            "getChatMember": self._get_chat_member,
            "getChatAdministrators": self._get_chat_administrators,
            "createForumTopic": self._create_forum_topic,
            "getChat": self._get_chat,
            "answerInlineQuery": self._answer_inline_query,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": lambda _: self.webhook.info(
                len(self._deliverable()), self.allowed_updates
            ),
        }
        self.star_transactions: list[Json] = []  # the bot's Star ledger, oldest first

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/bot{token}/test/{method}", self._handle)
        self._runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._closing = True
        self._notify()
        await self.webhook.stop()
        if self._runner is not None:
            await self._runner.cleanup()

    def make_bot(self, token: str = DEFAULT_TOKEN, **kwargs: Any) -> Bot:
        """A real aiogram ``Bot`` talking to this server (close its session when done)."""
        api = TelegramAPIServer.from_base(self.url)
        return Bot(token, session=AiohttpSession(api=api), **kwargs)

    # -- inspection and waiting --------------------------------------------------------------

    def mark(self) -> int:
        return len(self.calls)

    def calls_of(self, method: str, chat_id: ChatId | None = None) -> list[Call]:
        return [
            call
            for call in self.calls
            if _same_method(call.method, method)
            and (chat_id is None or call.params.get("chat_id") == chat_id)
        ]

    async def wait_for(
        self,
        method: str | tuple[str, ...],
        *,
        where: Callable[[Call], bool] = lambda call: True,
        timeout: float = 10.0,  # noqa: ASYNC109 - part of the DSL
        since: int = 0,
    ) -> Call:
        """First call of ``method`` (or one of several) at index >= ``since`` satisfying
        ``where``."""
        methods = (method,) if isinstance(method, str) else method

        def probe() -> Call | None:
            matching = (
                c for c in self.calls[since:] if any(_same_method(c.method, m) for m in methods)
            )
            return next((c for c in matching if where(c)), None)

        found = await self._wait_until(probe, timeout)
        if found is None:
            raise AssertionError(
                f"no matching {method} call within {timeout}s (since #{since})\n{self.dump()}"
            )
        return found

    async def wait_polling(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until a getUpdates long poll is waiting on the server."""
        if await self._wait_until(lambda: self.polls_waiting > 0 or None, timeout) is None:
            raise AssertionError(f"the bot is not long-polling\n{self.dump()}")

    async def wait_delivery(
        self,
        update_id: int,
        *,
        ok: bool | None = True,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> Delivery:
        """First webhook delivery of the update that succeeded (``ok=False``: failed; None:
        any)."""

        def probe() -> Delivery | None:
            found = (d for d in self.webhook.deliveries if d.update_id == update_id)
            return next((d for d in found if ok is None or d.ok == ok), None)

        delivery = await self._wait_until(probe, timeout)
        if delivery is None:
            raise AssertionError(f"update {update_id} was not delivered\n{self.dump()}")
        return delivery

    def dump(self, last: int = 30) -> str:
        """Recent calls, queued/dropped updates and violations, for failure messages."""
        interesting = [
            (i, c) for i, c in enumerate(self.calls) if c.method != "getUpdates" or c.result
        ]
        lines = [f"  #{i} {call}" for i, call in interesting[-last:]]
        lines.append(f"  pending updates: {[_update_type(u) for u in self._pending]}")
        if self.dropped_updates:
            lines.append(
                f"  dropped (not in allowed_updates={self.allowed_updates}): "
                f"{[_update_type(u) for u in self.dropped_updates]}"
            )
        if self.webhook.url:
            attempts = [(d.update_id, d.status) for d in self.webhook.deliveries[-last:]]
            lines.append(f"  webhook {self.webhook.url}: (update_id, status) {attempts}")
            lines.append(f"  webhook last error: {self.webhook.last_error_message}")
        lines += [f"  VIOLATION {v}" for v in self.violations]
        return "recent calls:\n" + "\n".join(lines)

    def fail_next(
        self,
        method: str,
        description: str,
        *,
        code: int = 400,
        where: Callable[[Json], bool] = lambda params: True,
        retry_after: int | None = None,
    ) -> None:
        """Answer the next matching call with an error, e.g. "Forbidden: bot was blocked by the
        user" (code 403); a 429 says when to retry (`retry_after`, 1 s by default)."""
        if code == 429 and retry_after is None:
            retry_after = 1
        self._failures.append((method, where, ApiError(description, code, retry_after)))

    def max_rate(
        self,
        method_prefix: str | tuple[str, ...] = "send",
        chat_id: ChatId | None = None,
        window: float = 1.0,
    ) -> int:
        """Most calls of methods whose name starts with ``method_prefix`` (case-insensitive;
        into ``chat_id`` if given) within any sliding window of ``window`` seconds.  Every
        request counts, failed ones included."""
        prefixes = (method_prefix,) if isinstance(method_prefix, str) else method_prefix
        lowered = tuple(prefix.lower() for prefix in prefixes)
        stamps = [
            call.ts
            for call in self.calls
            if call.method.lower().startswith(lowered)
            and (chat_id is None or self._call_chat(call) == chat_id)
        ]
        return _max_in_window(stamps, window)

    def per_chat_per_minute(self, chat_id: ChatId) -> int:
        """Most messages the bot got into ``chat_id`` within any 60 s window: successful
        send*/copy/forward calls (not sendChatAction), an album counting each of its
        messages."""
        stamps: list[float] = []
        for call in self.calls:
            if (
                _puts_message(call.method)
                and call.method.lower() != "sendchataction"
                and call.error is None
                and self._call_chat(call) == chat_id
            ):
                count = len(call.result) if isinstance(call.result, list) else 1
                stamps += [call.ts] * count
        return _max_in_window(stamps, 60.0)

    def _call_chat(self, call: Call) -> ChatId | None:
        chat_id = call.params.get("chat_id")
        if isinstance(chat_id, str):
            return self._usernames.get(chat_id)
        return chat_id if isinstance(chat_id, int) else None

    # -- updates -----------------------------------------------------------------------------

    def push_update(self, update: Json) -> int:
        """Queue an update (its ``update_id`` is assigned here); returns the update id."""
        update_id = self._next_update_id
        update = {"update_id": update_id} | {k: v for k, v in update.items() if k != "update_id"}
        errors = self.schema.validate_value(["Update"], update, "Update")
        if errors:
            raise ValueError("invalid update pushed to FakeTelegram:\n" + "\n".join(errors))
        self._next_update_id += 1
        self._pending.append(update)
        self._notify()
        return update_id

    @property
    def last_update_id(self) -> int:
        """The id of the update pushed last (0: none yet)."""
        return self._next_update_id - 1

    def user(
        self,
        user_id: int = 1001,
        language_code: str | None = "en",
        first_name: str = "Ann",
        username: str | None = None,
    ) -> FakeUser:
        customer = FakeUser(self, user_id, first_name, language_code, username)
        self.users[user_id] = customer
        return customer

    def group(
        self,
        chat_id: ChatId = -1001234567890,
        title: str = "Shop admins",
        is_forum: bool = False,
        *,
        bot_status: MemberStatus = "administrator",
    ) -> FakeGroup:
        """Register a supergroup (a forum with topics if ``is_forum``) the bot is in, by
        default as an administrator; registering the same id again replaces the group."""
        group = FakeGroup(self, chat_id, title, is_forum, bot_status)
        self.groups[chat_id] = group
        return group

    def block(self, user_id: int) -> None:
        """The user blocks the bot: every send*/copy/forward into their chat answers 403
        "Forbidden: bot was blocked by the user" (TelegramForbiddenError).  Writing to the bot
        again (``user.send``) unblocks, as the client's Restart button does."""
        self.blocked.add(user_id)

    def unblock(self, user_id: int) -> None:
        self.blocked.discard(user_id)

    def chat(self, chat_id: ChatId) -> Json:
        if chat_id in self.groups:
            return self.groups[chat_id].as_dict()
        if chat_id > 0:
            customer = self.users.get(chat_id)
            first_name = customer.first_name if customer else f"User {chat_id}"
            return {"id": chat_id, "type": "private", "first_name": first_name}
        return {"id": chat_id, "type": "supergroup", "title": f"Chat {chat_id}"}

    def next_message_id(self, chat_id: ChatId) -> int:
        """Message ids are shared by both sides of a chat, as in Telegram."""
        self._message_ids[chat_id] += 1
        return self._message_ids[chat_id]

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    # -- HTTP --------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        token, method = request.match_info["token"], request.match_info["method"]
        params = await _read_params(request)
        return await self._perform(token, method, params, test_environment="/test/" in request.path)

    async def _perform(
        self, token: str, method: str, params: Json, test_environment: bool = False
    ) -> web.Response:
        decoded = self.schema.decode_call(method, params)
        definition = self.schema.method(method)
        name = definition.name if definition else method
        call = Call(name, _resolve_attachments(decoded.value), token)
        call.test_environment = test_environment
        self.violations += decoded.errors
        # Recorded on arrival, so a waiting getUpdates is visible while it long-polls (its
        # result is filled in when it returns); other handlers do not yield in between.
        self.calls.append(call)
        try:
            if definition is None:
                raise ApiError("Not Found", 404)
            if decoded.errors:
                raise ApiError("Bad Request: " + "; ".join(decoded.errors))
            call.result = await self._dispatch(call)
            response = web.json_response({"ok": True, "result": call.result})
        except ApiError as error:
            response = self._error_response(call, error)
        except asyncio.CancelledError:
            call.error = "cancelled: the client disconnected"
            raise
        except Exception as error:  # a bug in the fake: make it loud
            self.violations.append(f"{name}: FakeTelegram crashed: {error!r}")
            response = self._error_response(
                call, ApiError(f"Internal Server Error: {error!r}", 500)
            )
        self._notify()
        return response

    @staticmethod
    def _error_response(call: Call, error: ApiError) -> web.Response:
        call.error = error.description
        body: Json = {"ok": False, "error_code": error.code, "description": error.description}
        if error.retry_after is not None:
            body["parameters"] = {"retry_after": error.retry_after}
        return web.json_response(body, status=error.code)

    def chaos(
        self,
        rate: float,
        kinds: tuple[str, ...] = ("429", "5xx", "timeout"),
        *,
        hang_seconds: float = 6.0,
        seed: int | None = None,
    ) -> None:
        """From now on about `rate` of the bot's calls (not getUpdates) fail: ``429`` with
        retry_after, ``5xx`` (502), or ``timeout``: no answer for `hang_seconds`, after
        which the call is done or not (half each; the bot has given up by then). Counted
        in `injected`; `heal` ends it."""
        self._chaos = (rate, kinds, hang_seconds, random.Random(seed))

    def heal(self) -> None:
        self._chaos = None
        self._failures.clear()

    async def _chaos_fault(self, call: Call) -> bool:
        """Inject a random fault into `call` (raises); True: hold its answer back after
        doing it (a timeout after the fact)."""
        if self._chaos is None or call.method == "getUpdates":
            return False
        rate, kinds, hang, chance = self._chaos
        if chance.random() >= rate:
            return False
        kind = chance.choice(kinds)
        self.injected[kind] += 1
        if kind == "429":
            raise ApiError("Too Many Requests: retry after 1", 429, retry_after=1)
        if kind == "5xx":
            raise ApiError("Bad Gateway", 502)
        if chance.random() < 0.5:
            await asyncio.sleep(hang)
            raise ApiError("Gateway Timeout", 504)  # the bot gave up before: never read
        return True

    async def _dispatch(self, call: Call) -> Any:
        late = await self._chaos_fault(call)
        if late:
            try:
                return await self._dispatch_now(call)
            finally:
                await asyncio.sleep(self._chaos[2] if self._chaos else 0)
        return await self._dispatch_now(call)

    async def _dispatch_now(self, call: Call) -> Any:
        self._raise_injected_failure(call)
        self._check_flood(call)
        self._check_recipient(call)
        if call.method == "getUpdates":
            return await self._get_updates(call.params)
        handler = self._handlers.get(call.method)
        result = handler(call.params) if handler else True
        return await result if inspect.isawaitable(result) else result

    def _check_flood(self, call: Call) -> None:
        """With ``flood_limit`` set, Telegram's bulk limit: more messages than that within a
        second are refused with 429 and ``retry_after`` (counted in ``flooded``)."""
        if self.flood_limit is None or not _puts_message(call.method):
            return
        now = time.monotonic()
        while self._sent_at and now - self._sent_at[0] >= 1.0:
            self._sent_at.popleft()
        if len(self._sent_at) >= self.flood_limit:
            self.flooded += 1
            raise ApiError("Too Many Requests: retry after 1", 429, retry_after=1)
        self._sent_at.append(now)

    def _raise_injected_failure(self, call: Call) -> None:
        for index, (method, where, error) in enumerate(self._failures):
            if _same_method(method, call.method) and where(call.params):
                del self._failures[index]
                raise error

    def _check_recipient(self, call: Call) -> None:
        """A chat that blocked the bot, or a group the bot is not in, refuses messages."""
        if not _puts_message(call.method) or "chat_id" not in call.params:
            return
        chat_id = self._chat_id(call.params["chat_id"])
        if chat_id in self.blocked:
            raise ApiError(BLOCKED, 403)
        group = self.groups.get(chat_id)
        if group is not None and group.bot_status == "left":
            raise ApiError("Forbidden: bot is not a member of the supergroup chat", 403)
        if group is not None and group.bot_status == "kicked":
            raise ApiError("Forbidden: bot was kicked from the supergroup chat", 403)

    def _notify(self) -> None:
        self._wakeup.set()
        self._wakeup = asyncio.Event()
        self.webhook.wake()

    async def _wait_until(
        self,
        probe: Callable[[], T | None],
        timeout: float,  # noqa: ASYNC109
    ) -> T | None:
        try:
            async with asyncio.timeout(timeout):
                while True:
                    wakeup = self._wakeup
                    found = probe()
                    if found is not None:
                        return found
                    await wakeup.wait()
        except TimeoutError:
            return None

    # -- getUpdates --------------------------------------------------------------------------

    async def _get_updates(self, params: Json) -> list[Json]:
        if self.webhook.url:
            raise ApiError(WEBHOOK_ACTIVE, 409)
        self._confirm(params.get("offset"))
        if "allowed_updates" in params:
            self.allowed_updates = params["allowed_updates"]
        self.polls_started += 1
        generation = self.polls_started
        limit = min(max(params.get("limit", 100), 1), 100)

        def probe() -> list[Json] | None:
            if generation != self.polls_started:
                raise ApiError(CONFLICT, 409)
            if self.webhook.url:
                raise ApiError(WEBHOOK_SET, 409)
            if self._closing:
                return []
            return self._deliverable()[:limit] or None

        self.polls_waiting += 1
        self._notify()
        try:
            return await self._wait_until(probe, params.get("timeout", 0)) or []
        finally:
            self.polls_waiting -= 1

    def _confirm(self, offset: int | None) -> None:
        if offset is None:
            return
        if offset < 0:
            self._pending = self._pending[offset:]
        else:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]

    def _deliverable(self) -> list[Json]:
        allowed = set(self.allowed_updates or ())

        def wanted(update: Json) -> bool:
            kind = _update_type(update)
            return kind in allowed if allowed else kind not in DEFAULT_EXCLUDED_UPDATES

        self.dropped_updates += [u for u in self._pending if not wanted(u)]
        self._pending = [u for u in self._pending if wanted(u)]
        return self._pending

    # -- webhook (delivery: fake_webhook.py) ------------------------------------------------

    async def _set_webhook(self, params: Json) -> bool:
        url = params["url"]
        if not url:  # "Use an empty string to remove webhook integration"
            return await self._delete_webhook(params)
        parts = urlsplit(url)
        # Unlike Telegram, plain http (and any port) is fine: webhooks of tests are local.
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ApiError("Bad Request: invalid webhook URL specified")
        if not re.fullmatch(r"[A-Za-z0-9_-]*", params.get("secret_token", "")):
            raise ApiError("Bad Request: secret token contains unallowed characters")
        if params.get("drop_pending_updates"):
            self._pending = []
        if "allowed_updates" in params:  # otherwise the previous setting stays
            self.allowed_updates = params["allowed_updates"]
        self.webhook.start(
            url,
            params.get("secret_token"),
            params.get("max_connections"),
            has_custom_certificate="certificate" in params,
            ip_address=params.get("ip_address"),
        )
        return True

    async def _delete_webhook(self, params: Json) -> bool:
        if params.get("drop_pending_updates"):
            self._pending = []
        await self.webhook.stop()
        return True

    def _confirm_one(self, update_id: int) -> None:
        self._pending = [u for u in self._pending if u["update_id"] != update_id]

    async def _reply(self, params: Json) -> None:
        """Execute a method call the bot put into its answer to a webhook request."""
        method = params.pop("method")
        setters = [c for c in self.calls if c.method == "setWebhook" and c.error is None]
        await self._perform(setters[-1].token if setters else DEFAULT_TOKEN, method, params)

    # -- sending -----------------------------------------------------------------------------

    def _send_message(self, params: Json) -> Json:
        return self._create(params, "text", ("text", "entities")).to_dict()

    def _send_photo(self, params: Json) -> Json:
        stored = self._store_file(params["photo"])
        return self._create(params, "photo", _CAPTION_KEYS, file=stored).to_dict()

    def _send_media_group(self, params: Json) -> list[Json]:
        """An album: one photo message per item, the caption where an item carries one."""
        media = params["media"]
        if not 2 <= len(media) <= 10:
            raise ApiError("Bad Request: wrong number of media in the album (2-10)")
        sent = []
        for item in media:
            if item.get("type") != "photo":
                raise ApiError("Bad Request: this fake supports albums of photos only")
            stored = self._store_file(item["media"])
            single = {"chat_id": params["chat_id"], **item}
            if "message_thread_id" in params:
                single["message_thread_id"] = params["message_thread_id"]
            sent.append(self._create(single, "photo", _CAPTION_KEYS, file=stored).to_dict())
        return sent

    def _send_document(self, params: Json) -> Json:
        stored = self._store_file(params["document"])
        return self._create(params, "document", _CAPTION_KEYS, file=stored).to_dict()

    def _send_invoice(self, params: Json) -> Json:
        invoice = Invoice(
            title=params["title"],
            description=params["description"],
            payload=params["payload"],
            currency=params["currency"],
            total_amount=sum(price["amount"] for price in params["prices"]),
        )
        return self._create(params, "invoice", None, invoice=invoice).to_dict()

    def _create_invoice_link(self, params: Json) -> str:
        """An invoice as a link (a Mini App opens it): `invoice_link(url)` finds its terms,
        and a user pays it like an invoice message (`user.pay(tg.invoice_link(url))`)."""
        slug = self.new_id("invoice")
        self.invoice_links[slug] = Invoice(
            title=params["title"],
            description=params["description"],
            payload=params["payload"],
            currency=params["currency"],
            total_amount=sum(price["amount"] for price in params["prices"]),
        )
        return f"https://t.me/${slug}"

    def invoice_link(self, url: str) -> Invoice:
        return self.invoice_links[url.rsplit("$", 1)[-1]]

    def _copy_message(self, params: Json) -> Json:
        key = (self._chat_id(params["from_chat_id"]), params["message_id"])
        source = self.messages.get(key) or self._user_message(key)
        copy = self._create(params, "copy", _CAPTION_KEYS)  # unknown source: empty copy
        if source is not None:
            keep_text = source.kind == "text" or "caption" not in params
            copy.kind, copy.file, copy.invoice = source.kind, source.file, source.invoice
            if keep_text:
                copy.text, copy.entities = source.text, source.entities
        return {"message_id": copy.message_id}

    def _user_message(self, key: tuple[ChatId, int]) -> SentMessage | None:
        """A message a user sent, as copyMessage sees it (text, or a photo and caption)."""
        sent = self.user_messages.get(key)
        if sent is None:
            return None
        photo = sent.get("photo")
        return SentMessage(
            chat=sent["chat"],
            message_id=sent["message_id"],
            kind="photo" if photo else "text",
            date=sent["date"],
            text=sent.get("text", sent.get("caption")),
            entities=sent.get("entities") or sent.get("caption_entities") or [],
            file=self.files[photo[-1]["file_id"]] if photo else None,
        )

    def _create(
        self, params: Json, kind: str, text_keys: tuple[str, str] | None, **extra: Any
    ) -> SentMessage:
        chat_id = self._chat_id(params["chat_id"])
        text, entities = _formatted(params, text_keys) if text_keys else (None, [])
        if kind == "text" and not (text or "").strip():
            raise ApiError("Bad Request: message text is empty")
        inline, keyboard = _split_markup(params.get("reply_markup"))
        group = self.groups.get(chat_id)
        thread_id = params.get("message_thread_id")
        if group is None:
            thread_id = None  # unregistered chats: accepted and ignored, as before
        elif thread_id is not None and thread_id not in group.topics:
            raise ApiError(THREAD_NOT_FOUND)
        if group is not None and thread_id is not None:
            extra["thread_id"] = thread_id
            extra["reply_to_message"] = group.topic_root(thread_id)
        message = SentMessage(
            chat=self.chat(chat_id),
            message_id=self.next_message_id(chat_id),
            kind=kind,
            date=int(time.time()),
            text=text,
            entities=entities,
            reply_markup=inline,
            reply_keyboard=keyboard,
            **extra,
        )
        self.messages[(chat_id, message.message_id)] = message
        return message

    def _chat_id(self, chat_id: int | str) -> ChatId:
        """Numeric chat id; "@username" chats get a stable fake supergroup id."""
        if isinstance(chat_id, int):
            return chat_id
        return self._usernames.setdefault(chat_id, -1001000000000 - len(self._usernames))

    def _store_file(self, value: UploadedFile | str) -> StoredFile:
        if isinstance(value, str) and value in self.files:
            return self.files[value]
        upload = value if isinstance(value, UploadedFile) else None
        stored = StoredFile(self.new_id("AgACAgIAAxkBAAI"), self.new_id("AQAD"), upload)
        self.files[stored.file_id] = stored
        return stored

    # -- editing -----------------------------------------------------------------------------

    def _target(self, params: Json, action: str) -> SentMessage | None:
        """The message addressed by chat_id/message_id; None for inline messages."""
        if "inline_message_id" in params:
            return None
        key = (self._chat_id(params.get("chat_id", 0)), params.get("message_id", 0))
        message = self.messages.get(key)
        if message is None or message.deleted:
            raise ApiError(f"Bad Request: message to {action} not found")
        return message

    def _edit_text(self, params: Json) -> Json | bool:
        message = self._target(params, "edit")
        if message is None:
            return True
        if message.kind != "text":
            raise ApiError("Bad Request: there is no text in the message to edit")
        text, entities = _formatted(params, ("text", "entities"))
        return self._apply_edit(message, params, text=text, entities=entities)

    def _edit_caption(self, params: Json) -> Json | bool:
        message = self._target(params, "edit")
        if message is None:
            return True
        if message.kind == "text":
            raise ApiError("Bad Request: there is no caption in the message to edit")
        text, entities = _formatted(params, _CAPTION_KEYS)
        return self._apply_edit(message, params, text=text, entities=entities)

    def _edit_reply_markup(self, params: Json) -> Json | bool:
        message = self._target(params, "edit")
        return True if message is None else self._apply_edit(message, params)

    @staticmethod
    def _apply_edit(message: SentMessage, params: Json, **changes: Any) -> Json:
        # Like Telegram, an edit without reply_markup removes the inline keyboard.
        changes["reply_markup"] = _split_markup(params.get("reply_markup"))[0]
        if all(getattr(message, key) == value for key, value in changes.items()):
            raise ApiError(NOT_MODIFIED)
        for key, value in changes.items():
            setattr(message, key, value)
        message.edit_date = int(time.time())
        return message.to_dict()

    def _delete_message(self, params: Json) -> bool:
        key = (self._chat_id(params.get("chat_id", 0)), params.get("message_id", 0))
        if key in self.user_messages and key not in self.deleted_user_messages:
            self.deleted_user_messages.add(key)
            return True
        message = self._target(params, "delete")
        if message is not None:
            message.deleted = True
        return True

    # -- groups ------------------------------------------------------------------------------

    def _get_chat_member(self, params: Json) -> Json:
        chat_id, user_id = self._chat_id(params["chat_id"]), params["user_id"]
        group = self.groups.get(chat_id)
        if group is not None:
            return self.chat_member(user_id, group.status_of(user_id))
        if chat_id > 0:  # a private chat: its user and the bot are in it
            in_chat = user_id in (chat_id, BOT_USER["id"])
            return self.chat_member(user_id, "member" if in_chat else "left")
        raise ApiError("Bad Request: chat not found")

    def _get_chat_administrators(self, params: Json) -> list[Json]:
        chat_id = self._chat_id(params["chat_id"])
        group = self.groups.get(chat_id)
        if group is None:
            if chat_id > 0:
                raise ApiError("Bad Request: there are no administrators in the private chat")
            raise ApiError("Bad Request: chat not found")
        ranked = sorted(
            (status != "creator", user_id)
            for user_id, status in group.members.items()
            if status in ADMIN_STATUSES
        )
        admins = [self.chat_member(user_id, group.status_of(user_id)) for _, user_id in ranked]
        if group.bot_status in ADMIN_STATUSES:
            admins.append(self.chat_member(BOT_USER["id"], group.bot_status))
        return admins

    def chat_member(self, user_id: int, status: MemberStatus) -> Json:
        """A ChatMember object (ChatMemberOwner, ...Administrator, ...Member, ...Left or
        ...Banned) for ``status``."""
        member: Json = {"status": status, "user": self.user_dict(user_id)}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member |= ADMIN_RIGHTS
        elif status == "kicked":
            member["until_date"] = 0  # banned forever
        return member

    def user_dict(self, user_id: int) -> Json:
        """The User object of a registered customer, the bot, or a stand-in."""
        if user_id == BOT_USER["id"]:
            return {key: BOT_USER[key] for key in ("id", "is_bot", "first_name", "username")}
        customer = self.users.get(user_id)
        if customer is not None:
            return customer.as_dict()
        return {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}

    def _get_chat(self, params: Json) -> Json:
        """ChatFullInfo: the chat as in updates (``is_forum`` for a forum group)."""
        chat_id = self._chat_id(params["chat_id"])
        if chat_id > 0 and chat_id not in self.users:
            raise ApiError("Bad Request: chat not found")
        gifts = ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription")
        accepted = dict.fromkeys((*gifts, "gifts_from_channels"), False)
        return self.chat(chat_id) | {
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": accepted,
        }

    def _create_forum_topic(self, params: Json) -> Json:
        group = self.groups.get(self._chat_id(params["chat_id"]))
        if group is None or not group.is_forum:
            raise ApiError(NOT_A_FORUM)
        if group.bot_status not in ADMIN_STATUSES:
            raise ApiError("Bad Request: not enough rights to create a topic")
        color = params.get("icon_color", TOPIC_ICON_COLOR)
        thread_id = group.add_topic(params["name"], icon_color=color)
        topic: Json = {"message_thread_id": thread_id, "name": params["name"], "icon_color": color}
        if "icon_custom_emoji_id" in params:
            topic["icon_custom_emoji_id"] = params["icon_custom_emoji_id"]
        return topic

    # -- inline mode -------------------------------------------------------------------------

    def _answer_inline_query(self, params: Json) -> bool:
        query_id = params["inline_query_id"]
        if query_id not in self.inline_queries or query_id in self.inline_answers:
            raise ApiError(INLINE_QUERY_INVALID)
        results = params["results"]
        if len(results) > MAX_INLINE_RESULTS:
            raise ApiError("Bad Request: RESULTS_TOO_MUCH")
        ids = [result["id"] for result in results]
        if len(set(ids)) != len(ids):
            raise ApiError("Bad Request: RESULT_ID_DUPLICATE")
        self.inline_answers[query_id] = params
        return True

    # -- payments ----------------------------------------------------------------------------

    def _refund_star_payment(self, params: Json) -> bool:
        charge = self.charges.get(params["telegram_payment_charge_id"])
        if charge is None or charge.user_id != params["user_id"]:
            raise ApiError("Bad Request: CHARGE_NOT_FOUND")
        if charge.refunded:
            raise ApiError("Bad Request: CHARGE_ALREADY_REFUNDED")
        charge.refunded = True
        self.star_transactions.append(
            self._transaction(params["telegram_payment_charge_id"], charge, "receiver")
        )
        return True

    def record_charge(self, charge_id: str, charge: Charge) -> None:
        """Telegram took the Stars: the charge is refundable and appears in the ledger."""
        self.charges[charge_id] = charge
        self.star_transactions.append(self._transaction(charge_id, charge, "source"))

    def _transaction(self, charge_id: str, charge: Charge, side: str) -> Json:
        user = self.user_dict(charge.user_id)
        partner: Json = {"type": "user", "transaction_type": "invoice_payment", "user": user}
        if side == "source":
            partner["invoice_payload"] = charge.payload
        return {
            "id": charge_id,
            "amount": charge.total_amount,
            "date": int(time.time()),
            side: partner,
        }

    def _get_star_transactions(self, params: Json) -> Json:
        offset, limit = int(params.get("offset", 0)), int(params.get("limit", 100))
        return {"transactions": self.star_transactions[offset : offset + limit]}


class FakeGroup:
    """A supergroup the bot is in (by default as an administrator), e.g. the shop's private
    admin group; with ``is_forum`` it has topics (``topics``: thread id -> name).

    Messages in a topic carry ``message_thread_id`` and ``is_topic_message``; unless they
    reply to something else, Telegram shows them as replies to the topic's
    forum_topic_created service message (from whoever created the topic, the bot for
    createForumTopic).  A reply outside topics carries the reply thread's id as
    ``message_thread_id`` but no ``is_topic_message``."""

    def __init__(
        self,
        tg: FakeTelegram,
        chat_id: ChatId,
        title: str,
        is_forum: bool,
        bot_status: MemberStatus = "administrator",
    ) -> None:
        self.tg = tg
        self.id = chat_id
        self.title = title
        self.is_forum = is_forum
        self.bot_status: MemberStatus = bot_status  # "left"/"kicked": sends answer 403
        self.members: dict[int, MemberStatus] = {}
        self.topics: dict[int, str] = {}
        self._topic_roots: dict[int, Json] = {}

    def as_dict(self) -> Json:
        chat: Json = {"id": self.id, "type": "supergroup", "title": self.title}
        if self.is_forum:
            chat["is_forum"] = True
        return chat

    def set_member(self, user: FakeUser | int, status: MemberStatus) -> None:
        if status not in MEMBER_STATUSES:
            raise ValueError(f"unknown chat member status {status!r}")
        self.members[user if isinstance(user, int) else user.id] = status

    def status_of(self, user_id: int) -> MemberStatus:
        """The status getChatMember reports; "left" for users never seen in the group."""
        if user_id == BOT_USER["id"]:
            return self.bot_status
        return self.members.get(user_id, "left")

    def add_topic(
        self, name: str, icon_color: int = TOPIC_ICON_COLOR, by: FakeUser | None = None
    ) -> int:
        """Create a forum topic (as createForumTopic does, or as user ``by`` did in the app);
        returns its message_thread_id, the id of its forum_topic_created service message."""
        if not self.is_forum:
            raise AssertionError(f"group {self.id} is not a forum")
        thread_id = self.tg.next_message_id(self.id)
        self.topics[thread_id] = name
        self._topic_roots[thread_id] = {
            "message_id": thread_id,
            "from": by.as_dict() if by else self.tg.user_dict(BOT_USER["id"]),
            "date": int(time.time()),
            "chat": self.as_dict(),
            "message_thread_id": thread_id,
            "is_topic_message": True,
            "forum_topic_created": {"name": name, "icon_color": icon_color},
        }
        return thread_id

    def topic_root(self, thread_id: int) -> Json:
        """The forum_topic_created service message that opened topic ``thread_id``."""
        return self._topic_roots[thread_id]

    # -- what the bot sent -------------------------------------------------------------------

    def messages(
        self, thread_id: int | None = None, include_deleted: bool = False
    ) -> list[SentMessage]:
        """Messages the bot sent into the group (only topic ``thread_id`` if given)."""
        found = [
            m
            for (chat_id, _), m in self.tg.messages.items()
            if chat_id == self.id
            and (include_deleted or not m.deleted)
            and (thread_id is None or m.thread_id == thread_id)
        ]
        return sorted(found, key=lambda m: m.message_id)

    def texts(self, thread_id: int | None = None) -> list[str]:
        return [m.text for m in self.messages(thread_id) if m.text is not None]

    def last_message(
        self, with_keyboard: bool = False, thread_id: int | None = None
    ) -> SentMessage:
        found = [m for m in self.messages(thread_id) if m.buttons() or not with_keyboard]
        if not found:
            what = "message with an inline keyboard" if with_keyboard else "message"
            where = f"group {self.id}" + (f" topic {thread_id}" if thread_id else "")
            raise AssertionError(f"the bot sent no {what} to {where}\n{self.tg.dump()}")
        return found[-1]

    # -- update building ---------------------------------------------------------------------

    def admit(self, user: FakeUser) -> None:
        """Check that ``user`` can act in the group (someone never set becomes a member)."""
        if self.bot_status in ("left", "kicked"):
            raise AssertionError(f"the bot is not in group {self.id} (it is {self.bot_status})")
        status = self.members.setdefault(user.id, "member")
        if status in ("left", "kicked"):
            raise AssertionError(f"user {user.id} is not in group {self.id} (they are {status})")

    def placement(self, reply_to: SentMessage | None, thread_id: int | None) -> Json:
        """message_thread_id / is_topic_message / reply_to_message of a user's message."""
        if thread_id is not None:
            if not self.is_forum or thread_id not in self.topics:
                raise AssertionError(f"group {self.id} has no topic {thread_id}")
            if reply_to is not None and reply_to.thread_id != thread_id:
                raise AssertionError(f"message {reply_to.message_id} is not in topic {thread_id}")
        elif reply_to is not None and reply_to.thread_id in self.topics:
            thread_id = reply_to.thread_id
        if thread_id is not None:
            root = _as_reply(reply_to) if reply_to else self.topic_root(thread_id)
            return {
                "message_thread_id": thread_id,
                "is_topic_message": True,
                "reply_to_message": root,
            }
        if reply_to is not None:
            return {
                "message_thread_id": reply_to.thread_id or reply_to.message_id,
                "reply_to_message": _as_reply(reply_to),
            }
        return {}


class FakeUser:
    """A customer (or shop admin) chatting with the bot in a private chat or in a group."""

    def __init__(
        self,
        tg: FakeTelegram,
        user_id: int,
        first_name: str,
        language_code: str | None,
        username: str | None = None,
    ) -> None:
        self.tg = tg
        self.id = user_id
        self.first_name = first_name
        self.language_code = language_code
        self.username = username
        self.sent: list[Json] = []  # messages this user sent (update payloads), oldest first
        self.last_inline_query_id: str | None = None

    def as_dict(self) -> Json:
        user: Json = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    # -- what the bot sent -------------------------------------------------------------------

    def messages(self, include_deleted: bool = False) -> list[SentMessage]:
        """Messages the bot sent to this user, oldest first (current state)."""
        found = [
            m
            for (chat_id, _), m in self.tg.messages.items()
            if chat_id == self.id and (include_deleted or not m.deleted)
        ]
        return sorted(found, key=lambda m: m.message_id)

    def texts(self) -> list[str]:
        """Texts/captions (plain, after parse_mode) of the bot's messages, oldest first."""
        return [m.text for m in self.messages() if m.text is not None]

    def last_message(self, with_keyboard: bool = False) -> SentMessage:
        found = [m for m in self.messages() if m.buttons() or not with_keyboard]
        if not found:
            what = "message with an inline keyboard" if with_keyboard else "message"
            raise AssertionError(f"the bot sent no {what} to user {self.id}\n{self.tg.dump()}")
        return found[-1]

    def last_invoice(self) -> SentMessage:
        invoices = [m for m in self.messages() if m.invoice is not None]
        if not invoices:
            raise AssertionError(f"the bot sent no invoice to user {self.id}\n{self.tg.dump()}")
        return invoices[-1]

    # -- actions (each returns tg.mark() taken before the update was pushed) ---------------

    async def send(
        self,
        text: str,
        chat: FakeGroup | None = None,
        reply_to: SentMessage | None = None,
        thread_id: int | None = None,
    ) -> int:
        """A text message in the private chat, or in group ``chat`` (in forum topic
        ``thread_id``); optionally a reply to one of the bot's messages."""
        message = self._message(chat, reply_to, thread_id, text=text, **_command_entities(text))
        return self._push("message", message)

    async def send_photo(
        self,
        caption: str | None = None,
        chat: FakeGroup | None = None,
        reply_to: SentMessage | None = None,
        thread_id: int | None = None,
        data: bytes = b"\xff\xd8\xff\xe0 fake jpeg",
    ) -> int:
        """A photo (``data``, registered in ``tg.files`` under the largest size's file_id,
        so the bot can send it on) with an optional caption."""
        stored = StoredFile(
            self.tg.new_id("AgACAgIAAxkBAAI"),
            self.tg.new_id("AQAD"),
            UploadedFile("photo", "photo.jpg", "image/jpeg", data),
        )
        self.tg.files[stored.file_id] = stored
        content: Json = {"photo": _photo_sizes(stored)}
        if caption is not None:
            content["caption"] = caption
        return self._push("message", self._message(chat, reply_to, thread_id, **content))

    async def inline_query(self, query: str, offset: str = "", chat_type: str = "sender") -> int:
        """Type ``@bot query``: an inline_query update (its id: ``last_inline_query_id``)."""
        query_id = self.tg.new_id("iq")
        payload = {
            "id": query_id,
            "from": self.as_dict(),
            "query": query,
            "offset": offset,
            "chat_type": chat_type,
        }
        self.tg.inline_queries[query_id] = payload
        self.last_inline_query_id = query_id
        return self._push("inline_query", payload)

    async def press(
        self,
        text_or_predicate: str | Callable[[Json], bool],
        message: SentMessage | None = None,
        chat: FakeGroup | None = None,
    ) -> int:
        """Press an inline callback button, matched by exact text, else by substring, or by
        a predicate on the button dict; on ``message`` or the latest message with buttons
        (in the private chat, or in group ``chat``)."""
        target = message or (chat or self).last_message(with_keyboard=True)
        button = _find_button(target, text_or_predicate)
        if "callback_data" not in button:
            raise AssertionError(f"button {button['text']!r} is not a callback button: {button}")
        return self._push_callback(target, button["callback_data"])

    async def press_data(
        self, data: str, message_id: int | None = None, chat: FakeGroup | None = None
    ) -> int:
        """Send arbitrary (possibly forged) callback data from one of the bot's messages
        (in the private chat, or in group ``chat``)."""
        chat_id = chat.id if chat else self.id
        message = (
            (chat or self).last_message()
            if message_id is None
            else self.tg.messages.get((chat_id, message_id))
        )
        if message is None:
            raise AssertionError(f"no message {message_id} in chat {chat_id}")
        return self._push_callback(message, data)

    # -- payments ----------------------------------------------------------------------------

    async def pay(
        self, invoice_message: SentMessage | Invoice | None = None, total_amount: int | None = None
    ) -> Call:
        """Checkout an invoice: pre_checkout_query, then (if the bot answers ok) a message with
        successful_payment.  Returns the bot's answerPreCheckoutQuery call."""
        invoice_message = invoice_message or self.last_invoice()
        answer = await self.checkout(invoice_message, total_amount=total_amount)
        if answer.params.get("ok"):
            await self.successful_payment(invoice_message, total_amount=total_amount)
        return answer

    async def checkout(
        self, invoice_message: SentMessage | Invoice | None = None, total_amount: int | None = None
    ) -> Call:
        """Press Pay: a pre_checkout_query; returns the bot's answerPreCheckoutQuery call."""
        mark = self.tg.mark()
        query_id = await self.pre_checkout(invoice_message, total_amount=total_amount)
        return await self.tg.wait_for(
            "answerPreCheckoutQuery",
            where=lambda call: call.params.get("pre_checkout_query_id") == query_id,
            since=mark,
        )

    async def pre_checkout(
        self,
        invoice_message: SentMessage | Invoice | None = None,
        *,
        total_amount: int | None = None,
        payload: str | None = None,
        currency: str | None = None,
    ) -> str:
        """Push a pre_checkout_query; returns its id."""
        terms = self._terms(invoice_message, total_amount, payload, currency)
        query_id = self.tg.new_id("pcq")
        self._push("pre_checkout_query", {"id": query_id, "from": self.as_dict(), **terms})
        return query_id

    async def successful_payment(
        self,
        invoice_message: SentMessage | Invoice | None = None,
        *,
        total_amount: int | None = None,
        payload: str | None = None,
        currency: str | None = None,
        deliver: bool = True,
    ) -> str:
        """Push a message with successful_payment; returns its telegram_payment_charge_id.

        With ``deliver=False`` Telegram takes the Stars but the update never reaches the bot
        (it was confirmed by a process that died before handling it)."""
        terms = self._terms(invoice_message, total_amount, payload, currency)
        charge_id = self.tg.new_id("stxFAKEcharge")
        self.tg.record_charge(
            charge_id,
            Charge(self.id, terms["currency"], terms["total_amount"], terms["invoice_payload"]),
        )
        payment = terms | {
            "telegram_payment_charge_id": charge_id,
            "provider_payment_charge_id": self.tg.new_id("provider"),
        }
        if deliver:
            self._push("message", self._message(successful_payment=payment))
        return charge_id

    def _terms(
        self,
        invoice_message: SentMessage | Invoice | None,
        total_amount: int | None,
        payload: str | None,
        currency: str | None,
    ) -> Json:
        found = invoice_message or self.last_invoice()
        invoice = found if isinstance(found, Invoice) else found.invoice
        if invoice is None:
            raise AssertionError("the given message is not an invoice")
        return {
            "currency": invoice.currency if currency is None else currency,
            "total_amount": invoice.total_amount if total_amount is None else total_amount,
            "invoice_payload": invoice.payload if payload is None else payload,
        }

    # -- update building ---------------------------------------------------------------------

    def _message(
        self,
        chat: FakeGroup | None = None,
        reply_to: SentMessage | None = None,
        thread_id: int | None = None,
        **content: Any,
    ) -> Json:
        if chat is None and reply_to is not None and reply_to.chat_id in self.tg.groups:
            chat = self.tg.groups[reply_to.chat_id]
        chat_id = chat.id if chat else self.id
        if reply_to is not None and reply_to.chat_id != chat_id:
            raise AssertionError(f"message {reply_to.message_id} is not in chat {chat_id}")
        if chat is None:
            if thread_id is not None:
                raise AssertionError("thread_id needs a forum group (chat=...)")
            placement = {"reply_to_message": _as_reply(reply_to)} if reply_to else {}
        else:
            chat.admit(self)
            placement = chat.placement(reply_to, thread_id)
        message = {
            "message_id": self.tg.next_message_id(chat_id),
            "from": self.as_dict(),
            "date": int(time.time()),
            "chat": self.tg.chat(chat_id),
            **placement,
            **content,
        }
        if "successful_payment" not in content:
            self.sent.append(message)
            self.tg.user_messages[(chat_id, message["message_id"])] = message
            if chat is None:
                self.tg.unblock(self.id)  # writing to the bot again unblocks it
        return message

    def _push_callback(self, message: SentMessage, data: str) -> int:
        group = self.tg.groups.get(message.chat_id)
        if group is not None:
            group.admit(self)
        query = {
            "id": self.tg.new_id("cbq"),
            "from": self.as_dict(),
            "message": message.to_dict(),
            "chat_instance": f"ci{message.chat_id}",
            "data": data,
        }
        return self._push("callback_query", query)

    def _push(self, kind: str, payload: Json) -> int:
        mark = self.tg.mark()
        self.tg.push_update({kind: payload})
        return mark


# -- helpers -------------------------------------------------------------------------------


def _same_method(a: str, b: str) -> bool:
    return a.lower() == b.lower()


def _puts_message(method: str) -> bool:
    """send*, copy* and forward* methods: they put messages into ``chat_id``."""
    lowered = method.lower()
    return lowered.startswith("send") or lowered in _FORWARDING


def _max_in_window(stamps: list[float], window: float) -> int:
    """Most of ``stamps`` within any half-open interval [t, t + window)."""
    ordered = sorted(stamps)
    best, start = 0, 0
    for end, stamp in enumerate(ordered):
        while stamp - ordered[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def _as_reply(message: SentMessage) -> Json:
    """A message as ``reply_to_message``: without a nested reply_to_message."""
    return {k: v for k, v in message.to_dict().items() if k != "reply_to_message"}


def _short(value: Any, limit: int = 300) -> str:
    text = json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= limit else text[:limit] + "…"


def _update_type(update: Json) -> str:
    return next((key for key in update if key != "update_id"), "?")


async def _read_params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.method != "POST" or not request.body_exists:
        return params
    if request.content_type == "application/json":
        params |= await request.json()
        return params
    for key, value in (await request.post()).items():
        params[key] = (
            UploadedFile(key, value.filename, value.content_type, value.file.read())
            if isinstance(value, web.FileField)
            else value
        )
    return params


def _resolve_attachments(params: Json) -> Json:
    """Replace "attach://name" references by the uploaded parts (dropping the parts)."""
    files = {key: value for key, value in params.items() if isinstance(value, UploadedFile)}
    attached = attachment_names(params)

    def resolve(value: Any) -> Any:
        if isinstance(value, str) and value.startswith(ATTACH_PREFIX):
            return files.get(value.removeprefix(ATTACH_PREFIX), value)
        if isinstance(value, dict):
            return {key: resolve(item) for key, item in value.items()}
        if isinstance(value, list):
            return [resolve(item) for item in value]
        return value

    return {key: resolve(value) for key, value in params.items() if key not in attached}


def _split_markup(markup: Json | None) -> tuple[Json | None, Json | None]:
    """(inline keyboard, other reply markup); validates callback data like Telegram."""
    if not markup:
        return None, None
    if "inline_keyboard" not in markup:
        return None, markup
    for row in markup["inline_keyboard"]:
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA:
                raise ApiError("Bad Request: BUTTON_DATA_INVALID")
    return markup, None


def _formatted(params: Json, keys: tuple[str, str]) -> tuple[str | None, list[Json]]:
    """Plain text and entities as Telegram stores them (HTML parse_mode is applied)."""
    text_key, entities_key = keys
    source = params.get(text_key)
    if source is None:
        return None, []
    if entities_key in params:
        text, entities = source, params[entities_key]
    elif str(params.get("parse_mode", "")).lower() == "html":
        text, entities = parse_html(source)
    else:
        text, entities = source, []
    limit = MAX_TEXT if text_key == "text" else MAX_CAPTION
    if len(text) > limit:
        what = "message" if text_key == "text" else "message caption"
        raise ApiError(f"Bad Request: {what} is too long")
    return text, entities


def _command_entities(text: str) -> Json:
    if not text.startswith("/"):
        return {}
    command = text.split(maxsplit=1)[0]
    return {"entities": [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]}


def _find_button(message: SentMessage, wanted: str | Callable[[Json], bool]) -> Json:
    buttons = message.buttons()
    if callable(wanted):
        matches = [b for b in buttons if wanted(b)][:1]
    else:
        matches = [b for b in buttons if b["text"] == wanted]
        matches = matches or [b for b in buttons if wanted in b["text"]]
    if len(matches) != 1:
        problem = "several buttons match" if matches else "no button matches"
        raise AssertionError(
            f"{problem} {wanted!r} on message {message.message_id}; "
            f"available: {message.button_texts()}"
        )
    return matches[0]


def _photo_sizes(stored: StoredFile) -> list[Json]:
    return [
        {
            "file_id": f"{stored.file_id}{suffix}",
            "file_unique_id": f"{stored.file_unique_id}{suffix}",
            "width": side,
            "height": side,
            "file_size": len(stored.upload.data) * side // 800 if stored.upload else side * 40,
        }
        for suffix, side in (("-s", 90), ("", 800))
    ]


def _document(stored: StoredFile) -> Json:
    document: Json = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
    if stored.upload:
        document |= {
            "file_name": stored.upload.filename,
            "mime_type": stored.upload.content_type,
            "file_size": len(stored.upload.data),
        }
    return document


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


# -- HTML parse_mode -----------------------------------------------------------------------

_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
    "tg-time": "date_time",
}
_HTML_ESCAPES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_HTML_TOKEN_RE = re.compile(r"<(/?)([^\s/>]*)([^>]*)>|<|&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);")
_HTML_ATTR_RE = re.compile(r"""([\w-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?""")


def parse_html(source: str) -> tuple[str, list[Json]]:
    """Telegram's HTML parse mode: plain text plus entities; raises ApiError like Telegram
    ("can't parse entities: ...") on unsupported or unbalanced tags and bare "<"."""
    return _HtmlParser(source).parse()


class _HtmlParser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.chunks: list[str] = []
        self.offset = 0
        self.stack: list[tuple[str, Json]] = []
        self.entities: list[Json] = []

    def parse(self) -> tuple[str, list[Json]]:
        position = 0
        for match in _HTML_TOKEN_RE.finditer(self.source):
            self._text(self.source[position : match.start()])
            position = match.end()
            self._token(match)
        self._text(self.source[position:])
        if self.stack:
            self._fail(f'Can\'t find end tag corresponding to start tag "{self.stack[-1][0]}"')
        return "".join(self.chunks), sorted(
            self.entities, key=lambda e: (e["offset"], -e["length"])
        )

    def _text(self, text: str) -> None:
        self.chunks.append(text)
        self.offset += utf16_len(text)

    def _token(self, match: re.Match[str]) -> None:
        at = len(self.source[: match.start()].encode())
        slash, name, attributes, escape = match.groups()
        if escape is not None:
            self._text(_unescape(escape, match.group(0)))
        elif name is None:
            self._fail(f"Unclosed start tag at byte offset {at}")
        elif slash:
            self._close(name.lower(), at)
        else:
            self._open(name.lower(), _html_attributes(attributes), at)

    def _open(self, name: str, attributes: dict[str, str], at: int) -> None:
        kind = _HTML_TAGS.get(name)
        if kind is None or (name == "span" and attributes.get("class") != "tg-spoiler"):
            self._fail(f'Unsupported start tag "{name}" at byte offset {at}')
        entity: Json = {"type": kind, "offset": self.offset}
        entity |= _entity_attributes(name, attributes)
        self.stack.append((name, entity))

    def _close(self, name: str, at: int) -> None:
        if not self.stack:
            self._fail(f"Unexpected end tag at byte offset {at}")
        open_name, entity = self.stack.pop()
        if open_name != name:
            self._fail(
                f'Unmatched end tag at byte offset {at}, expected "</{open_name}>", '
                f'found "</{name}>"'
            )
        entity["length"] = self.offset - entity["offset"]
        language = entity.pop("language", None) if name == "code" else None
        if language and self.stack and self.stack[-1][1]["type"] == "pre":
            self.stack[-1][1]["language"] = language  # <pre><code class="language-x">
        elif entity["length"] > 0:
            self.entities.append(entity)

    @staticmethod
    def _fail(reason: str) -> NoReturn:
        raise ApiError(f"Bad Request: can't parse entities: {reason}")


def _html_attributes(raw: str) -> dict[str, str]:
    return {
        m.group(1).lower(): next((v for v in m.group(2, 3, 4) if v is not None), "")
        for m in _HTML_ATTR_RE.finditer(raw)
    }


def _entity_attributes(name: str, attributes: Mapping[str, str]) -> Json:
    if name == "a":
        return {"url": attributes.get("href", "")}
    if name == "tg-emoji":
        return {"custom_emoji_id": attributes.get("emoji-id", "")}
    if name == "blockquote" and "expandable" in attributes:
        return {"type": "expandable_blockquote"}
    if name == "code" and attributes.get("class", "").startswith("language-"):
        return {"language": attributes["class"].removeprefix("language-")}
    if name == "tg-time":
        unix = attributes.get("unix", "")
        extra: Json = {"unix_time": int(unix) if unix.isdigit() else 0}
        return extra | (
            {"date_time_format": attributes["format"]} if "format" in attributes else {}
        )
    return {}


def _unescape(name: str, raw: str) -> str:
    if name in _HTML_ESCAPES:
        return _HTML_ESCAPES[name]
    if name.startswith("#"):
        code = int(name[2:], 16) if name[1] == "x" else int(name[1:])
        return chr(code) if code <= 0x10FFFF else raw
    return raw


__all__ = [
    "BOT_USER",
    "DEFAULT_TOKEN",
    "NEWER_THAN_SCHEMA",
    "ApiError",
    "Call",
    "Charge",
    "FakeGroup",
    "FakeTelegram",
    "FakeUser",
    "Invoice",
    "MemberStatus",
    "SentMessage",
    "StoredFile",
    "parse_html",
    "utf16_len",
]
