"""Medicine stock: medicine that residents refused on delivery, until it is reassigned to
another request or returned to the pharmacy. The value held is always known.

The stock is the refused `medicine_requests` (synced from the agents) that have no move
in `medicine_moves` (server-only, insert-only).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlite_utils import Database

from sync import Replica, new_id

from .data import now_iso
from .errors import InputError

FEN = Decimal("0.01")


class StockError(InputError):
    """Medicine stock that cannot move as asked; `field` names the input at fault."""


def value_of(price: Any) -> Decimal:
    """The yuan value of a request (its price, stored as a real number) to the fen."""
    return Decimal(0) if price is None else Decimal(str(price)).quantize(FEN)


def _requests(db: Database, where: str, params: list[Any]) -> list[dict[str, Any]]:
    rows = list(
        db.query(
            "SELECT m.id, m.compound_id, m.household_id, m.drug_name, m.quantity, m.price_yuan, "
            "m.status, m.refused_reason, h.building, h.unit, h.owner_name "
            "FROM medicine_requests m LEFT JOIN households h ON h.id = m.household_id "
            f"WHERE m.deleted = 0 AND {where} ORDER BY m.drug_name, m.id",
            params,
        )
    )
    for row in rows:
        row["value_yuan"] = value_of(row["price_yuan"])
    return rows


def stock(db: Database, compound_ids: Sequence[str]) -> tuple[list[dict[str, Any]], Decimal]:
    """Refused medicine still held, and its total value."""
    marks = ",".join("?" * len(compound_ids))
    rows = _requests(
        db,
        f"m.status = 'refused' AND m.compound_id IN ({marks}) "
        "AND m.id NOT IN (SELECT request_id FROM medicine_moves)",
        list(compound_ids),
    )
    return rows, sum((r["value_yuan"] for r in rows), Decimal(0))


def open_requests(db: Database, compound_ids: Sequence[str], drug_name: str) -> list[dict]:
    """Requests still waiting for this drug: candidates to receive refused stock."""
    marks = ",".join("?" * len(compound_ids))
    return _requests(
        db,
        f"m.status = 'requested' AND m.compound_id IN ({marks}) "
        "AND lower(trim(m.drug_name)) = lower(trim(?))",
        [*compound_ids, drug_name],
    )


def moves(db: Database) -> list[dict[str, Any]]:
    return list(db.query("SELECT * FROM medicine_moves ORDER BY at DESC, id DESC"))


def _held(db: Database, request_id: str) -> dict[str, Any]:
    rows = _requests(db, "m.id = ?", [request_id])
    if not rows or rows[0]["status"] != "refused":
        raise StockError("request_id", "no refused medicine %(id)s in stock", id=request_id)
    if db.execute("SELECT 1 FROM medicine_moves WHERE request_id = ?", [request_id]).fetchone():
        raise StockError("request_id", "this medicine has already left the stock")
    return rows[0]


def reassign(db: Database, replica: Replica, request_id: str, to_request_id: str, user: str):
    """Give refused medicine to another household's open request for the same drug."""
    held = _held(db, request_id)
    targets = [r for r in open_requests(db, [held["compound_id"]], held["drug_name"])]
    target = next((r for r in targets if r["id"] == to_request_id), None)
    if target is None:
        raise StockError(
            "to_request_id",
            "no open request for %(drug)s with id %(id)s",
            drug=held["drug_name"],
            id=to_request_id,
        )
    values: dict[str, Any] = {"status": "bought", "bought_by": f"stock:{request_id}"[:100]}
    if target["price_yuan"] is None and held["price_yuan"] is not None:
        values["price_yuan"] = held["price_yuan"]
    replica.write("medicine_requests", to_request_id, values)
    _record(db, request_id, "reassigned", to_request_id, held["value_yuan"], user, None)


def return_to_pharmacy(db: Database, request_id: str, user: str, note: str | None = None):
    held = _held(db, request_id)
    _record(db, request_id, "returned", None, held["value_yuan"], user, note)


def _record(db, request_id, action, to_request_id, value, user, note) -> None:
    db["medicine_moves"].insert(
        {
            "id": new_id(),
            "request_id": request_id,
            "action": action,
            "to_request_id": to_request_id,
            "value_yuan": str(value),
            "note": (note or "").strip()[:500] or None,
            "at": now_iso(),
            "by": user,
        }
    )
