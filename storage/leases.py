"""Leases on the shop's once-at-a-time jobs: held by one process while it runs them."""

from __future__ import annotations

import time
from collections.abc import Sequence

from storage.db import Database


class LeaseRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def take(self, name: str, owner: str, seconds: float) -> bool:
        """Hold `name` for `seconds` from now: True if it was free (and due), ran out, or
        is already `owner`'s (then renewed); False while another owner holds it, or while
        the job rests after its last run."""
        now = time.time()
        rows = await self._db.returning(
            "INSERT INTO job_leases (name, owner, until) VALUES (?, ?, ?)"
            " ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until"
            " WHERE job_leases.owner = excluded.owner"
            " OR (job_leases.until < ? AND job_leases.next_run_at <= ?)"
            " RETURNING owner",
            (name, owner, now + seconds, now, now),
        )
        return bool(rows)

    async def release(self, name: str, owner: str, *, rest: float = 0.0) -> None:
        """Let go of `name`; nobody takes it again for `rest` seconds."""
        await self._db.execute(
            "UPDATE job_leases SET owner = NULL, until = 0, next_run_at = ?"
            " WHERE name = ? AND owner = ?",
            (time.time() + rest, name, owner),
        )

    async def due_now(self, names: Sequence[str]) -> None:
        """These jobs run at the next chance (a process started: something may have been
        missed meanwhile); held leases stay held."""
        if names:
            marks = ",".join("?" * len(names))
            await self._db.execute(
                f"UPDATE job_leases SET next_run_at = 0 WHERE name IN ({marks})", tuple(names)
            )
