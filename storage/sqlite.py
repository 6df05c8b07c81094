"""SQLite through aiosqlite: WAL, durable commits, one connection per process whose write
transactions are serialized (BEGIN IMMEDIATE also keeps other processes out meanwhile)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from storage.db import MIGRATIONS_TABLE, SQLITE, Database, DatabaseError, Row, Transaction, pending

log = logging.getLogger(__name__)


class SqliteDatabase(Database):
    dialect = SQLITE

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._write_lock = asyncio.Lock()

    @classmethod
    async def connect(cls, path: Path) -> SqliteDatabase:
        if str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = await aiosqlite.connect(str(path), isolation_level=None)
        except Exception as exc:
            raise DatabaseError(f"DATABASE_PATH: cannot open {path}: {exc}") from None
        conn.row_factory = aiosqlite.Row
        for pragma in (
            "journal_mode=WAL",
            "synchronous=FULL",  # a commit is on disk before we act on it (money rules)
            "busy_timeout=10000",
            "foreign_keys=ON",
        ):
            await conn.execute(f"PRAGMA {pragma}")
        db = cls(conn)
        try:
            await db.migrate()
        except BaseException:
            await conn.close()
            raise
        return db

    async def close(self) -> None:
        await self._conn.close()

    async def migrate(self) -> None:
        await self._conn.execute(MIGRATIONS_TABLE)
        applied = {row[0] for row in await self.fetchall("SELECT version FROM schema_migrations")}
        for version, name, sql in pending(applied, self.dialect):
            log.info("applying migration %04d %s", version, name)
            # executescript runs the whole file plus its bookkeeping as one transaction
            await self._conn.executescript(
                f"BEGIN IMMEDIATE;\n{sql}\n"
                f"INSERT INTO schema_migrations VALUES ({version}, '{name}', {time.time()});\n"
                "COMMIT;"
            )

    # aiosqlite runs each call on its thread: one call per statement where it can, not
    # three (execute, fetch, close), since every hop costs the event loop as much as the query

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> Row | None:
        rows = await self._conn.execute_fetchall(sql, tuple(params))
        return next(iter(rows), None)

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        return list(await self._conn.execute_fetchall(sql, tuple(params)))

    async def fetch_chunks(
        self, sql: str, params: Iterable[Any] = (), size: int = 2_000
    ) -> AsyncIterator[list[Row]]:
        async with self._conn.execute(sql, tuple(params)) as cursor:
            while rows := await cursor.fetchmany(size):
                yield list(rows)

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        """One statement is a transaction of its own in SQLite: no BEGIN and COMMIT."""
        async with self._write_lock, self._conn.execute(sql, tuple(params)) as cursor:
            return cursor.rowcount

    async def returning(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        async with self._write_lock:
            return list(await self._conn.execute_fetchall(sql, tuple(params)))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self._write_lock:
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                yield SqliteTransaction(self._conn)
            except BaseException:
                # also when cancelled while BEGIN still ran in aiosqlite's thread: the
                # connection must not stay inside a transaction nobody will end
                await asyncio.shield(self._rollback())
                raise
            await self._conn.execute("COMMIT")

    async def _rollback(self) -> None:
        """End the open transaction, if any (statements run in order on one thread, so
        this comes after a BEGIN that is still queued)."""
        with contextlib.suppress(sqlite3.OperationalError):  # no transaction was open
            await self._conn.execute("ROLLBACK")


class SqliteTransaction(Transaction):
    dialect = SQLITE

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        async with self._conn.execute(sql, tuple(params)) as cursor:
            return cursor.rowcount

    async def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> None:
        await self._conn.executemany(sql, [tuple(row) for row in rows])

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        return list(await self._conn.execute_fetchall(sql, tuple(params)))
