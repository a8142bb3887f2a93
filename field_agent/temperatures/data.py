"""Temperature checks: parse a grid of readings, save them, open fever cases. `db` first."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlite_utils import Database

from sync import Replica, new_id

from .. import localtime

FEVER = Decimal("37.3")  # DOMAIN.md: 37.3 °C or more is a fever
LOWEST = Decimal("34")
HIGHEST = Decimal("43")


def parse_reading(text: str) -> tuple[Decimal | None, str | None]:
    """(reading, None), (None, None) for an empty field, or (None, English message)."""
    text = unicodedata.normalize("NFKC", text or "").strip().replace(",", ".")
    text = text.removesuffix("°C").removesuffix("℃").strip()
    if not text:
        return None, None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None, "Not a number."
    if not value.is_finite():
        return None, "Not a number."
    if value < LOWEST or value > HIGHEST:
        return None, "Impossible reading: between 34 and 43 °C."
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        return None, "At most two decimals."
    return value, None


def is_fever(value: Decimal | float | None) -> bool:
    return value is not None and Decimal(str(value)) >= FEVER


@dataclass
class GridResult:
    readings: dict[str, Decimal] = field(default_factory=dict)  # row key -> reading
    errors: dict[str, str] = field(default_factory=dict)  # row key -> English message
    values: dict[str, str] = field(default_factory=dict)  # what was typed, to show again


def parse_grid(roster: list[dict[str, Any]], form: Any) -> GridResult:
    result = GridResult()
    for row in roster:
        raw = form.get(row["key"], "")
        if raw is None:
            continue
        result.values[row["key"]] = raw
        value, error = parse_reading(raw)
        if error:
            result.errors[row["key"]] = error
        elif value is not None:
            result.readings[row["key"]] = value
    return result


def today_readings(
    db: Database, compound_id: str, day, building: str | None = None
) -> dict[str, dict[str, Any]]:
    """The latest reading of `day` for each row key (resident, or household without residents).

    SQLite keeps the other columns of the MAX(measured_at) row, so each person costs one
    row however often they were checked. (Stamps compare as text: the agents write local
    time with its offset, so the latest text is the latest time.)
    """
    sql = (
        "SELECT t.household_id, t.resident_id, t.temperature_c, max(t.measured_at) AS "
        "measured_at, h.building FROM temperature_checks t "
        "JOIN households h ON h.id = t.household_id "
        "WHERE t.compound_id = ? AND t.measured_at >= ?"
    )
    params: list[Any] = [compound_id, localtime.day_window(day)]
    if building is not None:
        sql += " AND h.building = ?"
        params.append(building)
    out: dict[str, dict[str, Any]] = {}
    for row in db.query(sql + " GROUP BY t.household_id, t.resident_id", params):
        if localtime.local_date(row["measured_at"]) != day:
            continue
        key = f"r:{row['resident_id']}" if row["resident_id"] else f"h:{row['household_id']}"
        row["fever"] = is_fever(row["temperature_c"])
        out[key] = row
    return out


def progress_by_building(db: Database, compound_id: str, day) -> dict[str, int]:
    """How many residents (or resident-less households) of each building were checked on `day`."""
    counts: dict[str, int] = {}
    for row in today_readings(db, compound_id, day).values():
        counts[row["building"]] = counts.get(row["building"], 0) + 1
    return counts


def open_fever_keys(db: Database, compound_id: str) -> set[str]:
    rows = db.query(
        "SELECT resident_id, household_id FROM health_cases WHERE compound_id = ? AND "
        "category = 'fever' AND released_on IS NULL AND deleted = 0",
        [compound_id],
    )
    return {f"r:{r['resident_id']}" if r["resident_id"] else f"h:{r['household_id']}" for r in rows}


def save_grid(
    replica: Replica,
    db: Database,
    compound_id: str,
    roster: list[dict[str, Any]],
    readings: dict[str, Decimal],
    who: str,
) -> tuple[int, list[str]]:
    """Write the readings as new checks; a fever opens a `fever` case unless one is open.

    Returns (checks written, row keys that got a new fever case).
    """
    when = localtime.now()
    by_key = {row["key"]: row for row in roster}
    checks: dict[str, dict[str, Any]] = {}
    fevers: list[tuple[str, str, Decimal]] = []
    for key, value in readings.items():
        row = by_key[key]
        check_id = new_id()
        checks[check_id] = {
            "compound_id": compound_id,
            "household_id": row["household_id"],
            "resident_id": row["resident_id"],
            "temperature_c": float(value),
            "measured_at": when.isoformat(),
            "recorded_by": who,
        }
        if value >= FEVER:
            fevers.append((key, check_id, value))
    if checks:
        replica.write_many("temperature_checks", checks)
    opened = []
    if fevers:
        already = open_fever_keys(db, compound_id)
        cases = {}
        for key, check_id, value in fevers:
            if key in already:
                continue
            row = by_key[key]
            cases[new_id()] = {
                "compound_id": compound_id,
                "resident_id": row["resident_id"],
                "household_id": row["household_id"],
                "category": "fever",
                "start_date": when.date().isoformat(),
                "source_check_id": check_id,
                "note": f"{value} °C",
                "recorded_by": who,
            }
            opened.append(key)
        if cases:
            replica.write_many("health_cases", cases)
    return len(checks), opened
