"""Changes out: the winning cells changed after a local counter, as a Batch."""

from __future__ import annotations

import heapq
import sqlite3
from collections.abc import Collection, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from . import store
from .protocol import Batch, TableChunk
from .schema import Table
from .store import q

if TYPE_CHECKING:
    from .replica import Replica

Row = tuple[Any, ...]


def changes_since(
    replica: Replica,
    counter: int,
    scope: Collection[str] | None,
    exclude_site: str | None,
    limit: int | None,
    cells_after: int | None = None,
) -> Batch:
    """Rows changed after `counter`, in counter order; only cells changed after it travel.

    With `limit`, a batch holds about `limit` cells (a row is never split) and looks at
    no more than `limit` rows; `next` and `more` say where to go on.
    """
    batch = Batch(origin=replica.site_id, next=counter)
    out = _Out(replica, batch, counter if cells_after is None else cells_after, exclude_site)
    db = replica.db
    with replica.lock:
        db.execute("BEGIN")  # one snapshot for the rows and the counter
        try:
            top = int(str(store.get_meta(db, "counter") or 0))
            tables = list(replica.schema.tables.values())
            if limit is None:
                for t in tables:
                    for row in _scan(replica, t, counter, scope, None):
                        out.emit(t, row)
            else:
                # Read lazily: a batch of `limit` cells often ends long before `limit` rows
                # (bench/sync_http.py: 4x less scanning for a 100,000-row push).
                cursors = [_scan(replica, t, counter, scope, limit) for t in tables]
                try:
                    streams = [_tagged(t, c) for t, c in zip(tables, cursors, strict=True)]
                    merged = heapq.merge(*streams, key=_first)
                    for examined, (ctr, t, row) in enumerate(merged):
                        if out.cells >= limit or examined >= limit:
                            batch.more = True
                            break
                        out.emit(t, row)
                        batch.next = ctr
                finally:
                    for cursor in cursors:
                        cursor.close()
        finally:
            db.execute("COMMIT")
    if not batch.more:
        batch.next = max(top, counter)
    return batch


def _first(item: tuple[int, Table, Row]) -> int:
    return item[0]


def _tagged(t: Table, rows: Iterable[Row]) -> Iterator[tuple[int, Table, Row]]:
    for row in rows:
        yield row[-1], t, row


def _scan(
    replica: Replica, t: Table, counter: int, scope: Collection[str] | None, limit: int | None
) -> sqlite3.Cursor:
    """Rows of `t` changed after `counter`: (id, columns..., clocks..., _ctr)."""
    sql = replica.sql(("scan", t.name))
    params: list[Any] = [counter]
    if scope is not None:
        scope = list(scope)
        sql += f" AND compound_id IN ({', '.join('?' * len(scope))})"
        params += scope
    sql += " ORDER BY _ctr"
    if limit is not None:
        # One row more than a batch may look at: running out of rows then means the table
        # has no more, not that the LIMIT cut it (else `more` would wrongly be false).
        sql += " LIMIT ?"
        params.append(limit + 1)
    return replica.db.execute(sql, params)


def scan_sql(t: Table) -> str:
    if t.immutable:
        cols = ["id", *t.column_names, "_hlc", "_site", "_ctr"]
    else:
        cols = ["id"]
        for name in t.wire_columns:
            cols += [name, *store.clock_columns(name)]
        cols.append("_ctr")
    return f"SELECT {', '.join(q(c) for c in cols)} FROM {q(t.name)} WHERE _ctr > ?"


