"""Deliveries: the day's list per building, status changes that only move forward. `db` first."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlite_utils import Database

from sync import Replica, new_id

from .. import localtime
from ..places.data import natural

STATES = ("planned", "packed", "out", "delivered", "refused")
DONE = ("delivered", "refused")
RANK = {"planned": 0, "packed": 1, "out": 2, "delivered": 3, "refused": 3}
KINDS = ("group_buy", "vegetables", "donation", "medicine", "other")


def day_list(
    db: Database,
    compound_id: str,
    day: dt.date,
    *,
    building: str | None = None,
    round_id: str | None = None,
    kind: str | None = None,
) -> list[dict[str, Any]]:
    """Open deliveries, and those finished on `day`, with their household's building and unit."""
    sql = (
        "SELECT d.id, d.household_id, d.kind, d.items, d.quantity, d.status, d.delivered_at, "
        "d.refused_reason, d.volunteer, d.round_id, h.building, h.unit, h.owner_name "
        "FROM deliveries d JOIN households h ON h.id = d.household_id "
        "WHERE d.compound_id = ? AND d.deleted = 0 AND (d.status IS NULL OR "
        "d.status NOT IN ('delivered', 'refused') OR d.delivered_at >= ?)"
    )
    params: list[Any] = [compound_id, localtime.day_window(day)]
    for column, value in (("h.building", building), ("d.round_id", round_id), ("d.kind", kind)):
        if value:
            sql += f" AND {column} = ?"
            params.append(value)
    out = []
    for row in db.query(sql, params):
        if row["status"] in DONE and localtime.local_date(row["delivered_at"]) != day:
            continue
        out.append(row)
    out.sort(key=lambda r: (natural(r["building"]), natural(r["unit"]), r["id"]))
    return out


def get(db: Database, delivery_id: str) -> dict[str, Any] | None:
    rows = list(
        db.query(
            "SELECT d.id, d.compound_id, d.household_id, d.kind, d.items, d.quantity, d.status, "
            "d.delivered_at, d.refused_reason, d.volunteer, d.round_id, h.building, h.unit, "
            "h.owner_name FROM deliveries d JOIN households h ON h.id = d.household_id "
            "WHERE d.id = ? AND d.deleted = 0",
            [delivery_id],
        )
    )
    return rows[0] if rows else None


def filters(db: Database, compound_id: str) -> dict[str, list[str]]:
    rounds = db.query(
        "SELECT DISTINCT round_id FROM deliveries WHERE compound_id = ? AND deleted = 0 "
        "AND round_id IS NOT NULL",
        [compound_id],
    )
    kinds = db.query(
        "SELECT DISTINCT kind FROM deliveries WHERE compound_id = ? AND deleted = 0 "
        "AND kind IS NOT NULL",
        [compound_id],
    )
    return {
        "rounds": sorted((r["round_id"] for r in rounds), key=natural),
        "kinds": sorted(k["kind"] for k in kinds),
    }


def next_states(status: str | None) -> list[str]:
    """The states a click may move to: only forward (the engine's `max` rule)."""
    rank = RANK.get(status or "planned", 0)
    return [s for s in STATES if RANK[s] > rank]


def set_status(
    replica: Replica, delivery_id: str, status: str, reason: str | None, who: str
) -> None:
    """Raises WriteError (e.g. max_backwards when another volunteer got further first)."""
    values: dict[str, Any] = {"status": status, "volunteer": who, "recorded_by": who}
    if status in DONE:
        values["delivered_at"] = localtime.now_iso()
    if status == "refused":
        values["refused_reason"] = reason
    replica.write("deliveries", delivery_id, values)


def parse_quantity(raw: str) -> tuple[float | None, str | None]:
    raw = (raw or "").strip().replace(",", ".")
    if not raw:
        return None, None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return None, "Not a number."
    if not value.is_finite() or value < 0 or value > 1_000_000:
        return None, "A quantity between 0 and 1,000,000."
    return float(value), None


def create(replica: Replica, compound_id: str, values: dict[str, Any], who: str) -> str:
    delivery_id = new_id()
    replica.write(
        "deliveries",
        delivery_id,
        {
            "compound_id": compound_id,
            "status": "planned",
            "volunteer": who,
            "recorded_by": who,
            **{k: v for k, v in values.items() if v not in (None, "")},
        },
    )
    return delivery_id
