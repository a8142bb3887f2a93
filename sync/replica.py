"""The replica: a SQLite file of synced tables, with local writes and idempotent merges."""

from __future__ import annotations

import heapq
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from . import store
from .clock import HLC, millis, wall_ms
from .merge import is_concurrent, sort_key
from .protocol import ApplyResult, Batch, Rejection, TableChunk, WriteError
from .schema import Problem, Schema, Table
from .store import chunks, q
from .tables import default_schema

# policy(table, compound_id) -> None to allow, or (reason, message) to refuse the row's cells.
Policy = Callable[[str, "str | None"], "Problem | None"]

MAX_ID_LENGTH = 200
_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


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
        self._lock = threading.RLock()
        self.db = store.connect(self.path, synchronous)
        try:
            self.site_id = store.migrate(self.db, self.schema)
        except BaseException:
            self.db.close()
            raise
        self._counter = 0

    # -- housekeeping ---------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self.db.close()

    def __enter__(self) -> Replica:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def counter(self) -> int:
        with self._lock:
            return int(store.get_meta(self.db, "counter") or 0)

    @contextmanager
    def _tx(self) -> Iterator[None]:
        """One write transaction; counter and clock are re-read so several processes can share a file."""
        with self._lock:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                self._counter = int(store.get_meta(self.db, "counter") or 0)
                self.clock.observe(int(store.get_meta(self.db, "hlc") or 0))
                yield
                store.set_meta(self.db, "counter", self._counter)
                store.set_meta(self.db, "hlc", self.clock.last)
                self.db.execute("COMMIT")
            except BaseException:
                if self.db.in_transaction:
                    self.db.execute("ROLLBACK")
                raise

    def _table(self, name: str) -> Table:
        table = self.schema.tables.get(name)
        if table is None:
            raise WriteError([Rejection(name, None, None, "unknown_table", f"no table {name!r}")])
        return table

    def _next_ctr(self) -> int:
        self._counter += 1
        return self._counter

    # -- reading --------------------------------------------------------------------------

    def get(self, table: str, row_id: str) -> dict[str, Any] | None:
        t = self._table(table)
        where = "id = ?" if t.immutable else "id = ? AND deleted = 0"
        rows = self._select(t, where, (row_id,))
        return rows[0] if rows else None

    def rows(self, table: str, **equals: Any) -> list[dict[str, Any]]:
        t = self._table(table)
        for col in equals:
            if col not in t.by_name and col != "id":
                raise WriteError([Rejection(table, None, col, "unknown_column", f"no column {col}")])
        clauses = [f"{q(c)} IS ?" for c in equals]
        if not t.immutable:
            clauses.append("deleted = 0")
        where = " AND ".join(clauses) or "1"
        return self._select(t, where, tuple(equals.values()))

    def _select(self, t: Table, where: str, params: tuple) -> list[dict[str, Any]]:
        names = ["id", *t.column_names]
        sql = f"SELECT {', '.join(q(n) for n in names)} FROM {q(t.name)} WHERE {where} ORDER BY id"
        bools = [c.name for c in t.columns if c.type == "bool"]
        with self._lock:
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
        t = self._table(table)
        if t.immutable:
            raise WriteError([_immutable(t, row_id, None)])
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
        existing = self._existing_stamps(t, list(rows))
        problems = []
        inserts = []
        for row_id, values in rows.items():
            if row_id in existing:
                problems.append(_immutable(t, row_id, None))
                continue
            missing = [c for c in t.required if values.get(c) is None]
            if missing:
                problems += [_required(t, row_id, c) for c in missing]
                continue
            hlc, ctr = self.clock.now(), self._next_ctr()
            inserts.append((row_id, *[values.get(c) for c in t.column_names], hlc, self.site_id, ctr))
        if problems:
            raise WriteError(problems)
        self._insert_immutable(t, inserts)

    def _write_mutable(self, t: Table, rows: dict[str, dict[str, Any]], *, delete: bool) -> None:
        state = self._load_rows(t, list(rows))
        problems: list[Rejection] = []
        for row_id, values in rows.items():
            row = state.get(row_id)
            if delete:
                if row is None or row.values.get("deleted"):
                    problems.append(Rejection(t.name, row_id, None, "unknown_row", "no such row"))
                    continue
                values = {"deleted": True}
            elif row is None or row.values.get("compound_id") is None:
                missing = [c for c in t.required if values.get(c) is None]
                missing = [c for c in missing if row is None or row.values.get(c) is None]
                if missing:
                    problems += [_required(t, row_id, c) for c in missing]
                    continue
            elif row.values.get("deleted"):
                values = {**values, "deleted": False}  # writing a deleted row re-creates it
            if row is None:
                row = state[row_id] = _Row({}, {}, 0, new=True)
            problems += self._check_transition(t, row_id, row, values)
            if problems:
                continue
            hlc, ctr = self.clock.now(), self._next_ctr()
            for col, value in values.items():
                clock = row.clocks.get(col)
                prev = (clock[0], clock[1]) if clock else (None, None)
                row.values[col] = value
                row.clocks[col] = [hlc, self.site_id, ctr, *prev]
            row.ctr, row.changed = ctr, True
        if problems:
            raise WriteError(problems)
        self._resolve_conflicts(t, rows)
        self._save_rows(t, state)

    def _check_transition(
        self, t: Table, row_id: str, row: _Row, values: dict[str, Any]
    ) -> list[Rejection]:
        problems = []
        stored = row.values.get("compound_id")
        new = values.get("compound_id")
        if stored is not None and new is not None and new != stored:
            msg = "a row cannot move to another compound; create a new row instead"
            problems.append(Rejection(t.name, row_id, "compound_id", "compound_change", msg, new))
        for col, ranks in t.ranks.items():
            if col in values and col in row.values:
                old, new = row.values[col], values[col]
                if ranks.get(new, -1) < ranks.get(old, -1):
                    msg = f"{col} cannot go back from {old} to {new}"
                    problems.append(Rejection(t.name, row_id, col, "max_backwards", msg, new))
        return problems

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
        keys = (
            "id table row_id column lost_value lost_hlc lost_site "
            "won_value won_hlc won_site logged_at resolved"
        ).split()
        with self._lock:
            rows = self.db.execute(sql + " ORDER BY id").fetchall()
        out = []
        for row in rows:
            item = dict(zip(keys, row, strict=True))
            item["lost_value"] = json.loads(item["lost_value"])
            item["won_value"] = json.loads(item["won_value"])
            item["resolved"] = bool(item["resolved"])
            out.append(item)
        return out

    def dismiss_conflict(self, conflict_id: int) -> bool:
        """Keep the winning value: the conflict is marked resolved."""
        with self._lock:
            cur = self.db.execute(
                "UPDATE _lm_conflicts SET resolved = 1 WHERE id = ? AND resolved = 0",
                (conflict_id,),
            )
            return cur.rowcount == 1

    # -- peers' cursors -------------------------------------------------------------------

    def cursor(self, peer: str) -> dict[str, int]:
        with self._lock:
            row = self.db.execute(
                "SELECT sent, received FROM _lm_peers WHERE peer = ?", (peer,)
            ).fetchone()
        return {"sent": row[0], "received": row[1]} if row else {"sent": 0, "received": 0}

    def set_cursor(self, peer: str, *, sent: int | None = None, received: int | None = None) -> None:
        with self._lock:
            self.db.execute(
                "INSERT INTO _lm_peers (peer, sent, received) VALUES (?, coalesce(?, 0), "
                "coalesce(?, 0)) ON CONFLICT(peer) DO UPDATE SET sent = coalesce(?, sent), "
                "received = coalesce(?, received)",
                (peer, sent, received, sent, received),
            )

    # -- changes out ----------------------------------------------------------------------

    def changes_since(
        self,
        counter: int,
        *,
        scope: list[str] | set[str] | tuple[str, ...] | None = None,
        exclude_site: str | None = None,
        limit: int | None = None,
    ) -> Batch:
        """The winning cells changed here after local counter `counter`, in counter order."""
        batch = Batch(origin=self.site_id, next=counter)
        site_index: dict[str, int] = {}
        with self._lock:
            self.db.execute("BEGIN")  # one snapshot for the rows and the counter
            try:
                top = int(store.get_meta(self.db, "counter") or 0)
                streams = [
                    self._scan(t, counter, scope, limit) for t in self.schema.tables.values()
                ]
                cells = examined = 0
                more = False
                for ctr, t, row in heapq.merge(*streams, key=lambda item: item[0]):
                    if limit is not None and (cells >= limit or examined >= limit):
                        more = True
                        break
                    examined += 1
                    cells += self._emit(batch, t, row, counter, exclude_site, site_index)
                    batch.next = ctr
            finally:
                self.db.execute("COMMIT")
        batch.more = more
        if not more:
            batch.next = max(top, counter)
        return batch

    def _scan(
        self, t: Table, counter: int, scope: Any, limit: int | None
    ) -> Iterator[tuple[int, Table, tuple]]:
        tail = "deleted, _ctr, _clk" if not t.immutable else "_hlc, _site, _ctr"
        cols = ", ".join(["id", *(q(c) for c in t.column_names), tail])
        sql = f"SELECT {cols} FROM {q(t.name)} WHERE _ctr > ?"
        params: list[Any] = [counter]
        if scope is not None:
            scope = list(scope)
            sql += f" AND compound_id IN ({', '.join('?' * len(scope))})"
            params += scope
        sql += " ORDER BY _ctr"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        ctr_at = len(t.column_names) + (2 if not t.immutable else 3)
        for row in self.db.execute(sql, params).fetchall():
            yield row[ctr_at], t, row

    def _emit(
        self,
        batch: Batch,
        t: Table,
        row: tuple,
        counter: int,
        exclude: str | None,
        site_index: dict[str, int],
    ) -> int:
        chunk = batch.tables.get(t.name)
        if chunk is None:
            chunk = batch.tables[t.name] = TableChunk(t.wire_columns, [])
        ncols = len(t.column_names)

        def index(site: str) -> int:
            i = site_index.get(site)
            if i is None:
                i = site_index[site] = len(batch.sites)
                batch.sites.append(site)
            return i

        if t.immutable:
            hlc, site = row[ncols + 1], row[ncols + 2]
            if site == exclude:
                return 0
            chunk.rows.append([row[0], hlc, index(site), None, (1 << ncols) - 1, list(row[1 : ncols + 1])])
            return ncols
        clocks = json.loads(row[ncols + 3])
        groups: dict[tuple, list] = {}
        for i, col in enumerate(chunk.columns):
            clock = clocks.get(col)
            if clock is None or clock[2] <= counter or clock[1] == exclude:
                continue
            value = row[1 + i]
            if col == "deleted" or (value is not None and t.by_name[col].type == "bool"):
                value = bool(value)
            key = (clock[0], clock[1], clock[3], clock[4])
            group = groups.get(key)
            if group is None:
                group = groups[key] = [0, []]
            group[0] |= 1 << i
            group[1].append(value)
        emitted = 0
        for (hlc, site, prev_hlc, prev_site), (mask, values) in groups.items():
            prev = None if prev_hlc is None else [prev_hlc, index(prev_site)]
            chunk.rows.append([row[0], hlc, index(site), prev, mask, values])
            emitted += len(values)
        return emitted

    # -- changes in -----------------------------------------------------------------------

    def apply(self, batch: Batch | dict[str, Any], *, policy: Policy | None = None) -> ApplyResult:
        """Merge another replica's cells in one transaction; bad cells are rejected, not fatal."""
        if not isinstance(batch, Batch):
            batch = Batch.from_dict(batch)
        result = ApplyResult()
        limit_ms = self.clock.now_ms() + self.max_drift_ms
        with self._tx():
            for name, chunk in batch.tables.items():
                t = self.schema.tables.get(name)
                if t is None:
                    for raw in chunk.rows:
                        rid = raw[0] if isinstance(raw, list) and raw else None
                        msg = f"no table {name!r} here"
                        result.rejected.append(Rejection(name, rid, None, "unknown_table", msg))
                    continue
                for part in chunks(chunk.rows, 2000):
                    entries = self._parse(t, chunk.columns, part, batch.sites, limit_ms, result)
                    if t.immutable:
                        self._merge_immutable(t, entries, policy, result)
                    else:
                        self._merge_mutable(t, entries, policy, result)
        return result

    def _parse(
        self,
        t: Table,
        columns: list[str],
        rows: list,
        sites: list[str],
        limit_ms: int,
        result: ApplyResult,
    ) -> list[tuple]:
        """Check each row's stamp and each cell's value; return (id, hlc, site, prev, cells)."""
        checks = []
        for col in columns:
            if col == "deleted" and not t.immutable:
                checks.append(_bool_check)
            else:
                checks.append(t.checks.get(col))
        full = (1 << len(columns)) - 1
        nsites = len(sites)
        rejected = result.rejected
        out = []
        for raw in rows:
            problem = _bad_row(raw, len(columns), nsites)
            if problem:
                rid = raw[0] if isinstance(raw, list) and raw and isinstance(raw[0], str) else None
                reason = "missing_id" if problem.startswith("id") else "malformed"
                rejected.append(Rejection(t.name, rid, None, reason, f"{t.name}: {problem}"))
                continue
            row_id, hlc, si, prev, mask, values = raw
            site = sites[si]
            pairs = enumerate(values) if mask == full else _masked(mask, values)
            if millis(hlc) > limit_ms:
                msg = "stamped too far ahead of this clock; check the device's date and time"
                for i, value in pairs:
                    rejected.append(
                        Rejection(t.name, row_id, columns[i], "clock_ahead", msg, value, hlc, site)
                    )
                continue
            cells = []
            for i, value in pairs:
                col, check = columns[i], checks[i]
                if check is None:
                    msg = f"{t.name} has no column {col!r}"
                    rejected.append(Rejection(t.name, row_id, col, "unknown_column", msg, value, hlc, site))
                    continue
                problem = check(value)
                if problem:
                    rejected.append(Rejection(t.name, row_id, col, *problem, value, hlc, site))
                    continue
                cells.append((col, value))
            if cells:
                prev_stamp = (prev[0], sites[prev[1]]) if prev else (None, None)
                out.append((row_id, hlc, site, prev_stamp, cells))
        return out

    def _merge_immutable(
        self, t: Table, entries: list[tuple], policy: Policy | None, result: ApplyResult
    ) -> None:
        existing = self._existing_stamps(t, [e[0] for e in entries])
        allowed = _PolicyCache(policy)
        names = t.column_names
        required = t.required
        inserts = []
        max_hlc = 0
        for row_id, hlc, site, _prev, cells in entries:
            known = existing.get(row_id)
            if known is not None:
                if known == (hlc, site):
                    result.accepted += len(cells)
                else:
                    result.rejected += [_immutable(t, row_id, c, v, hlc, site) for c, v in cells]
                continue
            values = dict(cells)
            missing = [c for c in required if values.get(c) is None]
            if missing:
                result.rejected += [_required(t, row_id, c, hlc, site) for c in missing]
                continue
            refused = allowed(t.name, values.get("compound_id"))
            if refused:
                result.rejected += [
                    Rejection(t.name, row_id, c, *refused, v, hlc, site) for c, v in cells
                ]
                continue
            existing[row_id] = (hlc, site)
            inserts.append((row_id, *[values.get(c) for c in names], hlc, site, self._next_ctr()))
            result.accepted += len(cells)
            result.changed += len(cells)
            max_hlc = max(max_hlc, hlc)
        self._insert_immutable(t, inserts)
        self.clock.observe(max_hlc)

    def _merge_mutable(
        self, t: Table, entries: list[tuple], policy: Policy | None, result: ApplyResult
    ) -> None:
        state = self._load_rows(t, list({e[0]: None for e in entries}))
        allowed = _PolicyCache(policy)
        ranks = t.ranks
        conflicts = []
        max_hlc = 0
        for row_id, hlc, site, (prev_hlc, prev_site), cells in entries:
            row = state.get(row_id)
            incoming = dict(cells)
            stored = row.values.get("compound_id") if row else None
            new = incoming.get("compound_id")
            if stored is not None and new is not None and new != stored:
                msg = "a row cannot move to another compound"
                result.rejected += [
                    Rejection(t.name, row_id, c, "compound_change", msg, v, hlc, site) for c, v in cells
                ]
                continue
            if policy is not None:
                compound = stored if stored is not None else new
                refused = (
                    ("unknown_row", "this row is not known here; send its compound_id with it")
                    if compound is None
                    else allowed(t.name, compound)
                )
                if refused:
                    result.rejected += [
                        Rejection(t.name, row_id, c, *refused, v, hlc, site) for c, v in cells
                    ]
                    continue
            if row is None:
                row = state[row_id] = _Row({}, {}, 0, new=True)
            ctr = 0
            for col, value in cells:
                result.accepted += 1
                clock = row.clocks.get(col)
                if clock is not None:
                    if clock[0] == hlc and clock[1] == site:
                        continue  # already known
                    current = row.values.get(col)
                    col_ranks = ranks.get(col)
                    if sort_key(value, hlc, site, col_ranks) < sort_key(
                        current, clock[0], clock[1], col_ranks
                    ):
                        continue  # loses; the other side will log it if it must
                    if (
                        current != value
                        and is_concurrent(prev_hlc, prev_site, clock)
                        and not (col_ranks and col_ranks.get(value, -1) > col_ranks.get(current, -1))
                    ):
                        conflicts.append(
                            (t.name, row_id, col, _dumps(current), clock[0], clock[1],
                             _dumps(value), hlc, site, self.clock.now_ms())
                        )
                if not ctr:
                    ctr = self._next_ctr()
                row.values[col] = value
                row.clocks[col] = [hlc, site, ctr, prev_hlc, prev_site]
                result.changed += 1
            if ctr:
                row.ctr, row.changed = ctr, True
                max_hlc = max(max_hlc, hlc)
        if conflicts:
            self.db.executemany(
                "INSERT INTO _lm_conflicts (tbl, row_id, col, lost_value, lost_hlc, lost_site, "
                "won_value, won_hlc, won_site, logged_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                conflicts,
            )
            result.conflicts += len(conflicts)
        self._save_rows(t, state)
        self.clock.observe(max_hlc)

    # -- storage helpers ------------------------------------------------------------------

    def _existing_stamps(self, t: Table, ids: list[str]) -> dict[str, tuple[int, str]]:
        found: dict[str, tuple[int, str]] = {}
        for part in chunks(ids):
            sql = f"SELECT id, _hlc, _site FROM {q(t.name)} WHERE id IN ({','.join('?' * len(part))})"
            for rid, hlc, site in self.db.execute(sql, list(part)):
                found[rid] = (hlc, site)
        return found

    def _insert_immutable(self, t: Table, rows: list[tuple]) -> None:
        if not rows:
            return
        cols = ["id", *t.column_names, "_hlc", "_site", "_ctr"]
        sql = (
            f"INSERT INTO {q(t.name)} ({', '.join(q(c) for c in cols)}) "
            f"VALUES ({', '.join('?' * len(cols))})"
        )
        self.db.executemany(sql, rows)

    def _load_rows(self, t: Table, ids: list[str]) -> dict[str, _Row]:
        names = t.column_names
        cols = ", ".join(["id", *(q(c) for c in names), "deleted", "_ctr", "_clk"])
        found: dict[str, _Row] = {}
        n = len(names)
        for part in chunks(ids):
            sql = f"SELECT {cols} FROM {q(t.name)} WHERE id IN ({','.join('?' * len(part))})"
            for row in self.db.execute(sql, list(part)):
                values = dict(zip(names, row[1 : n + 1], strict=True))
                values["deleted"] = bool(row[n + 1])
                found[row[0]] = _Row(values, json.loads(row[n + 3]), row[n + 2])
        return found

    def _save_rows(self, t: Table, state: dict[str, _Row]) -> None:
        names = t.column_names
        cols = ["id", *names, "deleted", "_ctr", "_clk"]
        sql = (
            f"INSERT INTO {q(t.name)} ({', '.join(q(c) for c in cols)}) "
            f"VALUES ({', '.join('?' * len(cols))}) ON CONFLICT(id) DO UPDATE SET "
            + ", ".join(f"{q(c)} = excluded.{q(c)}" for c in cols[1:])
        )
        params = []
        for row_id, row in state.items():
            if row.changed:
                vals = row.values
                params.append(
                    (row_id, *[vals.get(c) for c in names], 1 if vals.get("deleted") else 0,
                     row.ctr, _dumps(row.clocks))
                )
        if params:
            self.db.executemany(sql, params)


