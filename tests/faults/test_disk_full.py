"""The server's disk fills up during a merge: a clean 507, nothing half-written, the
database intact, the server still answering; once there is room, the same laptop's sync
finishes and the state is exact.

The disk is a 3 MB tmpfs mounted for the test (root). Where mounting is refused, the
test says so and simulates the full disk with SQLite's `PRAGMA max_page_count` on the
server's connection (SQLite then answers SQLITE_FULL exactly as for a full disk).
"""

from __future__ import annotations

import sqlite3

import pytest
import requests

from sync import Replica, new_id
from sync.http_client import SyncClient, SyncError, make_session
from tests.faults.conftest import Server, mount_tmpfs, resize_tmpfs, unmount

pytestmark = pytest.mark.slow

COLS = "id, compound_id, household_id, temperature_c, measured_at, note"


@pytest.fixture(params=["tmpfs", "max_page_count"])
def small_disk(request, tmp_path):
    """(server, grow): a server whose data directory has ~3 MB; grow() makes room."""
    disk = tmp_path / "disk"
    mounted = request.param == "tmpfs" and mount_tmpfs(disk, "3m")
    if request.param == "tmpfs" and not mounted:
        pytest.skip("mounting a tmpfs is refused here; the max_page_count case still runs")
    server = Server(disk / "server")
    if mounted:

        def grow() -> None:
            resize_tmpfs(disk, "256m")

    else:
        conn = server.app.extensions["replica"].db
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages + 200}")

        def grow() -> None:
            conn.execute("PRAGMA max_page_count = 1073741823")

    yield server, grow
    server.close()
    if mounted:
        unmount(disk)


def laptop(tmp_path, n: int) -> Replica:
    replica = Replica(tmp_path / "laptop.db")
    replica.write_many(
        "temperature_checks",
        {
            new_id(): {
                "compound_id": "c1",
                "household_id": f"h{i % 50}",
                "temperature_c": 36.5,
                "measured_at": "2020-03-10T08:00:00+08:00",
                "note": f"{i} " + "体温正常 " * 60,
            }
            for i in range(n)
        },
    )
    return replica


def server_rows(server) -> set[tuple]:
    db = sqlite3.connect(server.app.config["DATABASE"])
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return set(db.execute(f"SELECT {COLS} FROM temperature_checks"))
    finally:
        db.close()


def laptop_rows(replica: Replica) -> set[tuple]:
    db = sqlite3.connect(replica.path)
    try:
        return set(db.execute(f"SELECT {COLS} FROM temperature_checks"))
    finally:
        db.close()


def test_a_full_disk_during_a_merge_is_a_clean_error_and_no_corruption(small_disk, tmp_path):
    server, grow = small_disk
    token = server.token()
    replica = laptop(tmp_path, 6000)  # ~4 MB of checks: more than the disk holds
    client = SyncClient(replica, server.url, token, session=make_session(retries=0),
                        max_cells=6000)  # fmt: skip
    with pytest.raises(SyncError) as err:
        client.sync()
    assert "507" in str(err.value)
    assert "disk is full" in str(err.value)
    # What the server kept is whole batches only, each row exactly as the laptop has it.
    kept = server_rows(server)
    mine = laptop_rows(replica)
    assert kept < mine
    # The server still answers (reads work on a full disk).
    hello = requests.get(server.url + "/api/sync/hello",
                         headers={"Authorization": f"Bearer {token}"}, timeout=10)  # fmt: skip
    assert hello.status_code == 200
    # Room again: the same laptop finishes, nothing lost, nothing twice.
    grow()
    SyncClient(replica, server.url, token, session=make_session(retries=0)).sync()
    assert server_rows(server) == mine
    replica.close()
