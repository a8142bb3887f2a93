"""Health cases: the "three kinds" (suspected, fever, close contact) and confirmed. `db` first."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlite_utils import Database

from sync import Replica, new_id

CATEGORIES = ("confirmed", "suspected", "fever", "close_contact")
RELEASERS = ("community_admin", "building_head")  # server.permissions.COLUMN_RIGHTS agrees


def cases(db: Database, compound_id: str, *, released: bool = False) -> list[dict[str, Any]]:
    """Open cases (or released ones), with the person's name and unit."""
    sql = (
        "SELECT c.id, c.category, c.start_date, c.released_on, c.note, c.release_note, "
        "c.released_by, c.recorded_by, c.resident_id, c.household_id, r.name AS resident_name, "
        "coalesce(h.building, h2.building) AS building, coalesce(h.unit, h2.unit) AS unit "
        "FROM health_cases c "
        "LEFT JOIN residents r ON r.id = c.resident_id "
        "LEFT JOIN households h ON h.id = r.household_id "
        "LEFT JOIN households h2 ON h2.id = c.household_id "
        "WHERE c.compound_id = ? AND c.deleted = 0 AND c.released_on IS "
        + ("NOT NULL" if released else "NULL")
        + " ORDER BY c.start_date DESC, c.id"
    )
    return list(db.query(sql, [compound_id]))


def get(db: Database, case_id: str) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM health_cases WHERE id = ? AND deleted = 0", [case_id]))
    return rows[0] if rows else None


def parse_date(
    raw: str, *, not_before: str | None, today: dt.date
) -> tuple[str | None, str | None]:
    raw = (raw or "").strip()
    if not raw:
        return None, "Enter a date."
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        return None, "Not a date (2020-03-08)."
    if day > today:
        return None, "That is in the future."
    if not_before and day.isoformat() < not_before:
        return None, "Before the case started."
    return day.isoformat(), None


def release(replica: Replica, case_id: str, released_on: str, note: str | None, who: str) -> None:
    replica.write(
        "health_cases",
        case_id,
        {
            "released_on": released_on,
            "release_note": note,
            "released_by": who,
            "recorded_by": who,
        },
    )


def open_case(replica: Replica, compound_id: str, values: dict[str, Any], who: str) -> str:
    case_id = new_id()
    replica.write(
        "health_cases",
        case_id,
        {"compound_id": compound_id, "recorded_by": who, **{k: v for k, v in values.items() if v}},
    )
    return case_id
