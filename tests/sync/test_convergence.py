"""Convergence: replicas that edit apart and sync in any order end equal to a reference model.

The model knows only the merge rules, not the engine: every accepted write is recorded
with its stamp, and each cell's winner is the greatest (hlc, site) for lww columns and
tombstones (`deleted`), the greatest (rank, hlc, site) for max columns, and for an
immutable row the whole first-written (least (hlc, site)) version.
"""

from __future__ import annotations

import random
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync import ApplyResult, Batch, Replica, Schema, WriteError, default_schema, merge
from tests.sync.helpers import small_schema

START_MS = 1_583_625_600_000
FORBIDDEN = {"max_backwards", "immutable", "unknown_row", "required", "malformed"}


@dataclass
class Spec:
    """What the generator may write: per table, candidate values for each column."""

    schema: Schema
    values: dict[str, dict[str, list[Any]]]
    ids: int = 4  # rows per table drawn from a small pool, so replicas collide on them


SMALL = Spec(
    small_schema(),
    {
        "items": {
            "name": ["a", "b", "白菜", None],
            "qty": [0, 1, 7, None],
            "status": ["new", "packed", "done", "refused"],
            "flag": [True, False, None],
        },
        "readings": {"value": [36.5, 37.3, 39.0], "note": ["x", "复测", None]},
    },
)

AT = ["2020-03-08T08:00:00+08:00", "2020-03-09T20:30:00+08:00"]
DEFAULT = Spec(
    default_schema(),
    {
        "deliveries": {
            "household_id": ["h1", "h2"],
            "kind": ["vegetables", "pork"],
            "status": ["planned", "packed", "out", "delivered", "refused"],
            "volunteer": ["王芳", "李强", None],
            "quantity": [1, 2.5, None],
            "delivered_at": [*AT, None],
        },
        "households": {
            "building": ["1", "2"],
            "unit": ["101", "202"],
            "members": [1, 3, None],
            "hardship": [True, False, None],
            "owner_name": ["张", "李"],
        },
        "temperature_checks": {
            "household_id": ["h1", "h2"],
            "temperature_c": [36.6, 37.3, 38.2],
            "measured_at": AT,
            "note": ["复测", None],
        },
    },
)


@st.composite
def scenarios(draw: st.DrawFn, spec: Spec, max_ops: int) -> tuple[int, list[tuple[Any, ...]]]:
    n = draw(st.integers(3, 5))
    replica = st.integers(0, n - 1)
    tables = sorted(spec.values)
    ops: list[tuple[Any, ...]] = []
    for _ in range(draw(st.integers(5, max_ops))):
        kind = draw(
            st.sampled_from(["write", "write", "write", "delete", "sync", "sync", "replay"])
        )
        if kind == "write":
            table = draw(st.sampled_from(tables))
            pools = spec.values[table]
            t = spec.schema[table]
            cols = draw(st.lists(st.sampled_from(sorted(pools)), max_size=3, unique=True))
            if t.immutable or draw(st.booleans()):  # a create: every required column
                cols = sorted({*cols, *(c for c in t.required if c != "compound_id")})
            values = {c: draw(st.sampled_from(pools[c])) for c in cols}
            if t.immutable or draw(st.booleans()):
                values["compound_id"] = None  # filled in from the row key
            ops.append(("write", draw(replica), table, draw(st.integers(0, spec.ids - 1)), values))
        elif kind == "delete":
            mutable = [name for name in tables if not spec.schema[name].immutable]
            ops.append(
                (
                    "delete",
                    draw(replica),
                    draw(st.sampled_from(mutable)),
                    draw(st.integers(0, spec.ids - 1)),
                )
            )
        elif kind == "sync":
            src, dst = draw(st.lists(replica, min_size=2, max_size=2, unique=True))
            ops.append(
                (
                    "sync",
                    src,
                    dst,
                    draw(st.sampled_from([None, 1, 2, 5])),
                    draw(st.booleans()),
                    draw(st.integers(0, 2**16)),
                    draw(st.booleans()),
                )
            )
        else:
            ops.append(("replay", draw(st.integers(0, 10**6)), draw(replica)))
        ops.append(("tick", draw(st.integers(0, 3))))
    return n, ops


