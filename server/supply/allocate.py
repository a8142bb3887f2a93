"""Plan a distribution round: who gets what, and why, under a priority policy.

A policy is data: an ordered list of household flags. A household's tier is the first
criterion it matches; households matching none form the last tier. Within a tier,
households that received least go first (fewest items over past rounds, then longest
since their last delivery), and remaining ties are broken by a draw from
`random.Random(seed)`, recorded in the plan so the same inputs and seed give the same
plan. Nothing here touches a database: the caller passes households and history.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, NamedTuple

from .errors import InputError

# The household flags a policy may use (columns of the synced `households` table).
HOUSEHOLD_FLAGS = ("medical_worker", "hardship", "elderly_alone")
LAST_TIER = "everyone_else"

# Why a household is where it is in the plan.
FULL = "full"  # received its whole share
PARTIAL = "partial"  # received what was left, less than a share
NONE = "none"  # the quantity ran out before its turn

Date = dt.date | dt.datetime | str


class PlanError(InputError):
    """Bad input for a plan; `field` names the input at fault (for a form)."""


@dataclass(frozen=True)
class Policy:
    """An ordered list of criteria, each a household flag; the first match is the tier."""

    criteria: tuple[str, ...]
    name: str = ""

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for criterion in self.criteria:
            if criterion not in HOUSEHOLD_FLAGS:
                raise PlanError(
                    "policy",
                    "unknown criterion %(criterion)r; use one of %(choices)s",
                    criterion=criterion,
                    choices=", ".join(HOUSEHOLD_FLAGS),
                )
            if criterion in seen:
                raise PlanError(
                    "policy", "criterion %(criterion)r is listed twice", criterion=criterion
                )
            seen.add(criterion)

    @classmethod
    def from_data(cls, data: Sequence[str], name: str = "") -> Policy:
        """Build from stored data (a JSON list of flag names)."""
        if isinstance(data, str) or not isinstance(data, Sequence):
            raise PlanError("policy", "a policy is a list of criteria")
        return cls(tuple(data), name)

    def to_data(self) -> list[str]:
        return list(self.criteria)

    @property
    def tiers(self) -> tuple[str, ...]:
        """Tier names from first served to last."""
        return (*self.criteria, LAST_TIER)

    def tier_of(self, household: Mapping[str, Any]) -> int:
        for i, criterion in enumerate(self.criteria):
            if household.get(criterion):
                return i
        return len(self.criteria)


# The compound's standing rule (DOMAIN.md): medical-worker families, then hardship
# households, then elderly living alone, then everyone else.
DEFAULT_POLICY = Policy(("medical_worker", "hardship", "elderly_alone"), "default")


class Received(NamedTuple):
    """What a household received over past rounds."""

    items: Decimal = Decimal(0)
    last: Date | None = None


@dataclass(frozen=True)
class Allocation:
    """One household's place in the plan and the reasons for it."""

    household_id: str
    rank: int  # 1 = served first
    tier: int
    tier_name: str
    received_before: Decimal
    last_received: Date | None
    draw: int  # position in the seeded draw, the last tie-breaker
    quantity: Decimal
    outcome: str  # FULL, PARTIAL or NONE


@dataclass(frozen=True)
class Plan:
    policy: Policy
    seed: int
    quantity: Decimal
    per_household: Decimal
    divisible: bool
    allocations: tuple[Allocation, ...]  # in the order served

    @property
    def served(self) -> list[Allocation]:
        return [a for a in self.allocations if a.quantity > 0]

    @property
    def unserved(self) -> list[Allocation]:
        return [a for a in self.allocations if a.quantity == 0]

    @property
    def allocated(self) -> Decimal:
        return sum((a.quantity for a in self.allocations), Decimal(0))

    @property
    def left_over(self) -> Decimal:
        """What is left when everyone has had a full share."""
        return self.quantity - self.allocated

    def by_household(self) -> dict[str, Allocation]:
        return {a.household_id: a for a in self.allocations}

    def tier_summary(self) -> list[tuple[str, int, int]]:
        """(tier name, households, households served) per tier, first tier first."""
        rows = [[name, 0, 0] for name in self.policy.tiers]
        for a in self.allocations:
            rows[a.tier][1] += 1
            rows[a.tier][2] += a.quantity > 0
        return [(str(n), int(h), int(s)) for n, h, s in rows]


def to_decimal(value: Any, field: str) -> Decimal:
    """An exact quantity from a Decimal, int or text; floats are refused (not exact)."""
    if isinstance(value, (bool, float)):
        raise PlanError(
            field,
            "%(field)s must be given exactly (text or Decimal), not %(value)r",
            field=field,
            value=value,
        )
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise PlanError(
            field, "%(field)s must be a number, not %(value)r", field=field, value=value
        ) from None
    if not number.is_finite():
        raise PlanError(
            field, "%(field)s must be a finite number, not %(value)r", field=field, value=value
        )
    return number


