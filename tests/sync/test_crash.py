"""Crash safety: a merge killed with SIGKILL at any moment leaves all or none of its batch."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sync import Replica, new_id, store
from tests.sync.helpers import check, delivery

ROOT = Path(__file__).resolve().parents[2]
ROWS = 6_000  # per table: a merge of ~0.1-0.5 s, long enough to be hit in the middle
assert ROWS >= store.BULK_ROWS  # so that a merge into an empty replica is a bulk load

CHILD = """
import json, sys
from sync import Batch, Replica
replica = Replica(sys.argv[1])
batch = Batch.from_dict(json.loads(open(sys.argv[2]).read()))
print("applying", flush=True)
replica.apply(batch)
print("done", flush=True)
"""


def counts(path: Path, tag: str) -> tuple[int, int]:
    """Rows of this round's batch present in each table (a fresh connection, as after a crash)."""
    db = sqlite3.connect(path)
    try:
        checks = db.execute(
            "SELECT count(*) FROM temperature_checks WHERE note = ?", (tag,)
        ).fetchone()[0]
        deliveries = db.execute(
            "SELECT count(*) FROM deliveries WHERE items = ?", (tag,)
        ).fetchone()[0]
        return checks, deliveries
    finally:
        db.close()


@pytest.mark.slow
def test_killed_merge_leaves_all_or_none_of_its_batch(tmp_path):
    rng = random.Random(20200308)
    duration = 0.0
    source = Replica(tmp_path / "source.db", synchronous="OFF")
    growing = tmp_path / "target.db"
    Replica(growing).close()
    outcomes = []
    mark = 0
    for round_no in range(9):
        tag = f"round {round_no}"
        # Odd rounds merge into an empty replica: a first sync, whose tables' indexes are
        # dropped and rebuilt inside the transaction (store.drop_indexes_for_bulk).
        target = growing if round_no % 2 == 0 else tmp_path / f"fresh{round_no}.db"
        source.write_many("temperature_checks", {new_id(): check(note=tag) for _ in range(ROWS)})
        source.write_many("deliveries", {new_id(): delivery(items=tag) for _ in range(ROWS)})
        batch_file = tmp_path / f"batch{round_no}.json"
        batch_file.write_text(json.dumps(source.changes_since(mark).to_dict()))
        mark = source.counter
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(target), str(batch_file)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "applying"
        if round_no == 0:  # calibrate: how long does a whole merge take here?
            started = time.monotonic()
            assert child.stdout.readline().strip() == "done"
            duration = time.monotonic() - started
        else:
            time.sleep(rng.uniform(0, 1.6 * duration))
            os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()
        if round_no == 0:
            assert counts(target, tag) == (ROWS, ROWS)
            continue

        got = counts(target, tag)
        assert got in ((0, 0), (ROWS, ROWS)), got  # all of the batch or none of it
        outcomes.append(got != (0, 0))
        with Replica(target) as reopened:
            assert reopened.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            # The counter covers every stored row: nothing will be skipped by a later pull.
            top = max(
                reopened.db.execute(f"SELECT coalesce(max(_ctr), 0) FROM {t}").fetchone()[0]
                for t in ("temperature_checks", "deliveries")
            )
            assert reopened.counter == top
            if got == (0, 0):  # the retry after a crash goes through
                result = reopened.apply(json.loads(batch_file.read_text()))
                assert not result.rejected
                assert counts(target, tag) == (ROWS, ROWS)
            indexes = reopened.db.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = ?",
                ("temperature_checks",),
            ).fetchone()[0]
            assert indexes == 4  # id, _compound, household_id, measured_at: none lost
    source.close()
    print("batches that survived their kill:", outcomes)
    assert not all(outcomes)  # some kills landed mid-merge, else the test proved little