@dataclass
class Model:
    """Every accepted cell write: (table, row, column) -> [(value, hlc, site)]."""

    spec: Spec
    cells: dict[tuple[str, str, str], list[tuple[Any, int, str]]] = field(default_factory=dict)
    versions: dict[tuple[str, str], list[tuple[int, str, dict[str, Any]]]] = field(
        default_factory=dict
    )

    def record(self, batch: Batch) -> None:
        for name, chunk in batch.tables.items():
            for row_id, hlc, si, _prev, mask, values in chunk.rows:
                site = batch.sites[si]
                cols = [c for i, c in enumerate(chunk.columns) if mask >> i & 1]
                if self.spec.schema[name].immutable:
                    self.versions.setdefault((name, row_id), []).append(
                        (hlc, site, dict(zip(cols, values, strict=True)))
                    )
                    continue
                for col, value in zip(cols, values, strict=True):
                    self.cells.setdefault((name, row_id, col), []).append((value, hlc, site))

    def expected(self, name: str) -> list[dict[str, Any]]:
        t = self.spec.schema[name]
        rows: dict[str, dict[str, Any]] = {}
        if t.immutable:
            for (tname, row_id), versions in self.versions.items():
                if tname == name:
                    _hlc, _site, values = min(versions, key=lambda v: (v[0], v[1]))
                    rows[row_id] = {"id": row_id, **{c: values.get(c) for c in t.column_names}}
            return [rows[k] for k in sorted(rows)]
        for (tname, row_id, col), writes in self.cells.items():
            if tname != name:
                continue
            ranks = t.ranks.get(col)
            if ranks is None:
                winner = max(writes, key=lambda w: (w[1], w[2]))
            else:
                winner = max(writes, key=lambda w: (ranks.get(w[0], -1), w[1], w[2]))
            row = rows.setdefault(row_id, {"id": row_id, **dict.fromkeys(t.column_names)})
            row[col] = winner[0]
        return [
            {k: v for k, v in rows[k].items() if k != "deleted"}
            for k in sorted(rows)
            if not rows[k].get("deleted")
        ]


def run_scenario(spec: Spec, n: int, ops: list[tuple[Any, ...]]) -> None:
    now = [START_MS]
    model = Model(spec)
    past: list[Batch] = []
    with tempfile.TemporaryDirectory() as tmp:
        skews = [0, 1500, -2500, 40, -7][:n]
        replicas = [
            Replica(
                Path(tmp) / f"r{i}.db",
                spec.schema,
                synchronous="OFF",
                now_ms=lambda skew=skew: now[0] + skew,
            )
            for i, skew in enumerate(skews)
        ]
        cursors: dict[tuple[int, int], int] = {}
        ranks_seen: dict[tuple[int, str, str, str], int] = {}
        try:
            for op in ops:
                if op[0] == "tick":
                    now[0] += op[1]
                elif op[0] in ("write", "delete"):
                    r = replicas[op[1]]
                    row_id = f"{op[2][:1]}{op[3]}"
                    before = r.counter
                    refused: list[Any] = []
                    try:
                        if op[0] == "delete":
                            r.delete(op[2], row_id)
                        else:
                            values = dict(op[4])
                            if "compound_id" in values:
                                values["compound_id"] = f"c{op[3] % 2}"
                            r.write(op[2], row_id, values)
                    except WriteError as err:
                        refused = err.problems
                    if refused:  # a write the rules forbid: nothing of it was written
                        assert r.counter == before
                        assert {p.reason for p in refused} <= FORBIDDEN, refused
                        continue
                    written = r.changes_since(before)
                    # One stamp, ours; cells that replaced different stamps travel apart.
                    stamps = {
                        (row[0], row[1], written.sites[row[2]])
                        for chunk in written.tables.values()
                        for row in chunk.rows
                    }
                    assert len(stamps) == 1
                    assert stamps.pop()[::2] == (row_id, r.site_id)
                    model.record(written)
                else:
                    deliver(op, replicas, cursors, past)
                check_max_never_moves_back(spec, replicas, ranks_seen)
            for _ in range(2):  # a full sync: every pair, from the start
                for src in replicas:
                    for dst in replicas:
                        if src is not dst:
                            batch = src.changes_since(0)
                            check_result(dst.apply(batch), batch)
            check_max_never_moves_back(spec, replicas, ranks_seen)
            for name in spec.values:
                want = model.expected(name)
                for r in replicas:
                    assert r.rows(name) == want, (name, r.path)
        finally:
            for r in replicas:
                r.close()


