"""The register as the agent sees it (pulled from the server): compounds, buildings,
households, residents. Reads only; `db` first."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from sqlite_utils import Database

_DIGITS = re.compile(r"(\d+)")


@lru_cache(maxsize=8192)  # the same few hundred building and unit names, sorted often
def natural(text: str | None) -> tuple:
    """Sort '2栋' before '10栋' and '2-101' before '10-101'."""
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in _DIGITS.split(text or "")
        if part
    )


def compounds(db: Database) -> list[dict[str, Any]]:
    rows = list(db.query("SELECT id, name FROM compounds WHERE deleted = 0"))
    return sorted(rows, key=lambda r: natural(r["name"]))


def compound(db: Database, compound_id: str) -> dict[str, Any] | None:
    rows = list(
        db.query("SELECT id, name FROM compounds WHERE id = ? AND deleted = 0", [compound_id])
    )
    return rows[0] if rows else None


def buildings(db: Database, compound_id: str) -> list[dict[str, Any]]:
    """Buildings of the compound with household and resident counts.

    A building named only in households (no buildings row yet) still shows, by name.
    """
    listed = {
        r["name"]: r
        for r in db.query(
            "SELECT id, name FROM buildings WHERE compound_id = ? AND deleted = 0", [compound_id]
        )
    }
    counts = db.query(
        "SELECT h.building AS name, count(DISTINCT h.id) AS households, count(r.id) AS residents "
        "FROM households h LEFT JOIN residents r ON r.household_id = h.id AND r.deleted = 0 "
        "WHERE h.compound_id = ? AND h.deleted = 0 GROUP BY h.building",
        [compound_id],
    )
    out = {}
    for row in counts:
        base = listed.get(row["name"], {"id": None, "name": row["name"]})
        out[row["name"]] = {**base, "households": row["households"], "residents": row["residents"]}
    for name, row in listed.items():
        out.setdefault(name, {**row, "households": 0, "residents": 0})
    return sorted(out.values(), key=lambda r: natural(r["name"]))


def roster(db: Database, compound_id: str, building: str) -> list[dict[str, Any]]:
    """Everyone to check in a building: each resident, or the household when none is listed."""
    rows = list(
        db.query(
            "SELECT h.id AS household_id, h.unit, h.owner_name, r.id AS resident_id, "
            "r.name AS resident_name FROM households h "
            "LEFT JOIN residents r ON r.household_id = h.id AND r.deleted = 0 "
            "WHERE h.compound_id = ? AND h.building = ? AND h.deleted = 0",
            [compound_id, building],
        )
    )
    for row in rows:
        row["key"] = f"r:{row['resident_id']}" if row["resident_id"] else f"h:{row['household_id']}"
        row["label"] = row["resident_name"] or row["owner_name"] or ""
    rows.sort(key=lambda r: (natural(r["unit"]), r["label"]))
    return rows


def households(db: Database, compound_id: str) -> list[dict[str, Any]]:
    rows = list(
        db.query(
            "SELECT id, building, unit, owner_name FROM households "
            "WHERE compound_id = ? AND deleted = 0",
            [compound_id],
        )
    )
    rows.sort(key=lambda r: (natural(r["building"]), natural(r["unit"])))
    return rows


def household(db: Database, household_id: str) -> dict[str, Any] | None:
    rows = list(
        db.query(
            "SELECT id, compound_id, building, unit, owner_name FROM households "
            "WHERE id = ? AND deleted = 0",
            [household_id],
        )
    )
    return rows[0] if rows else None


def residents_by_id(db: Database, compound_id: str) -> dict[str, dict[str, Any]]:
    return {
        r["id"]: r
        for r in db.query(
            "SELECT r.id, r.name, r.household_id, h.building, h.unit FROM residents r "
            "JOIN households h ON h.id = r.household_id WHERE r.compound_id = ? AND r.deleted = 0",
            [compound_id],
        )
    }
