"""Storing the donations ledger: insert-only rows (triggers refuse UPDATE and DELETE)."""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database

from sync import new_id

from . import ledger
from .data import now_iso
from .ledger import Entry, LedgerError


def entries(db: Database) -> list[Entry]:
    return [ledger.entry_from_row(row) for row in rows(db)]


def rows(db: Database) -> list[dict[str, Any]]:
    """Stored rows, oldest first, with who entered them and when."""
    return list(db.query("SELECT * FROM ledger_entries ORDER BY date, created_at, id"))


def add(db: Database, user: str, **fields: Any) -> Entry:
    """Validate form input into an entry and store it; LedgerError names the bad field."""
    entry = ledger.make_entry(id=new_id(), **fields)
    return _store(db, entry, user)


def correct(db: Database, user: str, entry_id: str, date: Any, note: Any = None) -> Entry:
    """Store the entry that reverses `entry_id`."""
    found = [e for e in entries(db) if e.id == entry_id]
    if not found:
        raise LedgerError("corrects", "entry %(id)s does not exist", id=entry_id)
    return _store(db, ledger.correction(found[0], id=new_id(), date=date, note=note), user)


def _store(db: Database, entry: Entry, user: str) -> Entry:
    with db.atomic():
        ledger.check_new(entries(db), entry)
        db["ledger_entries"].insert(
            {**ledger.entry_to_row(entry), "created_at": now_iso(), "created_by": user}
        )
    return entry
