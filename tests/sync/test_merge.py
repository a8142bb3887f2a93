"""Merge rules: lww, max, tombstones, immutable rows, clocks ahead, conflicts, idempotence."""

from __future__ import annotations

import itertools

import pytest

from sync import WriteError
from sync.merge import is_concurrent, sort_key
from tests.sync.helpers import check, delivery, pull

MINUTE = 60_000


def test_sort_key_lww_then_site_breaks_ties():
    assert sort_key("a", 2, "s1", None) > sort_key("b", 1, "s9", None)
    assert sort_key("a", 2, "s2", None) > sort_key("b", 2, "s1", None)


def test_sort_key_max_ranks_state_before_time():
    ranks = {"planned": 0, "out": 1, "delivered": 2, "refused": 2}
    assert sort_key("out", 1, "a", ranks) > sort_key("planned", 9, "z", ranks)
    assert sort_key("refused", 5, "a", ranks) > sort_key("delivered", 4, "z", ranks)


def test_is_concurrent_compares_predecessor_with_current_stamp():
    assert not is_concurrent(5, "a", [5, "a", 1, None, None])
    assert is_concurrent(4, "a", [5, "a", 1, None, None])
    assert is_concurrent(None, None, [5, "a", 1, None, None])


def test_lww_later_write_wins_everywhere(make_replica, clock):
    a, b = make_replica("a", now_ms=clock), make_replica("b", now_ms=clock)
    a.write("deliveries", "d1", delivery())
    pull(a, b)
    a.write("deliveries", "d1", {"volunteer": "first"})
    clock.advance(5)
    b.write("deliveries", "d1", {"volunteer": "second"})
    pull(a, b)
    pull(b, a)
    assert a.get("deliveries", "d1") == b.get("deliveries", "d1")
    assert a.get("deliveries", "d1")["volunteer"] == "second"


def test_same_stamp_tie_is_broken_by_site_id(make_replica, clock):
    a, b = make_replica("a", now_ms=clock), make_replica("b", now_ms=clock)
    a.write("deliveries", "d1", delivery(volunteer="A"))
    b.write("deliveries", "d1", delivery(volunteer="B"))  # same millisecond, same counter
    pull(a, b)
    pull(b, a)
    winner = "A" if a.site_id > b.site_id else "B"
    assert (
        a.get("deliveries", "d1")["volunteer"] == b.get("deliveries", "d1")["volunteer"] == winner
    )


def test_max_column_never_moves_backwards_on_merge(make_replica, clock):
    a, b = make_replica("a", now_ms=clock), make_replica("b", now_ms=clock)
    a.write("deliveries", "d1", delivery())
    pull(a, b)
    a.write("deliveries", "d1", {"status": "delivered"})
    clock.advance(MINUTE)  # b's stale edit is later in time but lower in state
    b.write("deliveries", "d1", {"status": "packed"})
    pull(b, a)
    assert a.get("deliveries", "d1")["status"] == "delivered"
    pull(a, b)
    assert b.get("deliveries", "d1")["status"] == "delivered"


def test_max_column_local_write_cannot_move_backwards(make_replica):
    r = make_replica()
    r.write("deliveries", "d1", delivery(status="out"))
    with pytest.raises(WriteError) as err:
        r.write("deliveries", "d1", {"status": "packed", "volunteer": "x"})
    assert err.value.problems[0].reason == "max_backwards"
    got = r.get("deliveries", "d1")
    assert got["status"] == "out"
    assert got["volunteer"] is None


def test_max_states_of_equal_rank_fall_back_to_lww(make_replica, clock):
    a, b = make_replica("a", now_ms=clock), make_replica("b", now_ms=clock)
    a.write("deliveries", "d1", delivery(status="out"))
    pull(a, b)
    a.write("deliveries", "d1", {"status": "delivered"})
    clock.advance(1)
    b.write("deliveries", "d1", {"status": "refused", "refused_reason": "price"})
    pull(a, b)
    pull(b, a)
    assert a.get("deliveries", "d1")["status"] == b.get("deliveries", "d1")["status"] == "refused"
    a.write("deliveries", "d1", {"status": "delivered"})  # same rank: allowed, newer wins
    assert a.get("deliveries", "d1")["status"] == "delivered"


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_max_column_result_is_independent_of_arrival_order(make_replica, clock, order):
    sources = [make_replica(f"s{i}", now_ms=clock) for i in range(3)]
    base = sources[0]
    base.write("deliveries", "d1", delivery())
    for s in sources[1:]:
        pull(base, s)
    for s, state in zip(sources, ["delivered", "packed", "out"], strict=True):
        clock.advance(1)
        s.write("deliveries", "d1", {"status": state})
    sink = make_replica("sink", now_ms=clock)
    history = []
    for i in order:
        pull(sources[i], sink)
        history.append(sink.get("deliveries", "d1")["status"])
    ranks = {"planned": 0, "packed": 1, "out": 2, "delivered": 3}
    assert [ranks[s] for s in history] == sorted(ranks[s] for s in history)
    assert history[-1] == "delivered"


