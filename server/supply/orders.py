"""Group-buying: offers, household orders, totals per building, the resulting deliveries.

Offers and orders are synced tables (volunteers take orders on the agent too), so every
write goes through the replica. SQL reads take `db` first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlite_utils import Database

from sync import Replica, new_id

from .data import delivery_id
from .errors import InputError

FEN = Decimal("0.01")
PAYMENT_STATES = ("unpaid", "paid", "refunded")


class OrderError(InputError):
    """Bad offer or order input; `field` names the input at fault (for a form)."""


def _decimal(value: Any, field: str, places: int, allow_zero: bool = False) -> Decimal:
    if isinstance(value, bool | float):
        raise OrderError(
            field, "%(field)s must be given exactly, not %(value)r", field=field, value=value
        )
    try:
        number = Decimal(str(value).strip())
    except ArithmeticError:
        raise OrderError(
            field, "%(field)s must be a number, not %(value)r", field=field, value=value
        ) from None
    if not number.is_finite():
        raise OrderError(
            field, "%(field)s must be a number, not %(value)r", field=field, value=value
        )
    if number < 0:
        raise OrderError(
            field, "%(field)s cannot be negative (%(number)s)", field=field, number=number
        )
    if number == 0 and not allow_zero:
        raise OrderError(field, "%(field)s must be more than zero", field=field)
    if number != number.quantize(Decimal(1).scaleb(-places)):
        raise OrderError(
            field,
            "%(field)s has more than %(places)s decimals (%(number)s)",
            field=field,
            places=places,
            number=number,
        )
    if number >= 10_000_000:
        raise OrderError(
            field, "%(field)s is implausibly large (%(number)s)", field=field, number=number
        )
    return number


def _text(value: Any, field: str, limit: int, required: bool = True) -> str | None:
    value = value.strip() if isinstance(value, str) else ""
    if required and not value:
        raise OrderError(field, "%(field)s is required", field=field)
    if len(value) > limit:
        raise OrderError(
            field, "%(field)s is longer than %(limit)s characters", field=field, limit=limit
        )
    return value or None


def _deadline(value: Any) -> str | None:
    if not value:
        return None
    try:
        when = dt.datetime.fromisoformat(str(value).strip())
    except ValueError:
        raise OrderError(
            "deadline", "deadline must be a date and time, not %(value)r", value=value
        ) from None
    if when.tzinfo is None:  # a form's local time: the community's clock (Beijing time)
        when = when.replace(tzinfo=dt.timezone(dt.timedelta(hours=8)))
    return when.isoformat(timespec="minutes")


def create_offer(
    db: Database,
    replica: Replica,
    *,
    compound_id: str,
    item: Any,
    unit: Any,
    unit_price_yuan: Any,
    deadline: Any = None,
    max_per_household: Any = None,
    organiser: Any = None,
    note: Any = None,
) -> str:
    if not db.execute(
        "SELECT 1 FROM compounds WHERE id = ? AND deleted = 0", [compound_id]
    ).fetchone():
        raise OrderError("compound_id", "unknown compound %(id)s", id=compound_id)
    values = {
        "compound_id": compound_id,
        "item": _text(item, "item", 200),
        "unit": _text(unit, "unit", 40),
        "unit_price_yuan": str(_decimal(unit_price_yuan, "unit_price_yuan", 2, allow_zero=True)),
        "deadline": _deadline(deadline),
        "max_per_household": None
        if max_per_household in (None, "")
        else str(_decimal(max_per_household, "max_per_household", 3)),
        "status": "open",
        "organiser": _text(organiser, "organiser", 100, required=False),
        "note": _text(note, "note", 1000, required=False),
    }
    offer_id = new_id()
    replica.write("group_offers", offer_id, values)
    return offer_id


def list_offers(db: Database, compound_ids: Sequence[str]) -> list[dict[str, Any]]:
    marks = ",".join("?" * len(compound_ids))
    return list(
        db.query(
            "SELECT o.*, (SELECT COUNT(*) FROM group_orders g WHERE g.offer_id = o.id "
            "AND g.deleted = 0) AS orders FROM group_offers o "
            f"WHERE o.deleted = 0 AND o.compound_id IN ({marks}) ORDER BY o.id DESC",
            list(compound_ids),
        )
    )


def get_offer(db: Database, offer_id: str) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM group_offers WHERE id = ? AND deleted = 0", [offer_id]))
    return rows[0] if rows else None


def place_order(
    db: Database,
    replica: Replica,
    offer: dict[str, Any],
    *,
    household_id: Any,
    quantity: Any,
    taken_by: Any = None,
    note: Any = None,
    now: dt.datetime | None = None,
) -> str:
    """Record (or replace) a household's order on an open offer."""
    if offer["status"] != "open":
        raise OrderError("offer", "this offer is closed to new orders")
    now = now or dt.datetime.now(dt.UTC)
    if offer["deadline"] and now > dt.datetime.fromisoformat(offer["deadline"]):
        raise OrderError(
            "offer", "the ordering deadline (%(deadline)s) has passed", deadline=offer["deadline"]
        )
    household_id = _text(household_id, "household_id", 100)
    found = db.execute(
        "SELECT compound_id FROM households WHERE id = ? AND deleted = 0", [household_id]
    ).fetchone()
    if found is None:
        raise OrderError("household_id", "unknown household %(id)s", id=household_id)
    if found[0] != offer["compound_id"]:
        raise OrderError("household_id", "this household is not in the offer's compound")
    amount = _decimal(quantity, "quantity", 3)
    if offer["max_per_household"] and amount > Decimal(offer["max_per_household"]):
        raise OrderError(
            "quantity",
            "at most %(max)s %(unit)s per household",
            max=offer["max_per_household"],
            unit=offer["unit"],
        )
    existing = db.execute(
        "SELECT id FROM group_orders WHERE offer_id = ? AND household_id = ? AND deleted = 0",
        [offer["id"], household_id],
    ).fetchone()
    order_id = existing[0] if existing else new_id()
    values = {
        "compound_id": offer["compound_id"],
        "offer_id": offer["id"],
        "household_id": household_id,
        "quantity": str(amount),
        "taken_by": _text(taken_by, "taken_by", 100, required=False),
        "note": _text(note, "note", 500, required=False),
    }
    if not existing:
        values["payment"] = "unpaid"
    replica.write("group_orders", order_id, values)
    return order_id


