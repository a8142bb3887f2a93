"""What a check returns: each rule, pass or fail, with the facts behind it.

Facts carry a code and parameters (for translated pages and exports) and an English
sentence. `to_dict()` gives the JSON the API returns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from .facts import Attestation
from .rules import LABELS, ZERO_RULES

# How a rule was judged.
DATA = "data"  # from the synced records
ATTESTED = "attestation"  # a community_admin's attestation stood in for missing data
NONE = "none"  # neither data nor attestation (the rule fails)
NOT_COUNTED = "not_counted"  # the rule version does not count this item


@dataclass(frozen=True)
class Fact:
    code: str
    text: str
    ok: bool = False  # True: evidence that supports passing; False: a reason to fail
    params: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "ok": self.ok,
            "text": self.text,
            "params": jsonable(self.params),
        }


@dataclass
class RuleResult:
    rule: str
    counted: bool
    passed: bool
    basis: str
    facts: list[Fact] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    # For a failing zero-occurrence rule: the first date it passes if nothing new happens.
    earliest_pass: dt.date | None = None
    attestation: Attestation | None = None

    @property
    def label(self) -> tuple[str, str]:
        return LABELS[self.rule]

    @property
    def failing_facts(self) -> list[Fact]:
        return [f for f in self.facts if not f.ok]

    def to_dict(self) -> dict[str, Any]:
        att = self.attestation
        return {
            "rule": self.rule,
            "label": {"zh": self.label[0], "en": self.label[1]},
            "counted": self.counted,
            "passed": self.passed,
            "basis": self.basis,
            "earliest_pass": jsonable(self.earliest_pass),
            "facts": [f.to_dict() for f in self.facts],
            "details": jsonable(self.details),
            "attestation": None
            if att is None
            else {
                "item": att.item,
                "note": att.note,
                "by": att.by,
                "on": att.on.isoformat(),
                "photo_sha256": att.photo_sha256,
            },
        }


@dataclass
class Explanation:
    """The check of one compound on one date under one rule version."""

    compound_id: str
    name: str
    on: dt.date
    rule_version: str
    timezone: str
    results: list[RuleResult]

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results if r.counted)

    @property
    def failing(self) -> list[RuleResult]:
        return [r for r in self.results if r.counted and not r.passed]

    def result(self, rule: str) -> RuleResult:
        for r in self.results:
            if r.rule == rule:
                return r
        raise KeyError(rule)

    @property
    def zero_occurrence_passes_on(self) -> dt.date:
        """The first date zero occurrence holds if nothing new happens (`on` when it holds)."""
        dates = [r.earliest_pass for r in self.results if r.rule in ZERO_RULES and not r.passed]
        return max((d for d in dates if d is not None), default=self.on)

    @property
    def earliest_pass(self) -> dt.date | None:
        """`on` if it passes; the date waiting alone would make it pass; None if an item
        needs action (time alone does not put disinfection or screening in place)."""
        if any(r.rule not in ZERO_RULES for r in self.failing):
            return None
        return self.zero_occurrence_passes_on

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "compound",
            "id": self.compound_id,
            "name": self.name,
            "date": self.on.isoformat(),
            "rule_version": self.rule_version,
            "timezone": self.timezone,
            "passed": self.passed,
            "failing_rules": [r.rule for r in self.failing],
            "earliest_pass": jsonable(self.earliest_pass),
            "rules": [r.to_dict() for r in self.results],
        }


@dataclass
class UnitResult:
    """A community or village (over its compounds), or a street (over those)."""

    kind: str
    unit_id: str
    name: str
    on: dt.date
    children: Sequence[Explanation | UnitResult]

    @property
    def passed(self) -> bool:
        # A unit with nothing registered in it is not certified: nothing shows it is safe.
        return bool(self.children) and all(c.passed for c in self.children)

    @property
    def failing(self) -> list[Explanation | UnitResult]:
        return [c for c in self.children if not c.passed]

    @property
    def earliest_pass(self) -> dt.date | None:
        if not self.children:
            return None
        dates = [c.earliest_pass for c in self.children]
        if any(d is None for d in dates):
            return None
        return max(d for d in dates if d is not None)

    def counts(self) -> dict[str, Any]:
        passed = sum(1 for c in self.children if c.passed)
        return {
            "units": len(self.children),
            "passed": passed,
            "share": share(passed, len(self.children)),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.unit_id,
            "name": self.name,
            "date": self.on.isoformat(),
            "passed": self.passed,
            "earliest_pass": jsonable(self.earliest_pass),
            "counts": self.counts(),
            "children": [_child_summary(c) for c in self.children],
        }


def _child_summary(c: Explanation | UnitResult) -> dict[str, Any]:
    if isinstance(c, Explanation):
        return {
            "kind": "compound",
            "id": c.compound_id,
            "name": c.name,
            "passed": c.passed,
            "failing_rules": [r.rule for r in c.failing],
            "earliest_pass": jsonable(c.earliest_pass),
        }
    return {
        "kind": c.kind,
        "id": c.unit_id,
        "name": c.name,
        "passed": c.passed,
        "failing": [x.compound_id if isinstance(x, Explanation) else x.unit_id for x in c.failing],
        "earliest_pass": jsonable(c.earliest_pass),
    }


def share(part: int, whole: int) -> str:
    """A percentage with one decimal, rounded down (99.96% shows 99.9, never 100.0)."""
    if whole == 0:
        return "0.0"
    tenths = part * 1000 // whole
    return f"{tenths // 10}.{tenths % 10}"


def jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value) if isinstance(value, set | frozenset) else value
        return [jsonable(v) for v in items]
    if isinstance(value, Decimal | Fraction):
        return str(value)
    return value
