"""Merge rules: which of two stamped values of one cell wins. Pure functions."""

from __future__ import annotations

from typing import Any

# A cell's clock as stored: [hlc, site, ctr, prev_hlc, prev_site].
Clock = list[Any]


def sort_key(value: Any, hlc: int, site: str, ranks: dict[str, int] | None) -> tuple[Any, ...]:
    """Greater key wins. lww: (hlc, site). max: (rank of state, hlc, site)."""
    if ranks is None:
        return (hlc, site)
    return (ranks.get(value, -1) if isinstance(value, str) else -1, hlc, site)


def is_concurrent(prev_hlc: int | None, prev_site: str | None, current: Clock) -> bool:
    """True when the incoming value was written without having seen our current one."""
    return bool(prev_hlc != current[0] or prev_site != current[1])
