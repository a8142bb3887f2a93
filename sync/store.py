"""The replica's SQLite layout: domain tables with real columns, clocks packed into the row.

Mutable tables carry `deleted` (the tombstone), `_ctr` (local counter of the row's last
change) and `_clk`, a JSON object {column: [hlc, site, ctr, prev_hlc, prev_site]}.
Immutable tables are written once, so one stamp serves the whole row: `_hlc`, `_site`, `_ctr`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence

from .ids import new_site_id
from .schema import Schema, Table

FORMAT = 1  # the on-disk layout; bump with a migration when it changes

META_DDL = """
CREATE TABLE IF NOT EXISTS _lm_meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;
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
CREATE INDEX IF NOT EXISTS _lm_conflicts_open ON _lm_conflicts (resolved, tbl, row_id);
"""


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def connect(path: str, synchronous: str = "FULL") -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(f"PRAGMA synchronous={synchronous}")
    db.execute("PRAGMA busy_timeout=30000")
    return db


def table_ddl(table: Table) -> list[str]:
    cols = ["id TEXT PRIMARY KEY NOT NULL"]
    cols += [f"{q(c.name)} {c.sql_type()}" for c in table.columns]
    if table.immutable:
        cols += ["_hlc INTEGER NOT NULL", "_site TEXT NOT NULL", "_ctr INTEGER NOT NULL"]
    else:
        cols += ["deleted INTEGER NOT NULL DEFAULT 0", "_ctr INTEGER NOT NULL", "_clk TEXT NOT NULL"]
    stmts = [f"CREATE TABLE IF NOT EXISTS {q(table.name)} ({', '.join(cols)})"]
    stmts.append(f"CREATE INDEX IF NOT EXISTS {q(table.name + '__ctr')} ON {q(table.name)} (_ctr)")
    stmts.append(
        f"CREATE INDEX IF NOT EXISTS {q(table.name + '__compound')} "
        f"ON {q(table.name)} (compound_id)"
    )
    for index in table.indexes:
        name = table.name + "__" + "_".join(index)
        cols_sql = ", ".join(q(c) for c in index)
        stmts.append(f"CREATE INDEX IF NOT EXISTS {q(name)} ON {q(table.name)} ({cols_sql})")
    return stmts


def migrate(db: sqlite3.Connection, schema: Schema) -> str:
    """Create what is missing (tables, columns, indexes); return the site id."""
    db.execute("BEGIN IMMEDIATE")
    try:
        for stmt in META_DDL.strip().split(";"):
            if stmt.strip():
                db.execute(stmt)
        fmt = get_meta(db, "format")
        if fmt is not None and int(fmt) > FORMAT:
            raise RuntimeError(
                f"this database was written by a newer Last Meter (format {fmt}); "
                "upgrade Last Meter to open it"
            )
        site = get_meta(db, "site_id")
        if site is None:
            site = new_site_id()
            set_meta(db, "site_id", site)
            set_meta(db, "format", FORMAT)
            set_meta(db, "counter", 0)
            set_meta(db, "hlc", 0)
        for table in schema.tables.values():
            existing = {row[1] for row in db.execute(f"PRAGMA table_info({q(table.name)})")}
            if existing:
                for col in table.columns:
                    if col.name not in existing:
                        db.execute(
                            f"ALTER TABLE {q(table.name)} ADD COLUMN {q(col.name)} {col.sql_type()}"
                        )
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


def chunks(items: Sequence, size: int = 900) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
