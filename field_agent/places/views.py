"""The start page: this laptop's compound, its buildings and today's progress."""

from __future__ import annotations

from flask import Blueprint, abort, request, session
from flask_babel import gettext as _

from .. import localtime
from ..db import get_db
from ..temperatures import data as temperatures
from ..web import back, render
from . import data
from .context import current_compound

bp = Blueprint("places", __name__)


@bp.get("/")
def home():
    db = get_db()
    compound = current_compound()
    buildings = []
    if compound is not None:
        today = localtime.today()
        done = temperatures.progress_by_building(db, compound["id"], today)
        buildings = data.buildings(db, compound["id"])
        for b in buildings:
            b["checked"] = done.get(b["name"], 0)
    return render(
        "places/home.html",
        compound=compound,
        compounds=data.compounds(db),
        buildings=buildings,
    )


@bp.post("/compound")
def choose_compound():
    compound_id = request.form.get("compound_id", "")
    if data.compound(get_db(), compound_id) is None:
        abort(404, description=_("No such compound on this laptop."))
    session["compound_id"] = compound_id
    return back()
