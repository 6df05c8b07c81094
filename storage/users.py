"""Customers and their language. Read through a small in-process cache."""

from __future__ import annotations

import time
from dataclasses import dataclass

from storage.db import Database


@dataclass(frozen=True)
class _Entry:
    expires: float
    chosen: str | None
    telegram: str | None


class UserRepo:
    """Every update needs the user's language, so answers are cached for `ttl` seconds.

    A replica that did not handle a /language change catches up within `ttl`; the
    database is only touched when a user is new, the cache expired, or something changed.
    """

    def __init__(self, db: Database, ttl: float = 300.0, max_entries: int = 50_000) -> None:
        self._db = db
        self._ttl = ttl
        self._max = max_entries
        self._cache: dict[int, _Entry] = {}

    async def language(self, user_id: int, telegram_language: str | None) -> str | None:
        """The chosen language, else Telegram's; remembers Telegram's for background messages."""
        entry = self._cache.get(user_id)
        if entry is None or entry.expires < time.monotonic():
            entry = await self._load(user_id)
        if telegram_language and telegram_language != entry.telegram:
            await self._db.execute(
                "INSERT INTO users (id, telegram_language, created_at) VALUES (?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET telegram_language = excluded.telegram_language",
                (user_id, telegram_language, time.time()),
            )
            entry = self._remember(user_id, entry.chosen, telegram_language)
        return entry.chosen or entry.telegram

    async def set_language(self, user_id: int, language: str | None) -> None:
        await self._db.execute(
            "INSERT INTO users (id, language, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET language = excluded.language",
            (user_id, language, time.time()),
        )
        entry = self._cache.get(user_id)
        self._remember(user_id, language, entry.telegram if entry else None)

    def forget(self, user_id: int) -> None:
        """Drop what the cache knows of a customer (another process changed it)."""
        self._cache.pop(user_id, None)

    async def set_banned(self, user_id: int, banned: bool) -> None:
        await self._db.execute(
            "INSERT INTO users (id, banned, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET banned = excluded.banned",
            (user_id, int(banned), time.time()),
        )

    async def is_banned(self, user_id: int) -> bool:
        """Read fresh (not cached): asked only when a purchase starts."""
        row = await self._db.fetchone("SELECT banned FROM users WHERE id = ?", (user_id,))
        return bool(row and row[0])

    async def set_blocked(self, user_id: int, blocked: bool) -> None:
        await self._db.execute("UPDATE users SET blocked = ? WHERE id = ?", (int(blocked), user_id))

    async def reachable(self, *, after: int, limit: int) -> list[int]:
        """Customers a broadcast may write to (not blocked, not banned), by id after `after`
        (keyset paging: a broadcast to many thousands reads a page at a time)."""
        rows = await self._db.fetchall(
            "SELECT id FROM users WHERE blocked = 0 AND banned = 0 AND id > ? ORDER BY id LIMIT ?",
            (after, limit),
        )
        return [int(row[0]) for row in rows]

    async def count_reachable(self) -> int:
        row = await self._db.fetchone("SELECT COUNT(*) FROM users WHERE blocked = 0 AND banned = 0")
        return int(row[0]) if row else 0

    async def _load(self, user_id: int) -> _Entry:
        row = await self._db.fetchone(
            "SELECT language, telegram_language FROM users WHERE id = ?", (user_id,)
        )
        chosen, telegram = (row[0], row[1]) if row else (None, None)
        return self._remember(user_id, chosen, telegram)

    def _remember(self, user_id: int, chosen: str | None, telegram: str | None) -> _Entry:
        if len(self._cache) >= self._max:
            self._cache.clear()
        entry = _Entry(time.monotonic() + self._ttl, chosen, telegram)
        self._cache[user_id] = entry
        return entry
