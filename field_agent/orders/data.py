"""Group-buying orders: the compound's offers, a household's order, this laptop's orders.

Offers and orders are synced tables (sync/tables/supply.py); quantities and prices are
exact decimal text. The rules are the server's (server/supply/orders.py `place_order`):
the agent checks them too, so a volunteer hears "past the deadline" at the door, not
later as a rejected cell. `db` / `replica` first.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlite_utils import Database

from sync import Replica, new_id

from ..places.data import natural

FEN = Decimal("0.01")
BEIJING = dt.timezone(dt.timedelta(hours=8))
LIMIT = Decimal(10_000_000)  # the server's "implausibly large"


def clean(text: str | None) -> str:
    return " ".join(unicodedata.normalize("NFKC", text or "").split())


def parse_quantity(raw: str) -> tuple[Decimal | None, str | None]:
    """A quantity as the server takes it: more than zero, at most 3 decimals.

    Returns (value, problem) where problem is one of 'missing', 'not_number',
    'not_positive', 'decimals', 'too_large'.
    """
    text = clean(raw).replace(" ", "")
    if not text:
        return None, "missing"
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None, "not_number"
    if not value.is_finite():
        return None, "not_number"
    if value <= 0:
        return None, "not_positive"
    if value != value.quantize(Decimal("0.001")):
        return None, "decimals"
    if value >= LIMIT:
        return None, "too_large"
    return Decimal(format(value, "f")), None  # '1e2' is 100, stored as '100' not '1E+2'


def deadline_of(offer: dict[str, Any]) -> dt.datetime | None:
    if not offer.get("deadline"):
        return None
    try:
        when = dt.datetime.fromisoformat(offer["deadline"])
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=BEIJING)


def state(offer: dict[str, Any], now: dt.datetime) -> str:
    """'open', 'past_deadline' or 'closed' (closed or dispatched on the server)."""
    if (offer.get("status") or "open") != "open":
        return "closed"
    deadline = deadline_of(offer)
    if deadline is not None and now > deadline:
        return "past_deadline"
    return "open"


_OFFER = (
    "SELECT id, compound_id, item, unit, unit_price_yuan, deadline, max_per_household, "
    "status, organiser, note FROM group_offers "
)


def offers(db: Database, compound_id: str, now: dt.datetime) -> list[dict[str, Any]]:
    """The compound's offers with their state now: open ones first, newest first."""
    rows = list(db.query(_OFFER + "WHERE compound_id = ? AND deleted = 0", [compound_id]))
    order = {"open": 0, "past_deadline": 1, "closed": 2}
    for row in rows:
        row["state"] = state(row, now)
    rows.sort(key=lambda r: r["id"], reverse=True)
    rows.sort(key=lambda r: order[r["state"]])
    return rows


def offer(db: Database, offer_id: str) -> dict[str, Any] | None:
    rows = list(db.query(_OFFER + "WHERE id = ? AND deleted = 0", [offer_id]))
    return rows[0] if rows else None


def existing_order(db: Database, offer_id: str, household_id: str) -> dict[str, Any] | None:
    rows = list(
        db.query(
            "SELECT id, quantity, payment FROM group_orders "
            "WHERE offer_id = ? AND household_id = ? AND deleted = 0",
            [offer_id, household_id],
        )
    )
    return rows[0] if rows else None


def place(
    db: Database,
    replica: Replica,
    offer: dict[str, Any],
    household_id: str,
    quantity: Decimal,
    taken_by: str,
    note: str | None,
) -> tuple[str, bool]:
    """Record (or replace, as the server does) the household's order; (order id, replaced)."""
    existing = existing_order(db, offer["id"], household_id)
    order_id = existing["id"] if existing else new_id()
    values: dict[str, Any] = {
        "compound_id": offer["compound_id"],
        "offer_id": offer["id"],
        "household_id": household_id,
        "quantity": format(quantity, "f"),
        "taken_by": taken_by,
        "note": note or None,
    }
    if not existing:
        values["payment"] = "unpaid"
    replica.write("group_orders", order_id, values)
    return order_id, existing is not None


def taken_here(db: Database, compound_id: str, site_no: int) -> list[dict[str, Any]]:
    """Orders whose quantity was last written on this laptop, grouped by offer, with totals
    (households, quantity, amount in exact yuan; refunded orders are left out as on the
    server)."""
    rows = list(
        db.query(
            "SELECT g.id, g.offer_id, g.household_id, g.quantity, g.payment, g.taken_by, "
            "g.note, o.item, o.unit, o.unit_price_yuan, h.building, h.unit AS home_unit, "
            "h.owner_name FROM group_orders g "
            "JOIN group_offers o ON o.id = g.offer_id "
            "LEFT JOIN households h ON h.id = g.household_id "
            "WHERE g.compound_id = ? AND g.deleted = 0 AND g._site_quantity = ?",
            [compound_id, site_no],
        )
    )
    groups: dict[str, dict[str, Any]] = {}
    for row in rows:
        price = Decimal(row["unit_price_yuan"])
        row["quantity"] = Decimal(row["quantity"])
        row["amount_yuan"] = (row["quantity"] * price).quantize(FEN)
        row["payment"] = row["payment"] or "unpaid"
        group = groups.setdefault(
            row["offer_id"],
            {"offer_id": row["offer_id"], "item": row["item"], "unit": row["unit"],
             "unit_price_yuan": row["unit_price_yuan"], "orders": [], "households": 0,
             "quantity": Decimal(0), "amount_yuan": Decimal("0.00")},
        )  # fmt: skip
        group["orders"].append(row)
        if row["payment"] != "refunded":
            group["households"] += 1
            group["quantity"] += row["quantity"]
            group["amount_yuan"] += row["amount_yuan"]
    for group in groups.values():
        group["orders"].sort(key=lambda r: (natural(r["building"]), natural(r["home_unit"])))
    return sorted(groups.values(), key=lambda g: g["offer_id"], reverse=True)
