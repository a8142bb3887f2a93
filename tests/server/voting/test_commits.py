"""Group commit: concurrent ballots share commits, and none is lost or duplicated."""

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from server.voting.commits import GroupCommit
from server.voting.counting import new_receipt

DDL = (
    "CREATE TABLE online_ballots (id TEXT PRIMARY KEY, motion_id TEXT, owner_key TEXT, "
    "choice TEXT, received_at TEXT, receipt TEXT UNIQUE, link_id INTEGER)"
)


@pytest.fixture
def path(tmp_path):
    p = tmp_path / "votes.db"
    conn = sqlite3.connect(p)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(DDL)
    conn.commit()
    conn.close()
    return p


def connect(path):
    conn = sqlite3.connect(path, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA synchronous=FULL")
    return conn


def row(i, receipt=None):
    return [f"b{i}", "m", f"o{i}", "for", "2020-03-10T01:00:00+00:00", receipt or new_receipt(), 1]


def test_concurrent_ballots_are_all_stored_once(path):
    writer, local, conns = GroupCommit(), threading.local(), []
    lock = threading.Lock()

    def one(i):
        if not hasattr(local, "conn"):
            local.conn = connect(path)
            with lock:
                conns.append(local.conn)
        return writer.insert(local.conn, row(i), new_receipt)

    with ThreadPoolExecutor(12) as pool:
        receipts = list(pool.map(one, range(600)))
    for conn in conns:
        conn.close()
    check = sqlite3.connect(path)
    stored = check.execute(
        "SELECT count(*), count(DISTINCT receipt) FROM online_ballots"
    ).fetchone()
    assert stored == (600, 600)
    assert set(receipts) == {r[0] for r in check.execute("SELECT receipt FROM online_ballots")}
    check.close()


def test_a_receipt_collision_gets_a_new_code_and_nothing_is_lost(path):
    conn = connect(path)
    writer = GroupCommit()
    first = writer.insert(conn, row(1, "AAAA-AAAA-AAAA"), new_receipt)
    second = writer.insert(conn, row(2, "AAAA-AAAA-AAAA"), new_receipt)
    assert first == "AAAA-AAAA-AAAA"
    assert second != first
    assert conn.execute("SELECT count(*) FROM online_ballots").fetchone()[0] == 2
    conn.close()


def test_a_failed_write_is_reported_to_its_caller(path):
    conn = connect(path)
    writer = GroupCommit()
    writer.insert(conn, row(1), new_receipt)
    with pytest.raises(sqlite3.IntegrityError):
        writer.insert(conn, row(1), new_receipt)  # the same ballot id twice
    assert not conn.in_transaction
    conn.close()
