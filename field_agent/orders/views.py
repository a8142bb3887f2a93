"""Group-buying orders: the compound's open offers, an order per household, this laptop's
orders with their totals. The checks are the server's (server/supply/orders.py)."""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from sync import WriteError

from .. import localtime
from ..db import get_db, get_replica
from ..places import data as places
from ..places.context import compound_required, current_compound
from ..volunteers.access import recorded_by
from ..web import render
from . import data

bp = Blueprint("orders", __name__, url_prefix="/orders")
NAV = [("orders.index", _l("Group buying"))]

STATE_LABELS = {
    "open": _l("open for orders"),
    "past_deadline": _l("deadline passed"),
    "closed": _l("closed"),
}
PAYMENT_LABELS = {"unpaid": _l("unpaid"), "paid": _l("paid"), "refunded": _l("refunded")}
QUANTITY_PROBLEMS = {
    "missing": _l("Enter the quantity."),
    "not_number": _l("Not a number."),
    "not_positive": _l("The quantity must be more than zero."),
    "decimals": _l("At most three decimals."),
    "too_large": _l("That quantity is implausibly large."),
}


def _ctx() -> dict:
    return {"state_labels": STATE_LABELS, "payment_labels": PAYMENT_LABELS}


@bp.get("/")
@compound_required
def index():
    db = get_db()
    compound = current_compound()
    return render(
        "orders/index.html",
        offers=data.offers(db, compound["id"], localtime.now()),
        groups=data.taken_here(db, compound["id"], get_replica().local_no),
        **_ctx(),
    )


def _refusal(offer: dict) -> str | None:
    which = data.state(offer, localtime.now())
    if which == "closed":
        return _("This offer is closed to new orders.")
    if which == "past_deadline":
        return _("The ordering deadline (%(deadline)s) has passed.",
                 deadline=localtime.show(offer["deadline"]))  # fmt: skip
    return None


@bp.route("/<offer_id>/new", methods=["GET", "POST"])
@compound_required
def new(offer_id: str):
    db = get_db()
    compound = current_compound()
    offer = data.offer(db, offer_id)
    if offer is None or offer["compound_id"] != compound["id"]:
        abort(404, description=_("No such offer on this laptop."))
    households = places.households(db, compound["id"])
    form = {"household_id": "", "quantity": "", "note": ""}
    errors: dict[str, str] = {}
    refusal = _refusal(offer)
    if refusal:
        errors["offer"] = refusal
    if request.method == "GET":
        return _page(offer, form, errors, households, 200)
    form = {k: data.clean(request.form.get(k, "")) for k in form}
    if refusal:
        return _page(offer, form, errors, households, 422)
    household = places.household(db, form["household_id"]) if form["household_id"] else None
    if not form["household_id"]:
        errors["household_id"] = _("Choose a household.")
    elif household is None:
        errors["household_id"] = _("This household is not in the register on this laptop.")
    elif household["compound_id"] != offer["compound_id"]:
        errors["household_id"] = _("This household is not in the offer's compound.")
    quantity, problem = data.parse_quantity(form["quantity"])
    if problem:
        errors["quantity"] = str(QUANTITY_PROBLEMS[problem])
    elif offer["max_per_household"] and quantity > Decimal(offer["max_per_household"]):
        errors["quantity"] = _(
            "At most %(max)s %(unit)s per household.",
            max=offer["max_per_household"],
            unit=offer["unit"],
        )
    if len(form["note"]) > 500:
        errors["note"] = _("At most 500 characters.")
    if errors:
        return _page(offer, form, errors, households, 422)
    try:
        _order_id, replaced = data.place(
            db, get_replica(), offer, household["id"], quantity, recorded_by(), form["note"]
        )
    except WriteError as exc:
        errors["form"] = "; ".join(p.message for p in exc.problems)
        return _page(offer, form, errors, households, 422)
    where = f"{household['building']} {household['unit']}"
    if replaced:
        flash(_("The order of %(home)s now reads %(q)s %(unit)s.",
                home=where, q=quantity, unit=offer["unit"]))  # fmt: skip
    else:
        flash(_("Order taken: %(home)s, %(q)s %(unit)s.",
                home=where, q=quantity, unit=offer["unit"]))  # fmt: skip
    return redirect(url_for("orders.new", offer_id=offer["id"]), code=303)


def _page(offer, form, errors, households, status):
    earlier = None
    if form["household_id"]:
        earlier = data.existing_order(get_db(), offer["id"], form["household_id"])
    return render(
        "orders/new.html",
        status=status,
        offer=offer,
        form=form,
        errors=errors,
        households=households,
        earlier=earlier,
        **_ctx(),
    )
