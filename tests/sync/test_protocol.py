"""The batch wire format: plain JSON-able dicts that survive json.dumps/loads unchanged."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync import ApplyResult, Batch, Rejection, Replica, Schema, Table, TableChunk
from sync.schema import Column
from sync.schemas import PROTOCOL_VERSION

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

text = st.text(max_size=30)  # any unicode but lone surrogates, which JSON text cannot carry
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    text,
)


@st.composite
def batches(draw: st.DrawFn) -> Batch:
    sites = draw(st.lists(st.text(min_size=1, max_size=64), min_size=1, max_size=4, unique=True))
    tables = {}
    for name in draw(
        st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True), max_size=3, unique=True)
    ):
        columns = draw(
            st.lists(
                st.from_regex(r"[a-z][a-z_]{0,10}", fullmatch=True),
                min_size=1,
                max_size=6,
                unique=True,
            )
        )
        rows = []
        for _ in range(draw(st.integers(0, 4))):
            mask = draw(st.integers(1, (1 << len(columns)) - 1))
            values = [draw(json_scalars) for _ in range(mask.bit_count())]
            prev = draw(
                st.none()
                | st.tuples(st.integers(1, 2**63 - 1), st.integers(0, len(sites) - 1)).map(list)
            )
            rows.append(
                [
                    draw(st.text(min_size=1, max_size=40)),
                    draw(st.integers(1, 2**63 - 1)),
                    draw(st.integers(0, len(sites) - 1)),
                    prev,
                    mask,
                    values,
                ]
            )
        tables[name] = TableChunk(columns, rows)
    return Batch(
        origin=draw(st.text(min_size=1, max_size=64)),
        next=draw(st.integers(0, 2**63 - 1)),
        more=draw(st.booleans()),
        sites=sites,
        tables=tables,
    )


@SETTINGS
@given(batches())
def test_batch_round_trips_through_json(batch):
    wire = json.loads(json.dumps(batch.to_dict()))
    back = Batch.from_dict(wire)
    assert back == batch
    assert back.to_dict() == batch.to_dict()
    assert wire["protocol_version"] == PROTOCOL_VERSION


VALUE_SCHEMA = Schema(
    [Table("things", [Column("t", max_length=200), Column("i", "int"), Column("f", "real")])]
)


@SETTINGS
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "t": st.none() | st.text(max_size=50),
                "i": st.none() | st.integers(-(2**63), 2**63 - 1),
                "f": st.none() | st.floats(allow_nan=False, allow_infinity=False),
            }
        ),
        min_size=1,
        max_size=5,
    )
)
def test_values_survive_a_trip_between_replicas_exactly(values):
    """Unicode, 64-bit ints and floats arrive bit for bit (cr-sqlite lost float precision)."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        Replica(Path(tmp) / "a.db", VALUE_SCHEMA, synchronous="OFF") as a,
        Replica(Path(tmp) / "b.db", VALUE_SCHEMA, synchronous="OFF") as b,
    ):
        rows = {f"r{i}": {"compound_id": "c", **v} for i, v in enumerate(values)}
        a.write_many("things", rows)
        wire = json.loads(json.dumps(a.changes_since(0).to_dict()))
        result = b.apply(wire)
        assert result.rejected == []
        for row_id, want in rows.items():
            got = b.get("things", row_id)
            assert got == a.get("things", row_id)
            for col in ("t", "i"):
                assert got[col] == want[col]
                assert type(got[col]) is type(want[col])
            # Bit for bit, except that SQLite stores -0.0 as 0.0 (equal, sign lost).
            assert got["f"] == want["f"]
            assert type(got["f"]) is type(want["f"])


def test_apply_result_and_rejection_are_plain_dicts():
    result = ApplyResult(accepted=2, changed=1, conflicts=0)
    result.rejected.append(Rejection("t", "r1", "c", "bad_type", "c must be text", 5, 7, "s"))
    data = json.loads(json.dumps(result.to_dict()))
    assert data["rejected"][0] == {
        "table": "t",
        "row_id": "r1",
        "column": "c",
        "reason": "bad_type",
        "message": "c must be text",
        "value": 5,
        "hlc": 7,
        "site": "s",
    }
    assert (data["accepted"], data["changed"], data["conflicts"]) == (2, 1, 0)


def test_batch_dict_has_the_documented_keys(make_replica):
    r = make_replica()
    r.write("deliveries", "d1", {"compound_id": "c1", "household_id": "h1", "volunteer": "v"})
    data = r.changes_since(0).to_dict()
    assert set(data) == {"protocol_version", "origin", "next", "more", "sites", "tables"}
    chunk = data["tables"]["deliveries"]
    assert set(chunk) == {"columns", "rows"}
    assert chunk["columns"][-1] == "deleted"
    [[row_id, hlc, site, prev, mask, values]] = chunk["rows"]
    assert row_id == "d1"
    assert data["sites"][site] == r.site_id
    assert prev is None
    assert [chunk["columns"][i] for i in range(len(chunk["columns"])) if mask >> i & 1] == [
        "compound_id",
        "household_id",
        "volunteer",
    ]  # a new row carries no tombstone cell until it is deleted
    assert values == ["c1", "h1", "v"]
    assert hlc > 0