def test_delete_is_a_tombstone_that_merges_under_lww(make_replica, clock):
    a, b = make_replica("a", now_ms=clock), make_replica("b", now_ms=clock)
    a.write("deliveries", "d1", delivery())
    pull(a, b)
    clock.advance(1)
    a.delete("deliveries", "d1")
    clock.advance(1)
    b.write("deliveries", "d1", {"volunteer": "late edit"})  # concurrent: not seen the delete
    pull(a, b)
    pull(b, a)
    # The edit touched another cell, not the tombstone: the row stays deleted everywhere.
    assert a.get("deliveries", "d1") is None
    assert b.get("deliveries", "d1") is None
    clock.advance(1)
    b.write("deliveries", "d1", {"items": "again"})  # written after seeing the delete
    pull(b, a)
    assert a.get("deliveries", "d1") == b.get("deliveries", "d1")
    assert a.get("deliveries", "d1")["volunteer"] == "late edit"
    assert a.get("deliveries", "d1")["items"] == "again"


def test_immutable_rows_refuse_a_change_with_a_reason(make_replica):
    a, b = make_replica("a"), make_replica("b")
    a.write("temperature_checks", "t1", check())
    with pytest.raises(WriteError) as err:
        a.write("temperature_checks", "t1", {"temperature_c": 39.0})
    assert err.value.problems[0].reason == "immutable"
    with pytest.raises(WriteError) as err:
        a.delete("temperature_checks", "t1")
    assert err.value.problems[0].reason == "immutable"
    pull(a, b)
    # A forged later version of the same row arrives: refused, the original stays.
    forged = a.changes_since(0).to_dict()
    row = forged["tables"]["temperature_checks"]["rows"][0]
    row[1] += 1000
    row[5][3] = 39.5
    result = b.apply(forged)
    assert result.accepted == 0
    assert {r.reason for r in result.rejected} == {"immutable"}
    assert b.get("temperature_checks", "t1")["temperature_c"] == 36.6


def test_same_immutable_row_created_twice_keeps_the_first_everywhere(make_replica, clock):
    """Photos are named by their hash, so two devices may create the same row."""
    a, b = make_replica("a", now_ms=clock), make_replica("b", now_ms=clock)
    a.write("temperature_checks", "t1", check(note="first"))
    clock.advance(10)
    b.write("temperature_checks", "t1", check(note="second"))
    pull(a, b)
    pull(b, a)
    assert a.get("temperature_checks", "t1")["note"] == "first"
    assert b.get("temperature_checks", "t1")["note"] == "first"


def test_applying_the_same_batch_twice_changes_nothing_more(make_replica):
    a, b = make_replica("a"), make_replica("b")
    a.write_many("deliveries", {f"d{i}": delivery() for i in range(5)})
    a.write("temperature_checks", "t1", check())
    batch = a.changes_since(0)
    first = b.apply(batch)
    state, counter = b.rows("deliveries"), b.counter
    second = b.apply(batch)
    assert first.changed > 0
    assert second.changed == 0
    assert second.accepted == first.accepted == batch.cells
    assert b.rows("deliveries") == state
    assert b.counter == counter


def test_batches_in_any_order_give_the_same_state(make_replica, clock):
    a = make_replica("a", now_ms=clock)
    batches, mark = [], 0
    a.write("deliveries", "d1", delivery())
    for step in ["packed", "out", "delivered"]:
        clock.advance(1)
        a.write("deliveries", "d1", {"status": step, "volunteer": step})
        batches.append(a.changes_since(mark))
        mark = a.counter
    batches.insert(0, a.changes_since(0, limit=1))
    results = []
    for i, order in enumerate(itertools.permutations(batches)):
        r = make_replica(f"r{i}", now_ms=clock)
        for batch in order:
            r.apply(batch)
        r.apply(a.changes_since(0))
        results.append(r.rows("deliveries"))
    assert all(rows == results[0] for rows in results)
    assert results[0][0]["status"] == "delivered"


def test_stamp_too_far_ahead_is_rejected_and_does_not_win(make_replica, clock):
    ahead = lambda: clock() + 11 * MINUTE  # noqa: E731  (a laptop whose clock runs ahead)
    server, laptop = make_replica("s", now_ms=clock), make_replica("l", now_ms=ahead)
    server.write("deliveries", "d1", delivery(volunteer="server"))
    pull(server, laptop)
    laptop.write("deliveries", "d1", {"volunteer": "laptop"})
    result = server.apply(laptop.changes_since(0, exclude_site=server.site_id))
    assert result.accepted == 0
    assert [(r.reason, r.column) for r in result.rejected] == [("clock_ahead", "volunteer")]
    assert "clock" in result.rejected[0].message
    assert server.get("deliveries", "d1")["volunteer"] == "server"
    # The rejected stamp did not drag the server's clock into the future either.
    server.write("deliveries", "d1", {"volunteer": "server again"})
    stamp = server.changes_since(0).tables["deliveries"].rows[-1][1]
    assert stamp >> 16 <= clock()


