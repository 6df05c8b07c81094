"""The clock the vendor tests move by hand (simulators and clients read the time from it)."""

from __future__ import annotations

START = 1_700_000_000.0  # 2023-11-14T22:13:20+00:00


class FakeClock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
