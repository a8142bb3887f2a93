"""The six items 六个到位, each judged from the data with its evidence listed.

Each function returns a Verdict: PASS, FAIL (the data show a gap) or NO_DATA (no record
of the item at all in its period). `evaluate` then lets an attestation stand in for
NO_DATA (and for FAIL only when the rule version says attestations override gaps).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .context import Context, md
from .explanation import Fact, share

PASS, FAIL, NO_DATA = "pass", "fail", "no_data"

# Statuses of a delivery that mean a volunteer went to the door.
DONE_DELIVERY = ("delivered", "refused")
OPEN_MEDICINE = ("requested", "bought")


@dataclass
class Verdict:
    status: str
    facts: list[Fact] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def publicity(ctx: Context) -> Verdict:
    # No record can show publicity and guidance: only an attestation can.
    return Verdict(
        NO_DATA, [Fact("no_data_kind", "no record can show this item; it needs an attestation")]
    )


def closed_management(ctx: Context) -> Verdict:
    closures = [c for c in ctx.facts.closures if c.closed_on <= ctx.on]
    if not closures:
        return Verdict(
            NO_DATA, [Fact("no_closure", f"no closure record on or before {md(ctx.on)}")]
        )
    closure = max(closures, key=lambda c: c.closed_on)
    n, limit = len(closure.open_entrances), ctx.version.max_open_entrances
    names = ", ".join(closure.open_entrances) or "none"
    params = {"closed_on": closure.closed_on, "open_entrances": list(closure.open_entrances)}
    details = {**params, "max_open_entrances": limit}
    if n > limit:
        text = f"closed since {md(closure.closed_on)} but {n} entrances open ({names})"
        text += f"; at most {limit}"
        return Verdict(FAIL, [Fact("too_many_entrances", text, params=params)], details)
    text = f"closed since {md(closure.closed_on)}, open entrances: {names}"
    return Verdict(PASS, [Fact("closed", text, ok=True, params=params)], details)


def screening(ctx: Context, seen: list[set[str]]) -> Verdict:
    """`seen[i]`: households with a check on local day back(n) + i."""
    n = ctx.version.screening_days
    days = _days(ctx.back(n), ctx.on)
    households = ctx.facts.households
    total = len(households)
    by_day = [
        {"date": day, "checked": len(s & ctx.households.keys()), "total": total}
        for day, s in zip(days, seen, strict=True)
    ]
    for row in by_day:
        row["percent"] = share(row["checked"], total)
    missing = []
    for hh in households:
        absent = [day for day, s in zip(days, seen, strict=True) if hh.id not in s]
        if absent:
            missing.append((hh, absent))
    covered = total - len(missing)
    details = {
        "days": days,
        "households": total,
        "covered": covered,
        "percent": share(covered, total),
        "by_day": by_day,
        "missing": [
            {"household_id": h.id, "building": h.building, "unit": h.unit, "days": absent}
            for h, absent in missing
        ],
    }
    span = f"{md(days[0])}..{md(days[-1])}"
    if total == 0:
        return Verdict(NO_DATA, [Fact("no_households", "no household is registered")], details)
    if not any(seen):
        return Verdict(NO_DATA, [Fact("no_checks", f"no temperature check in {span}")], details)
    summary = Fact(
        "coverage",
        f"{covered} of {total} households ({details['percent']}%) checked on each day {span}",
        ok=not missing,
        params={"covered": covered, "households": total, "percent": details["percent"]},
    )
    facts = [summary]
    for hh, absent in missing:
        when = ", ".join(md(d) for d in absent)
        facts.append(
            Fact(
                "household_unchecked",
                f"building {hh.building}, unit {hh.unit}: no temperature check on {when}",
                params={
                    "household_id": hh.id,
                    "building": hh.building,
                    "unit": hh.unit,
                    "days": absent,
                },
            )
        )
    return Verdict(FAIL if missing else PASS, facts, details)


def disinfection(ctx: Context) -> Verdict:
    v = ctx.version
    first = ctx.back(v.disinfection_days)
    lo, hi = first.toordinal(), ctx.on.toordinal()
    corridor_areas = {a.strip().lower() for a in v.corridor_areas}
    per_day: Counter[int] = Counter()
    corridor: Counter[tuple[str, int]] = Counter()
    for log in ctx.facts.disinfections:
        day = ctx.days.ordinal(log.done_at)
        if lo <= day <= hi:
            per_day[day] += 1
            if log.building and log.area.strip().lower() in corridor_areas:
                corridor[(log.building, day)] += 1
    days = _days(first, ctx.on)
    span = f"{md(first)}..{md(ctx.on)}"
    buildings = [b.name for b in ctx.facts.buildings] or sorted(
        {h.building for h in ctx.facts.households}
    )
    details: dict[str, Any] = {
        "days": days,
        "logs_by_day": [per_day[d.toordinal()] for d in days],
        "corridor_per_day": v.corridor_per_day,
        "buildings": {b: [corridor[(b, d.toordinal())] for d in days] for b in buildings},
    }
    if not per_day:
        return Verdict(NO_DATA, [Fact("no_logs", f"no disinfection log in {span}")], details)
    facts = []
    bare = [d for d in days if not per_day[d.toordinal()]]
    if bare:
        when = ", ".join(md(d) for d in bare)
        facts.append(
            Fact("day_without_log", f"no disinfection log on {when}", params={"days": bare})
        )
    for b in buildings:
        short = [(d, corridor[(b, d.toordinal())]) for d in days]
        short = [(d, k) for d, k in short if k < v.corridor_per_day]
        if short:
            when = ", ".join(f"{md(d)} ({k})" for d, k in short)
            facts.append(
                Fact(
                    "corridor_short",
                    f"building {b}: corridors disinfected fewer than {v.corridor_per_day} times "
                    f"a day on {when}",
                    params={
                        "building": b,
                        "days": [d for d, _ in short],
                        "counts": [k for _, k in short],
                    },
                )
            )
    if facts:
        return Verdict(FAIL, facts, details)
    text = (
        f"disinfection logged on each day {span}; corridors of all {len(buildings)} buildings "
        f"at least {v.corridor_per_day} times a day"
    )
    return Verdict(
        PASS, [Fact("disinfected", text, ok=True, params={"logs": sum(per_day.values())})], details
    )


def supply(ctx: Context) -> Verdict:
    v = ctx.version
    first = ctx.back(v.supply_days)
    lo, hi = first.toordinal(), ctx.on.toordinal()
    done = [
        d
        for d in ctx.facts.deliveries
        if d.status in DONE_DELIVERY
        and d.delivered_at
        and lo <= ctx.days.ordinal(d.delivered_at) <= hi
    ]
    limit = dt.timedelta(hours=v.medicine_max_hours)
    overdue, open_now = [], 0
    for req in ctx.facts.medicine_requests:
        if req.status not in OPEN_MEDICINE:
            continue
        created = ctx.days.instant(req.created_at)
        if created > ctx.as_of:
            continue  # not yet made at the moment judged
        open_now += 1
        if ctx.as_of - created > limit:
            overdue.append((req, ctx.as_of - created))
    span = f"{md(first)}..{md(ctx.on)}"
    details = {
        "deliveries": len(done),
        "days": [first, ctx.on],
        "open_medicine_requests": open_now,
        "overdue_medicine_requests": len(overdue),
        "as_of": ctx.as_of.isoformat(),
    }
    if not done and not ctx.facts.deliveries and not ctx.facts.medicine_requests:
        return Verdict(
            NO_DATA,
            [Fact("no_supply_records", "no delivery or medicine request recorded")],
            details,
        )
    facts = []
    if len(done) >= v.min_deliveries:
        facts.append(
            Fact(
                "deliveries",
                f"{len(done)} deliveries done in {span}",
                ok=True,
                params={"count": len(done)},
            )
        )
    else:
        facts.append(
            Fact(
                "no_deliveries",
                f"{len(done)} deliveries done in {span}",
                params={"count": len(done)},
            )
        )
    for req, age in sorted(overdue, key=lambda x: -x[1]):
        where, params = ctx.place(req.household_id)
        hours = int(age.total_seconds() // 3600)
        since = ctx.days.local_text(req.created_at)
        params.update(
            request_id=req.id,
            drug_name=req.drug_name,
            status=req.status,
            hours=hours,
            since=since,
            max_hours=v.medicine_max_hours,
        )
        text = (
            f"medicine request ({req.drug_name}) for {where} {req.status} since "
            f"{since}, {hours} h; at most {v.medicine_max_hours} h"
        )
        facts.append(Fact("medicine_overdue", text, params=params))
    failed = any(not f.ok for f in facts)
    return Verdict(FAIL if failed else PASS, facts, details)


def organisation(ctx: Context) -> Verdict:
    groups = ctx.facts.work_groups
    kinds = ctx.version.work_group_kinds
    members = {k: [] for k in kinds}
    for g in groups:
        if g.kind in members:
            members[g.kind].extend(m.strip() for m in g.members if m and m.strip())
    details = {"groups": members}
    if not groups:
        return Verdict(NO_DATA, [Fact("no_work_groups", "no work group is recorded")], details)
    facts = []
    for kind in kinds:
        if members[kind]:
            text = f"{kind.replace('_', ' ')} group: {', '.join(members[kind])}"
            facts.append(
                Fact("work_group", text, ok=True, params={"kind": kind, "members": members[kind]})
            )
        else:
            text = f"no one is assigned to the {kind.replace('_', ' ')} group"
            facts.append(Fact("work_group_missing", text, params={"kind": kind}))
    return Verdict(FAIL if any(not f.ok for f in facts) else PASS, facts, details)
