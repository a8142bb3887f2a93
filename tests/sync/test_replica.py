"""The replica's local API: ids, writes, reads, deletes, changes_since, cursors."""

from __future__ import annotations

import pytest

from sync import Batch, Replica, TableChunk, WriteError, new_id, store
from tests.sync.helpers import check, delivery, pull


def test_site_id_is_stable_across_reopening(tmp_path):
    with Replica(tmp_path / "a.db") as replica:
        site = replica.site_id
    with Replica(tmp_path / "a.db") as replica:
        assert replica.site_id == site
    with Replica(tmp_path / "b.db") as other:
        assert other.site_id != site


def test_new_ids_are_uuid7_and_sort_by_creation():
    ids = [new_id() for _ in range(200)]
    assert all(i[14] == "7" for i in ids)
    assert len(set(ids)) == 200
    # Within one millisecond the random tail decides; across milliseconds time does.
    assert ids[0][:13] <= ids[-1][:13]


def test_write_get_rows_and_partial_update(make_replica):
    r = make_replica()
    r.write("deliveries", "d1", delivery(items="白菜 2"))
    r.write("deliveries", "d2", delivery(household_id="h2"))
    r.write("deliveries", "d1", {"volunteer": "王芳"})
    got = r.get("deliveries", "d1")
    assert got["items"] == "白菜 2"
    assert got["volunteer"] == "王芳"
    assert got["status"] == "planned"
    assert [row["id"] for row in r.rows("deliveries", household_id="h2")] == ["d2"]
    assert r.get("deliveries", "nope") is None


def test_bool_columns_read_back_as_bool(make_replica):
    r = make_replica()
    r.write(
        "households",
        "hh",
        {
            "compound_id": "c1",
            "building": "3",
            "unit": "201",
            "hardship": True,
            "medical_worker": False,
        },
    )
    got = r.get("households", "hh")
    assert got["hardship"] is True
    assert got["medical_worker"] is False


def test_delete_hides_row_and_write_recreates_it(make_replica):
    r = make_replica()
    r.write("deliveries", "d1", delivery(items="a"))
    r.delete("deliveries", "d1")
    assert r.get("deliveries", "d1") is None
    assert r.rows("deliveries") == []
    r.write("deliveries", "d1", {"items": "b"})
    assert r.get("deliveries", "d1")["items"] == "b"


def test_delete_of_unknown_row_is_refused(make_replica):
    r = make_replica()
    with pytest.raises(WriteError) as err:
        r.delete("deliveries", "ghost")
    assert err.value.problems[0].reason == "unknown_row"


def test_every_changed_cell_bumps_the_counter_once_per_row(make_replica):
    r = make_replica()
    assert r.counter == 0
    r.write_many("deliveries", {"d1": delivery(), "d2": delivery()})
    assert r.counter == 2
    r.write("deliveries", "d1", {"volunteer": "x"})
    assert r.counter == 3
    batch = r.changes_since(2)
    assert batch.next == 3
    assert not batch.more
    chunk = batch.tables["deliveries"]
    assert [row[0] for row in chunk.rows] == ["d1"]
    assert batch.cells == 1  # only the changed cell travels


def test_changes_since_limit_splits_and_next_continues(make_replica):
    r = make_replica()
    r.write_many("temperature_checks", {f"t{i:03}": check() for i in range(25)})
    seen, cursor, batches = [], 0, 0
    while True:
        batch = r.changes_since(cursor, limit=10)
        batches += 1
        seen += (
            [row[0] for row in batch.tables.get("temperature_checks", []).rows]
            if batch.tables
            else []
        )
        cursor = batch.next
        if not batch.more:
            break
    assert batches >= 3
    assert seen == [f"t{i:03}" for i in range(25)]
    assert cursor == r.counter


def test_changes_since_scope_keeps_only_those_compounds(make_replica):
    r = make_replica()
    r.write("temperature_checks", "a", check(compound_id="c1"))
    r.write("temperature_checks", "b", check(compound_id="c2"))
    batch = r.changes_since(0, scope=["c2"])
    assert [row[0] for row in batch.tables["temperature_checks"].rows] == ["b"]
    assert batch.next == r.counter


def test_changes_since_exclude_site_leaves_out_that_writer(make_replica):
    a, b = make_replica("a"), make_replica("b")
    a.write("deliveries", "d1", delivery())
    pull(a, b)
    b.write("deliveries", "d1", {"volunteer": "李强"})
    back = b.changes_since(0, exclude_site=a.site_id)
    assert back.cells == 1
    assert back.tables["deliveries"].rows[0][5] == ["李强"]


