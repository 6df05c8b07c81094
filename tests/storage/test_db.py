"""The database interface on both engines: a transaction cancelled at any moment (a
shutdown cancels the worker wherever it is) leaves nothing half-done behind it."""

from __future__ import annotations

import asyncio
import contextlib


async def test_a_transaction_cancelled_at_any_moment_leaves_the_database_usable(db):
    for delay in (0, 0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01):

        async def write() -> None:
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO cursors (name, value) VALUES (?, ?)", ("c", 1))
                await asyncio.sleep(1)

        task = asyncio.create_task(write())
        await asyncio.sleep(delay)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await db.execute("INSERT INTO cursors (name, value) VALUES (?, ?)", (f"d{delay}", 2))
    assert await db.fetchone("SELECT value FROM cursors WHERE name = 'c'") is None
    assert (await db.fetchone("SELECT COUNT(*) FROM cursors"))[0] == 7
