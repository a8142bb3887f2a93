"""Fixtures shared by the whole suite. Keep them small and generic; areas add their own."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from sync import Replica


class ManualClock:
    """A wall clock the test moves by hand (milliseconds since the epoch)."""

    def __init__(self, start_ms: int = 1_583_625_600_000) -> None:  # 2020-03-08 00:00 UTC
        self.ms = start_ms

    def __call__(self) -> int:
        return self.ms

    def advance(self, ms: int = 1) -> None:
        self.ms += ms


@pytest.fixture
def clock() -> ManualClock:
    """A ManualClock to pass as `Replica(..., now_ms=clock)`."""
    return ManualClock()


@pytest.fixture
def make_replica(tmp_path: Path) -> Iterator[Callable[..., Replica]]:
    """Open replicas in SQLite files under tmp_path (`make_replica("a")`); all closed after."""
    opened: list[Replica] = []

    def make(name: str = "replica", schema: Any = None, **kwargs: Any) -> Replica:
        replica = Replica(tmp_path / f"{name}.db", schema, **kwargs)
        opened.append(replica)
        return replica

    yield make
    for replica in opened:
        replica.close()