def test_cursors_are_kept_per_peer(make_replica):
    r = make_replica()
    assert r.cursor("p") == {"sent": 0, "received": 0}
    r.set_cursor("p", sent=5)
    r.set_cursor("p", received=7)
    r.set_cursor("q", received=1)
    assert r.cursor("p") == {"sent": 5, "received": 7}
    assert r.cursor("q") == {"sent": 0, "received": 1}


def test_write_many_is_one_transaction(make_replica):
    r = make_replica()
    with pytest.raises(WriteError):
        r.write_many("temperature_checks", {"ok": check(), "bad": check(temperature=60)})
    assert r.rows("temperature_checks") == []
    assert r.counter == 0


def test_reopened_replica_keeps_counter_and_clock(tmp_path, clock):
    with Replica(tmp_path / "a.db", now_ms=clock) as r:
        r.write("deliveries", "d1", delivery())
        stamp = r.changes_since(0).tables["deliveries"].rows[0][1]
        counter = r.counter
    clock.advance(-60_000)  # the wall clock went back a minute
    with Replica(tmp_path / "a.db", now_ms=clock) as r:
        r.write("deliveries", "d1", {"volunteer": "v"})
        assert r.counter == counter + 1
        new = r.changes_since(counter).tables["deliveries"].rows[0][1]
        assert new > stamp


def test_bulk_merge_into_an_empty_table_keeps_every_index_intact(make_replica):
    """A first sync drops the table's indexes and builds them again after the inserts."""
    src = make_replica("src", synchronous="OFF")
    n = store.BULK_ROWS
    src.write_many(
        "temperature_checks", {f"t{i:05}": check(household=f"h{i % 7}") for i in range(n)}
    )
    dst = make_replica("dst")
    dst.db.execute(
        "CREATE INDEX other_area ON temperature_checks (household_id) WHERE note IS NULL"
    )
    sql = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? ORDER BY name"
    before = dst.db.execute(sql, ("temperature_checks",)).fetchall()
    assert not dst.apply(src.changes_since(0)).rejected
    assert dst.db.execute(sql, ("temperature_checks",)).fetchall() == before
    assert dst.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    count = dst.db.execute(
        "SELECT count(*) FROM temperature_checks INDEXED BY other_area "
        "WHERE household_id = 'h3' AND note IS NULL"
    ).fetchone()[0]
    assert count == len([i for i in range(n) if i % 7 == 3])


def test_rows_from_a_schema_with_other_columns_in_another_order_merge(make_replica):
    """A peer on an older schema sends fewer columns, in its own order."""
    batch = Batch(origin="old", next=1, sites=["old"])
    cols = ["temperature_c", "measured_at", "household_id", "compound_id"]
    values = [37.5, "2020-03-08T08:00:00+08:00", "h1", "c1"]
    batch.tables["temperature_checks"] = TableChunk(cols, [["t1", 1 << 40, 0, None, 15, values]])
    r = make_replica()
    result = r.apply(batch)
    assert (result.accepted, result.rejected) == (4, [])
    got = r.get("temperature_checks", "t1")
    assert (got["temperature_c"], got["household_id"], got["note"]) == (37.5, "h1", None)
    assert r.apply(batch).accepted == 4  # known: accepted again, nothing changes
    assert len(r.rows("temperature_checks")) == 1


@pytest.mark.parametrize("limit", [1, 2, 3, 10])
def test_paged_changes_reach_every_row_even_when_rows_are_left_out(make_replica, limit):
    """Rows a batch leaves out (another writer's, excluded) still count as looked at;
    running out of looked-at rows must not end the pass early."""
    a, b = make_replica("a"), make_replica("b")
    a.write_many("deliveries", {f"a{i}": delivery() for i in range(limit)})
    pull(a, b)
    b.write_many("deliveries", {f"b{i}": delivery() for i in range(3)})
    pages = []
    cursor = 0
    while True:
        batch = b.changes_since(cursor, exclude_site=a.site_id, limit=limit, cells_after=0)
        pages.append(batch)
        cursor = batch.next
        if not batch.more:
            break
    sent = {row[0] for p in pages for chunk in p.tables.values() for row in chunk.rows}
    assert sent == {"b0", "b1", "b2"}
    assert cursor == b.counter
