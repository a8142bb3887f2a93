"""Health cases: who is on the "three kinds" list now; release (date, note) by the roles allowed."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import localtime
from ..db import get_db, get_replica
from ..places import data as places
from ..places.context import compound_required, current_compound
from ..volunteers.access import device_role, recorded_by, roles_required
from ..web import render
from . import data

bp = Blueprint("health", __name__, url_prefix="/health")
NAV = [("health.index", _l("Health cases"))]

CATEGORY_LABELS = {
    "confirmed": _l("confirmed case"),
    "suspected": _l("suspected case"),
    "fever": _l("fever case"),
    "close_contact": _l("close contact"),
}


def _page(status: int = 200, errors: dict | None = None, form: dict | None = None):
    db = get_db()
    compound = current_compound()
    today = localtime.today()
    open_cases = data.cases(db, compound["id"])
    for case in open_cases:
        try:
            start = dt.date.fromisoformat(case["start_date"])
            case["days"] = (today - start).days
        except (TypeError, ValueError):
            case["days"] = None
    residents = sorted(
        places.residents_by_id(db, compound["id"]).values(),
        key=lambda r: (places.natural(r["building"]), places.natural(r["unit"]), r["name"]),
    )
    return render(
        "health/index.html",
        status=status,
        cases=open_cases,
        released=data.cases(db, compound["id"], released=True)[:50],
        labels=CATEGORY_LABELS,
        categories=data.CATEGORIES,
        may_release=device_role() in data.RELEASERS,
        residents=residents,
        today=today.isoformat(),
        errors=errors or {},
        form=form or {},
    )


@bp.get("/")
@compound_required
def index():
    return _page()


@bp.post("/<case_id>/release")
@compound_required
@roles_required(*data.RELEASERS)
def release(case_id: str):
    db = get_db()
    case = data.get(db, case_id)
    if case is None or case["compound_id"] != current_compound()["id"]:
        abort(404, description=_("No such case."))
    if case["released_on"]:
        abort(409, description=_("This case is already released."))
    day, problem = data.parse_date(
        request.form.get("released_on", ""),
        not_before=case["start_date"],
        today=localtime.today(),
    )
    note = " ".join(request.form.get("note", "").split())
    errors = {}
    if problem:
        errors["released_on"] = _(problem)
    if len(note) > 1000:
        errors["note"] = _("At most 1000 characters.")
    if errors:
        form = {"released_on": request.form.get("released_on", ""), "note": note}
        return _page(422, {case_id: errors}, {case_id: form})
    data.release(get_replica(), case_id, day, note or None, recorded_by())
    flash(_("Released on %(day)s.", day=day))
    return redirect(url_for("health.index"), code=303)


@bp.post("/new")
@compound_required
def new():
    """Put a resident on the list (suspected, close contact, confirmed; fevers come from checks)."""
    db = get_db()
    compound = current_compound()
    residents = places.residents_by_id(db, compound["id"])
    form = {
        k: request.form.get(k, "").strip()
        for k in ("resident_id", "category", "start_date", "note")
    }
    errors = {}
    resident = residents.get(form["resident_id"])
    if resident is None:
        errors["resident_id"] = _("Choose a resident.")
    if form["category"] not in data.CATEGORIES:
        errors["category"] = _("Choose a kind.")
    day, problem = data.parse_date(form["start_date"], not_before=None, today=localtime.today())
    if problem:
        errors["start_date"] = _(problem)
    if len(form["note"]) > 1000:
        errors["note"] = _("At most 1000 characters.")
    if errors:
        return _page(422, {"new": errors}, {"new": form})
    values = {
        "resident_id": resident["id"],
        "household_id": resident["household_id"],
        "category": form["category"],
        "start_date": day,
        "note": form["note"] or None,
    }
    data.open_case(get_replica(), compound["id"], values, recorded_by())
    flash(_("Added to the list."))
    return redirect(url_for("health.index"), code=303)
