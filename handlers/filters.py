"""Filters checked in the event loop, reading only what they need.

- aiogram runs a bare magic filter (`F.text`) through `asyncio.to_thread`, a thread hop
  for every check of every update; `Is(F.text)` is the same rule checked in place.
- `InState(Purchase.entering)` (aiogram's `StateFilter`) asks the conversation for its
  state when it is checked: the dispatcher no longer reads it for every update."""

from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State
from magic_filter import MagicFilter


class Is(Filter):
    def __init__(self, rule: MagicFilter) -> None:
        self._rule = rule

    async def __call__(self, event: Any) -> bool:
        return bool(self._rule.resolve(event))

    def __str__(self) -> str:
        return f"Is({self._rule!r})"


class InState(Filter):
    """The conversation is in one of `states` (None: in none)."""

    def __init__(self, *states: State | None) -> None:
        self._states = {state.state if isinstance(state, State) else state for state in states}

    async def __call__(self, event: Any, state: FSMContext | None = None) -> bool:
        current = await state.get_state() if state is not None else None
        return current in self._states

    def __str__(self) -> str:
        return f"InState({sorted(map(str, self._states))})"
