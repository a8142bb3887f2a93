"""The replica: a SQLite file of synced tables, with local writes and idempotent merges."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from . import apply as applying
from . import emit, store
from .clock import HLC, wall_ms
from .protocol import MAX_ID_LENGTH, ApplyResult, Batch, Rejection, WriteError
from .schema import Problem, Schema, Table
from .store import q
from .tables import default_schema

# policy(table, compound_id) -> None to allow, or (reason, message) to refuse the row's cells.
Policy = Callable[[str, "str | None"], "Problem | None"]

__all__ = ["MAX_ID_LENGTH", "Policy", "Replica"]


class Replica:
    """Open or create the replica in the SQLite file at `path`."""

    def __init__(
        self,
        path: str | Path,
        schema: Schema | None = None,
        *,
        max_drift_ms: int = 10 * 60 * 1000,
        now_ms: Callable[[], int] = wall_ms,
        synchronous: str = "FULL",
    ) -> None:
        self.path = str(path)
        self.schema = schema if schema is not None else default_schema()
        self.max_drift_ms = max_drift_ms
        self.clock = HLC(0, now_ms)
        self.lock = threading.RLock()
        self.db = store.connect(self.path, synchronous)
        try:
            self.site_id = store.migrate(self.db, self.schema)
            self.sites = store.Sites(self.db)
        except BaseException:
            self.db.close()
            raise
        self.local_no = self.sites.number[self.site_id]
        self._counter = 0
        self._sql: dict[tuple[Any, ...], str] = {}

    # -- housekeeping ---------------------------------------------------------------------

    def close(self) -> None:
        with self.lock:
            self.db.close()

    def __enter__(self) -> Replica:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def counter(self) -> int:
        """The local counter: bumped once per row by every local change or accepted merge."""
        with self.lock:
            return int(str(store.get_meta(self.db, "counter") or 0))

    @contextmanager
    def _tx(self) -> Iterator[None]:
        """One write transaction; counter and clock are re-read so processes can share a file."""
        with self.lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                self._counter = int(str(store.get_meta(self.db, "counter") or 0))
                self.clock.observe(int(str(store.get_meta(self.db, "hlc") or 0)))
                yield
                store.set_meta(self.db, "counter", self._counter)
                store.set_meta(self.db, "hlc", self.clock.last)
                self.db.execute("COMMIT")
                self.sites.commit()
            except BaseException:
                if self.db.in_transaction:
                    self.db.execute("ROLLBACK")
                self.sites.rollback()
                raise

    def next_ctr(self) -> int:
        self._counter += 1
        return self._counter

    def counter_now(self) -> int:
        return self._counter

    def reset_ctr(self, value: int) -> None:
        self._counter = value

    def sql(self, key: tuple[Any, ...]) -> str:
        """Statements built once per table (and per set of columns)."""
        found = self._sql.get(key)
        if found is None:
            t = self.schema[key[1]]
            if key[0] == "update":
                found = store.update_sql(t, key[2])
            elif key[0] == "insert":
                found = store.insert_sql(t, key[2])
            elif key[0] == "insert_row":
                cols = ["id", *t.column_names, "_hlc", "_site", "_ctr"]
                found = (
                    f"INSERT INTO {q(t.name)} ({', '.join(q(c) for c in cols)}) "
                    f"VALUES ({', '.join('?' * len(cols))})"
                )
            elif key[0] == "count":
                found = emit.count_sql(t, key[2])
            else:
                found = emit.scan_sql(t)
            self._sql[key] = found
        return found

    def _table(self, name: str) -> Table:
        table = self.schema.tables.get(name)
        if table is None:
            raise WriteError([Rejection(name, None, None, "unknown_table", f"no table {name!r}")])
        return table

    # -- reading --------------------------------------------------------------------------

    def get(self, table: str, row_id: str) -> dict[str, Any] | None:
        t = self._table(table)
        where = "id = ?" if t.immutable else "id = ? AND deleted = 0"
        rows = self._select(t, where, (row_id,))
        return rows[0] if rows else None

    def rows(self, table: str, **equals: Any) -> list[dict[str, Any]]:
        """The rows whose columns equal these values (deleted rows left out), by id."""
        t = self._table(table)
        for col in equals:
            if col not in t.by_name and col != "id":
                msg = f"no column {col}"
                raise WriteError([Rejection(table, None, col, "unknown_column", msg)])
        clauses = [f"{q(c)} IS ?" for c in equals]
        if not t.immutable:
            clauses.append("deleted = 0")
        where = " AND ".join(clauses) or "1"
        return self._select(t, where, tuple(equals.values()))

    def _select(self, t: Table, where: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
        names = ["id", *t.column_names]
        sql = f"SELECT {', '.join(q(n) for n in names)} FROM {q(t.name)} WHERE {where} ORDER BY id"
        bools = [c.name for c in t.columns if c.type == "bool"]
        with self.lock:
            out = [dict(zip(names, row, strict=True)) for row in self.db.execute(sql, params)]
        for row in out:
            for b in bools:
                if row[b] is not None:
                    row[b] = bool(row[b])
        return out

    # -- local writes ---------------------------------------------------------------------

    def write(self, table: str, row_id: str, values: dict[str, Any]) -> None:
        """Insert or update some columns of one row, each changed cell with a fresh stamp."""
        self.write_many(table, {row_id: values})

    def write_many(self, table: str, rows: dict[str, dict[str, Any]]) -> None:
        """Many local changes of one table in one transaction: all are written or none."""
        t = self._table(table)
        problems: list[Rejection] = []
        for row_id, values in rows.items():
            problems += self._check_local(t, row_id, values)
        if problems:
            raise WriteError(problems)
        with self._tx():
            if t.immutable:
                self._write_immutable(t, rows)
            else:
                self._write_mutable(t, rows, delete=False)

    def delete(self, table: str, row_id: str) -> None:
        """Delete a row: a tombstone cell that merges under lww like any other cell."""
        t = self._table(table)
        if t.immutable:
            raise WriteError([_immutable(t, row_id)])
        with self._tx():
            self._write_mutable(t, {row_id: {}}, delete=True)

    def _check_local(self, t: Table, row_id: Any, values: Any) -> list[Rejection]:
        if not isinstance(row_id, str) or not row_id or len(row_id) > MAX_ID_LENGTH:
            return [Rejection(t.name, row_id, None, "missing_id", "every row needs a text id")]
        if not isinstance(values, dict) or not values:
            return [Rejection(t.name, row_id, None, "malformed", "nothing to write")]
        problems = []
        for col, value in values.items():
            if col == "deleted" or col not in t.by_name:
                msg = f"{t.name} has no column {col!r}"
                problems.append(Rejection(t.name, row_id, col, "unknown_column", msg, value))
                continue
            problem = t.checks[col](value)
            if problem:
                problems.append(Rejection(t.name, row_id, col, *problem, value=value))
        return problems

    def _write_immutable(self, t: Table, rows: dict[str, dict[str, Any]]) -> None:
        ids = list(rows)
        existing: set[str] = set()
        for part in store.chunks(ids, 2000):
            sql = f"SELECT id FROM {q(t.name)} WHERE id IN ({','.join('?' * len(part))})"
            existing.update(r[0] for r in self.db.execute(sql, part))
        problems = [_immutable(t, row_id) for row_id in ids if row_id in existing]
        for row_id, values in rows.items():
            problems += [_required(t, row_id, c) for c in t.required if values.get(c) is None]
        if problems:
            raise WriteError(problems)
        names, site = t.column_names, self.local_no
        self.db.executemany(
            self.sql(("insert_row", t.name)),
            [
                (row_id, *[values.get(c) for c in names], self.clock.now(), site, self.next_ctr())
                for row_id, values in rows.items()
            ],
        )

    def _write_mutable(self, t: Table, rows: dict[str, dict[str, Any]], *, delete: bool) -> None:
        written = {c for values in rows.values() for c in values}
        needed = written | set(t.required) | {"compound_id", "deleted"}
        cols = [c for c in t.wire_columns if c in needed]
        pos = store.positions(cols)
        state = store.load_state(self.db, t, list(rows), cols)
        known = set(state)
        problems: list[Rejection] = []
        plan = []
        for row_id, values in rows.items():
            st = state.get(row_id)
            if delete:
                if st is None or st[2]:
                    problems.append(Rejection(t.name, row_id, None, "unknown_row", "no such row"))
                    continue
                values = {"deleted": True}
            else:
                if st is None or st[1] is None:
                    missing = [
                        c
                        for c in t.required
                        if values.get(c) is None and (st is None or st[pos[c]] is None)
                    ]
                    if missing:
                        problems += [_required(t, row_id, c) for c in missing]
                        continue
                if st is not None and st[2]:
                    values = {**values, "deleted": False}  # writing a deleted row re-creates it
            problems += _check_transition(t, row_id, st, pos, values)
            plan.append((row_id, values))
        if problems:
            raise WriteError(problems)
        width, site = 3 + 3 * len(cols), self.local_no
        changes: dict[str, dict[int, tuple[int | None, int | None]]] = {}
        for row_id, values in plan:
            st = state.get(row_id)
            if st is None:
                st = state[row_id] = [row_id] + [None] * (width - 1)
            hlc = self.clock.now()
            cells = changes[row_id] = {}
            for col, value in values.items():
                p = pos[col]
                cells[p] = (st[p + 1], st[p + 2])  # the stamp of the value it replaces
                st[p], st[p + 1], st[p + 2] = value, hlc, site
        self._resolve_conflicts(t, dict(plan))
        applying.save_changes(self, t, state, pos, changes, known)

    def _resolve_conflicts(self, t: Table, rows: dict[str, dict[str, Any]]) -> None:
        """Writing a cell again is how a person resolves its conflict."""
        if self.db.execute("SELECT 1 FROM _lm_conflicts WHERE resolved = 0 LIMIT 1").fetchone():
            self.db.executemany(
                "UPDATE _lm_conflicts SET resolved = 1 "
                "WHERE resolved = 0 AND tbl = ? AND row_id = ? AND col = ?",
                [(t.name, rid, col) for rid, vals in rows.items() for col in vals],
            )

    # -- conflicts ------------------------------------------------------------------------

    def conflicts(self, *, include_resolved: bool = False) -> list[dict[str, Any]]:
        """Values this replica held that a concurrent edit elsewhere overwrote."""
        sql = (
            "SELECT id, tbl, row_id, col, lost_value, lost_hlc, lost_site, "
            "won_value, won_hlc, won_site, logged_at, resolved FROM _lm_conflicts"
        )
        if not include_resolved:
            sql += " WHERE resolved = 0"
        keys = [
            "id", "table", "row_id", "column", "lost_value", "lost_hlc", "lost_site",
            "won_value", "won_hlc", "won_site", "logged_at", "resolved",
        ]  # fmt: skip
        with self.lock:
            rows = self.db.execute(sql + " ORDER BY id").fetchall()
        out = []
        for row in rows:
            item = dict(zip(keys, row, strict=True))
            t = self.schema.tables.get(item["table"])
            col = t.by_name.get(item["column"]) if t else None
            if item["column"] == "deleted" or (col is not None and col.type == "bool"):
                for key in ("lost_value", "won_value"):
                    if item[key] is not None:
                        item[key] = bool(item[key])
            item["resolved"] = bool(item["resolved"])
            out.append(item)
        return out

    def dismiss_conflict(self, conflict_id: int) -> bool:
        """Keep the winning value: the conflict is marked resolved."""
        with self.lock:
            cur = self.db.execute(
                "UPDATE _lm_conflicts SET resolved = 1 WHERE id = ? AND resolved = 0",
                (conflict_id,),
            )
            return cur.rowcount == 1

    # -- peers' cursors -------------------------------------------------------------------

    def cursor(self, peer: str) -> dict[str, int]:
        with self.lock:
            row = self.db.execute(
                "SELECT sent, received FROM _lm_peers WHERE peer = ?", (peer,)
            ).fetchone()
        return {"sent": row[0], "received": row[1]} if row else {"sent": 0, "received": 0}

    def set_cursor(
        self, peer: str, *, sent: int | None = None, received: int | None = None
    ) -> None:
        with self.lock:
            self.db.execute(
                "INSERT INTO _lm_peers (peer, sent, received) VALUES (?, coalesce(?, 0), "
                "coalesce(?, 0)) ON CONFLICT(peer) DO UPDATE SET sent = coalesce(?, sent), "
                "received = coalesce(?, received)",
                (peer, sent, received, sent, received),
            )

    # -- sync -----------------------------------------------------------------------------

    def changes_since(
        self,
        counter: int,
        *,
        scope: Collection[str] | None = None,
        exclude_site: str | None = None,
        limit: int | None = None,
        cells_after: int | None = None,
    ) -> Batch:
        """The winning cells changed here after local counter `counter`, in counter order.

        `cells_after` (default `counter`): the cells of each row that travel are those
        changed after it. A sync client passes where its unfinished pass began, since with
        `limit` a row edited later is reached only at its newest counter (issue #3).
        """
        return emit.changes_since(self, counter, scope, exclude_site, limit, cells_after)

    def count_since(
        self, counter: int, *, site: str | None = None, cells_after: int | None = None
    ) -> int:
        """How many cells `changes_since(counter, cells_after=...)` would carry, without
        building the batch; with `site`, only those that site wrote (e.g. "cells of mine
        the server has not acknowledged": `count_since(sent, site=replica.site_id)`)."""
        return emit.count_since(self, counter, site, cells_after)

    def apply(self, batch: Batch | dict[str, Any], *, policy: Policy | None = None) -> ApplyResult:
        """Merge another replica's cells in one transaction; bad cells are rejected, not fatal."""
        if not isinstance(batch, Batch):
            batch = Batch.from_dict(batch)
        # A batch is many small lists; the cyclic GC would walk all of them again and
        # again while the merge allocates (10-20% of a merge). Nothing here makes cycles.
        collecting = gc.isenabled()
        gc.disable()
        try:
            with self._tx():
                return applying.apply_batch(self, batch, policy)
        finally:
            if collecting:
                gc.enable()


def _check_transition(
    t: Table, row_id: str, st: list[Any] | None, pos: dict[str, int], values: dict[str, Any]
) -> list[Rejection]:
    """A local write obeys the merge rules: no move to another compound, no lower state."""
    if st is None:
        return []
    problems = []
    stored, new = st[1], values.get("compound_id")
    if stored is not None and new is not None and new != stored:
        msg = "a row cannot move to another compound; create a new row instead"
        problems.append(Rejection(t.name, row_id, "compound_id", "compound_change", msg, new))
    for col, ranks in t.ranks.items():
        if col in values:
            old, value = st[pos[col]], values[col]
            if old is not None and ranks.get(value, -1) < ranks.get(old, -1):
                msg = f"{col} cannot go back from {old} to {value}"
                problems.append(Rejection(t.name, row_id, col, "max_backwards", msg, value))
    return problems


def _immutable(t: Table, row_id: str) -> Rejection:
    msg = f"{t.name} rows cannot be changed once written; record a correction as a new row"
    return Rejection(t.name, row_id, None, "immutable", msg)


def _required(t: Table, row_id: str, col: str) -> Rejection:
    return Rejection(t.name, row_id, col, "required", f"{col} is required")
