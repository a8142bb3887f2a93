"""What every rule of one check shares: the date, the version, the zone and lookups."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from .days import LocalDays
from .facts import CompoundFacts, Household, Resident
from .rules import RuleVersion


@dataclass
class Context:
    facts: CompoundFacts
    on: dt.date
    version: RuleVersion
    days: LocalDays
    # The moment "now" for ages (medicine requests): the end of `on`, or earlier.
    as_of: dt.datetime
    households: dict[str, Household] = field(init=False)
    residents: dict[str, Resident] = field(init=False)

    def __post_init__(self) -> None:
        self.households = {h.id: h for h in self.facts.households}
        self.residents = {r.id: r for r in self.facts.residents}

    def back(self, n: int) -> dt.date:
        """The first of the last `n` days ending on `on` (n=1 is `on` itself)."""
        return self.on - dt.timedelta(days=n - 1)

    def place(self, household_id: str | None) -> tuple[str, dict[str, Any]]:
        hh = self.households.get(household_id or "")
        if hh is None:
            return (f"household {household_id}" if household_id else "unknown household"), {
                "household_id": household_id
            }
        return f"building {hh.building}, unit {hh.unit}", {
            "household_id": hh.id,
            "building": hh.building,
            "unit": hh.unit,
        }

    def who(self, resident_id: str | None, household_id: str | None) -> tuple[str, dict[str, Any]]:
        """'resident 张三 in building 3, unit 2-301' and the same as parameters."""
        resident = self.residents.get(resident_id or "")
        if resident is not None:
            household_id = household_id or resident.household_id
        where, params = self.place(household_id)
        if resident is not None:
            params.update(resident_id=resident.id, resident_name=resident.name)
            return f"resident {resident.name} in {where}", params
        if resident_id:
            params["resident_id"] = resident_id
            return f"resident {resident_id} in {where}", params
        return f"a person of {where}", params


def md(day: dt.date) -> str:
    """03-02: how the press and the community write dates."""
    return f"{day:%m-%d}"
