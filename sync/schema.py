"""Declaring synced tables: columns with types and limits, merge rules, immutability."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

TYPES = ("text", "int", "real", "bool", "date", "datetime")
MERGES = ("lww", "max")
RESERVED = frozenset({"id", "deleted", "_ctr", "_clk", "_hlc", "_site"})
NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")

# A problem with one value: (reason code, message a person can act on).
Problem = tuple[str, str]
Check = Callable[[Any], "Problem | None"]


@dataclass(frozen=True)
class Column:
    name: str
    type: str = "text"
    required: bool = False
    min: float | None = None
    max: float | None = None
    max_length: int = 2000
    merge: str = "lww"
    # For merge="max": states from lowest to highest; a tuple groups states of equal rank.
    states: Sequence[str | tuple[str, ...]] | None = None
    choices: Sequence[str] | None = None
    pattern: str | None = None

    def __post_init__(self) -> None:
        if not NAME_RE.match(self.name) or self.name in RESERVED:
            raise ValueError(f"bad column name {self.name!r}")
        if self.type not in TYPES:
            raise ValueError(f"column {self.name}: unknown type {self.type!r}")
        if self.merge not in MERGES:
            raise ValueError(f"column {self.name}: unknown merge rule {self.merge!r}")
        if self.merge == "max" and not self.states:
            raise ValueError(f"column {self.name}: merge 'max' needs states")

    @property
    def ranks(self) -> dict[str, int]:
        ranks: dict[str, int] = {}
        for i, group in enumerate(self.states or ()):
            for state in (group,) if isinstance(group, str) else group:
                ranks[state] = i
        return ranks

    def sql_type(self) -> str:
        return {"int": "INTEGER", "bool": "INTEGER", "real": "REAL"}.get(self.type, "TEXT")

    def checker(self) -> Check:
        """Build the value check once; it runs on every cell of every merge."""
        name, kind = self.name, self.type
        allowed = set(self.ranks) if self.states else set(self.choices or ())
        pattern = re.compile(self.pattern) if self.pattern else None
        lo, hi, max_len, required = self.min, self.max, self.max_length, self.required

        def check(value: Any) -> Problem | None:
            if value is None:
                return ("required", f"{name} is required") if required else None
            if kind == "text" or kind == "date" or kind == "datetime":
                if not isinstance(value, str):
                    return ("bad_type", f"{name} must be text, not {type(value).__name__}")
                if not value.isascii() and not _is_utf8(value):
                    return ("bad_type", f"{name} is not valid Unicode text")
                if len(value) > max_len:
                    return ("too_long", f"{name} is longer than {max_len} characters")
                if kind == "date" and not _is_date(value):
                    return ("bad_type", f"{name} must be a date like 2020-03-08, not {value!r}")
                if kind == "datetime" and not _is_datetime(value):
                    return ("bad_type", f"{name} must be an ISO-8601 time with zone, not {value!r}")
                if allowed and value not in allowed:
                    return ("unknown_state", f"{name} must be one of {', '.join(sorted(allowed))}")
                if pattern and not pattern.fullmatch(value):
                    return ("bad_format", f"{name} has the wrong format: {value!r}")
                return None
            if kind == "bool":
                if value is True or value is False or (type(value) is int and value in (0, 1)):
                    return None
                return ("bad_type", f"{name} must be true or false")
            if isinstance(value, bool) or not isinstance(value, int | float):
                return ("bad_type", f"{name} must be a number, not {type(value).__name__}")
            if kind == "int" and not isinstance(value, int):
                return ("bad_type", f"{name} must be a whole number")
            if isinstance(value, float) and not math.isfinite(value):
                return ("bad_type", f"{name} must be a finite number")
            if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
                return ("out_of_range", f"{name} is too large for a 64-bit integer")
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                return ("out_of_range", f"{name} must be between {lo:g} and {hi:g}, not {value}")
            return None

        return check

    def bulk_checker(self) -> BulkCheck:
        """A check of a whole column of values at once, for the merge's hot path.

        True means every value passes `checker()`; False means at least one may not, and
        the caller then checks them one by one for the reasons. Built from C-speed
        builtins (set(map(type)), min, max) instead of one Python call per value.
        """
        kind, required = self.type, self.required
        lo, hi, max_len = self.min, self.max, self.max_length
        allowed = frozenset(self.ranks) if self.states else frozenset(self.choices or ())
        if self.pattern or kind in ("date", "datetime"):
            check = self.checker()
            if self.pattern or allowed:
                return lambda values: not any(map(check, values))
            is_valid = _is_date if kind == "date" else _is_datetime

            def bulk_time(values: Sequence[Any]) -> bool:
                if not set(map(type, values)) <= ({str} if required else {str, type(None)}):
                    return False
                present = {v for v in values if v is not None}
                if not present:
                    return True
                joined = "".join(present)
                if max(map(len, present)) > max_len or not joined.isascii():
                    return False
                return all(map(is_valid, present))

            return bulk_time
        if kind == "text":
            types: frozenset[type] = frozenset({str})
        elif kind == "int":
            types = frozenset({int})
        elif kind == "real":
            types = frozenset({int, float})
        else:  # bool: true/false, or 0/1 as SQLite returns them
            return lambda values: (
                set(map(type, values)) <= _BOOL_TYPES
                and set(values) <= _BOOLS
                and (not required or None not in values)
            )
        if not required:
            types = types | {type(None)}

        def bulk(values: Sequence[Any]) -> bool:
            if not set(map(type, values)) <= types:
                return False
            present = [v for v in values if v is not None] if not required else values
            if not present:
                return True
            if kind == "text":
                if max(map(len, present)) > max_len:
                    return False
                joined = "".join(present)
                if not joined.isascii() and not _is_utf8(joined):
                    return False
                return not allowed or set(present) <= allowed
            if kind == "real":
                floats = [v for v in present if type(v) is float]
                if floats and not math.isfinite(sum(floats)):
                    return False  # nan or inf somewhere (or an overflow): check one by one
            low, high = min(present), max(present)
            return bool(
                (INT64_MIN if lo is None else lo) <= low
                and high <= (INT64_MAX if hi is None else hi)
            )

        return bulk


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_BOOLS = frozenset({True, False, None})  # 1 == True and 0 == False in a set
_BOOL_TYPES = frozenset({bool, int, type(None)})
BulkCheck = Callable[[Sequence[Any]], bool]


def _is_utf8(value: str) -> bool:
    """False for lone surrogates, which JSON can carry but SQLite cannot store."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_date(value: str) -> bool:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def _is_datetime(value: str) -> bool:
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return False
    return parsed.tzinfo is not None


