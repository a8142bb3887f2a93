"""Medicine bought on behalf: requests with a drug-box photo, the shopping list, stock."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import RequestEntityTooLarge

from sync import WriteError, new_id
from sync.blobstore import is_name

from .. import localtime
from ..db import get_blob_store, get_db, get_replica
from ..photos import photo_problem, store_photo
from ..places import data as places
from ..places.context import compound_required, current_compound
from ..volunteers.access import recorded_by
from ..web import render, safe_next
from . import data

bp = Blueprint("medicine", __name__, url_prefix="/medicine")
NAV = [("medicine.index", _l("Medicine"))]

STATE_LABELS = {
    "requested": _l("to buy"),
    "bought": _l("bought"),
    "delivered": _l("delivered"),
    "refused": _l("refused"),
}


def _ctx() -> dict:
    return {"state_labels": STATE_LABELS, "photo_here": _photo_here}


def _photo_here(sha: str | None) -> bool:
    return bool(sha) and get_blob_store().exists(sha)


def _own(request_id: str) -> dict:
    row = data.get(get_db(), request_id)
    if row is None or row["compound_id"] != current_compound()["id"]:
        abort(404, description=_("No such request."))
    return row


@bp.get("/")
@compound_required
def index(errors: dict | None = None, status: int = 200):
    db = get_db()
    compound = current_compound()
    return render(
        "medicine/index.html",
        status=status,
        rows=data.requests(db, compound["id"]),
        errors=errors or {},
        **_ctx(),
    )


@bp.route("/new", methods=["GET", "POST"])
@compound_required
def new():
    db = get_db()
    compound = current_compound()
    households = places.households(db, compound["id"])
    form = {"household_id": "", "drug_name": "", "quantity": "1"}
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            upload = request.files.get("photo")
            form = {k: data.clean(request.form.get(k, "")) for k in form}
        except RequestEntityTooLarge:
            errors["photo"] = _("The photo is too large.")
            return _new_page(form, errors, households, 413)
        household = places.household(db, form["household_id"])
        if household is None or household["compound_id"] != compound["id"]:
            errors["household_id"] = _("Choose a household.")
        if not form["drug_name"]:
            errors["drug_name"] = _("Enter the drug's name (as on the box).")
        elif len(form["drug_name"]) > 200:
            errors["drug_name"] = _("At most 200 characters.")
        quantity, problem = data.parse_quantity(form["quantity"])
        if problem:
            errors["quantity"] = _(problem)
        photo = upload.read() if upload is not None and upload.filename else None
        if photo is not None and (why := photo_problem(photo)):
            errors["photo"] = why
        if not errors:
            replica = get_replica()
            request_id = new_id()
            sha = None
            who = recorded_by()
            if photo is not None:
                sha = store_photo(
                    replica,
                    get_blob_store(),
                    compound["id"],
                    photo,
                    ref_table="medicine_requests",
                    ref_id=request_id,
                    who=who,
                    taken_at=localtime.now_iso(),
                )
            data.create(
                replica,
                request_id,
                compound["id"],
                form["household_id"],
                form["drug_name"],
                quantity,
                sha,
                who,
            )
            flash(_("Request recorded: %(drug)s × %(n)d.", drug=form["drug_name"], n=quantity))
            return redirect(url_for("medicine.new"), code=303)
    return _new_page(form, errors, households, 422 if errors else 200)


def _new_page(form, errors, households, status):
    return render(
        "medicine/new.html", status=status, form=form, errors=errors, households=households
    )


@bp.get("/shopping")
@compound_required
def shopping(errors: dict | None = None, status: int = 200):
    """The buyer's consolidated list: each drug once, how many in all, for whom."""
    return render(
        "medicine/shopping.html",
        status=status,
        groups=data.shopping_list(get_db(), current_compound()["id"]),
        errors=errors or {},
        **_ctx(),
    )


@bp.get("/stock")
@compound_required
def stock(errors: dict | None = None, status: int = 200):
    """Refused medicine stays accounted for, with its value, until given to someone else."""
    db = get_db()
    compound = current_compound()
    rows, total = data.stock(db, compound["id"])
    return render(
        "medicine/stock.html",
        status=status,
        rows=rows,
        total=total,
        households=places.households(db, compound["id"]),
        errors=errors or {},
        **_ctx(),
    )


def _fail(request_id: str, message: str):
    """Show the message next to the request on the page the form came from."""
    target = request.form.get("next", "")
    errors = {request_id: message}
    if target.startswith(url_for("medicine.shopping")):
        return shopping(errors, 422)
    if target.startswith(url_for("medicine.stock")):
        return stock(errors, 422)
    return index(errors, 422)


def _write(request_id: str, action, *args):
    try:
        action(get_replica(), request_id, *args)
    except WriteError as exc:
        if any(p.reason == "max_backwards" for p in exc.problems):
            return _fail(request_id, _("Another volunteer already moved this request further."))
        return _fail(request_id, "; ".join(p.message for p in exc.problems))
    return redirect(safe_next(request.form.get("next"), "medicine.index"), code=303)


@bp.post("/<request_id>/bought")
@compound_required
def bought(request_id: str):
    row = _own(request_id)
    if row["status"] != "requested":
        return _fail(request_id, _("Only a request still to buy can be marked bought."))
    price, problem = data.parse_price(request.form.get("price", ""))
    if problem:
        return _fail(request_id, _(problem))
    return _write(request_id, data.mark_bought, price, recorded_by())


@bp.post("/<request_id>/delivered")
@compound_required
def delivered(request_id: str):
    row = _own(request_id)
    if row["status"] != "bought":
        return _fail(request_id, _("Only bought medicine can be delivered."))
    return _write(request_id, data.mark_delivered, recorded_by())


@bp.post("/<request_id>/refused")
@compound_required
def refused(request_id: str):
    row = _own(request_id)
    if row["status"] not in data.OPEN:
        return _fail(request_id, _("This request is already closed."))
    reason = data.clean(request.form.get("reason", ""))
    if not reason:
        return _fail(request_id, _("Say why it was refused."))
    if len(reason) > 500:
        return _fail(request_id, _("The reason is too long (500 characters at most)."))
    return _write(request_id, data.mark_refused, reason, recorded_by())


@bp.post("/<request_id>/reassign")
@compound_required
def reassign(request_id: str):
    row = _own(request_id)
    if row["status"] != "refused" or row["reassigned_to"]:
        return _fail(
            request_id, _("Only refused medicine in stock can be given to another household.")
        )
    household = places.household(get_db(), request.form.get("household_id", ""))
    if household is None or household["compound_id"] != row["compound_id"]:
        return _fail(request_id, _("Choose a household."))
    if household["id"] == row["household_id"]:
        return _fail(request_id, _("This household refused it; choose another."))
    data.reassign(get_replica(), row, household["id"], recorded_by())
    flash(
        _(
            "Given to %(unit)s; deliver it from the medicine list.",
            unit=f"{household['building']} {household['unit']}",
        )
    )
    return redirect(url_for("medicine.stock"), code=303)


@bp.get("/photo/<sha>")
def photo(sha: str):
    if not is_name(sha):
        abort(404)
    store = get_blob_store()
    if not store.exists(sha):
        abort(404, description=_("This photo is not on this laptop."))
    return send_file(store.path(sha), mimetype="image/jpeg", max_age=3600)
