"""bench/load.py at a small size: agents syncing and owners voting at once, against a
waitress server in its own process; zero errors and the final state exact."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BENCH = Path(__file__).resolve().parents[2] / "bench" / "load.py"


def load_module():
    spec = importlib.util.spec_from_file_location("bench_load", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_load"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_agents_and_owners_at_once_end_exact(tmp_path):
    load = load_module()
    plan = load.setup(tmp_path, agents=10, records=30, owners=10)
    result = load.run(plan, threads=4)
    assert result.errors == []
    assert result.problems == []
    assert result.records == 30
    assert len(result.sync_latency_s) == 10
    assert len(result.ballot_latency_s) == 10


def test_verify_sees_a_missing_row_and_a_wrong_ballot(tmp_path):
    """The checker itself can fail: remove one synced row and change one counted choice."""
    import sqlite3

    load = load_module()
    plan = load.setup(tmp_path, agents=2, records=5, owners=2)
    result = load.run(plan, threads=2)
    assert result.problems == []
    db = sqlite3.connect(plan.server_dir / "lastmeter.db")
    with db:
        db.execute("DELETE FROM temperature_checks WHERE rowid = (SELECT min(rowid) FROM "
                   "temperature_checks)")  # fmt: skip
        key, _, choice = plan.links[0]
        other = "against" if choice != "against" else "for"
        db.execute(
            "INSERT INTO online_ballots (id, motion_id, owner_key, choice, received_at, receipt) "
            "VALUES ('x', ?, ?, ?, '9999', 'R')",
            [plan.motion_id, key, other],
        )
    db.close()
    problems = load.verify(plan, {})
    assert any("missing" in p for p in problems)
    assert any(f"owner {key}" in p for p in problems)


def test_ballots_queue_with_merges_on_the_replica_lock(tmp_path):
    """Under a storm of pushes, ballots starved in SQLite's busy handler (~9 s each, and a
    storm over busy_timeout would fail them): the voting writer now waits on the
    replica's lock, in line with the merges. A ballot cast while a merge holds the lock
    is stored once the merge is done."""
    import threading

    from server import create_app
    from server.voting.common import writer

    load = load_module()
    plan = load.setup(tmp_path, agents=1, records=1, owners=1)
    app = create_app({"DATA_DIR": str(plan.server_dir), "TESTING": True})
    try:
        replica = app.extensions["replica"]
        with app.app_context():
            assert writer()._lock is replica.lock
        key, token, choice = plan.links[0]
        merged = threading.Event()
        answers = []

        def cast():
            resp = app.test_client().post(f"/api/ballots/{token}", json={"choice": choice})
            answers.append((merged.is_set(), resp.status_code))

        with replica.lock:  # a merge in progress
            voter = threading.Thread(target=cast)
            voter.start()
            voter.join(0.5)
            merged.set()
        voter.join(30)
        assert answers == [(True, 200)]  # answered only after the merge let go
    finally:
        app.extensions["replica"].close()