SCOPE = "compound_id"


@dataclass
class Table:
    """A synced table. Every row has a text `id` and the `compound_id` that scopes it."""

    name: str
    columns: Sequence[Column]
    immutable: bool = False
    indexes: Sequence[Sequence[str]] = ()
    doc: str = ""
    # Filled in by __post_init__.
    by_name: dict[str, Column] = field(init=False)
    checks: dict[str, Check] = field(init=False)
    bulk_checks: dict[str, BulkCheck] = field(init=False)
    ranks: dict[str, dict[str, int]] = field(init=False)
    bool_positions: tuple[int, ...] = field(init=False)
    wire_bools: frozenset[int] = field(init=False)

    def __post_init__(self) -> None:
        if not NAME_RE.match(self.name):
            raise ValueError(f"bad table name {self.name!r}")
        cols = list(self.columns)
        if not any(c.name == SCOPE for c in cols):
            cols.insert(0, Column(SCOPE, required=True, max_length=100))
        names = [c.name for c in cols]
        if len(set(names)) != len(names):
            raise ValueError(f"table {self.name}: duplicate column")
        if self.immutable and any(c.merge != "lww" for c in cols):
            raise ValueError(f"table {self.name}: immutable tables have no merge rules")
        self.columns = tuple(cols)
        self.by_name = {c.name: c for c in cols}
        self.checks = {c.name: c.checker() for c in cols}
        self.bulk_checks = {c.name: c.bulk_checker() for c in cols}
        self.ranks = {c.name: c.ranks for c in cols if c.merge == "max"}
        # Positions of bool columns (SQLite returns 0/1) in column_names and wire_columns.
        self.bool_positions = tuple(i for i, c in enumerate(cols) if c.type == "bool")
        self.wire_bools = frozenset(
            self.bool_positions if self.immutable else (*self.bool_positions, len(cols))
        )
        for index in self.indexes:
            for col in index:
                if col not in self.by_name:
                    raise ValueError(f"table {self.name}: index on unknown column {col}")

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def wire_columns(self) -> list[str]:
        """Columns as they travel: mutable tables carry their tombstone too."""
        names = self.column_names
        return names if self.immutable else [*names, "deleted"]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


_DELETED_CHECK: Check = Column("tombstone", "bool").checker()


class Schema:
    """A set of tables; `Replica(path, schema)` creates and migrates them additively."""

    def __init__(self, tables: Iterable[Table], version: str = "1") -> None:
        self.tables: dict[str, Table] = {}
        for table in tables:
            if table.name in self.tables:
                raise ValueError(f"duplicate table {table.name}")
            self.tables[table.name] = table
        self.version = version

    def __contains__(self, name: object) -> bool:
        return name in self.tables

    def __getitem__(self, name: str) -> Table:
        return self.tables[name]

    def check_cell(self, table: Table, column: str, value: Any) -> Problem | None:
        if column == "deleted" and not table.immutable:
            return _DELETED_CHECK(value)
        check = table.checks.get(column)
        if check is None:
            return ("unknown_column", f"{table.name} has no column {column!r}")
        return check(value)
