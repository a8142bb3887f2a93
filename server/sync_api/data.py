"""Where each device's pushes have reached, to notice a laptop database that went back
(a copied data directory, or a restored backup, syncing with the same token)."""

from __future__ import annotations

import time

from sqlite_utils import Database, Migrations

migrations = Migrations("lastmeter.sync_api")


@migrations()
def m001_device_push(db: Database) -> None:
    db["device_push"].create(
        {"device_id": int, "site_id": str, "next": int, "at": int}, pk="device_id"
    )


def pushed_up_to(db: Database, device_id: int) -> int | None:
    """The highest `next` this device's pushes were acknowledged with, if any."""
    row = db.execute("SELECT next FROM device_push WHERE device_id = ?", [device_id]).fetchone()
    return row[0] if row else None


def note_push(db: Database, device_id: int, site_id: str, next_: int) -> None:
    db.execute(
        "INSERT INTO device_push (device_id, site_id, next, at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (device_id) DO UPDATE SET next = max(next, excluded.next), at = excluded.at",
        [device_id, site_id, next_, int(time.time())],
    )
