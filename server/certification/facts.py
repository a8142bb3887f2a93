"""The inputs of a check: one compound's rows, shaped like the synced tables' rows.

Times stay ISO-8601 text with their zone, as the replica stores them (turning them into
local dates is `days.LocalDays`' job); date columns become `datetime.date`. Each class
has `from_row(mapping)` that takes a synced row (extra columns are ignored).
Closures, work groups and attestations are the server's own records, not synced.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, ClassVar, NamedTuple, Self, TypeVar

T = TypeVar("T")


def _date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value)


def _from_row(cls: type[T], row: Mapping[str, Any], dates: Sequence[str] = ()) -> T:
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    kwargs = {name: row.get(name) for name in names if name in row}
    for name in dates:
        if name in kwargs:
            kwargs[name] = _date(kwargs[name])
    return cls(**kwargs)


class FromRow:
    """`from_row(mapping)`: the row's fields by name (extras ignored); DATES become dates."""

    __slots__ = ()
    DATES: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Self:
        return _from_row(cls, row, cls.DATES)


@dataclass(frozen=True, slots=True)
class Building(FromRow):
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Household(FromRow):
    id: str
    building: str
    unit: str
    owner_name: str | None = None


@dataclass(frozen=True, slots=True)
class Resident(FromRow):
    id: str
    household_id: str
    name: str


class TemperatureCheck(NamedTuple):
    """A tuple, not a dataclass: a community holds ~300,000 of these per month.
    `CompoundFacts.checks` may hold plain tuples in this field order (SQLite rows as
    fetched); the check reads them by position."""

    id: str
    household_id: str
    resident_id: str | None
    temperature_c: float
    measured_at: str

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> TemperatureCheck:
        return cls(
            row["id"],
            row["household_id"],
            row.get("resident_id"),
            row["temperature_c"],
            row["measured_at"],
        )


@dataclass(frozen=True, slots=True)
class DisinfectionLog(FromRow):
    id: str
    area: str
    done_at: str
    building: str | None = None


@dataclass(frozen=True, slots=True)
class Delivery(FromRow):
    id: str
    household_id: str
    status: str | None = None
    delivered_at: str | None = None
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class MedicineRequest(FromRow):
    """`created_at` is not a synced column: the loader supplies it (e.g. from the row's
    UUIDv7 id or the HLC of its first cell)."""

    id: str
    household_id: str
    drug_name: str
    status: str
    created_at: str


@dataclass(frozen=True, slots=True)
class HealthCase(FromRow):
    id: str
    category: str
    start_date: dt.date
    released_on: dt.date | None = None
    resident_id: str | None = None
    household_id: str | None = None
    source_check_id: str | None = None

    DATES: ClassVar[tuple[str, ...]] = ("start_date", "released_on")


@dataclass(frozen=True, slots=True)
class Closure:
    """Closed management 封闭管理 from `closed_on`, with the entrances left open."""

    closed_on: dt.date
    open_entrances: tuple[str, ...]
    note: str = ""

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Closure:
        entrances = row.get("open_entrances") or ()
        if isinstance(entrances, str):
            entrances = [e for e in (s.strip() for s in entrances.split("\n")) if e]
        return cls(_date(row["closed_on"]), tuple(entrances), row.get("note") or "")  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class WorkGroup:
    """A named work group (kind from rules.WORK_GROUP_KINDS) and the people assigned."""

    kind: str
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Attestation(FromRow):
    """A community_admin's statement that an item is in place, when no data can show it."""

    item: str
    note: str
    by: str
    on: dt.date
    photo_sha256: str | None = None

    DATES: ClassVar[tuple[str, ...]] = ("on",)


@dataclass
class CompoundFacts:
    """Everything the check reads about one compound (rows already filtered to it)."""

    compound_id: str
    name: str = ""
    community_id: str | None = None
    buildings: Sequence[Building] = ()
    households: Sequence[Household] = ()
    residents: Sequence[Resident] = ()
    checks: Sequence[TemperatureCheck] = ()
    disinfections: Sequence[DisinfectionLog] = ()
    deliveries: Sequence[Delivery] = ()
    medicine_requests: Sequence[MedicineRequest] = ()
    health_cases: Sequence[HealthCase] = ()
    closures: Sequence[Closure] = ()
    work_groups: Sequence[WorkGroup] = ()
    attestations: Sequence[Attestation] = ()
