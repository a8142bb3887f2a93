"""Group commit for online ballots: many concurrent ballots, one fsync.

With `synchronous=FULL` every commit waits for the disk (about 10 ms here), which would
cap a server at ~100 ballots/s. Relaxing durability is not an option: an owner who got a
receipt must never lose the ballot. So concurrent requests share commits: each adds its
row to `pending` and takes the commit lock; whoever gets it writes every pending row in
one transaction and wakes their owners. Nobody returns before their row is on disk.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Sequence
from typing import Any

INSERT = (
    "INSERT INTO online_ballots (id, motion_id, owner_key, choice, received_at, receipt, "
    "link_id) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
RECEIPT_AT = 5  # index of the receipt in a row


class GroupCommit:
    def __init__(self, lock: Any = None) -> None:
        # The app's replica lock: ballots then queue with sync merges for SQLite's write
        # lock instead of polling in its busy handler, where a storm of merges starved them.
        self._lock = lock if lock is not None else contextlib.nullcontext()
        self._pending: list[list[Any]] = []  # [row, done event, error]
        self._cv = threading.Condition()
        self._writing = False

    def insert(self, conn: sqlite3.Connection, row: Sequence[Any], new_receipt) -> str:
        """Insert `row` durably (through `conn` or another waiting request's connection);
        returns the receipt actually stored (a new one on the rare collision)."""
        item: list[Any] = [list(row), threading.Event(), None]
        with self._cv:
            self._pending.append(item)
            while not item[1].is_set():
                if self._writing:  # someone is at the disk: our row goes in the next batch
                    self._cv.wait()
                    continue
                self._writing = True
                batch, self._pending = self._pending, []
                self._cv.release()
                try:
                    with self._lock:
                        self._write(conn, batch, new_receipt)
                finally:
                    self._cv.acquire()
                    self._writing = False
                    self._cv.notify_all()
        if item[2] is not None:
            raise item[2]
        return item[0][RECEIPT_AT]

    @staticmethod
    def _write(conn: sqlite3.Connection, batch: list[list[Any]], new_receipt) -> None:
        try:
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(INSERT, [item[0] for item in batch])
                conn.execute("COMMIT")
            except sqlite3.IntegrityError:
                conn.execute("ROLLBACK")
                _one_by_one(conn, batch, new_receipt)
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            for item in batch:
                item[2] = item[2] or exc
        finally:
            for item in batch:
                item[1].set()


def _one_by_one(conn: sqlite3.Connection, batch: list[list[Any]], new_receipt) -> None:
    """After a receipt collision (about 1 in 2**59): each row alone, new codes as needed."""
    for item in batch:
        for _ in range(5):
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute(INSERT, item[0])
                conn.execute("COMMIT")
                break
            except sqlite3.IntegrityError as exc:
                conn.execute("ROLLBACK")
                if "receipt" not in str(exc):
                    item[2] = exc
                    break
                item[0][RECEIPT_AT] = new_receipt()
