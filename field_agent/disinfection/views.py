"""Disinfection: quick entry per area and building, today's log."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import localtime
from ..db import get_db, get_replica
from ..places import data as places
from ..places.context import compound_required, current_compound
from ..volunteers.access import recorded_by
from ..web import render
from . import data

bp = Blueprint("disinfection", __name__, url_prefix="/disinfection")
NAV = [("disinfection.index", _l("Disinfection"))]

AREA_LABELS = {
    "corridor": _l("corridors"),
    "stairwell": _l("stairwells"),
    "lift": _l("lifts"),
    "gate": _l("entrance gate"),
    "outdoor": _l("outdoor public areas"),
    "garbage": _l("garbage points"),
}


@bp.route("/", methods=["GET", "POST"])
@compound_required
def index():
    db = get_db()
    compound = current_compound()
    buildings = [b["name"] for b in places.buildings(db, compound["id"])]
    fields = ("area", "other_area", "building", "done_by", "done_at", "note")
    form = {k: request.form.get(k, "").strip() for k in fields}
    errors: dict[str, str] = {}
    if request.method == "POST":
        area = form["other_area"] if form["area"] == "other" else form["area"]
        if form["area"] != "other" and area not in data.AREAS:
            errors["area"] = _("Choose an area.")
        elif not area:
            errors["other_area"] = _("Say which area.")
        elif len(area) > 200:
            errors["other_area"] = _("At most 200 characters.")
        if form["building"] and form["building"] not in buildings:
            errors["building"] = _("No such building.")
        when, problem = data.parse_done_at(form["done_at"])
        if problem:
            errors["done_at"] = _(problem)
        if len(form["done_by"]) > 100:
            errors["done_by"] = _("At most 100 characters.")
        if len(form["note"]) > 500:
            errors["note"] = _("At most 500 characters.")
        if not errors:
            who = recorded_by()
            values = {
                "area": area,
                "building": form["building"] or None,
                "done_by": form["done_by"] or who,
                "done_at": when.isoformat(),
                "note": form["note"] or None,
            }
            data.record(get_replica(), compound["id"], values, who)
            where = AREA_LABELS.get(area, area)
            flash(_("Recorded: %(area)s %(building)s.", area=where, building=form["building"]))
            return redirect(url_for("disinfection.index"), code=303)
    return render(
        "disinfection/index.html",
        status=422 if errors else 200,
        form=form,
        errors=errors,
        buildings=buildings,
        areas=data.AREAS,
        area_labels=AREA_LABELS,
        logs=data.day_logs(db, compound["id"], localtime.today()),
    )
