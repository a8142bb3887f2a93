"""The check: a compound's facts and a date D -> a structured explanation; and roll-ups.

Zero occurrence 疫情零发生, for a rule version with window W (14 days in Wuhan):
- no `confirmed` case with start date in (D - W, D];
- no `suspected`, `fever` or `close_contact` case with start date in (D - W, D] that
  is not released on or before D. A temperature reading at or above the fever threshold
  taken (local date) in (D - W, D] is a fever case of its own unless a recorded case
  covers it (the case names the check as its source, or the same person has a case
  open on that day), so a synced fever reading fails the compound until released.
Facts dated after D (cases starting later, checks taken later) are not known on D and
are ignored, so a past date can be re-checked with later data present.

A community or village is epidemic-free when every compound in it is; a street when
every community and village in it is (`roll_up`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from . import items
from .context import Context, md
from .days import LocalDays
from .explanation import (
    ATTESTED,
    DATA,
    NONE,
    NOT_COUNTED,
    Explanation,
    Fact,
    RuleResult,
    UnitResult,
)
from .facts import Attestation, CompoundFacts, HealthCase, TemperatureCheck
from .rules import (
    CLOSED_MANAGEMENT,
    DISINFECTION,
    ITEMS,
    ORGANISATION,
    PUBLICITY,
    SCREENING,
    SUPPLY,
    THREE_KINDS,
    ZERO_CONFIRMED,
    ZERO_THREE_KINDS,
    RuleVersion,
    get_version,
)

CATEGORY_TEXT = {
    "confirmed": "confirmed",
    "suspected": "suspected",
    "fever": "fever",
    "close_contact": "close-contact",
}

_calendars: dict[str, LocalDays] = {}


def calendar(tz: str | LocalDays | None = None) -> LocalDays:
    """A shared LocalDays per zone (it caches the zone's offset per date)."""
    if isinstance(tz, LocalDays):
        return tz
    key = tz or "Asia/Shanghai"
    if key not in _calendars:
        _calendars[key] = LocalDays(key)
    return _calendars[key]


def evaluate(
    facts: CompoundFacts,
    on: dt.date,
    version: RuleVersion | str | None = None,
    tz: str | LocalDays | None = None,
    as_of: dt.datetime | None = None,
) -> Explanation:
    """Check `facts` on local date `on`. `as_of` is the moment ages are measured at
    (medicine requests): the end of `on` by default; pass now when `on` is today."""
    v = version if isinstance(version, RuleVersion) else get_version(version)
    days = calendar(tz)
    end = days.end_of(on)
    ctx = Context(facts, on, v, days, min(as_of, end) if as_of is not None else end)
    seen, fevers = _scan_checks(ctx)
    results = [_zero_confirmed(ctx), _zero_three_kinds(ctx, fevers)]
    judged = {
        PUBLICITY: lambda: items.publicity(ctx),
        CLOSED_MANAGEMENT: lambda: items.closed_management(ctx),
        SCREENING: lambda: items.screening(ctx, seen),
        DISINFECTION: lambda: items.disinfection(ctx),
        SUPPLY: lambda: items.supply(ctx),
        ORGANISATION: lambda: items.organisation(ctx),
    }
    for item in ITEMS:
        if not v.counts(item):
            results.append(RuleResult(item, counted=False, passed=True, basis=NOT_COUNTED))
            continue
        results.append(_judge(ctx, item, judged[item]()))
    return Explanation(facts.compound_id, facts.name, on, v.id, days.name, results)


def _scan_checks(ctx: Context) -> tuple[list[set[str]], list[tuple[TemperatureCheck, int]]]:
    """One pass over the checks: households seen per screening day, and fever readings
    in the window. The hot loop of the whole check (~15,000 rows per compound)."""
    v = ctx.version
    d = ctx.on.toordinal()
    scr_lo = d - v.screening_days + 1
    win_lo = d - v.window_days + 1
    lo = min(scr_lo, win_lo)
    # Exact for readings written with one or two decimals: rounding to the nearest
    # double keeps order, and no such reading shares a double with 37.3.
    threshold = float(v.fever_threshold_c)
    seen: list[set[str]] = [set() for _ in range(v.screening_days)]
    fevers: list[tuple[TemperatureCheck, int]] = []
    slow = ctx.days.ordinal
    text_dates = ctx.days.text_dates(lo, d)
    # A stamp's text date is within a day of its local date: a cheap text filter first.
    text_lo, text_hi = min(text_dates), max(text_dates) + "~"
    for check in ctx.facts.checks:
        stamp = check[4]
        if stamp < text_lo or stamp > text_hi:
            continue
        hit = text_dates.get(stamp[:10])
        if hit is None:
            continue
        day = hit[1] if hit[0] is not None and stamp.endswith(hit[0]) else slow(stamp)
        if day < lo or day > d:
            continue
        if day >= scr_lo:
            seen[day - scr_lo].add(check[1])
        if day >= win_lo and check[3] >= threshold:
            fevers.append((TemperatureCheck._make(check), day))
    return seen, fevers


def _in_window(ctx: Context, case: HealthCase) -> bool:
    return ctx.back(ctx.version.window_days) <= case.start_date <= ctx.on


def _case_fact(ctx: Context, case: HealthCase, ok: bool, tail: str) -> Fact:
    who, params = ctx.who(case.resident_id, case.household_id)
    params.update(
        case_id=case.id,
        category=case.category,
        start_date=case.start_date,
        released_on=case.released_on,
    )
    kind = CATEGORY_TEXT.get(case.category, case.category)
    text = f"{kind} case of {who} since {md(case.start_date)}{tail}"
    return Fact("case" if ok else "case_open", text, ok=ok, params=params)


def _zero_confirmed(ctx: Context) -> RuleResult:
    w = ctx.version.window_days
    open_cases = [
        c for c in ctx.facts.health_cases if c.category == "confirmed" and _in_window(ctx, c)
    ]
    if not open_cases:
        text = f"no confirmed case with a start date in {md(ctx.back(w))}..{md(ctx.on)}"
        span = {"first": ctx.back(w), "last": ctx.on}
        fact = Fact("no_case", text, ok=True, params=span)
        return RuleResult(ZERO_CONFIRMED, True, True, DATA, [fact])
    facts = [_case_fact(ctx, c, False, "") for c in open_cases]
    earliest = max(c.start_date for c in open_cases) + dt.timedelta(days=w)
    return RuleResult(
        ZERO_CONFIRMED, True, False, DATA, facts, {"cases": len(open_cases)}, earliest
    )


def _zero_three_kinds(ctx: Context, fevers: list[tuple[TemperatureCheck, int]]) -> RuleResult:
    w = dt.timedelta(days=ctx.version.window_days)
    facts: list[Fact] = []
    blocking: list[dt.date] = []  # for each open case: the date it stops counting
    cases = [c for c in ctx.facts.health_cases if c.category in THREE_KINDS and _in_window(ctx, c)]
    for c in cases:
        if c.released_on is not None and c.released_on <= ctx.on:
            facts.append(_case_fact(ctx, c, True, f", released {md(c.released_on)}"))
            continue
        leaves = c.start_date + w
        if c.released_on is not None:  # released after D: passes then, if nothing new happens
            facts.append(
                _case_fact(
                    ctx, c, False, f", not released on {md(ctx.on)} (released {md(c.released_on)})"
                )
            )
            blocking.append(min(c.released_on, leaves))
        else:
            facts.append(_case_fact(ctx, c, False, ", not released"))
            blocking.append(leaves)
    for who, first, last, temp, params in uncovered_fevers(ctx, fevers):
        more = f" (last {md(last)})" if last != first else ""
        text = (
            f"fever reading {temp} °C of {who} on {md(first)}{more}, no case recorded, not released"
        )
        params.update(first_day=first, last_day=last, temperature_c=temp)
        facts.append(Fact("fever_reading_open", text, params=params))
        blocking.append(last + w)
    today = ctx.on.toordinal()
    details = {
        "cases": len(cases),
        "open": len(blocking),
        "fever_readings": len(fevers),
        "fever_readings_on_day": sum(1 for _, day in fevers if day == today),
    }
    if not blocking:
        if not facts:
            first = ctx.back(ctx.version.window_days)
            span = f"{md(first)}..{md(ctx.on)}"
            facts.append(
                Fact(
                    "no_case",
                    f"no suspected, fever or close-contact case in {span}",
                    ok=True,
                    params={"first": first, "last": ctx.on},
                )
            )
        return RuleResult(ZERO_THREE_KINDS, True, True, DATA, facts, details)
    return RuleResult(ZERO_THREE_KINDS, True, False, DATA, facts, details, max(blocking))


def uncovered_fevers(ctx: Context, fevers: list[tuple[TemperatureCheck, int]]) -> list[tuple]:
    """Fever readings no recorded case accounts for, grouped by person."""
    if not fevers:
        return []
    sources = {c.source_check_id for c in ctx.facts.health_cases if c.source_check_id}
    by_person: dict[str, list[HealthCase]] = {}
    for c in ctx.facts.health_cases:
        key = c.resident_id or f"hh:{c.household_id}"
        by_person.setdefault(key, []).append(c)
    groups: dict[str, list[tuple[TemperatureCheck, int]]] = {}
    for check, day in fevers:
        if check.id in sources:
            continue
        key = check.resident_id or f"hh:{check.household_id}"
        when = dt.date.fromordinal(day)
        covering = by_person.get(key, [])
        if any(
            c.start_date <= when and (c.released_on is None or when <= c.released_on)
            for c in covering
        ):
            continue
        groups.setdefault(key, []).append((check, day))
    out = []
    for readings in groups.values():
        first_check, first = min(readings, key=lambda r: r[1])
        last = max(day for _, day in readings)
        hottest = max(check.temperature_c for check, _ in readings)
        who, params = ctx.who(first_check.resident_id, first_check.household_id)
        params["check_ids"] = [check.id for check, _ in readings]
        out.append((who, dt.date.fromordinal(first), dt.date.fromordinal(last), hottest, params))
    return out


def _attestation(ctx: Context, item: str) -> Attestation | None:
    valid = [
        a for a in ctx.facts.attestations if a.item == item and a.on <= ctx.on and a.note.strip()
    ]
    return max(valid, key=lambda a: a.on) if valid else None


def _judge(ctx: Context, item: str, verdict: items.Verdict) -> RuleResult:
    att = _attestation(ctx, item)
    if verdict.status == items.PASS:
        return RuleResult(item, True, True, DATA, verdict.facts, verdict.details, attestation=att)
    stands_in = verdict.status == items.NO_DATA or ctx.version.attestation_overrides_gaps
    if att is not None and stands_in:
        text = f"attested by {att.by} on {md(att.on)}: {att.note}"
        fact = Fact(
            "attested", text, ok=True, params={"by": att.by, "on": att.on, "note": att.note}
        )
        gaps = [f for f in verdict.facts if verdict.status == items.FAIL]
        return RuleResult(
            item, True, True, ATTESTED, [fact, *gaps], verdict.details, attestation=att
        )
    facts = list(verdict.facts)
    if att is not None:
        facts.append(
            Fact(
                "attestation_not_enough",
                f"attested by {att.by} on {md(att.on)}, but the data show the gaps above",
                params={"by": att.by, "on": att.on},
            )
        )
    basis = NONE if verdict.status == items.NO_DATA else DATA
    return RuleResult(item, True, False, basis, facts, verdict.details, attestation=att)


def roll_up(
    kind: str,
    unit_id: str,
    children: Sequence[Explanation | UnitResult],
    name: str = "",
    on: dt.date | None = None,
) -> UnitResult:
    """A community or village over its compounds' explanations; a street over its
    communities' and villages' results. All children must be judged on the same date."""
    if kind in ("community", "village"):
        if any(not isinstance(c, Explanation) for c in children):
            raise ValueError(f"a {kind} rolls up compounds")
    elif kind == "street":
        if any(
            not isinstance(c, UnitResult) or c.kind not in ("community", "village")
            for c in children
        ):
            raise ValueError("a street rolls up communities and villages")
    else:
        raise ValueError(f"unknown kind of unit {kind!r}")
    dates = {c.on for c in children}
    if on is not None:
        dates.add(on)
    if len(dates) > 1:
        raise ValueError(f"children judged on different dates: {sorted(dates)}")
    day = on if on is not None else (next(iter(dates)) if dates else None)
    if day is None:
        raise ValueError("a unit with no children needs its date")
    return UnitResult(kind, unit_id, name, day, list(children))
