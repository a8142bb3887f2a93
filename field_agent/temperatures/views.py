"""Temperatures: one keyboard-driven grid per building, one save for the whole building."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import localtime
from ..db import get_db, get_replica
from ..places import data as places
from ..places.context import compound_required, current_compound
from ..volunteers.access import recorded_by
from ..web import is_htmx, render
from . import data

bp = Blueprint("temperatures", __name__, url_prefix="/temperatures")
NAV = [("temperatures.index", _l("Temperatures"))]


@bp.get("/")
@compound_required
def index():
    """Buildings with today's progress (checked / total)."""
    db = get_db()
    compound = current_compound()
    today = localtime.today()
    done = data.progress_by_building(db, compound["id"], today)
    buildings = places.buildings(db, compound["id"])
    for b in buildings:
        b["total"] = b["residents"] + _households_without_residents(db, compound["id"], b["name"])
        b["checked"] = done.get(b["name"], 0)
    return render("temperatures/index.html", buildings=buildings, today=today)


def _households_without_residents(db, compound_id: str, building: str) -> int:
    return db.execute(
        "SELECT count(*) FROM households h WHERE h.compound_id = ? AND h.building = ? "
        "AND h.deleted = 0 AND NOT EXISTS (SELECT 1 FROM residents r "
        "WHERE r.household_id = h.id AND r.deleted = 0)",
        [compound_id, building],
    ).fetchone()[0]


def _grid(building: str, status: int = 200, **extra):
    db = get_db()
    compound = current_compound()
    roster = places.roster(db, compound["id"], building)
    if not roster:
        abort(404, description=_("No households in this building."))
    today = localtime.today()
    readings = data.today_readings(db, compound["id"], today, building)
    context = {
        "building": building,
        "roster": roster,
        "readings": readings,
        "checked": sum(1 for row in roster if row["key"] in readings),
        "total": len(roster),
        "today": today,
        "values": {},
        "errors": {},
        "fever_limit": data.FEVER,
        **extra,
    }
    # Typed fevers stay marked when the grid comes back to fix another field.
    context["typed_fever"] = {
        key for key, raw in context["values"].items() if data.is_fever(data.parse_reading(raw)[0])
    }
    return render("temperatures/grid.html", "temperatures/_grid.html", status=status, **context)


@bp.get("/grid")
@compound_required
def grid():
    building = request.args.get("building", "")
    return _grid(building)


@bp.post("/grid")
@compound_required
def save():
    """Save the building: all readings, or none when one of them is impossible."""
    building = request.args.get("building", "")
    db = get_db()
    compound = current_compound()
    roster = places.roster(db, compound["id"], building)
    if not roster:
        abort(404, description=_("No households in this building."))
    parsed = data.parse_grid(roster, request.form)
    errors = {key: _(msg) for key, msg in parsed.errors.items()}
    if not errors and not parsed.readings:
        return _grid(building, 422, form_error=_("Enter at least one reading."))
    if errors:
        values = {k: v for k, v in parsed.values.items() if v}
        count = len(errors)
        message = _("%(n)d readings cannot be right; nothing was saved.", n=count)
        return _grid(building, 422, values=values, errors=errors, form_error=message)
    written, opened = data.save_grid(
        get_replica(), db, compound["id"], roster, parsed.readings, recorded_by()
    )
    message = _("Saved %(n)d readings.", n=written)
    if opened:
        message += " " + _("%(n)d fever cases opened.", n=len(opened))
    if is_htmx():
        return _grid(building, saved=message, opened=set(opened))
    flash(message)
    return redirect(url_for("temperatures.grid", building=building), code=303)