class _Out:
    """Appends rows to the batch, numbering the sites it mentions."""

    def __init__(self, replica: Replica, batch: Batch, counter: int, exclude: str | None) -> None:
        self.replica = replica
        self.batch = batch
        self.counter = counter
        # A site this database never heard of wrote nothing here: nothing to leave out.
        found = None if exclude is None else replica.sites.lookup(exclude)
        self.exclude = -1 if found is None else found
        self.index: dict[int, int] = {}
        self.cells = 0

    def site_index(self, no: int) -> int:
        i = self.index.get(no)
        if i is None:
            i = self.index[no] = len(self.batch.sites)
            self.batch.sites.append(self.replica.sites.site(no))
        return i

    def chunk(self, t: Table) -> TableChunk:
        chunk = self.batch.tables.get(t.name)
        if chunk is None:
            chunk = self.batch.tables[t.name] = TableChunk(list(t.wire_columns), [])
        return chunk

    def emit(self, t: Table, row: Row) -> None:
        if t.immutable:
            self._emit_immutable(t, row)
        else:
            self._emit_mutable(t, row)

    def _emit_immutable(self, t: Table, row: Row) -> None:
        n = len(t.column_names)
        sno = row[n + 2]
        if sno == self.exclude:
            return
        values = list(row[1 : n + 1])
        for i in t.bool_positions:
            if values[i] is not None:
                values[i] = bool(values[i])
        self.chunk(t).rows.append(
            [row[0], row[n + 1], self.site_index(sno), None, (1 << n) - 1, values]
        )
        self.cells += n

    def _emit_mutable(self, t: Table, row: Row) -> None:
        counter, exclude = self.counter, self.exclude
        groups: dict[tuple[Any, ...], list[Any]] = {}
        bools = t.wire_bools
        for i in range(len(t.wire_columns)):
            base = 1 + 6 * i
            ctr = row[base + 3]
            if ctr is None or ctr <= counter:
                continue
            sno = row[base + 2]
            if sno == exclude:
                continue
            key = (row[base + 1], sno, row[base + 4], row[base + 5])
            value = row[base]
            if value is not None and i in bools:
                value = bool(value)
            group = groups.get(key)
            if group is None:
                groups[key] = [1 << i, [value]]
            else:
                group[0] |= 1 << i
                group[1].append(value)
        if not groups:
            return
        rows = self.chunk(t).rows
        for (hlc, sno, phlc, psno), (mask, values) in groups.items():
            prev = None if phlc is None else [phlc, self.site_index(psno)]
            rows.append([row[0], hlc, self.site_index(sno), prev, mask, values])
            self.cells += len(values)


def count_since(
    replica: Replica, counter: int, site: str | None, cells_after: int | None = None
) -> int:
    """How many cells `changes_since(counter, cells_after=...)` would carry, counted in SQL.

    With `site`, only the cells that site wrote. No batch is built: a status bar can ask
    this on every page (building the batch costs ~10 ms per 1,000 rows; this, a range
    scan on `_ctr` with a sum per row).
    """
    after = counter if cells_after is None else cells_after
    db = replica.db
    with replica.lock:
        params: dict[str, Any] = {"counter": counter, "after": after}
        if site is not None:
            sno = replica.sites.lookup(site)
            if sno is None:
                return 0  # a site this database never heard of wrote nothing here
            params["site"] = sno
        total = 0
        db.execute("BEGIN")  # one snapshot across the tables
        try:
            for t in replica.schema.tables.values():
                sql = replica.sql(("count", t.name, site is not None))
                total += int(db.execute(sql, params).fetchone()[0])
        finally:
            db.execute("COMMIT")
    return total


def count_sql(t: Table, by_site: bool) -> str:
    """The statement behind `count_since` for one table (named parameters)."""
    if t.immutable:
        # One stamp per row: every column travels when the row does.
        where = "_ctr > :counter" + (" AND _site = :site" if by_site else "")
        return f"SELECT count(*) * {len(t.column_names)} FROM {q(t.name)} WHERE {where}"
    terms = []
    for name in t.wire_columns:
        test = f"{q('_ctr_' + name)} > :after"
        if by_site:
            test += f" AND {q('_site_' + name)} = :site"
        terms.append(f"(CASE WHEN {test} THEN 1 ELSE 0 END)")
    return f"SELECT coalesce(sum({' + '.join(terms)}), 0) FROM {q(t.name)} WHERE _ctr > :counter"
