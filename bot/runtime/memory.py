"""The garbage collector and the shop's big, long-lived data (the models, the catalog).

CPython's full collection walks every object that is not frozen: with a catalog of
50,000 offers that is a tenth of a second in one go, during which no update is answered.
So what start-up and catalog reloads build is frozen (exempt from collections), and a
reload, which allocates in bulk, runs with the collector paused.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

from bot.lazy_aiogram import complete_common

_pauses = 0  # this process's own collector: nothing another process has to agree with


def settle() -> None:
    """Complete the Telegram types every update uses, then exempt what start-up built
    from garbage collection: a full collection then walks only what updates leave behind."""
    complete_common()
    gc.collect()
    gc.freeze()


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """No automatic collections meanwhile (they would walk everything being built, again
    and again); nested and concurrent pauses end with the last one."""
    global _pauses
    _pauses += 1
    gc.disable()
    try:
        yield
    finally:
        _pauses -= 1
        if not _pauses:
            gc.enable()
