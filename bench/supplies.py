"""Bench: plan a round of 700 packages over 5,000 households with 60 past rounds.

Run: .venv/bin/python bench/supplies.py. Target (issue #8): under 200 ms.
Prints the time of summing the history and of planning, best of a few runs.
"""

from __future__ import annotations

import datetime as dt
import random
import time

from server.supply.allocate import DEFAULT_POLICY, history_from_receipts, plan

HOUSEHOLDS, PACKAGES, ROUNDS, REPEAT = 5_000, 700, 60, 5


def make_data(seed: int = 1) -> tuple[list[dict], list[tuple]]:
    rng = random.Random(seed)
    homes = [
        {
            "id": f"h{i:05d}",
            "medical_worker": rng.random() < 0.02,
            "hardship": rng.random() < 0.05,
            "elderly_alone": rng.random() < 0.08,
        }
        for i in range(HOUSEHOLDS)
    ]
    ids = [h["id"] for h in homes]
    day0 = dt.date(2020, 1, 25)
    receipts = [
        (household_id, 1, (day0 + dt.timedelta(days=k)).isoformat())
        for k in range(ROUNDS)
        for household_id in rng.sample(ids, PACKAGES)
    ]
    return homes, receipts


def best_ms(fn) -> float:
    times = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return min(times)


def main() -> None:
    homes, receipts = make_data()
    history = history_from_receipts(receipts)
    summing = best_ms(lambda: history_from_receipts(receipts))
    planning = best_ms(lambda: plan(homes, history, PACKAGES, DEFAULT_POLICY, seed=42))
    result = plan(homes, history, PACKAGES, DEFAULT_POLICY, seed=42)
    print(f"{HOUSEHOLDS} households, {len(receipts)} past deliveries over {ROUNDS} rounds")
    print(f"sum history in Python : {summing:7.1f} ms")
    print(f"plan {PACKAGES} packages     : {planning:7.1f} ms")
    print(f"total                 : {summing + planning:7.1f} ms (target < 200 ms)")
    print(f"served {len(result.served)}, unserved {len(result.unserved)}, seed {result.seed}")


if __name__ == "__main__":
    main()
