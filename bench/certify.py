"""Certify a community: 20 compounds x 250 households, 30 days of twice-daily checks.

Prints the time to evaluate every compound from pre-grouped facts (the pure core;
target: well under 300 ms for the whole community). Run: .venv/bin/python bench/certify.py
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.certification.evaluate import evaluate, roll_up  # noqa: E402
from server.certification.facts import (  # noqa: E402
    Attestation,
    Building,
    Closure,
    CompoundFacts,
    Delivery,
    DisinfectionLog,
    HealthCase,
    Household,
    MedicineRequest,
    Resident,
    TemperatureCheck,
    WorkGroup,
)

COMPOUNDS, HOUSEHOLDS, BUILDINGS, DAYS = 20, 250, 10, 30
ON = dt.date(2020, 3, 8)


def make_compound(n: int, rng: random.Random) -> CompoundFacts:
    cid = f"cp{n:02d}"
    buildings = [Building(f"{cid}-b{i}", str(i)) for i in range(1, BUILDINGS + 1)]
    households = [
        Household(f"{cid}-h{i}", str(i % BUILDINGS + 1), f"{i // BUILDINGS + 1}01")
        for i in range(HOUSEHOLDS)
    ]
    residents = [Resident(f"{h.id}-r", h.id, f"居民{i}") for i, h in enumerate(households)]
    checks = []
    logs = []
    for back in range(DAYS):
        day = (ON - dt.timedelta(days=back)).isoformat()
        for hh in households:
            for hhmm in ("08:00", "20:00"):
                temp = 38.0 if rng.random() < 0.00002 else round(rng.uniform(36.0, 37.1), 1)
                checks.append(
                    TemperatureCheck(
                        f"{hh.id}-{day}-{hhmm}", hh.id, f"{hh.id}-r", temp, f"{day}T{hhmm}:00+08:00"
                    )
                )
        for b in buildings:
            for hhmm in ("07:00", "19:00"):
                logs.append(
                    DisinfectionLog(
                        f"{b.id}-{day}-{hhmm}", "corridor", f"{day}T{hhmm}:00+08:00", b.name
                    )
                )
    rng.shuffle(checks)  # rows come in sync order, not by date
    cases = []
    if n % 5 == 0:
        start = ON - dt.timedelta(days=rng.randint(0, 20))
        cases.append(
            HealthCase(f"{cid}-case", "fever", start, None, residents[0].id, households[0].id)
        )
    deliveries = [
        Delivery(
            f"{cid}-d{i}",
            households[i].id,
            "delivered",
            f"{ON - dt.timedelta(days=i % 5)}T15:00:00+08:00",
        )
        for i in range(HOUSEHOLDS)
    ]
    meds = [
        MedicineRequest(f"{cid}-m{i}", households[i].id, "药", "delivered", f"{ON}T09:00:00+08:00")
        for i in range(10)
    ]
    return CompoundFacts(
        cid,
        f"小区{n}",
        "community",
        buildings,
        households,
        residents,
        checks,
        logs,
        deliveries,
        meds,
        cases,
        [Closure(dt.date(2020, 1, 23), ("north gate",))],
        [
            WorkGroup(k, ("x",))
            for k in ("group_buying", "vegetable_buying", "purchasing", "distribution")
        ],
        [Attestation("publicity", "notices", "secretary", dt.date(2020, 2, 1))],
    )


def main() -> None:
    rng = random.Random(6)
    t0 = time.perf_counter()
    community = [make_compound(n, rng) for n in range(COMPOUNDS)]
    built = time.perf_counter() - t0
    rows = sum(len(c.checks) for c in community)
    print(f"{COMPOUNDS} compounds, {COMPOUNDS * HOUSEHOLDS} households, {rows:,} check rows")
    print(f"built facts in memory: {built * 1000:.0f} ms (not part of the check)")
    times = []
    for _ in range(7):
        t0 = time.perf_counter()
        results = [evaluate(c, ON) for c in community]
        unit = roll_up("community", "community", results)
        times.append(time.perf_counter() - t0)
    passed = sum(r.passed for r in results)
    print(
        f"certify whole community: median {statistics.median(times) * 1000:.1f} ms, "
        f"min {min(times) * 1000:.1f} ms over {len(times)} runs (target < 300 ms)"
    )
    print(f"{passed} of {COMPOUNDS} compounds pass; community epidemic-free: {unit.passed}")


if __name__ == "__main__":
    main()
