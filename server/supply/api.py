"""JSON API of the supply area (signed-in users, read-only): plans, totals, balances, stock.

Exact figures travel as decimal strings ("1499.50"), never as floats.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, g, jsonify

from ..auth.access import login_required, require_compound, roles_required
from ..db import get_db
from . import data, ledger, ledger_data, medicine, orders

bp = Blueprint("supply_api", __name__, url_prefix="/api/supply")


def _s(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


@bp.get("/rounds/<round_id>")
@login_required
def round_plan(round_id: str):
    """A round and its plan: who gets what, and why.
    ---
    get:
      summary: A distribution round with its plan (live for drafts, frozen once confirmed)
      parameters:
        - {in: path, name: round_id, schema: {type: string}, required: true}
      responses:
        200: {description: "round fields, seed, policy tiers, allocations in the order served"}
        401: {description: not signed in}
        403: {description: a compound of the round is outside your scope}
        404: {description: no such round}
    """
    db = get_db()
    rnd = data.get_round(db, round_id)
    if rnd is None:
        abort(404, description="no such round")
    for c in rnd["compound_ids"]:
        require_compound(c)
    keys = ("household_id", "rank", "tier_name", "received_before", "last_received", "draw",
            "quantity", "outcome")  # fmt: skip
    if rnd["status"] == "confirmed":
        allocations = [{k: row[k] for k in keys} for row in data.round_lines(db, round_id)]
    else:
        plan, _ = data.plan_round(db, rnd)
        allocations = [{k: _s(getattr(a, k)) for k in keys} for a in plan.allocations]
        for a in allocations:
            a["last_received"] = a["last_received"] and str(a["last_received"])
    head = ("id", "item", "unit", "quantity", "per_household", "seed", "status", "compound_ids")
    return jsonify(
        {**{k: rnd[k] for k in head}, "divisible": bool(rnd["divisible"]),
         "tiers": list(rnd["policy"].tiers), "allocations": allocations}
    )  # fmt: skip


@bp.get("/offers/<offer_id>/totals")
@login_required
def offer_totals(offer_id: str):
    """Totals per building of a group-buying offer.
    ---
    get:
      summary: Households, quantity, amount due and paid per building (yuan as strings)
      parameters:
        - {in: path, name: offer_id, schema: {type: string}, required: true}
      responses:
        200: {description: "offer fields and one row per building"}
        404: {description: no such offer}
    """
    db = get_db()
    offer = orders.get_offer(db, offer_id)
    if offer is None:
        abort(404, description="no such offer")
    require_compound(offer["compound_id"])
    totals = orders.totals_by_building(orders.orders(db, offer))
    return jsonify(
        {"offer": offer, "buildings": [{k: _s(v) for k, v in t.items()} for t in totals]}
    )


@bp.get("/ledger/balances")
@roles_required("community_admin", "committee")
def ledger_balances():
    """Balances of the donations ledger, per purpose.
    ---
    get:
      summary: Money (yuan) and goods in, out and held per purpose, summed from the entries
      responses:
        200: {description: "money and goods balances, and the number of entries"}
        403: {description: your role may not read the ledger}
    """
    entries = ledger_data.entries(get_db())
    money = {
        p: {"in": str(b.received), "out": str(b.spent), "held": str(b.held)}
        for p, b in ledger.money_balances(entries).items()
    }
    goods = [
        {"purpose": p, "item": item, "unit": unit, "in": str(b.received), "out": str(b.spent),
         "held": str(b.held)}
        for (p, item, unit), b in ledger.goods_balances(entries).items()
    ]  # fmt: skip
    return jsonify({"entries": len(entries), "money": money, "goods": goods})


@bp.get("/medicine/stock")
@roles_required("volunteer", "building_head", "community_admin")
def medicine_stock():
    """Refused medicine held, with its total value.
    ---
    get:
      summary: Refused medicine requests not yet reassigned or returned, and their value
      responses:
        200: {description: "total_yuan and the requests held"}
    """
    names = data.compound_names(get_db())
    rows, total = medicine.stock(get_db(), g.user.scope(list(names)))
    items = [{k: _s(v) for k, v in r.items()} for r in rows]
    return jsonify({"total_yuan": str(total), "items": items})
