"""Filters checked in the event loop. aiogram runs a bare magic filter (`F.text`) through
`asyncio.to_thread`, a thread hop for every check of every update; `Is(F.text)` is the
same rule as an async filter, checked in place."""

from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from magic_filter import MagicFilter


class Is(Filter):
    def __init__(self, rule: MagicFilter) -> None:
        self._rule = rule

    async def __call__(self, event: Any) -> bool:
        return bool(self._rule.resolve(event))

    def __str__(self) -> str:
        return f"Is({self._rule!r})"
