"""The replica's SQLite layout: domain tables with real columns, clocks packed into the row.

Every table has the domain columns (`id`, `compound_id`, ...) and `_ctr`, the local counter
of the row's last change: "what is new since N" is a range scan on it.

- A mutable table also has `deleted` (the tombstone) and, for every synced column `c`
  (and for `deleted`), the clock of that cell in five integer columns: `_hlc_c` (HLC stamp),
  `_site_c` (writer), `_ctr_c` (local counter when the cell last changed here), and
  `_phlc_c`, `_psite_c` (the stamp of the value it replaced, for conflict detection).
- An immutable table is written once, so one stamp serves the whole row: `_hlc`, `_site`,
  and `_ctr` as the INTEGER PRIMARY KEY (rows are appended in counter order; no index).

Sites are numbered per database in `_lm_sites` (a 32-character site id would otherwise be
repeated in every cell). The merge benchmark chose this layout over a JSON clock column
(docs/benchmarks.md).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from operator import itemgetter
from typing import Any, TypeVar

from .ids import new_site_id
from .schema import Schema, Table

CACHE_KIB = 16 * 1024
FORMAT = 2  # the on-disk layout; bump with a migration when it changes
CLOCK_PARTS = ("_hlc_", "_site_", "_ctr_", "_phlc_", "_psite_")

META_DDL = """
CREATE TABLE IF NOT EXISTS _lm_meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS _lm_sites (n INTEGER PRIMARY KEY, site TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS _lm_peers (
    peer TEXT PRIMARY KEY, sent INTEGER NOT NULL DEFAULT 0, received INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS _lm_conflicts (
    id INTEGER PRIMARY KEY,
    tbl TEXT NOT NULL, row_id TEXT NOT NULL, col TEXT NOT NULL,
    lost_value, lost_hlc INTEGER, lost_site TEXT,
    won_value, won_hlc INTEGER, won_site TEXT,
    logged_at INTEGER NOT NULL, resolved INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS _lm_conflicts_open ON _lm_conflicts (tbl, row_id, col)
    WHERE resolved = 0;
"""

T = TypeVar("T")


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def clock_columns(col: str) -> list[str]:
    """The five clock columns of one cell of a mutable table."""
    return [part + col for part in CLOCK_PARTS]


def connect(path: str, synchronous: str = "FULL") -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    db.execute(f"PRAGMA synchronous={synchronous}")
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA busy_timeout=30000")
    # 16 MiB of page cache instead of 2: a merge touches every index of its tables, and
    # with the default cache the index pages are evicted and read back (docs/benchmarks.md).
    db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    return db


def _column_defs(table: Table) -> list[tuple[str, str]]:
    defs = [(c.name, c.sql_type()) for c in table.columns]
    if table.immutable:
        return defs
    defs.append(("deleted", "INTEGER NOT NULL DEFAULT 0"))
    for name in [*table.column_names, "deleted"]:
        defs += [(clock, "INTEGER") for clock in clock_columns(name)]
    return defs


def table_ddl(table: Table) -> list[str]:
    name = table.name
    if table.immutable:
        head = ["id TEXT NOT NULL UNIQUE", "_ctr INTEGER PRIMARY KEY"]
        tail = ["_hlc INTEGER NOT NULL", "_site INTEGER NOT NULL"]
    else:
        head = ["id TEXT PRIMARY KEY NOT NULL", "_ctr INTEGER NOT NULL"]
        tail = []
    cols = head + [f"{q(n)} {kind}" for n, kind in _column_defs(table)] + tail
    stmts = [f"CREATE TABLE IF NOT EXISTS {q(name)} ({', '.join(cols)})"]
    if not table.immutable:
        stmts.append(f"CREATE INDEX IF NOT EXISTS {q(name + '__ctr')} ON {q(name)} (_ctr)")
    stmts.append(f"CREATE INDEX IF NOT EXISTS {q(name + '__compound')} ON {q(name)} (compound_id)")
    for index in table.indexes:
        index_name = name + "__" + "_".join(index)
        cols_sql = ", ".join(q(c) for c in index)
        stmts.append(f"CREATE INDEX IF NOT EXISTS {q(index_name)} ON {q(name)} ({cols_sql})")
    return stmts


def migrate(db: sqlite3.Connection, schema: Schema) -> str:
    """Create what is missing (tables, columns, indexes); return the site id."""
    db.execute("BEGIN IMMEDIATE")
    try:
        for stmt in META_DDL.strip().split(";"):
            if stmt.strip():
                db.execute(stmt)
        fmt = get_meta(db, "format")
        if fmt is not None and int(str(fmt)) != FORMAT:
            newer = int(str(fmt)) > FORMAT
            raise RuntimeError(
                f"this database has layout format {fmt}, this Last Meter reads format {FORMAT}: "
                + (
                    "upgrade Last Meter to open it"
                    if newer
                    else "it was written by a pre-release; sync its data out and start afresh"
                )
            )
        site = get_meta(db, "site_id")
        if site is None:
            site = new_site_id()
            set_meta(db, "site_id", site)
            set_meta(db, "format", FORMAT)
            set_meta(db, "counter", 0)
            set_meta(db, "hlc", 0)
            db.execute("INSERT INTO _lm_sites (site) VALUES (?)", (site,))
        for table in schema.tables.values():
            existing = {row[1] for row in db.execute(f"PRAGMA table_info({q(table.name)})")}
            if existing:
                for name, kind in _column_defs(table):
                    if name not in existing:
                        db.execute(f"ALTER TABLE {q(table.name)} ADD COLUMN {q(name)} {kind}")
            for stmt in table_ddl(table):
                db.execute(stmt)
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    return str(site)


def get_meta(db: sqlite3.Connection, key: str) -> object:
    row = db.execute("SELECT value FROM _lm_meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else row[0]


def set_meta(db: sqlite3.Connection, key: str, value: object) -> None:
    db.execute(
        "INSERT INTO _lm_meta (key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )


def chunks(items: Sequence[T], size: int = 900) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class Sites:
    """Site id <-> the small number this database stores in each cell's clock."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.number: dict[str, int] = {}
        self.name: dict[int, str] = {}
        self.pending: list[str] = []
        self.reload()

    def reload(self) -> None:
        self.number = {site: n for n, site in self.db.execute("SELECT n, site FROM _lm_sites")}
        self.name = {n: site for site, n in self.number.items()}

    def no(self, site: str) -> int:
        """The number of `site`, registering it (call inside a write transaction)."""
        n = self.number.get(site)
        if n is None:
            row = self.db.execute("SELECT n FROM _lm_sites WHERE site = ?", (site,)).fetchone()
            if row is None:
                cur = self.db.execute("INSERT INTO _lm_sites (site) VALUES (?)", (site,))
                n = int(cur.lastrowid or 0)
                self.pending.append(site)
            else:
                n = int(row[0])
            self.number[site] = n
            self.name[n] = site
        return n

    def lookup(self, site: str) -> int | None:
        """The number of `site` if this database knows it (another process may have
        registered it since this one read the table)."""
        n = self.number.get(site)
        if n is None:
            row = self.db.execute("SELECT n FROM _lm_sites WHERE site = ?", (site,)).fetchone()
            if row is not None:
                n = self.number[site] = int(row[0])
                self.name[n] = site
        return n

    def site(self, n: int) -> str:
        name = self.name.get(n)
        if name is None:  # written by another process sharing the file
            self.reload()
            name = self.name[n]
        return name

    def commit(self) -> None:
        self.pending.clear()

    def rollback(self) -> None:
        for site in self.pending:
            n = self.number.pop(site, None)
            if n is not None:
                self.name.pop(n, None)
        self.pending.clear()


# -- bulk loads ---------------------------------------------------------------------------
BULK_ROWS = 5000


def drop_indexes_for_bulk(db: sqlite3.Connection, table: Table, rows: int) -> list[str]:
    """Before merging `rows` rows into a table holding a quarter of that or less (a first
    sync, a restore), drop its indexes.

    Building an index once after the inserts costs about half of keeping it up to date
    row by row (docs/benchmarks.md, Merge). Every index on the table goes, the engine's
    and any other module's, and `restore_indexes` recreates each from its own SQL in the
    same transaction, so a crash loses nothing. Returns that SQL; [] when not worth it.
    """
    if rows < BULK_ROWS:
        return []
    most = rows // 4  # edits of rows held here need few index changes: keep the indexes
    held = db.execute(
        f"SELECT count(*) FROM (SELECT 1 FROM {q(table.name)} LIMIT ?)", (most + 1,)
    ).fetchone()[0]
    if held > most:
        return []
    found = db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
        "AND sql IS NOT NULL",
        (table.name,),
    ).fetchall()
    for name, _sql in found:
        db.execute(f"DROP INDEX {q(name)}")
    return [sql for _name, sql in found]


def restore_indexes(db: sqlite3.Connection, statements: list[str]) -> None:
    for sql in statements:
        db.execute(sql)


# -- rows of mutable tables as merge state ------------------------------------------------
# A row's state is a list: [id, compound_id, deleted, then (value, hlc, site) of each
# loaded column]; `positions(cols)` says where each column's value sits.
COMPOUND, DELETED = 1, 2


def positions(cols: Sequence[str]) -> dict[str, int]:
    return {col: 3 + 3 * j for j, col in enumerate(cols)}


def load_state(
    db: sqlite3.Connection, table: Table, ids: Sequence[str], cols: Sequence[str]
) -> dict[str, list[Any]]:
    picked = ["id", "compound_id", "deleted"]
    for col in cols:
        picked += [col, "_hlc_" + col, "_site_" + col]
    select = ", ".join(q(c) for c in picked)
    found: dict[str, list[Any]] = {}
    for part in chunks(ids, 2000):
        sql = f"SELECT {select} FROM {q(table.name)} WHERE id IN ({','.join('?' * len(part))})"
        rows = db.execute(sql, part).fetchall()
        found.update(zip(map(itemgetter(0), rows), map(list, rows), strict=True))
    return found


def _cell_columns(cols: Sequence[str]) -> list[str]:
    names = []
    for col in cols:
        names += [col, *clock_columns(col)]
    return [*names, "_ctr"]


def update_sql(table: Table, cols: Sequence[str]) -> str:
    """Set these cells (value and five clock columns each) and `_ctr`; the id comes last."""
    sets = ", ".join(f"{q(n)} = ?" for n in _cell_columns(cols))
    return f"UPDATE {q(table.name)} SET {sets} WHERE id = ?"


def insert_sql(table: Table, cols: Sequence[str]) -> str:
    """A new row with these cells; same parameters as `update_sql`, the id last."""
    names = [*_cell_columns(cols), "id"]
    return (
        f"INSERT INTO {q(table.name)} ({', '.join(q(n) for n in names)}) "
        f"VALUES ({', '.join('?' * len(names))})"
    )
