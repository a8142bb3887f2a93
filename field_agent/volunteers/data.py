"""Volunteers who share this laptop, each with a PIN (stored hashed). SQL only; `db` first."""

from __future__ import annotations

import re
import time
import unicodedata

from sqlite_utils import Database, Migrations
from werkzeug.security import check_password_hash, generate_password_hash

from sync import new_id

migrations = Migrations("lastmeter.agent.volunteers")

PIN_RE = re.compile(r"\d{4,8}")
MAX_FAILS = 5  # wrong PINs in a row before a pause
PAUSE_SECONDS = 60


@migrations()
def m001_volunteers(db: Database) -> None:
    db["volunteers"].create(
        {
            "id": str,
            "name": str,
            "pin_hash": str,
            "active": int,
            "created_at": int,
            "failed": int,
            "paused_until": int,
        },
        pk="id",
        not_null={"name", "pin_hash"},
        defaults={"active": 1, "failed": 0, "paused_until": 0},
    )
    db["volunteers"].create_index(["name"], unique=True)


def clean_name(name: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", name or "").split())


def check_new(db: Database, name: str, pin: str, pin2: str) -> dict[str, str]:
    """Problems with a new volunteer, by field (English msgids, translated by the view)."""
    errors = {}
    if not name:
        errors["name"] = "Enter a name."
    elif len(name) > 40:
        errors["name"] = "A name has at most 40 characters."
    elif get_by_name(db, name) is not None:
        errors["name"] = "This name is taken on this laptop."
    if not PIN_RE.fullmatch(pin or ""):
        errors["pin"] = "A PIN is 4 to 8 digits."
    elif pin != pin2:
        errors["pin2"] = "The two PINs differ."
    return errors


def create(db: Database, name: str, pin: str) -> dict:
    row = {
        "id": new_id(),
        "name": name,
        "pin_hash": generate_password_hash(pin),
        "active": 1,
        "created_at": int(time.time()),
        "failed": 0,
        "paused_until": 0,
    }
    db["volunteers"].insert(row)
    return row


def count(db: Database) -> int:
    return db.execute("SELECT count(*) FROM volunteers WHERE active = 1").fetchone()[0]


def all_active(db: Database) -> list[dict]:
    return list(
        db.query("SELECT id, name FROM volunteers WHERE active = 1 ORDER BY name COLLATE NOCASE")
    )


def get(db: Database, volunteer_id: str) -> dict | None:
    rows = list(db.query("SELECT * FROM volunteers WHERE id = ? AND active = 1", [volunteer_id]))
    return rows[0] if rows else None


def get_by_name(db: Database, name: str) -> dict | None:
    rows = list(db.query("SELECT * FROM volunteers WHERE name = ? COLLATE NOCASE", [name]))
    return rows[0] if rows else None


def check_pin(db: Database, volunteer_id: str, pin: str, now: float | None = None) -> str:
    """'ok', 'wrong' or 'paused' (too many wrong PINs: wait a minute)."""
    now = int(now if now is not None else time.time())
    person = get(db, volunteer_id)
    if person is None:
        return "wrong"
    if person["paused_until"] > now:
        return "paused"
    if pin and check_password_hash(person["pin_hash"], pin):
        db.execute(
            "UPDATE volunteers SET failed = 0, paused_until = 0 WHERE id = ?", [person["id"]]
        )
        db.conn.commit()
        return "ok"
    failed = person["failed"] + 1
    paused = now + PAUSE_SECONDS if failed >= MAX_FAILS else 0
    db.execute(
        "UPDATE volunteers SET failed = ?, paused_until = ? WHERE id = ?",
        [0 if paused else failed, paused, person["id"]],
    )
    db.conn.commit()
    return "paused" if paused else "wrong"


def set_pin(db: Database, volunteer_id: str, pin: str) -> None:
    db.execute(
        "UPDATE volunteers SET pin_hash = ? WHERE id = ?",
        [generate_password_hash(pin), volunteer_id],
    )
    db.conn.commit()
