"""Replica.count_since: the cells changes_since would carry, counted without the batch."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync import Batch, Replica, WriteError
from tests.sync.helpers import check, delivery, small_schema


def carried(batch: Batch, site: str | None = None) -> int:
    """Cells in a batch, only those `site` wrote when given (the reference count)."""
    if site is None:
        return batch.cells
    return sum(
        len(row[5])
        for chunk in batch.tables.values()
        for row in chunk.rows
        if batch.sites[row[2]] == site
    )


def assert_counts_match(r: Replica, sites: list[str]) -> None:
    top = r.counter
    for counter in range(top + 1):
        for after in sorted({0, counter // 2, counter}):
            batch = r.changes_since(counter, cells_after=after)
            assert r.count_since(counter, cells_after=after) == carried(batch)
            for site in sites:
                got = r.count_since(counter, site=site, cells_after=after)
                assert got == carried(batch, site), (counter, after, site)


def test_count_since_equals_the_cells_of_changes_since(make_replica):
    a, b = make_replica("a"), make_replica("b")
    a.write("deliveries", "d1", delivery())
    a.write_many("temperature_checks", {"t1": check(), "t2": check("h2")})
    b.write("deliveries", "d2", delivery(household_id="h2"))
    b.write("temperature_checks", "t3", check("h3"))
    a.apply(b.changes_since(0))
    b.apply(a.changes_since(0))
    a.write("deliveries", "d2", {"status": "packed", "volunteer": "王芳"})  # on b's row
    a.write("deliveries", "d1", {"quantity": 3})
    b.write("deliveries", "d1", {"items": "白菜"})  # concurrent with a's edit of d1
    a.apply(b.changes_since(0))
    a.delete("deliveries", "d2")
    assert_counts_match(a, [a.site_id, b.site_id])
    assert a.count_since(0, site=a.site_id) > 0
    assert a.count_since(a.counter) == 0


def test_count_since_of_own_cells_leaves_out_pulled_ones(make_replica):
    """What a laptop waits to send: its own cells, not those it merged from the server."""
    laptop, server = make_replica("laptop"), make_replica("server")
    server.write_many("temperature_checks", {f"s{i}": check() for i in range(5)})
    laptop.apply(server.changes_since(0))
    sent = laptop.counter
    assert laptop.count_since(0, site=laptop.site_id) == 0
    laptop.write_many("temperature_checks", {f"l{i}": check() for i in range(3)})
    laptop.write("deliveries", "d1", delivery())
    cells_per_check = len(laptop.schema["temperature_checks"].column_names)
    new_delivery = laptop.changes_since(laptop.counter - 1).cells
    own = laptop.count_since(sent, site=laptop.site_id)
    assert own == 3 * cells_per_check + new_delivery
    assert laptop.count_since(0, site=server.site_id) == 5 * cells_per_check


def test_count_since_of_an_unknown_site_is_zero(make_replica):
    r = make_replica()
    r.write("deliveries", "d1", delivery())
    assert r.count_since(0, site="never-seen-here") == 0


def test_count_since_counts_older_cells_of_a_row_edited_later_from_cells_after(make_replica):
    """A paged pass reaches an edited row at its newest counter; its older cells count too."""
    r = make_replica()
    r.write("deliveries", "d1", delivery())
    first = r.counter
    r.write("deliveries", "d2", delivery())
    r.write("deliveries", "d1", {"status": "packed"})
    narrow = r.count_since(first + 1, site=r.site_id)
    wide = r.count_since(first + 1, site=r.site_id, cells_after=0)
    assert narrow == carried(r.changes_since(first + 1), r.site_id)
    assert wide == carried(r.changes_since(first + 1, cells_after=0), r.site_id)
    assert wide > narrow


SMALL = small_schema()
edits = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "merge_ab", "merge_ba", "delete"]),
        st.sampled_from(["i1", "i2", "i3"]),
        st.sampled_from(["name", "qty", "status", "flag"]),
        st.integers(0, 2),
    ),
    max_size=25,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=edits)
def test_count_since_matches_changes_since_after_random_edits_and_merges(tmp_path_factory, steps):
    path = tmp_path_factory.mktemp("count")
    with (
        Replica(path / "a.db", SMALL, synchronous="OFF") as a,
        Replica(path / "b.db", SMALL, synchronous="OFF") as b,
    ):
        for n, (who, row, col, k) in enumerate(steps):
            if who == "merge_ab":
                b.apply(a.changes_since(0))
            elif who == "merge_ba":
                a.apply(b.changes_since(0))
            elif who == "delete":
                if a.get("items", row) is not None:
                    a.delete("items", row)
            else:
                r = a if who == "a" else b
                value = {
                    "name": f"n{k}",
                    "qty": k,
                    "status": ("new", "packed", "done")[k],
                    "flag": bool(k % 2),
                }[col]
                with contextlib.suppress(WriteError):  # a lower state in a max column
                    r.write("items", row, {"compound_id": "c1", col: value})
                r.write("readings", f"{who}-{n}", {"compound_id": "c1", "value": 36.0 + k})
        assert_counts_match(a, [a.site_id, b.site_id])
        assert_counts_match(b, [a.site_id, b.site_id])
