"""End to end over real HTTP: live servers on 127.0.0.1, agents, a fault proxy, a SIGKILL."""

from __future__ import annotations

import random
import shutil
import sqlite3
import threading
import time

import pytest

from sync import Replica
from sync.http_client import SyncError, outbox
from tests.faultproxy import Fault, FaultProxy
from tests.server.sync_api.helpers import (
    LiveServer,
    ServerDir,
    cells,
    check,
    client,
    delivery,
    household,
    row_counts,
    write_checks,
)

pytestmark = pytest.mark.slow


def seed_register(server_dir: ServerDir, compounds: list[str], per_compound: int = 20) -> None:
    with server_dir.replica() as server:
        for c in compounds:
            server.write_many(
                "households",
                {f"{c}-h{i}": household(c, unit=str(100 + i)) for i in range(per_compound)},
            )
            server.write_many(
                "deliveries", {f"{c}-d{i}": delivery(c, f"{c}-h{i}") for i in range(5)}
            )


@pytest.mark.parametrize("order", ["ABA", "BAB", "AABBA", "BBAAB"])
def test_two_agents_and_a_server_converge_in_any_order(server_dir, agents, order):
    seed_register(server_dir, ["c1", "c2", "c3"])
    token = {
        "A": server_dir.add_device("head-a", "building_head", ["c1"]),
        "B": server_dir.add_device("head-b", "building_head", ["c1", "c2"]),
    }
    scope = {"A": ["c1"], "B": ["c1", "c2"]}
    server = LiveServer(server_dir.path).start()
    try:
        replicas = {"A": agents("a"), "B": agents("b")}
        for name, replica in replicas.items():
            client(replica, server.url, token[name]).sync()
        a, b = replicas["A"], replicas["B"]
        # Offline, both edit: the same cells, deliveries moving forward, new rows, a delete.
        a.write("households", "c1-h1", {"owner_name": "Zhang", "members": 3})
        b.write("households", "c1-h1", {"owner_name": "Li", "phone": "13800000000"})
        a.write("deliveries", "c1-d1", {"status": "delivered"})
        b.write("deliveries", "c1-d1", {"status": "out"})
        b.write("deliveries", "c2-d1", {"status": "refused", "refused_reason": "not home"})
        write_checks(a, "c1", 40)
        write_checks(b, "c1", 30)
        write_checks(b, "c2", 30)
        b.delete("households", "c2-h3")
        a.write("households", "new-a", household("c1", unit="909"))
        with server_dir.replica() as srv:
            srv.write("households", "c1-h2", {"members": 5})
            srv.write("households", "c3-h1", {"members": 2})
        for name in order:
            report = client(replicas[name], server.url, token[name]).sync()
            assert report.rejected == 0
        with server_dir.replica() as srv:
            for name, replica in replicas.items():
                assert cells(replica) == cells(srv, scope=scope[name])
            assert srv.get("deliveries", "c1-d1")["status"] == "delivered"  # never backwards
            assert srv.get("households", "c2-h3") is None
            assert row_counts(srv)["temperature_checks"] == 100
        assert a.get("households", "c1-h1") == b.get("households", "c1-h1")
        assert a.get("households", "c1-h2")["members"] == 5
        compounds_seen = {
            name: {r[0] for r in rep.db.execute("SELECT compound_id FROM households")}
            for name, rep in replicas.items()
        }
        assert compounds_seen == {"A": {"c1"}, "B": {"c1", "c2"}}
    finally:
        server.stop()


def faulty_plan(seed: int):
    rng = random.Random(seed)

    def plan(n: int) -> Fault | None:
        # Keep-alive carries many requests on one connection: most connections break.
        kind = n % 4
        if kind == 0:
            return Fault(drop_up_after=rng.randrange(50, 100_000))
        if kind == 1:
            return Fault(truncate_down_after=rng.randrange(20, 5_000))
        if kind == 2:
            return Fault(drop_down_after=rng.randrange(20, 20_000), delay=0.002)
        return None

    return plan


def sync_until_done(replica, url, token, attempts: int = 80) -> int:
    failures = 0
    for _ in range(attempts):
        try:
            client(replica, url, token, retries=0, max_cells=1_500).sync()
            return failures
        except SyncError:
            failures += 1
    raise AssertionError(f"no complete sync in {attempts} attempts")


def agent_cells(replica: Replica, site: str, scope: list[str]) -> dict:
    return {k: v for k, v in cells(replica, scope=scope).items() if v[2] == site}