def set_payment(db: Database, replica: Replica, order_id: str, state: str) -> None:
    if state not in PAYMENT_STATES:
        raise OrderError(
            "payment", "payment must be one of %(choices)s", choices=", ".join(PAYMENT_STATES)
        )
    row = db.execute(
        "SELECT payment FROM group_orders WHERE id = ? AND deleted = 0", [order_id]
    ).fetchone()
    if row is None:
        raise OrderError("order", "unknown order %(id)s", id=order_id)
    if PAYMENT_STATES.index(state) < PAYMENT_STATES.index(row[0] or "unpaid"):
        raise OrderError(
            "payment", "payment cannot go back from %(old)s to %(new)s", old=row[0], new=state
        )
    replica.write("group_orders", order_id, {"payment": state})


def orders(db: Database, offer: dict[str, Any]) -> list[dict[str, Any]]:
    """The offer's orders with building, unit and the amount due (exact yuan)."""
    price = Decimal(offer["unit_price_yuan"])
    rows = list(
        db.query(
            "SELECT g.*, h.building, h.unit AS home_unit, h.owner_name FROM group_orders g "
            "LEFT JOIN households h ON h.id = g.household_id "
            "WHERE g.offer_id = ? AND g.deleted = 0 ORDER BY h.building, h.unit, g.id",
            [offer["id"]],
        )
    )
    for row in rows:
        row["quantity"] = Decimal(row["quantity"])
        row["amount_yuan"] = (row["quantity"] * price).quantize(FEN)
    return rows


def totals_by_building(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per building: households, quantity, amount due and paid, adding up from the orders.

    Refunded orders are left out: nothing is bought or delivered for them.
    """
    out: dict[str, dict[str, Any]] = {}
    zero, no_yuan = Decimal(0), Decimal("0.00")
    for row in rows:
        if row["payment"] == "refunded":
            continue
        t = out.setdefault(
            row["building"] or "",
            {"building": row["building"] or "", "households": 0, "quantity": zero,
             "amount_yuan": no_yuan, "paid_yuan": no_yuan},
        )  # fmt: skip
        t["households"] += 1
        t["quantity"] += row["quantity"]
        t["amount_yuan"] += row["amount_yuan"]
        if row["payment"] == "paid":
            t["paid_yuan"] += row["amount_yuan"]
    return sorted(out.values(), key=lambda t: t["building"])


def close_offer(replica: Replica, offer_id: str) -> None:
    replica.write("group_offers", offer_id, {"status": "closed"})


def dispatch(db: Database, replica: Replica, offer: dict[str, Any]) -> int:
    """One delivery per ordering household (refunded orders excluded); safe to repeat."""
    if offer["status"] == "open":
        raise OrderError("offer", "close the offer before making its deliveries")
    label = f"{offer['item']} ({offer['unit']})"[:500]
    wanted: dict[str, dict[str, Any]] = {}
    for row in orders(db, offer):
        if row["payment"] == "refunded":
            continue
        key = delivery_id(offer["id"], row["household_id"])
        entry = wanted.setdefault(
            key,
            {"compound_id": offer["compound_id"], "household_id": row["household_id"],
             "kind": "group_buy", "items": label, "quantity": Decimal(0),
             "status": "planned", "round_id": offer["id"]},
        )  # fmt: skip
        entry["quantity"] += row["quantity"]
    present = {
        r[0] for r in db.execute("SELECT id FROM deliveries WHERE round_id = ?", [offer["id"]])
    }
    missing = {
        k: {**v, "quantity": float(v["quantity"])} for k, v in wanted.items() if k not in present
    }
    if missing:
        replica.write_many("deliveries", missing)
    replica.write("group_offers", offer["id"], {"status": "dispatched"})
    return len(missing)
