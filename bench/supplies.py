"""Bench: plan a round of 700 packages over 5,000 households with 60 past rounds.

Run: .venv/bin/python bench/supplies.py [--keep DIR]. Target (issue #8): under 200 ms.
Builds a real server database (the replica plus the supply tables) in a temporary
directory, with 42,000 past deliveries written through the replica, then prints, best
of a few runs: the bare SQL that reads the history, each step of planning a round, and
the whole `plan_round` a page calls.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
import time
from pathlib import Path

from server.db import open_db
from server.supply import data
from server.supply.allocate import DEFAULT_POLICY, plan
from sync import Replica

HOUSEHOLDS, PACKAGES, ROUNDS, REPEAT = 5_000, 700, 60, 9


def build(path: Path, seed: int = 1) -> dict:
    rng = random.Random(seed)
    with Replica(path, synchronous="OFF") as replica:
        replica.write("compounds", "c1", {"compound_id": "c1", "name": "Tenglong"})
        homes = {
            f"h{i:05d}": {
                "compound_id": "c1",
                "building": str(1 + i // 100),
                "unit": str(i % 100),
                "medical_worker": rng.random() < 0.02,
                "hardship": rng.random() < 0.05,
                "elderly_alone": rng.random() < 0.08,
            }
            for i in range(HOUSEHOLDS)
        }
        replica.write_many("households", homes)
        db = open_db(path)
        data.migrations.apply(db)
        ids = sorted(homes)
        day0 = dt.datetime(2020, 1, 25, 8, tzinfo=dt.UTC)
        for k in range(ROUNDS):
            round_id = f"r{k:02d}"
            when = (day0 + dt.timedelta(days=k)).isoformat()
            db["supply_rounds"].insert(
                {
                    "id": round_id,
                    "compound_ids": '["c1"]',
                    "item": "vegetable package",
                    "unit": "package",
                    "quantity": str(PACKAGES),
                    "per_household": "1",
                    "divisible": 0,
                    "policy": "[]",
                    "seed": k,
                    "status": "confirmed",
                    "confirmed_at": when,
                }  # fmt: skip
            )
            replica.write_many(
                "deliveries",
                {
                    f"{round_id}-{h}": {
                        "compound_id": "c1",
                        "household_id": h,
                        "kind": "round",
                        "quantity": 1.0,
                        "status": "delivered",
                        "delivered_at": when,
                        "round_id": round_id,
                    }  # fmt: skip
                    for h in rng.sample(ids, PACKAGES)
                },
            )
        round_id = data.create_round(
            db, compound_ids=["c1"], item="vegetable package", unit="package",
            quantity=PACKAGES, policy=DEFAULT_POLICY, seed=42,
        )  # fmt: skip
        db.close()
    return {"round_id": round_id}


def best_ms(fn) -> float:
    times = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return min(times)


HISTORY_SQL = (
    "SELECT d.household_id, SUM(d.quantity), "
    "MAX(substr(COALESCE(d.delivered_at, r.confirmed_at), 1, 10)) "
    "FROM supply_rounds r JOIN deliveries d ON d.round_id = r.id "
    "WHERE r.item = ? AND r.unit = ? AND r.status = 'confirmed' AND d.deleted = 0 "
    "AND d.kind = 'round' AND d.status IS NOT 'refused' AND d.compound_id IN (?) "
    "GROUP BY d.household_id"
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keep", help="build the database in this directory and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.keep or tmp) / "lastmeter.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        made = build(path)
        took = time.perf_counter() - start
        print(f"built {path.name}: {HOUSEHOLDS} households, {ROUNDS * PACKAGES} past deliveries")
        print(f"over {ROUNDS} rounds (written through the replica) in {took:.1f} s")
        db = open_db(path)
        try:
            rnd = data.get_round(db, made["round_id"])
            args_ = ("vegetable package", "package", ["c1"])
            bare = best_ms(
                lambda: db.execute(HISTORY_SQL, ["vegetable package", "package", "c1"]).fetchall()
            )
            hist = best_ms(lambda: data.history(db, *args_))
            homes_ms = best_ms(lambda: data.households(db, ["c1"]))
            homes, past = data.households(db, ["c1"]), data.history(db, *args_)
            planning = best_ms(lambda: plan(homes, past, PACKAGES, DEFAULT_POLICY, 42))
            whole = best_ms(lambda: data.plan_round(db, rnd))
            result, _ = data.plan_round(db, rnd)
        finally:
            db.close()
    print(f"bare SQL reading the history      : {bare:7.1f} ms")
    print(f"history as Decimal (data.history) : {hist:7.1f} ms")
    print(f"households of the round           : {homes_ms:7.1f} ms")
    print(f"allocation (allocate.plan)        : {planning:7.1f} ms")
    print(f"whole plan_round, as a page calls : {whole:7.1f} ms (target < 200 ms)")
    print(f"served {len(result.served)}, unserved {len(result.unserved)}, seed {result.seed}")


if __name__ == "__main__":
    main()
