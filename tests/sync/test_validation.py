"""Bad input is refused with a reason code and a message, and nothing else is lost."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sync import Batch, Rejection, TableChunk, WriteError, default_schema
from tests.sync.helpers import check, delivery, small_schema


def reasons(problems: list[Rejection]) -> list[tuple[str | None, str]]:
    return [(p.column, p.reason) for p in problems]


@pytest.mark.parametrize(
    ("table", "row_id", "values", "expected"),
    [
        ("nope", "x", {"a": 1}, [(None, "unknown_table")]),
        ("deliveries", "d1", {**delivery(), "colour": "red"}, [("colour", "unknown_column")]),
        ("deliveries", "d1", {**delivery(), "deleted": True}, [("deleted", "unknown_column")]),
        ("temperature_checks", "t1", check(temperature=60), [("temperature_c", "out_of_range")]),
        ("temperature_checks", "t1", check(temperature="hot"), [("temperature_c", "bad_type")]),
        (
            "temperature_checks",
            "t1",
            check(temperature=float("nan")),
            [("temperature_c", "bad_type")],
        ),
        ("temperature_checks", "t1", check(measured_at="yesterday"), [("measured_at", "bad_type")]),
        (
            "temperature_checks",
            "t1",
            check(measured_at="2020-03-08T08:00:00"),
            [("measured_at", "bad_type")],
        ),
        ("temperature_checks", "", check(), [(None, "missing_id")]),
        ("temperature_checks", None, check(), [(None, "missing_id")]),
        ("temperature_checks", "t1", {"compound_id": "c1", "household_id": "h"}, None),
        (
            "households",
            "h1",
            {"compound_id": "c1", "building": "1", "unit": "1", "members": 1.5},
            [("members", "bad_type")],
        ),
        (
            "households",
            "h1",
            {"compound_id": "c1", "building": "1", "unit": "1", "hardship": "yes"},
            [("hardship", "bad_type")],
        ),
        ("deliveries", "d1", delivery(status="lost"), [("status", "unknown_state")]),
        ("deliveries", "d1", delivery(items="x" * 501), [("items", "too_long")]),
        ("deliveries", "d1", {"compound_id": "c1"}, [("household_id", "required")]),
        ("deliveries", "d1", {}, [(None, "malformed")]),
        (
            "medicine_requests",
            "m1",
            {"compound_id": "c1", "household_id": "h", "drug_name": "x", "photo_sha256": "abc"},
            [("photo_sha256", "bad_format")],
        ),
    ],
)
def test_bad_local_write_is_refused_with_a_reason_and_writes_nothing(
    make_replica, table, row_id, values, expected
):
    r = make_replica()
    with pytest.raises(WriteError) as err:
        r.write(table, row_id, values)
    got = reasons(err.value.problems)
    if expected is None:  # missing required columns of an immutable row
        assert {reason for _, reason in got} == {"required"}
        assert {col for col, _ in got} == {"temperature_c", "measured_at"}
    else:
        assert got == expected
    assert all(p.message for p in err.value.problems)
    assert r.counter == 0
    assert all(r.rows(name) == [] for name in r.schema.tables)


def test_write_error_lists_every_bad_column(make_replica):
    r = make_replica()
    with pytest.raises(WriteError) as err:
        r.write("temperature_checks", "t1", check(temperature=60, measured_at="noon", note=3))
    assert set(err.value.by_column) == {"temperature_c", "measured_at", "note"}
    assert "34" in err.value.by_column["temperature_c"]


def test_huge_int_and_lone_surrogate_are_refused_not_crashing(make_replica):
    r = make_replica("r", small_schema())
    with pytest.raises(WriteError) as err:
        r.write("items", "i1", {"compound_id": "c", "qty": 2**70, "name": "ok\ud800"})
    assert reasons(err.value.problems) == [("qty", "out_of_range"), ("name", "bad_type")]


def good_batch(make_replica):
    src = make_replica("src")
    src.write_many("temperature_checks", {"t1": check(), "t2": check(household="h2")})
    src.write("deliveries", "d1", delivery(volunteer="v"))
    return src.changes_since(0)


def row_of(batch: Batch, table: str, row_id: str) -> list:
    return next(r for r in batch.tables[table].rows if r[0] == row_id)


def value_index(batch: Batch, table: str, row: list, column: str) -> int:
    """Where a column's value sits in a row's values (only the mask's columns are there)."""
    i = batch.tables[table].columns.index(column)
    assert row[4] >> i & 1
    return (row[4] & ((1 << i) - 1)).bit_count()


def test_bad_cells_in_a_batch_are_rejected_and_the_rest_applied(make_replica):
    batch = good_batch(make_replica)
    cells = batch.cells
    row_of(batch, "temperature_checks", "t2")[5][3] = 60.0  # 60 °C
    d1 = row_of(batch, "deliveries", "d1")
    d1[5][value_index(batch, "deliveries", d1, "volunteer")] = 42  # wrong type
    dst = make_replica("dst")
    result = dst.apply(batch)
    got = {(r.row_id, r.column, r.reason) for r in result.rejected}
    assert ("t2", "temperature_c", "out_of_range") in got
    assert ("d1", "volunteer", "bad_type") in got
    # An immutable row is all or nothing: its other cells go back with it.
    assert {
        r.reason for r in result.rejected if r.row_id == "t2" and r.column != "temperature_c"
    } == {"row_rejected"}
    assert result.accepted + len(result.rejected) == cells
    assert dst.get("temperature_checks", "t1") is not None
    assert dst.get("temperature_checks", "t2") is None
    assert dst.get("deliveries", "d1")["volunteer"] is None
    assert dst.get("deliveries", "d1")["kind"] == "vegetables"
    assert all(r.message for r in result.rejected)


def test_unknown_table_and_column_in_a_batch_are_rejected_per_cell(make_replica):
    batch = good_batch(make_replica)
    batch.tables["ghosts"] = TableChunk(
        ["compound_id", "boo"], [["g1", 1 << 40, 0, None, 3, ["c", 1]]]
    )
    chunk = batch.tables["deliveries"]
    chunk.columns[chunk.columns.index("kind")] = "colour"
    cells = batch.cells
    dst = make_replica("dst")
    result = dst.apply(batch)
    assert sorted({(r.table, r.column, r.reason) for r in result.rejected}) == [
        ("deliveries", "colour", "unknown_column"),
        ("ghosts", "boo", "unknown_table"),
        ("ghosts", "compound_id", "unknown_table"),
    ]
    assert result.accepted + len(result.rejected) == cells
    assert dst.get("deliveries", "d1")["volunteer"] == "v"
    assert len(dst.rows("temperature_checks")) == 2


def test_rows_with_missing_ids_in_a_batch_object_are_rejected(make_replica):
    batch = good_batch(make_replica)
    row_of(batch, "temperature_checks", "t2")[0] = ""
    result = make_replica("dst").apply(batch)
    assert [(r.row_id, r.reason) for r in result.rejected] == [(None, "missing_id")]


def test_immutable_row_missing_a_required_cell_is_rejected_whole(make_replica):
    batch = good_batch(make_replica)
    chunk = batch.tables["temperature_checks"]
    row = row_of(batch, "temperature_checks", "t1")
    i = chunk.columns.index("measured_at")
    row[4] &= ~(1 << i)
    del row[5][i]
    dst = make_replica("dst")
    result = dst.apply(batch)
    assert {r.row_id for r in result.rejected} == {"t1"}
    assert {r.reason for r in result.rejected} == {"required"}
    assert "measured_at" in result.rejected[0].message
    assert dst.get("temperature_checks", "t1") is None


MALFORMED = [
    ("not a dict", lambda d: [d]),
    ("missing key", lambda d: {k: v for k, v in d.items() if k != "sites"}),
    ("unknown key", lambda d: {**d, "extra": 1}),
    ("wrong version", lambda d: {**d, "protocol_version": 99}),
    ("negative next", lambda d: {**d, "next": -1}),
    ("tables not a dict", lambda d: {**d, "tables": []}),
    ("rows not a list", lambda d: _set(d, lambda c: c.update(rows={}))),
    ("row too short", lambda d: _set(d, lambda c: c["rows"][0].pop())),
    ("empty id", lambda d: _set(d, lambda c: c["rows"][0].__setitem__(0, ""))),
    ("hlc text", lambda d: _set(d, lambda c: c["rows"][0].__setitem__(1, "12"))),
    ("hlc bool", lambda d: _set(d, lambda c: c["rows"][0].__setitem__(1, True))),
    ("hlc huge", lambda d: _set(d, lambda c: c["rows"][0].__setitem__(1, 1 << 64))),
    ("site out of range", lambda d: _set(d, lambda c: c["rows"][0].__setitem__(2, 5))),
    ("prev bad", lambda d: _set(d, lambda c: c["rows"][0].__setitem__(3, [1]))),
    ("mask zero", lambda d: _set(d, lambda c: c["rows"][0].__setitem__(4, 0))),
    ("mask too wide", lambda d: _set(d, lambda c: c["rows"][0].__setitem__(4, 1 << 40))),
    ("values short", lambda d: _set(d, lambda c: c["rows"][0][5].pop())),
    ("duplicate column", lambda d: _set(d, lambda c: c["columns"].__setitem__(1, c["columns"][0]))),
]


def _set(data: dict, change) -> dict:
    chunk = data["tables"]["temperature_checks"]
    change(chunk)
    return data


@pytest.mark.parametrize(("label", "spoil"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_batch_raises_batch_error_and_changes_nothing(make_replica, label, spoil):
    from sync import BatchError

    batch = good_batch(make_replica).to_dict()
    bad = spoil(copy.deepcopy(batch))
    with pytest.raises(BatchError) as err:
        Batch.from_dict(bad)
    assert str(err.value)
    dst = make_replica("dst")
    dst.write("deliveries", "mine", delivery())
    before = (dst.counter, dst.rows("deliveries"))
    with pytest.raises(BatchError):
        dst.apply(bad)
    assert (dst.counter, dst.rows("deliveries")) == before
    assert dst.rows("temperature_checks") == []
    assert dst.apply(batch).rejected == []  # the unspoilt batch still applies


BY_TYPE = {
    "text": st.text(max_size=60) | st.sampled_from(["0" * 64, "a" * 64, "delivered", "out"]),
    "int": st.integers(min_value=-(2**70), max_value=2**70) | st.integers(0, 100),
    "real": st.floats() | st.integers(-(2**70), 2**70) | st.floats(30, 45),
    "bool": st.sampled_from([True, False, 0, 1, 2, 1.0, "1"]),
    "date": st.sampled_from(["2020-03-08", "2020-3-8", "2020-02-30", "x"]),
    "datetime": st.sampled_from(
        ["2020-03-08T08:00:00+08:00", "2020-03-08T08:00:00", "2020-03-08 08:00Z", "noon"]
    ),
}


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_bulk_check_never_passes_a_value_the_cell_check_refuses(data):
    """The merge checks a column of values at once; it must agree with the per-cell rule."""
    schema = default_schema()
    table = schema[data.draw(st.sampled_from(sorted(schema.tables)))]
    column = data.draw(st.sampled_from(table.columns))
    values = data.draw(st.lists(st.none() | BY_TYPE[column.type], min_size=1, max_size=6))
    problems = [table.checks[column.name](v) for v in values]
    if table.bulk_checks[column.name](values):  # False only sends the merge to check each
        assert problems == [None] * len(values)


def test_policy_refuses_rows_with_its_own_reason_and_keeps_the_rest(make_replica):
    batch = good_batch(make_replica)
    dst = make_replica("dst")

    def policy(table, compound_id):
        return ("role", "volunteers may not write deliveries") if table == "deliveries" else None

    result = dst.apply(batch, policy=policy)
    assert {(r.table, r.reason) for r in result.rejected} == {("deliveries", "role")}
    assert result.accepted + len(result.rejected) == batch.cells
    assert len(dst.rows("temperature_checks")) == 2
    assert dst.get("deliveries", "d1") is None


def test_database_of_another_layout_is_refused_with_a_clear_message(tmp_path):
    import sqlite3

    from sync import Replica

    path = tmp_path / "old.db"
    Replica(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE _lm_meta SET value = 1 WHERE key = 'format'")
    db.commit()
    db.close()
    with pytest.raises(RuntimeError, match="format 1.*pre-release"):
        Replica(path)
