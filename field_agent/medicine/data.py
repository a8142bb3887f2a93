"""Medicine bought on behalf of residents: requests with a drug-box photo, the buyer's
shopping list, bought / delivered / refused, and refused medicine kept as stock. `db` first."""

from __future__ import annotations

import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlite_utils import Database

from sync import Replica, new_id

from .. import localtime
from ..places.data import natural

ALL_STATES = ("requested", "bought", "delivered", "refused")
OPEN = ("requested", "bought")


def clean(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text or "").split())


def parse_quantity(raw: str) -> tuple[int | None, str | None]:
    raw = clean(raw)
    if not raw:
        return None, "Enter how many."
    if not raw.isdigit():
        return None, "A whole number of boxes."
    value = int(raw)
    if not 1 <= value <= 1000:
        return None, "Between 1 and 1000."
    return value, None


def parse_price(raw: str) -> tuple[Decimal | None, str | None]:
    """Yuan to the fen, exact (Decimal): '35', '35.5', '35.50'."""
    raw = clean(raw).replace(",", ".").removeprefix("¥").removesuffix("元").strip()
    if not raw:
        return None, "Enter the price paid."
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return None, "Not a price."
    if not value.is_finite() or value < 0 or value > 1_000_000:
        return None, "Not a price."
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        return None, "At most two decimals (fen)."
    return value, None


def yuan(value: Any) -> Decimal | None:
    """A stored price as exact yuan (the column is REAL; two decimals are all it carries)."""
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.01"))


_SELECT = (
    "SELECT m.id, m.compound_id, m.household_id, m.drug_name, m.quantity, m.photo_sha256, "
    "m.price_yuan, m.status, m.refused_reason, m.requested_by, m.bought_by, m.delivered_by, "
    "m.created_at, m.reassigned_to, h.building, h.unit, h.owner_name "
    "FROM medicine_requests m JOIN households h ON h.id = m.household_id "
)


def _shape(row: dict[str, Any]) -> dict[str, Any]:
    row["status"] = row["status"] or "requested"
    row["price"] = yuan(row["price_yuan"])
    return row


def requests(
    db: Database, compound_id: str, statuses: tuple[str, ...] = OPEN
) -> list[dict[str, Any]]:
    marks = ", ".join("?" * len(statuses))
    rows = db.query(
        _SELECT + f"WHERE m.compound_id = ? AND m.deleted = 0 AND coalesce(m.status, "
        f"'requested') IN ({marks})",
        [compound_id, *statuses],
    )
    out = [_shape(r) for r in rows]
    out.sort(key=lambda r: (natural(r["building"]), natural(r["unit"]), r["id"]))
    return out


def get(db: Database, request_id: str) -> dict[str, Any] | None:
    rows = list(db.query(_SELECT + "WHERE m.id = ? AND m.deleted = 0", [request_id]))
    return _shape(rows[0]) if rows else None


def shopping_list(db: Database, compound_id: str) -> list[dict[str, Any]]:
    """What the buyer takes to the pharmacy: each drug once, total boxes, for whom."""
    groups: dict[str, dict[str, Any]] = {}
    for row in requests(db, compound_id, ("requested",)):
        key = row["drug_name"].casefold()
        group = groups.setdefault(
            key, {"drug_name": row["drug_name"], "total": 0, "requests": [], "photos": []}
        )
        group["total"] += row["quantity"] or 0
        group["requests"].append(row)
        if row["photo_sha256"] and row["photo_sha256"] not in group["photos"]:
            group["photos"].append(row["photo_sha256"])
    return sorted(groups.values(), key=lambda g: g["drug_name"])


def stock(db: Database, compound_id: str) -> tuple[list[dict[str, Any]], Decimal]:
    """Refused medicine not yet given to another household, and its value (exact)."""
    rows = [
        r
        for r in requests(db, compound_id, ("refused",))
        if not r["reassigned_to"] and r["price"] is not None  # refused before buying: no stock
    ]
    total = sum((r["price"] or Decimal(0) for r in rows), Decimal("0.00"))
    return rows, total


def create(
    replica: Replica,
    request_id: str,
    compound_id: str,
    household_id: str,
    drug_name: str,
    quantity: int,
    photo_sha256: str | None,
    who: str,
) -> None:
    replica.write(
        "medicine_requests",
        request_id,
        {
            "compound_id": compound_id,
            "household_id": household_id,
            "drug_name": drug_name,
            "quantity": quantity,
            "photo_sha256": photo_sha256,
            "status": "requested",
            "requested_by": who,
            "created_at": localtime.now_iso(),
            "recorded_by": who,
        },
    )


def mark_bought(replica: Replica, request_id: str, price: Decimal, who: str) -> None:
    replica.write(
        "medicine_requests",
        request_id,
        {"status": "bought", "price_yuan": float(price), "bought_by": who, "recorded_by": who},
    )


def mark_delivered(replica: Replica, request_id: str, who: str) -> None:
    replica.write(
        "medicine_requests",
        request_id,
        {"status": "delivered", "delivered_by": who, "recorded_by": who},
    )


def mark_refused(replica: Replica, request_id: str, reason: str, who: str) -> None:
    replica.write(
        "medicine_requests",
        request_id,
        {"status": "refused", "refused_reason": reason, "delivered_by": who, "recorded_by": who},
    )


def reassign(replica: Replica, row: dict[str, Any], household_id: str, who: str) -> str:
    """Give refused medicine to another household: a new request, already bought."""
    new = new_id()
    replica.write(
        "medicine_requests",
        new,
        {
            "compound_id": row["compound_id"],
            "household_id": household_id,
            "drug_name": row["drug_name"],
            "quantity": row["quantity"],
            "photo_sha256": row["photo_sha256"],
            "price_yuan": row["price_yuan"],
            "status": "bought",
            "bought_by": row["bought_by"],
            "requested_by": who,
            "created_at": localtime.now_iso(),
            "recorded_by": who,
        },
    )
    replica.write(
        "medicine_requests", row["id"], {"reassigned_to": household_id, "recorded_by": who}
    )
    return new
