"""Where support and admin messages go in the admin group: its forum topics (by name, and a
support topic's customer) and, in a group without topics, which posted message belongs to
which customer."""

from __future__ import annotations

import time
from collections.abc import Sequence

from storage.db import Database


class ForumTopicRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def thread(self, chat_id: int, topic: str) -> int | None:
        row = await self._db.fetchone(
            "SELECT thread_id FROM forum_topics WHERE chat_id = ? AND topic = ?", (chat_id, topic)
        )
        return int(row[0]) if row else None

    async def remember(
        self, chat_id: int, topic: str, thread_id: int, customer_id: int | None = None
    ) -> int:
        """Remember a topic just opened; returns the thread in use, which is another one
        when another replica opened the same topic first (its topic is kept)."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO forum_topics (chat_id, topic, thread_id, customer_id, created_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (chat_id, topic) DO NOTHING",
                (chat_id, topic, thread_id, customer_id, time.time()),
            )
            rows = await tx.fetchall(
                "SELECT thread_id FROM forum_topics WHERE chat_id = ? AND topic = ?",
                (chat_id, topic),
            )
        return int(rows[0][0])

    async def forget(self, chat_id: int, topic: str, thread_id: int) -> None:
        """The topic is gone (deleted in Telegram); a newer one someone opened stays."""
        await self._db.execute(
            "DELETE FROM forum_topics WHERE chat_id = ? AND topic = ? AND thread_id = ?",
            (chat_id, topic, thread_id),
        )

    async def customer_of(self, chat_id: int, thread_id: int) -> int | None:
        """The customer whose support topic `thread_id` is, if it is one."""
        row = await self._db.fetchone(
            "SELECT customer_id FROM forum_topics WHERE chat_id = ? AND thread_id = ?",
            (chat_id, thread_id),
        )
        return int(row[0]) if row and row[0] is not None else None


class SupportMessageRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def remember(self, chat_id: int, message_ids: Sequence[int], customer_id: int) -> None:
        now = time.time()
        async with self._db.transaction() as tx:
            await tx.executemany(
                "INSERT INTO support_messages (chat_id, message_id, customer_id, created_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (chat_id, message_id) DO UPDATE"
                " SET customer_id = excluded.customer_id",
                [(chat_id, message_id, customer_id, now) for message_id in message_ids],
            )

    async def customer_of(self, chat_id: int, message_id: int) -> int | None:
        row = await self._db.fetchone(
            "SELECT customer_id FROM support_messages WHERE chat_id = ? AND message_id = ?",
            (chat_id, message_id),
        )
        return int(row[0]) if row else None