class _Row:
    __slots__ = ("values", "clocks", "ctr", "new", "changed")

    def __init__(self, values: dict, clocks: dict, ctr: int, new: bool = False) -> None:
        self.values, self.clocks, self.ctr, self.new, self.changed = values, clocks, ctr, new, False


class _PolicyCache:
    def __init__(self, policy: Policy | None) -> None:
        self.policy = policy
        self.cache: dict[tuple[str, str | None], Problem | None] = {}

    def __call__(self, table: str, compound: str | None) -> Problem | None:
        if self.policy is None:
            return None
        key = (table, compound)
        if key not in self.cache:
            self.cache[key] = self.policy(table, compound)
        return self.cache[key]


def _bool_check(value: Any) -> Problem | None:
    if value is True or value is False:
        return None
    return ("bad_type", "deleted must be true or false")


def _bad_row(raw: Any, ncols: int, nsites: int) -> str | None:
    if not isinstance(raw, list) or len(raw) != 6:
        return "each row must be [id, hlc, site, prev, mask, values]"
    row_id, hlc, si, prev, mask, values = raw
    if not isinstance(row_id, str) or not row_id or len(row_id) > MAX_ID_LENGTH:
        return "id must be non-empty text"
    if type(hlc) is not int or hlc <= 0 or hlc >= 1 << 63:
        return "hlc must be a positive 64-bit integer"
    if type(si) is not int or not 0 <= si < nsites:
        return "site index out of range"
    if prev is not None and not (
        isinstance(prev, list)
        and len(prev) == 2
        and type(prev[0]) is int
        and type(prev[1]) is int
        and 0 <= prev[1] < nsites
    ):
        return "prev must be null or [hlc, site index]"
    if type(mask) is not int or mask <= 0 or mask >= 1 << ncols:
        return "mask does not fit the columns"
    if not isinstance(values, list) or len(values) != mask.bit_count():
        return "values do not match the mask"
    return None


def _masked(mask: int, values: list) -> list[tuple[int, Any]]:
    positions = [i for i in range(mask.bit_length()) if mask >> i & 1]
    return list(zip(positions, values, strict=True))


def _immutable(
    t: Table, row_id: str, col: str | None, value: Any = None, hlc: int | None = None,
    site: str | None = None,
) -> Rejection:
    msg = f"{t.name} rows cannot be changed once written; record a correction as a new row"
    return Rejection(t.name, row_id, col, "immutable", msg, value, hlc, site)


def _required(
    t: Table, row_id: str, col: str, hlc: int | None = None, site: str | None = None
) -> Rejection:
    return Rejection(t.name, row_id, col, "required", f"{col} is required", None, hlc, site)
