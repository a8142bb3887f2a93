"""Automatic loss of a certification: pure, from the compound's cases and fever readings.

A compound certified on C loses the status on the first date s in [C, T] with a
confirmed case starting on s, or a case of the three kinds starting on s and not
released that same day, or a fever reading (local date s) that no case accounts for.
The loss stays: the compound applies again once the rules pass.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .context import Context, md
from .days import LocalDays
from .evaluate import CATEGORY_TEXT, uncovered_fevers
from .facts import CompoundFacts, TemperatureCheck
from .rules import THREE_KINDS, RuleVersion


@dataclass(frozen=True)
class Loss:
    since: dt.date
    reason: str
    params: dict[str, Any]
    code: str = ""  # "case" or "fever_reading": pages word the reason from it (sentences.py)


def first_loss(
    facts: CompoundFacts,
    certified_on: dt.date,
    until: dt.date,
    version: RuleVersion,
    days: LocalDays,
    fever_checks: Sequence[TemperatureCheck] = (),
) -> Loss | None:
    """The first event in [certified_on, until] that ends the certification, or None.
    `fever_checks`: readings at or above the version's threshold since `certified_on`."""
    ctx = Context(facts, until, version, days, days.end_of(until))
    events: list[Loss] = []
    for c in facts.health_cases:
        if not certified_on <= c.start_date <= until:
            continue
        if c.category == "confirmed" or (
            c.category in THREE_KINDS and (c.released_on is None or c.released_on > c.start_date)
        ):
            # The reason goes on published lists: no name, no address, only what and when.
            _who, params = ctx.who(c.resident_id, c.household_id)
            kind = CATEGORY_TEXT.get(c.category, c.category)
            params.update(case_id=c.id, category=c.category, start_date=c.start_date)
            reason = f"{kind} case since {md(c.start_date)}"
            events.append(Loss(c.start_date, reason, params, "case"))
    lo, hi = certified_on.toordinal(), until.toordinal()
    threshold = float(version.fever_threshold_c)
    readings = []
    for check in fever_checks:
        if check.temperature_c < threshold:
            continue
        day = days.ordinal(check.measured_at)
        if lo <= day <= hi:
            readings.append((check, day))
    for _who, first, _last, temp, params in uncovered_fevers(ctx, readings):
        text = f"fever reading {temp} °C on {md(first)}, no case recorded"
        params.update(first_day=first, temperature_c=temp)
        events.append(Loss(first, text, params, "fever_reading"))
    return min(events, key=lambda e: e.since) if events else None
