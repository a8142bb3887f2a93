"""Database access: one replica for synced writes, a plain connection per request for reads.

Pages read through their own connection (WAL), so a sync merging in the background never
holds a page up; every write to a synced table goes through `get_replica()`.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from pathlib import Path

import sqlite_utils
from flask import Flask, current_app
from sqlite_utils import Migrations

from sync import Replica
from sync.http_client import OUTBOX_DDL


def open_db(path: str | Path) -> sqlite_utils.Database:
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute("PRAGMA synchronous=FULL")
    return sqlite_utils.Database(conn)


def get_db() -> sqlite_utils.Database:
    """This thread's handle on the agent's SQLite file (plain SQL for pages).

    One connection per server thread, kept open: opening one per request cost more than
    most pages' queries. Outside a transaction a WAL reader always sees the latest commit.
    """
    local = current_app.extensions["read_connections"]
    db = getattr(local, "db", None)
    if db is None:
        db = local.db = open_db(current_app.config["DATABASE"])
        with current_app.extensions["read_lock"]:
            current_app.extensions["read_all"].append(db)
    return db


def close_db(exc: BaseException | None = None) -> None:
    """End of a request: never leave a transaction open on the kept connection."""
    local = current_app.extensions["read_connections"]
    db = getattr(local, "db", None)
    if db is not None and db.conn.in_transaction:
        db.conn.rollback()


def close_all(app: Flask) -> None:
    """Close every thread's read connection and the replica (shutdown, tests)."""
    with app.extensions["read_lock"]:
        for db in app.extensions["read_all"]:
            db.close()
        app.extensions["read_all"].clear()
    app.extensions["read_connections"] = threading.local()
    app.extensions["replica"].close()


def get_replica() -> Replica:
    """The app's replica: every synced write goes through it."""
    return current_app.extensions["replica"]


def get_blob_store():
    """Photos by SHA-256 in DATA_DIR/blobs (the sync client uploads them)."""
    from sync.blobstore import BlobStore

    store = current_app.extensions.get("blob_store")
    if store is None:
        store = current_app.extensions["blob_store"] = BlobStore(current_app.config["BLOB_DIR"])
    return store


def rows(sql: str, params: tuple | list = ()) -> list[dict]:
    """Plain SQL on this request's connection, as dicts."""
    return list(get_db().query(sql, params))


def init_app(app: Flask, sets: list[Migrations]) -> None:
    path = app.config["DATABASE"]
    app.extensions["replica"] = Replica(path)
    app.extensions["read_connections"] = threading.local()
    app.extensions["read_lock"] = threading.Lock()
    app.extensions["read_all"] = []
    db = open_db(path)
    try:
        db.conn.executescript(OUTBOX_DDL)
        for migrations in sets:
            migrations.apply(db)
    finally:
        db.close()
    app.teardown_appcontext(close_db)


def replica_counter() -> int:
    """The replica's change counter: it moves with every write and every merged cell."""
    row = get_db().execute("SELECT value FROM _lm_meta WHERE key = 'counter'").fetchone()
    return int(row[0]) if row else 0


def cached(key: tuple, compute):
    """`compute()` once per state of the replica: pages re-read only after a change.

    Synced tables change only through the replica, which bumps its counter for every
    local write and merged cell, so (key, counter) names one answer. Small LRU per app.
    """
    store = current_app.extensions.setdefault("page_cache", OrderedDict())
    full = (*key, replica_counter())
    if full in store:
        store.move_to_end(full)
        return store[full]
    value = compute()
    store[full] = value
    while len(store) > 32:
        store.popitem(last=False)
    return value