def history_from_receipts(receipts: Iterable[tuple[str, Any, Date | None]]) -> dict[str, Received]:
    """Sum (household_id, quantity, date) rows of past deliveries into a history."""
    items: dict[str, Decimal] = {}
    last: dict[str, Date | None] = {}
    for household_id, quantity, when in receipts:
        items[household_id] = items.get(household_id, Decimal(0)) + to_decimal(
            quantity or 0, "quantity"
        )
        before = last.get(household_id)
        if when is not None and (before is None or when > before):
            last[household_id] = when
        else:
            last.setdefault(household_id, before)
    return {h: Received(items[h], last[h]) for h in items}


def new_seed() -> int:
    """A fresh seed for a round, to be recorded with it."""
    return secrets.randbits(63)


def plan(
    households: Iterable[Mapping[str, Any]],
    history: Mapping[str, Received | tuple[Any, Date | None]],
    quantity: Any,
    policy: Policy = DEFAULT_POLICY,
    seed: int | None = None,
    per_household: Any = 1,
    divisible: bool = False,
) -> Plan:
    """Plan a round of `quantity` units, at most `per_household` each.

    `households` are mappings with an "id" and the policy's flags (rows of the register).
    `history` maps household id -> (items received before, date of the last one);
    entries for households not in the round are ignored (moved out, other compound).
    Never allocates more than `quantity`; the last household served may get less than a
    full share. With `divisible=False` every quantity is a whole number of units.
    """
    total = to_decimal(quantity, "quantity")
    share = to_decimal(per_household, "per_household")
    if total < 0:
        raise PlanError("quantity", "quantity cannot be negative (%(total)s)", total=total)
    if share <= 0:
        raise PlanError(
            "per_household", "per_household must be more than zero (%(share)s)", share=share
        )
    if not divisible:
        if total != total.to_integral_value():
            raise PlanError(
                "quantity", "quantity must be a whole number of units (%(total)s)", total=total
            )
        if share != share.to_integral_value():
            raise PlanError(
                "per_household",
                "per_household must be a whole number of units (%(share)s)",
                share=share,
            )
    if not isinstance(policy, Policy):
        policy = Policy.from_data(policy)
    if seed is None:
        seed = new_seed()
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise PlanError("seed", "seed must be a whole number, not %(seed)r", seed=seed)

    by_id: dict[str, Mapping[str, Any]] = {}
    for household in households:
        household_id = household.get("id")
        if not isinstance(household_id, str) or not household_id:
            raise PlanError("households", "a household has no id: %(row)r", row=dict(household))
        if household_id in by_id:
            raise PlanError("households", "household %(id)s is listed twice", id=household_id)
        by_id[household_id] = household

    # The draw: a seeded shuffle of the ids in sorted order, so the input's order
    # does not matter and the same seed gives the same plan.
    ids = sorted(by_id)
    order = ids[:]
    random.Random(seed).shuffle(order)
    draw = {household_id: i for i, household_id in enumerate(order)}

    zero = Decimal(0)
    rows = []
    for household_id in ids:
        past = history.get(household_id)
        items, last = (zero, None) if past is None else (past[0], past[1])
        items = to_decimal(items or 0, "history")
        tier = policy.tier_of(by_id[household_id])
        # Never received sorts first among equals: longest since the last delivery.
        key = (tier, items, last is not None, last or "", draw[household_id])
        rows.append((key, household_id, tier, items, last))
    rows.sort(key=lambda row: row[0])

    remaining = total
    allocations = []
    for rank, (key, household_id, tier, items, last) in enumerate(rows, start=1):
        given = min(share, remaining) if remaining > 0 else zero
        remaining -= given
        outcome = FULL if given == share else PARTIAL if given > 0 else NONE
        allocations.append(
            Allocation(
                household_id,
                rank,
                tier,
                policy.tiers[tier],
                items,
                last,
                key[-1],
                given,
                outcome,
            )
        )
    return Plan(policy, seed, total, share, divisible, tuple(allocations))


def even_share(quantity: Any, households: int, divisible: bool = False) -> Decimal:
    """The largest equal share for every household (at least one unit when scarce).

    A helper for the round form: 32,000 jin for 368 households suggests 86 jin each
    (or 86.956... when divisible, cut to 0.01).
    """
    total = to_decimal(quantity, "quantity")
    if households <= 0 or total <= 0:
        return Decimal(1)
    share = total / households
    share = share.quantize(Decimal("0.01"), rounding="ROUND_DOWN") if divisible else share // 1
    return max(share, Decimal("0.01") if divisible else Decimal(1))
