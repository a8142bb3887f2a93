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
        problem = bad_sites(loaded["sites"])
        if problem:
            raise BatchError(f"malformed batch: {problem}")
        nsites = len(loaded["sites"])
        for name, chunk in loaded["tables"].items():
            ncols = len(chunk["columns"])
            if rows_well_formed(chunk["rows"], ncols, nsites):
                continue
            for i, row in enumerate(chunk["rows"]):
                problem = bad_row(row, ncols, nsites)
                if problem:
                    raise BatchError(f"malformed batch: table {name}, row {i}: {problem}")
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


MAX_ID_LENGTH = 200
HLC_LIMIT = 1 << 63


def rows_well_formed(rows: list[Any], ncols: int, nsites: int) -> bool:
    """True when no row has a problem `bad_row` would find, checked a column at a time.

    False means some row may be bad; `bad_row` then says which and why. Built from
    C-speed builtins over all rows at once: it runs on every row of every merge.
    """
    if not rows:
        return True
    if set(map(type, rows)) != {list} or set(map(len, rows)) != {6}:
        return False
    ids, hlcs, sis, prevs, masks, values = zip(*rows, strict=True)
    if set(map(type, ids)) != {str} or not 0 < min(map(len, ids)) <= max(map(len, ids)) <= (
        MAX_ID_LENGTH
    ):
        return False
    joined = "".join(ids)
    if not joined.isascii() and not _utf8(joined):
        return False
    if set(map(type, hlcs)) != {int} or min(hlcs) <= 0 or max(hlcs) >= HLC_LIMIT:
        return False
    if set(map(type, sis)) != {int} or min(sis) < 0 or max(sis) >= nsites:
        return False
    if set(map(type, masks)) != {int} or min(masks) <= 0 or max(masks) >= 1 << ncols:
        return False
    if set(map(type, values)) != {list} or list(map(len, values)) != [m.bit_count() for m in masks]:
        return False
    kinds = set(map(type, prevs))
    if kinds == {type(None)}:
        return True
    if not kinds <= {type(None), list}:
        return False
    given = [p for p in prevs if p is not None]
    if set(map(len, given)) != {2}:
        return False
    phlcs, psis = zip(*given, strict=True)
    return (
        set(map(type, phlcs)) == {int}
        and set(map(type, psis)) == {int}
        and 0 < min(phlcs) <= max(phlcs) < HLC_LIMIT
        and 0 <= min(psis) <= max(psis) < nsites
    )


def _good_prev(prev: Any, nsites: int) -> bool:
    return (
        len(prev) == 2
        and type(prev[0]) is int
        and 0 < prev[0] < HLC_LIMIT
        and type(prev[1]) is int
        and 0 <= prev[1] < nsites
    )


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def bad_sites(sites: Any) -> str | None:
    """What is wrong with a batch's list of site ids, or None."""
    if type(sites) is not list:
        return "sites must be a list"
    for site in sites:
        if type(site) is not str or not 0 < len(site) <= 64:
            return "each site must be text of 1 to 64 characters"
        if not _utf8(site):
            return "each site must be valid Unicode text"
    return None


def bad_row(raw: Any, ncols: int, nsites: int) -> str | None:
    """What is wrong with the shape of one row of a chunk, or None."""
    if type(raw) is not list or len(raw) != 6:
        return "each row must be [id, hlc, site, prev, mask, values]"
    row_id, hlc, si, prev, mask, values = raw
    if type(row_id) is not str or not row_id or len(row_id) > MAX_ID_LENGTH:
        return f"id must be text of 1 to {MAX_ID_LENGTH} characters"
    if not row_id.isascii() and not _utf8(row_id):
        return "id must be valid Unicode text"
    if type(hlc) is not int or not 0 < hlc < HLC_LIMIT:
        return "hlc must be a positive 64-bit integer"
    if type(si) is not int or not 0 <= si < nsites:
        return "site index out of range"
    if prev is not None and not (type(prev) is list and _good_prev(prev, nsites)):
        return "prev must be null or [hlc, site index]"
    if type(mask) is not int or not 0 < mask < 1 << ncols:
        return "mask does not fit the columns"
    if type(values) is not list or len(values) != mask.bit_count():
        return "values do not match the mask"
    return None


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
