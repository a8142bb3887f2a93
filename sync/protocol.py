"""Batches of cells between replicas, and the result of applying one."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .schemas import BATCH_SCHEMA, PROTOCOL_VERSION, ValidationError


class BatchError(ValueError):
    """A batch that is not of the protocol's shape; applying it changes nothing."""


@dataclass
class TableChunk:
    columns: list[str]
    # [row_id, hlc, site_index, prev, mask, values]: the cells of one row that share a stamp.
    # prev is [hlc, site_index] of the value these cells replaced, or None; bit i of mask
    # says columns[i] is present, and values holds the present ones in column order.
    rows: list[list[Any]] = field(default_factory=list)


@dataclass
class Batch:
    origin: str
    next: int
    more: bool = False
    sites: list[str] = field(default_factory=list)
    tables: dict[str, TableChunk] = field(default_factory=dict)

    @property
    def cells(self) -> int:
        return sum(
            _popcount(row[4])
            for chunk in self.tables.values()
            for row in chunk.rows
            if len(row) == 6 and isinstance(row[4], int)
        )

    @property
    def rows(self) -> int:
        return sum(len(chunk.rows) for chunk in self.tables.values())

    def __len__(self) -> int:
        return self.cells

    def to_dict(self) -> dict[str, Any]:
        return {
            "protocol_version": PROTOCOL_VERSION,
            "origin": self.origin,
            "next": self.next,
            "more": self.more,
            "sites": self.sites,
            "tables": {
                name: {"columns": chunk.columns, "rows": chunk.rows}
                for name, chunk in self.tables.items()
            },
        }

    @classmethod
    def from_dict(cls, data: Any) -> Batch:
        if not isinstance(data, dict):
            raise BatchError("a batch must be a JSON object")
        try:
            loaded = BATCH_SCHEMA.load(data)
        except ValidationError as exc:
            raise BatchError(f"malformed batch: {exc.messages}") from None
        return cls(
            origin=loaded["origin"],
            next=loaded["next"],
            more=loaded["more"],
            sites=loaded["sites"],
            tables={
                name: TableChunk(chunk["columns"], chunk["rows"])
                for name, chunk in loaded["tables"].items()
            },
        )


def _popcount(mask: int) -> int:
    return mask.bit_count()


@dataclass
class Rejection:
    """One cell the receiver refused, with a reason code and a message for a person."""

    table: str
    row_id: Any
    column: str | None
    reason: str
    message: str
    value: Any = None
    hlc: int | None = None
    site: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ApplyResult:
    accepted: int = 0
    changed: int = 0
    conflicts: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "changed": self.changed,
            "conflicts": self.conflicts,
            "rejected": [r.to_dict() for r in self.rejected],
        }


class WriteError(ValueError):
    """A local write that breaks a rule; nothing of it was written."""

    def __init__(self, problems: list[Rejection]) -> None:
        self.problems = problems
        super().__init__("; ".join(p.message for p in problems))

    @property
    def by_column(self) -> dict[str | None, str]:
        return {p.column: p.message for p in self.problems}
