"""bot.admin.topics against the fake Bot API and a real database: topics are opened once and
reused after a restart and by a second replica, opened again when deleted, and absent in a
plain group or when the bot may not manage topics."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiogram import Bot

from bot.admin.topics import ALERTS, ORDERS, GroupTopics, customer_topic
from bot.config import PROJECT_ROOT
from bot.i18n import load_i18n
from storage import Database, ForumTopicRepo
from tests.support.fake_telegram import FakeTelegram

GROUP = -1009000


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    async with tg.make_bot() as bot:  # closes its session
        yield bot


@pytest.fixture
async def db(tmp_path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "shop.sqlite3")
    yield database
    await database.close()


def replica(bot: Bot, db: Database) -> GroupTopics:
    i18n = load_i18n(PROJECT_ROOT / "locales", "en")
    return GroupTopics(bot, ForumTopicRepo(db), i18n, GROUP)


async def post(topics: GroupTopics, bot: Bot, topic: str, text: str) -> int | None:
    async def send(thread: int | None) -> int | None:
        await bot.send_message(GROUP, text, message_thread_id=thread)
        return thread

    return await topics.post(topic, send)


async def test_topics_are_opened_once_and_shared(tg, bot, db):
    forum = tg.group(GROUP, is_forum=True)
    first, second = replica(bot, db), replica(bot, db)  # two replicas, or before and after
    alerts = await post(first, bot, ALERTS, "vendor down")
    assert await post(second, bot, ALERTS, "vendor up") == alerts
    orders = await post(second, bot, ORDERS, "sold one")
    assert forum.topics == {alerts: "⚠️ Alerts", orders: "🧾 Orders"}
    assert forum.texts(alerts) == ["vendor down", "vendor up"]
    assert len(tg.calls_of("getChat")) == 2  # once per replica: the answer is cached


async def test_replicas_opening_at_once_keep_one_topic(tg, bot, db):
    forum = tg.group(GROUP, is_forum=True)
    introduced: list[int] = []

    async def introduce(thread: int) -> None:
        introduced.append(thread)

    topic = customer_topic(7)
    threads = await asyncio.gather(
        *(
            replica(bot, db).thread(topic, name="Ann · 7", customer_id=7, opened=introduce)
            for _ in range(3)
        )
    )
    assert len(set(threads)) == 1 and threads[0] is not None
    deleted = [c.params["message_thread_id"] for c in tg.calls_of("deleteForumTopic")]
    created = [c.result["message_thread_id"] for c in tg.calls_of("createForumTopic")]
    assert sorted(deleted + threads[:1]) == sorted(created)  # the losers' topics are removed
    assert introduced == threads[:1]  # only the topic kept is introduced
    assert len(created) > 1, "the replicas did not race"
    assert await ForumTopicRepo(db).customer_of(GROUP, threads[0]) == 7
    assert forum.topics[threads[0]] == "Ann · 7"


async def test_a_deleted_topic_is_opened_again(tg, bot, db):
    forum = tg.group(GROUP, is_forum=True)
    topics = replica(bot, db)
    gone = await post(topics, bot, ALERTS, "one")
    del forum.topics[gone]
    again = await post(topics, bot, ALERTS, "two")
    assert again != gone and forum.texts(again) == ["two"]
    assert await ForumTopicRepo(db).thread(GROUP, ALERTS) == again


async def test_no_topics_in_a_plain_group_or_without_the_right(tg, bot, db):
    plain = tg.group(GROUP)
    assert await post(replica(bot, db), bot, ALERTS, "plain") is None
    assert plain.texts() == ["plain"] and tg.calls_of("createForumTopic") == []

    plain.is_forum = True
    plain.bot_status = "member"  # may post, may not open topics
    topics = replica(bot, db)
    assert await post(topics, bot, ALERTS, "general") is None
    assert not await topics.is_forum()  # taken for a plain group for a while