def test_drift_limit_is_configurable(make_replica, clock):
    ahead = lambda: clock() + 2 * MINUTE  # noqa: E731
    strict = make_replica("strict", now_ms=clock, max_drift_ms=MINUTE)
    lenient = make_replica("lenient", now_ms=clock)
    laptop = make_replica("l", now_ms=ahead)
    laptop.write("deliveries", "d1", delivery())
    assert {r.reason for r in strict.apply(laptop.changes_since(0)).rejected} == {"clock_ahead"}
    assert lenient.apply(laptop.changes_since(0)).rejected == []


def test_accepted_stamp_ahead_moves_our_clock_so_later_edits_win(make_replica, clock):
    ahead = lambda: clock() + 5 * MINUTE  # noqa: E731  (within the limit)
    server, laptop = make_replica("s", now_ms=clock), make_replica("l", now_ms=ahead)
    laptop.write("deliveries", "d1", delivery(volunteer="laptop"))
    pull(laptop, server)
    server.write("deliveries", "d1", {"volunteer": "server, later"})
    pull(server, laptop)
    assert laptop.get("deliveries", "d1")["volunteer"] == "server, later"


def test_concurrent_edit_is_logged_as_a_conflict(make_replica, clock):
    a, b = make_replica("a", now_ms=clock), make_replica("b", now_ms=clock)
    a.write("deliveries", "d1", delivery())
    pull(a, b)
    a.write("deliveries", "d1", {"volunteer": "王芳"})
    clock.advance(3)
    b.write("deliveries", "d1", {"volunteer": "李强"})
    result = a.apply(b.changes_since(0))
    assert result.conflicts == 1
    [c] = a.conflicts()
    assert (c["table"], c["row_id"], c["column"]) == ("deliveries", "d1", "volunteer")
    assert (c["lost_value"], c["lost_site"]) == ("王芳", a.site_id)
    assert (c["won_value"], c["won_site"]) == ("李强", b.site_id)
    assert c["won_hlc"] > c["lost_hlc"]
    assert not c["resolved"]
    # The winner's side lost nothing, so it logs nothing.
    assert b.apply(a.changes_since(0)).conflicts == 0
    assert b.conflicts() == []


def test_edit_made_on_top_is_not_a_conflict(make_replica, clock):
    a, b = make_replica("a", now_ms=clock), make_replica("b", now_ms=clock)
    a.write("deliveries", "d1", delivery(volunteer="王芳"))
    pull(a, b)
    clock.advance(1)
    b.write("deliveries", "d1", {"volunteer": "李强"})  # b saw 王芳 and replaced it
    assert a.apply(b.changes_since(0, exclude_site=a.site_id)).conflicts == 0
    assert a.conflicts() == []
    assert a.get("deliveries", "d1")["volunteer"] == "李强"


def test_concurrent_refused_and_delivered_is_a_conflict_but_advancing_is_not(make_replica, clock):
    a, b = make_replica("a", now_ms=clock), make_replica("b", now_ms=clock)
    a.write("deliveries", "d1", delivery())
    pull(a, b)
    a.write("deliveries", "d1", {"status": "out"})
    clock.advance(1)
    b.write("deliveries", "d1", {"status": "delivered"})
    assert a.apply(b.changes_since(0)).conflicts == 0  # out -> delivered: progress
    a.write("deliveries", "d2", delivery(status="out"))
    pull(a, b)
    a.write("deliveries", "d2", {"status": "delivered"})
    clock.advance(1)
    b.write("deliveries", "d2", {"status": "refused"})
    assert a.apply(b.changes_since(0)).conflicts == 1
    assert a.conflicts()[0]["lost_value"] == "delivered"


def test_dismiss_resolves_a_conflict(make_replica, clock):
    a, b = make_replica("a", now_ms=clock), make_replica("b", now_ms=clock)
    a.write("deliveries", "d1", delivery(volunteer="x"))
    clock.advance(1)
    b.write("deliveries", "d1", delivery(volunteer="y"))
    a.apply(b.changes_since(0))
    [c] = a.conflicts()
    assert a.dismiss_conflict(c["id"]) is True
    assert a.dismiss_conflict(c["id"]) is False
    assert a.conflicts() == []
    [kept] = a.conflicts(include_resolved=True)
    assert kept["resolved"]
    assert kept["lost_value"] == "x"


def test_writing_the_cell_again_resolves_its_conflict(make_replica, clock):
    a, b = make_replica("a", now_ms=clock), make_replica("b", now_ms=clock)
    a.write("deliveries", "d1", delivery(volunteer="x", items="i"))
    clock.advance(1)
    b.write("deliveries", "d1", delivery(volunteer="y", items="j"))
    a.apply(b.changes_since(0))
    assert {c["column"] for c in a.conflicts()} == {"volunteer", "items"}
    a.write("deliveries", "d1", {"volunteer": "x"})
    assert [c["column"] for c in a.conflicts()] == ["items"]
    pull(a, b)
    assert b.get("deliveries", "d1")["volunteer"] == "x"
