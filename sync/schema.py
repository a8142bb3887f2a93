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
            if (lo is not None and value < lo) or (hi is not None and value > hi):
                return ("out_of_range", f"{name} must be between {lo:g} and {hi:g}, not {value}")
            return None

        return check


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
    ranks: dict[str, dict[str, int]] = field(init=False)

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
        self.ranks = {c.name: c.ranks for c in cols if c.merge == "max"}
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