def deliver(op: tuple[Any, ...], replicas: list[Replica], cursors: dict, past: list[Batch]) -> None:
    """Sync src -> dst in batches that arrive duplicated, shuffled and split; or replay one."""
    if op[0] == "replay":
        if past:
            batch = past[op[1] % len(past)]
            check_result(replicas[op[2]].apply(batch), batch)
        return
    _, s, d, limit, duplicate, seed, exclude = op
    src, dst = replicas[s], replicas[d]
    cursor = base = cursors.get((s, d), 0)
    had = winners(src)
    batches = []
    while True:
        # Cells of every row changed after the pass began: a row edited again sits at its
        # newest counter, so a cut-off pass must not skip its older cells (cells_after).
        batch = src.changes_since(
            cursor, limit=limit, exclude_site=dst.site_id if exclude else None, cells_after=base
        )
        batches.append(batch)
        cursor = batch.next
        if not batch.more:
            break
    past.extend(batches)
    rng = random.Random(seed)
    if duplicate:
        batches += rng.sample(batches, k=min(len(batches), 2))
    rng.shuffle(batches)
    for batch in batches:
        check_result(dst.apply(batch.to_dict() if rng.random() < 0.3 else batch), batch)
    cursors[(s, d)] = cursor  # every batch is in: the cursor may move
    # After a whole pass dst holds each cell src held, or something that beats it.
    got = winners(dst)
    for key, (value, hlc, site) in had.items():
        assert key in got, key
        if src.schema[key[0]].immutable:  # the first written version wins
            assert (got[key][1], got[key][2]) <= (hlc, site), (key, got[key], (hlc, site))
            continue
        ranks = src.schema[key[0]].ranks.get(key[2])
        assert merge.sort_key(got[key][0], got[key][1], got[key][2], ranks) >= merge.sort_key(
            value, hlc, site, ranks
        ), (key, got[key], (value, hlc, site))


def winners(r: Replica) -> dict[tuple[str, str, str], tuple[Any, int, str]]:
    """Every cell this replica holds: (table, row, column) -> (value, hlc, site)."""
    out = {}
    batch = r.changes_since(0)
    for name, chunk in batch.tables.items():
        for row_id, hlc, si, _prev, mask, values in chunk.rows:
            cols = [c for i, c in enumerate(chunk.columns) if mask >> i & 1]
            for col, value in zip(cols, values, strict=True):
                out[(name, row_id, col)] = (value, hlc, batch.sites[si])
    return out


def check_result(result: ApplyResult, batch: Batch) -> None:
    """Every cell is accepted, or refused only as a second version of an immutable row."""
    assert {r.reason for r in result.rejected} <= {"immutable"}, result.rejected
    assert result.accepted + len(result.rejected) == batch.cells


def check_max_never_moves_back(spec: Spec, replicas: list[Replica], seen: dict) -> None:
    for name, t in spec.schema.tables.items():
        if name not in spec.values:
            continue
        for col, ranks in t.ranks.items():
            for i, r in enumerate(replicas):
                sql = f'SELECT id, "{col}" FROM "{name}" WHERE "{col}" IS NOT NULL'
                for row_id, value in r.db.execute(sql):
                    key = (i, name, row_id, col)
                    assert ranks[value] >= seen.get(key, -1), (key, value)
                    seen[key] = ranks[value]


PROPERTY = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@PROPERTY
@given(scenarios(SMALL, max_ops=50))
def test_replicas_converge_to_the_reference_model(scenario):
    run_scenario(SMALL, *scenario)


@settings(PROPERTY, max_examples=40)
@given(scenarios(DEFAULT, max_ops=40))
def test_replicas_converge_on_the_default_schema(scenario):
    run_scenario(DEFAULT, *scenario)
