"""PostgreSQL through an asyncpg connection pool, for a shop of several processes.

Repositories write `?` placeholders; they become `$1, $2, ...` here. Transactions run at
READ COMMITTED: every order move is a compare-and-set, the rows a transaction reads to
change are locked (`Dialect.for_update`), and claims skip rows another worker holds."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from functools import lru_cache
from typing import Any

import asyncpg

from storage.db import (
    MIGRATIONS_TABLE,
    POSTGRESQL,
    Database,
    DatabaseError,
    Row,
    Transaction,
    pending,
    safe_url,
)

log = logging.getLogger(__name__)
MIGRATION_LOCK = 0x53_686F_70  # an advisory lock key: one process migrates at a time
CONNECT_TIMEOUT = 10.0


class PostgresDatabase(Database):
    dialect = POSTGRESQL

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @classmethod
    async def connect(cls, url: str, *, pool_size: int = 10) -> PostgresDatabase:
        try:
            pool = await asyncpg.create_pool(
                url,
                min_size=1,
                max_size=pool_size,
                timeout=CONNECT_TIMEOUT,
                command_timeout=60,
                server_settings={"application_name": "storefront"},
            )
        except Exception as exc:
            raise DatabaseError(
                f"DATABASE_URL: cannot use PostgreSQL at {safe_url(url)}: {_reason(exc)}"
            ) from None
        db = cls(pool)
        try:
            await db.migrate()
        except BaseException:
            await pool.close()
            raise
        return db

    async def close(self) -> None:
        await self._pool.close()

    async def migrate(self) -> None:
        async with self._pool.acquire() as conn:
            # several processes may start at once: one migrates, the others wait for it
            await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
            try:
                await conn.execute(self.dialect.migration(MIGRATIONS_TABLE))
                rows = await conn.fetch("SELECT version FROM schema_migrations")
                for version, name, sql in pending({row[0] for row in rows}, self.dialect):
                    log.info("applying migration %04d %s", version, name)
                    async with conn.transaction():
                        await conn.execute(sql)
                        await conn.execute(
                            "INSERT INTO schema_migrations VALUES ($1, $2, $3)",
                            version,
                            name,
                            time.time(),
                        )
            finally:
                await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> Row | None:
        row: Row | None = await self._pool.fetchrow(numbered(sql), *params)
        return row

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        return list(await self._pool.fetch(numbered(sql), *params))

    # One statement is a transaction of its own: one round trip, not BEGIN and COMMIT too.

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        return _rowcount(await self._pool.execute(numbered(sql), *params))

    async def returning(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        return list(await self._pool.fetch(numbered(sql), *params))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self._pool.acquire() as conn, conn.transaction():
            yield PostgresTransaction(conn)


class PostgresTransaction(Transaction):
    dialect = POSTGRESQL

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        return _rowcount(await self._conn.execute(numbered(sql), *params))

    async def executemany(self, sql: str, rows: Iterable[Iterable[Any]]) -> None:
        await self._conn.executemany(numbered(sql), [tuple(row) for row in rows])

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        return list(await self._conn.fetch(numbered(sql), *params))


@lru_cache(maxsize=1024)
def numbered(sql: str) -> str:
    """`?` placeholders as PostgreSQL's `$1, $2, ...` (none inside quoted text)."""
    out: list[str] = []
    count = 0
    quote: str | None = None
    for char in sql:
        if quote is not None:
            if char == quote:
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "?":
            count += 1
            out.append(f"${count}")
            continue
        out.append(char)
    return "".join(out)


def _rowcount(status: str) -> int:
    """Rows changed, from a command tag such as 'UPDATE 3' or 'INSERT 0 1'."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError | TimeoutError):
        return "no server answers there" if not str(exc) else str(exc).splitlines()[0]
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