@pytest.mark.parametrize("seed", [1, 2])
def test_syncs_through_a_faulty_link_end_as_a_clean_sync(tmp_path, agents, seed):
    faulty_dir, clean_dir = ServerDir(tmp_path / "faulty"), ServerDir(tmp_path / "clean")
    for d in (faulty_dir, clean_dir):
        seed_register(d, ["c1"], per_compound=200)
    tokens = [d.add_device("vol", "building_head", ["c1"]) for d in (faulty_dir, clean_dir)]

    agent = agents("agent")
    write_checks(agent, "c1", 1_500)
    agent.write_many("deliveries", {f"d{i}": delivery("c1", f"h{i}") for i in range(300)})
    agent.write_many("deliveries", {f"d{i}": {"status": "out"} for i in range(0, 300, 3)})
    agent.write_many("temperature_checks", {f"far-{i}": check("c9") for i in range(4)})
    agent.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(agent.path, tmp_path / "twin.db")
    twin = Replica(tmp_path / "twin.db")

    faulty = LiveServer(faulty_dir.path).start()
    clean = LiveServer(clean_dir.path).start()
    proxy = FaultProxy(("127.0.0.1", faulty.port), faulty_plan(seed))
    try:
        failures = sync_until_done(agent, proxy.url, tokens[0])
        assert failures > 0, "the proxy should have broken some syncs"
        assert proxy.faults_fired > 0
        client(twin, clean.url, tokens[1]).sync()
        # Once more through the bad link: nothing left to move, nothing changes.
        before = cells(agent)
        sync_until_done(agent, proxy.url, tokens[0])
        assert cells(agent) == before

        with faulty_dir.replica() as f, clean_dir.replica() as c:
            assert agent_cells(f, agent.site_id, ["c1"]) == agent_cells(c, twin.site_id, ["c1"])
            assert cells(agent) == cells(f, scope=["c1"]) | {
                k: v for k, v in cells(agent).items() if k[1].startswith("far-")
            }
            assert cells(twin) == cells(c, scope=["c1"]) | {
                k: v for k, v in cells(twin).items() if k[1].startswith("far-")
            }
            assert row_counts(f) == row_counts(c)
            assert row_counts(f)["temperature_checks"] == 1_500
        # The refused cells are in the outbox once each, however often they were sent.
        keys = [(i["tbl"], i["row_id"], i["col"], i["reason"]) for i in outbox(agent.path)]
        twin_keys = [(i["tbl"], i["row_id"], i["col"], i["reason"]) for i in outbox(twin.path)]
        assert sorted(keys) == sorted(twin_keys)
        assert len(keys) == len(set(keys))
        assert {k[1] for k in keys} == {f"far-{i}" for i in range(4)}
    finally:
        proxy.close()
        faulty.stop()
        clean.stop()
        twin.close()


def count_checks(db_path) -> int:
    try:
        with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5) as db:
            return db.execute("SELECT count(*) FROM temperature_checks").fetchone()[0]
    except sqlite3.Error:
        return 0


def test_a_server_killed_during_a_large_push_ends_exact_after_restart(server_dir, agents):
    token = server_dir.add_device("vol", "volunteer", ["c1"])
    agent = agents("agent")
    total = 40_000
    write_checks(agent, "c1", total)
    server = LiveServer(server_dir.path).start()
    errors: list[Exception] = []

    def push() -> None:
        try:
            client(agent, server.url, token, retries=0, max_cells=7_000).sync()
        except SyncError as exc:
            errors.append(exc)

    worker = threading.Thread(target=push)
    worker.start()
    deadline = time.monotonic() + 60
    while count_checks(server_dir.db_path) == 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    server.kill()
    worker.join(60)
    assert errors, "the push should have been cut off by the kill"
    stored_at_kill = count_checks(server_dir.db_path)
    assert 0 < stored_at_kill < total

    server = LiveServer(server_dir.path).start()
    try:
        report = client(agent, server.url, token).sync()
        assert report.rejected == 0
        with server_dir.replica() as srv:
            assert row_counts(srv)["temperature_checks"] == total
            assert cells(srv, scope=["c1"]) == cells(agent)
            assert agent.cursor(srv.site_id)["sent"] == agent.counter
            assert srv.db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        server.stop()


def test_each_agent_sees_only_its_compounds(server_dir, agents):
    seed_register(server_dir, ["c1", "c2"])
    token = server_dir.add_device("vol", "volunteer", ["c2"])
    with LiveServerRunning(server_dir) as url:
        agent = agents("agent")
        client(agent, url, token).sync()
        ids = {r[0] for r in agent.db.execute("SELECT id FROM households")}
        assert ids == {f"c2-h{i}" for i in range(20)}
        assert {r[0] for r in agent.db.execute("SELECT compound_id FROM deliveries")} == {"c2"}


class LiveServerRunning:
    def __init__(self, server_dir: ServerDir) -> None:
        self.server = LiveServer(server_dir.path)

    def __enter__(self) -> str:
        return self.server.start().url

    def __exit__(self, *exc: object) -> None:
        self.server.stop()


def test_the_client_retries_server_errors_with_backoff(server_dir, live_server, agents):
    token = server_dir.add_device("vol", "volunteer", ["c1"])
    agent = agents("agent")
    write_checks(agent, "c1", 10)
    busy = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    proxy = FaultProxy(
        ("127.0.0.1", live_server.port), lambda n: Fault(reply=busy) if n < 2 else None
    )
    try:
        report = client(agent, proxy.url, token, retries=3).sync()
    finally:
        proxy.close()
    assert proxy.faults_fired == 2
    assert report.pushed_cells == 70
    with server_dir.replica() as srv:
        assert row_counts(srv)["temperature_checks"] == 10


def test_agents_syncing_at_the_same_time_all_land(server_dir, live_server, agents):
    names = ["a", "b", "c"]
    tokens = {n: server_dir.add_device(f"head-{n}", "building_head", ["c1"]) for n in names}
    replicas = {n: agents(n) for n in names}
    for n, replica in replicas.items():
        write_checks(replica, "c1", 2_000)
        replica.write_many(
            "households", {f"{n}-h{i}": household("c1", f"{n}{i}") for i in range(50)}
        )
    errors: list[Exception] = []

    def sync(n: str) -> None:
        try:
            client(replicas[n], live_server.url, tokens[n], max_cells=2_000).sync()
        except Exception as exc:  # any failure is reported by the assert below
            errors.append(exc)

    threads = [threading.Thread(target=sync, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    for n in names:  # a last round brings each what the others pushed meanwhile
        client(replicas[n], live_server.url, tokens[n]).sync()
    with server_dir.replica() as srv:
        assert row_counts(srv)["temperature_checks"] == 6_000
        assert row_counts(srv)["households"] == 150
        for replica in replicas.values():
            assert cells(replica) == cells(srv, scope=["c1"])
