"""Hybrid logical clock: wall-clock milliseconds in the high bits, a counter in the low 16."""

from __future__ import annotations

import time
from collections.abc import Callable

COUNTER_BITS = 16
COUNTER_MASK = (1 << COUNTER_BITS) - 1


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


def pack(ms: int, counter: int = 0) -> int:
    return (ms << COUNTER_BITS) | counter


def millis(stamp: int) -> int:
    """The wall-clock part of a stamp, in Unix milliseconds."""
    return stamp >> COUNTER_BITS


class HLC:
    """A clock that never goes backwards and moves past every stamp it has seen."""

    def __init__(self, last: int = 0, now_ms: Callable[[], int] = wall_ms) -> None:
        self.last = last
        self.now_ms = now_ms

    def now(self) -> int:
        wall = pack(self.now_ms())
        # When the wall clock is behind what we have seen, count up instead;
        # an overflowing counter simply carries into the millisecond part.
        self.last = wall if wall > self.last else self.last + 1
        return self.last

    def observe(self, stamp: int) -> None:
        if stamp > self.last:
            self.last = stamp

    def too_far_ahead(self, stamp: int, max_drift_ms: int) -> bool:
        return millis(stamp) > self.now_ms() + max_drift_ms
