"""Disinfection logs: quick entries per area and building. `db` first."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlite_utils import Database

from sync import Replica, new_id

from .. import localtime

AREAS = ("corridor", "stairwell", "lift", "gate", "outdoor", "garbage")


def parse_done_at(raw: str) -> tuple[dt.datetime | None, str | None]:
    """A local 'YYYY-MM-DDTHH:MM' (datetime-local input); empty means now."""
    raw = (raw or "").strip()
    now = localtime.now()
    if not raw:
        return now, None
    try:
        when = dt.datetime.fromisoformat(raw)
    except ValueError:
        return None, "Not a date and time."
    if when.tzinfo is None:
        when = when.replace(tzinfo=localtime.tz())
    if when > now + dt.timedelta(minutes=10):
        return None, "That is in the future."
    if when < now - dt.timedelta(days=30):
        return None, "More than 30 days ago."
    return when, None


def record(replica: Replica, compound_id: str, values: dict[str, Any], who: str) -> str:
    log_id = new_id()
    replica.write(
        "disinfection_logs",
        log_id,
        {"compound_id": compound_id, "recorded_by": who, **{k: v for k, v in values.items() if v}},
    )
    return log_id


def day_logs(db: Database, compound_id: str, day: dt.date) -> list[dict[str, Any]]:
    rows = db.query(
        "SELECT id, area, building, done_by, done_at, note, recorded_by FROM disinfection_logs "
        "WHERE compound_id = ? AND done_at >= ? ORDER BY done_at DESC",
        [compound_id, localtime.day_window(day)],
    )
    return [r for r in rows if localtime.local_date(r["done_at"]) == day]
