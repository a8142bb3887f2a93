"""Deliveries: the day's list per building, one click per status change, filters."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from sync import WriteError

from .. import localtime
from ..db import cached, get_db, get_replica
from ..places import data as places
from ..places.context import compound_required, current_compound
from ..volunteers.access import recorded_by
from ..web import is_htmx, render, safe_next
from . import data

bp = Blueprint("deliveries", __name__, url_prefix="/deliveries")
NAV = [("deliveries.index", _l("Deliveries"))]

STATE_LABELS = {
    "planned": _l("planned"),
    "packed": _l("packed"),
    "out": _l("out for delivery"),
    "delivered": _l("delivered"),
    "refused": _l("refused"),
}
ACTION_LABELS = {
    "packed": _l("Packed"),
    "out": _l("Out"),
    "delivered": _l("Delivered"),
    "refused": _l("Refused"),
}
KIND_LABELS = {
    "group_buy": _l("group buying"),
    "vegetables": _l("vegetable package"),
    "donation": _l("donated goods"),
    "medicine": _l("medicine"),
    "other": _l("other"),
}


def _labels(here: str) -> dict:
    """Per-request constants for the rows, translated and escaped once, not once per row."""
    actions = {k: str(v) for k, v in ACTION_LABELS.items()}
    buttons = {
        s: Markup('<button name="status" value="{}" class="small{}">{}</button>').format(
            s, " secondary" if s == "refused" else "", label
        )
        for s, label in actions.items()
    }
    attrs = Markup('placeholder="{}" aria-label="{}"').format(_("reason"), _("Reason for refusing"))
    return {
        "state_labels": {k: str(v) for k, v in STATE_LABELS.items()},
        "kind_labels": {k: str(v) for k, v in KIND_LABELS.items()},
        "next_states": data.next_states,
        "buttons": buttons,
        "refuse_attrs": attrs,
        "refuse_input_invalid": Markup(
            '<input name="reason" size="10" maxlength="500" {} aria-invalid="true">'
        ).format(attrs),
        "hidden": Markup(
            '<input type="hidden" name="csrf_token" value="{}">'
            '<input type="hidden" name="next" value="{}">'
        ).format(generate_csrf(), here),
        "status_url": url_for("deliveries.set_status", delivery_id="ROW-ID"),
    }


def _filters() -> dict[str, str]:
    return {k: request.args.get(k, "").strip() for k in ("building", "round", "kind")}


PAGE_SIZE = 200  # rows per page: a round may hold 700+ packages for one compound


def _page(status: int = 200, row_errors: dict | None = None):
    db = get_db()
    compound = current_compound()
    chosen = _filters()
    today = localtime.today()
    key = ("deliveries", compound["id"], today, chosen["building"], chosen["round"], chosen["kind"])
    rows = cached(
        key,
        lambda: data.day_list(
            db,
            compound["id"],
            today,
            building=chosen["building"] or None,
            round_id=chosen["round"] or None,
            kind=chosen["kind"] or None,
        ),
    )
    pages = max(1, -(-len(rows) // PAGE_SIZE))
    try:
        page = min(max(1, int(request.args.get("page", 1))), pages)
    except ValueError:
        page = 1
    if row_errors:  # show the row that failed, wherever it sits
        index = next((i for i, r in enumerate(rows) if r["id"] in row_errors), None)
        if index is not None:
            page = index // PAGE_SIZE + 1
    shown = rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    return render(
        "deliveries/index.html",
        "deliveries/_list.html",
        status=status,
        rows=shown,
        total=len(rows),
        done=sum(1 for r in rows if r["status"] in data.DONE),
        page=page,
        pages=pages,
        first=(page - 1) * PAGE_SIZE + 1,
        chosen=chosen,
        options=cached(("filters", compound["id"]), lambda: data.filters(db, compound["id"])),
        buildings=cached(
            ("building names", compound["id"]),
            lambda: [b["name"] for b in places.buildings(db, compound["id"])],
        ),
        today=today,
        row_errors=row_errors or {},
        **_labels(request.full_path),
    )


@bp.get("/")
@compound_required
def index():
    return _page()


@bp.post("/<delivery_id>/status")
@compound_required
def set_status(delivery_id: str):
    """One click: packed, out, delivered, or refused with a reason."""
    db = get_db()
    row = data.get(db, delivery_id)
    if row is None or row["compound_id"] != current_compound()["id"]:
        abort(404, description=_("No such delivery."))
    status = request.form.get("status", "")
    reason = " ".join(request.form.get("reason", "").split())
    error = None
    if status not in data.STATES or status == "planned":
        error = _("Unknown status.")
    elif status == "refused" and not reason:
        error = _("Say why it was refused.")
    elif len(reason) > 500:
        error = _("The reason is too long (500 characters at most).")
    else:
        try:
            data.set_status(get_replica(), delivery_id, status, reason or None, recorded_by())
        except WriteError as exc:
            if any(p.reason == "max_backwards" for p in exc.problems):
                error = _(
                    "Already %(state)s: a delivery never moves back.",
                    state=STATE_LABELS.get(row["status"], row["status"]),
                )
            else:
                error = "; ".join(p.message for p in exc.problems)
    if error is None and not is_htmx():
        return redirect(safe_next(request.form.get("next"), "deliveries.index"), code=303)
    if is_htmx():
        fresh = data.get(db, delivery_id)
        return render(
            "deliveries/_row.html",
            status=422 if error else 200,
            row=fresh,
            error=error,
            reason=reason,
            **_labels(request.form.get("next") or url_for("deliveries.index")),
        )
    return _page(422, {delivery_id: error})


@bp.route("/new", methods=["GET", "POST"])
@compound_required
def new():
    """A delivery this volunteer makes that no round planned (e.g. donated produce)."""
    db = get_db()
    compound = current_compound()
    households = places.households(db, compound["id"])
    form = {
        k: request.form.get(k, "").strip()
        for k in ("household_id", "kind", "items", "quantity", "round_id")
    }
    errors: dict[str, str] = {}
    if request.method == "POST":
        household = places.household(db, form["household_id"])
        if household is None or household["compound_id"] != compound["id"]:
            errors["household_id"] = _("Choose a household.")
        if form["kind"] not in data.KINDS:
            errors["kind"] = _("Choose a kind.")
        if not form["items"]:
            errors["items"] = _("Say what is delivered.")
        elif len(form["items"]) > 500:
            errors["items"] = _("At most 500 characters.")
        quantity, problem = data.parse_quantity(form["quantity"])
        if problem:
            errors["quantity"] = _(problem)
        if len(form["round_id"]) > 100:
            errors["round_id"] = _("At most 100 characters.")
        if not errors:
            values = {
                "household_id": form["household_id"],
                "kind": form["kind"],
                "items": form["items"],
                "quantity": quantity,
                "round_id": form["round_id"] or None,
            }
            data.create(get_replica(), compound["id"], values, recorded_by())
            flash(_("Delivery added."))
            return redirect(url_for("deliveries.new"), code=303)
    return render(
        "deliveries/new.html",
        status=422 if errors else 200,
        form=form,
        errors=errors,
        households=households,
        kinds=data.KINDS,
        kind_labels=KIND_LABELS,
    )
