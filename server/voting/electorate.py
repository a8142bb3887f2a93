"""Freezing the electorate of a motion from the register.

Owners and areas are counted as the Supreme People's Court's interpretation on disputes
over building ownership (法释〔2009〕7号, amended 2020) counts them:
- art. 8: the area is the exclusive floor area in the register (专有部分面积); the total
  area A is the sum of those areas.
- art. 9: each exclusive unit (专有部分) counts as one owner; but all units the developer
  has not sold or not delivered count as ONE owner, and one buyer holding several units
  counts as ONE owner. N is the sum.
- Co-owners of a unit are one owner and cast one vote; the register names who votes.

Owners are grouped by the register's `owner_key` (an opaque id of the person), never by
name: two neighbours may both be called 王芳. A unit without a key is its own owner.
Keys are deterministic, so the same register always freezes to the same electorate.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from fractions import Fraction
from typing import Any

from .figures import fmt_fraction, parse_area

DEVELOPER_KEY = "developer"
DEVELOPER_NAME = "Developer (units not sold or not delivered) 建设单位"


def area_from_register(value: Any) -> Fraction | None:
    """The register stores areas as SQLite REAL; `repr` gives back the decimal typed in
    (89.37 -> '89.37'), so no float arithmetic ever touches an area."""
    if value is None or value == "":
        return None
    if isinstance(value, float):
        value = Decimal(repr(value))
    return parse_area(value)


@dataclass(frozen=True)
class UnitRecord:
    """One exclusive unit (household) of the register, as the electorate needs it."""

    household_id: str
    owner_key: str | None = None
    owner_name: str | None = None
    area: Fraction | None = None
    developer_held: bool = False
    co_owners: tuple[str, ...] = ()
    voter: str | None = None  # the co-owner named to cast the unit's vote

    @classmethod
    def from_mapping(cls, row: Mapping[str, Any]) -> UnitRecord:
        """From a register row: `household_id` or `id`, `area` or `area_m2`; `co_owners` a
        list or JSON: a list names the voter first, or {"names": [...], "voter": "..."}."""
        co = row.get("co_owners") or ()
        if isinstance(co, str):
            co = json.loads(co)
        voter = row.get("voter") or None
        if isinstance(co, dict):  # {"names": [...], "voter": "..."}
            voter = voter or co.get("voter")
            co = co.get("names", ())
        elif co and not voter:
            voter = co[0]  # a plain list names the voter first
        return cls(
            household_id=str(row.get("household_id") or row["id"]),
            owner_key=(row.get("owner_key") or None),
            owner_name=(row.get("owner_name") or None),
            area=area_from_register(row.get("area", row.get("area_m2"))),
            developer_held=bool(row.get("developer_held")),
            co_owners=tuple(str(c) for c in co),
            voter=voter,
        )


@dataclass(frozen=True)
class Owner:
    key: str
    name: str
    households: tuple[str, ...]
    area: Fraction | None  # None when a unit of this owner has no area in the register
    developer: bool = False
    voter: str | None = None
    co_owners: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "households": list(self.households),
            "area": fmt_fraction(self.area),
            "developer": self.developer,
            "voter": self.voter,
            "co_owners": list(self.co_owners),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Owner:
        return cls(
            d["key"],
            d["name"],
            tuple(d["households"]),
            None if d["area"] is None else Fraction(d["area"]),
            d.get("developer", False),
            d.get("voter"),
            tuple(d.get("co_owners", ())),
        )


@dataclass(frozen=True)
class Electorate:
    owners: tuple[Owner, ...]  # sorted by key
    problems: tuple[str, ...] = ()
    by_key: dict[str, Owner] = field(init=False, repr=False, compare=False)
    by_household: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_key", {o.key: o for o in self.owners})
        object.__setattr__(
            self, "by_household", {h: o.key for o in self.owners for h in o.households}
        )

    @property
    def total_owners(self) -> int:  # N
        return len(self.owners)

    @property
    def total_area(self) -> Fraction | None:  # A, None if any unit lacks its area
        if any(o.area is None for o in self.owners):
            return None
        return sum((o.area for o in self.owners), Fraction(0))

    @property
    def households_without_area(self) -> tuple[str, ...]:
        return tuple(h for o in self.owners if o.area is None for h in o.households)

    def owner_key_for(self, household_id: str) -> str | None:
        return self.by_household.get(household_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "N": self.total_owners,
            "A": fmt_fraction(self.total_area),
            "owners": [o.to_dict() for o in self.owners],
            "problems": list(self.problems),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Electorate:
        return cls(tuple(Owner.from_dict(o) for o in d["owners"]), tuple(d.get("problems", ())))

    def fingerprint(self) -> str:
        """SHA-256 of the owners, to show the frozen electorate has not changed."""
        text = json.dumps([o.to_dict() for o in self.owners], sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()


def _owner_key(unit: UnitRecord) -> str:
    if unit.developer_held:
        return DEVELOPER_KEY
    if unit.owner_key:
        return "o:" + unit.owner_key.strip()
    return "u:" + unit.household_id


def freeze(records: Iterable[UnitRecord | Mapping[str, Any]]) -> Electorate:
    """The electorate of the register as it is now (call it when the motion opens)."""
    units: dict[str, UnitRecord] = {}
    for rec in records:
        unit = rec if isinstance(rec, UnitRecord) else UnitRecord.from_mapping(rec)
        if unit.household_id in units:
            raise ValueError(f"household {unit.household_id} appears twice in the register")
        if unit.area is not None:
            unit = replace(unit, area=parse_area(unit.area))
        units[unit.household_id] = unit

    groups: dict[str, list[UnitRecord]] = {}
    for hid in sorted(units):
        groups.setdefault(_owner_key(units[hid]), []).append(units[hid])

    owners, problems = [], []
    for key in sorted(groups):
        group = groups[key]
        hids = tuple(u.household_id for u in group)
        areas = [u.area for u in group]
        area = None if None in areas else sum(areas, Fraction(0))
        for u in group:
            if u.area is None:
                problems.append(f"household {u.household_id}: no exclusive area in the register")
            if u.co_owners and not u.voter:
                problems.append(f"household {u.household_id}: co-owners have not named a voter")
            if u.voter and u.co_owners and u.voter not in u.co_owners:
                problems.append(f"household {u.household_id}: voter {u.voter} is not a co-owner")
        if key == DEVELOPER_KEY:
            owners.append(Owner(key, DEVELOPER_NAME, hids, area, developer=True))
            continue
        names = sorted({u.owner_name for u in group if u.owner_name})
        if len(names) > 1:
            problems.append(f"owner {key}: one key, several names ({', '.join(names)})")
        voters = sorted({u.voter for u in group if u.voter})
        if len(voters) > 1:
            problems.append(f"owner {key}: units name different voters ({', '.join(voters)})")
        co_owners = tuple(sorted({c for u in group for c in u.co_owners}))
        name = names[0] if names else (voters[0] if voters else "")
        owners.append(
            Owner(key, name, hids, area, voter=voters[0] if voters else None, co_owners=co_owners)
        )
    return Electorate(tuple(owners), tuple(problems))


def changes(frozen: Electorate, current: Electorate) -> list[dict[str, Any]]:
    """What changed in the register since the freeze; shown to the committee, never
    applied to a running motion."""
    out: list[dict[str, Any]] = []
    for key in sorted(set(frozen.by_key) | set(current.by_key)):
        old, new = frozen.by_key.get(key), current.by_key.get(key)
        if old is None:
            out.append({"owner": key, "change": "added", "households": list(new.households)})
        elif new is None:
            out.append({"owner": key, "change": "removed", "households": list(old.households)})
        elif old != new:
            fields = [f for f in ("name", "households", "area", "voter", "co_owners")
                      if getattr(old, f) != getattr(new, f)]  # fmt: skip
            out.append({"owner": key, "change": "changed", "fields": fields})
    return out
