"""The community overview (the home page), places, compounds and buildings."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, request, url_for
from flask_babel import gettext as _

from sync import WriteError

from ..auth.access import login_required, require_compound, roles_required
from ..auth.data import ALL, set_compounds
from ..db import get_db, get_replica
from ..register.fields import parse_int, text, write_errors
from ..web import render
from . import data
from .scope import ADMIN, REGISTER_READERS, missing, scope_of

bp = Blueprint("places", __name__)


def level_label(level: str) -> str:
    labels = {
        "city": _("City"),
        "district": _("District"),
        "street": _("Street"),
        "community": _("Community"),
        "village": _("Village"),
    }
    return labels.get(level, level)


def overview():
    """The home page: the compounds of this community, or the units below a street,
    district or city (called by server.home for a signed-in user)."""
    db = get_db()
    level = current_app.config["LEVEL"]
    if level != "community":
        return render("places/overview_upper.html", units=data.units_below(db, level))
    compounds = data.compounds(db, scope_of(g.user))
    keys = ("buildings", "households", "residents", "medical_worker", "hardship", "elderly_alone")
    totals = {k: sum(c[k] or 0 for c in compounds) for k in keys}
    return render(
        "places/overview.html",
        compounds=compounds,
        totals=totals,
        can_read=g.user.role in REGISTER_READERS,
    )


@bp.get("/places")
@login_required
def places():
    db = get_db()
    return render("places/places.html", tree=data.tree(db), form={}, errors={})


@bp.post("/places")
@roles_required(*ADMIN)
def add_place():
    db = get_db()
    form = {k: text(request.form.get(k)) for k in ("level", "name", "parent_id")}
    try:
        data.add_place(db, form["level"], form["name"], form["parent_id"] or None)
    except data.PlaceError as exc:
        errors = {exc.field: _place_error(exc)}
        return render(
            "places/places.html", tree=data.tree(db), form=form, errors=errors, status=422
        )
    flash(_("Saved."))
    return redirect(url_for("places.places"), code=303)


def _place_error(exc: data.PlaceError) -> str:
    return {
        "level": _("Choose a level."),
        "name": _("The name must be 1 to 200 characters."),
        "parent_id": _("The parent must be a larger unit (a street above a community)."),
    }.get(exc.field, str(exc))


@bp.get("/compounds")
@login_required
def compounds():
    return render("places/compounds.html", compounds=data.compounds(get_db(), scope_of(g.user)))


def _compound_form(db, compound=None, form=None, errors=None, status=200):
    return render(
        "places/compound_form.html",
        compound=compound,
        form=form if form is not None else (compound or {}),
        errors=errors or {},
        communities=data.communities(db),
        status=status,
    )


def _read_compound_form() -> tuple[dict, dict]:
    form = {k: text(request.form.get(k)) for k in ("name", "community_id", "address")}
    errors = {}
    if not form["name"]:
        errors["name"] = _("The name is missing.")
    return form, errors


@bp.route("/compounds/new", methods=["GET", "POST"])
@roles_required(*ADMIN)
def new_compound():
    db = get_db()
    if request.method == "GET":
        return _compound_form(db)
    form, errors = _read_compound_form()
    if form["community_id"] and data.get_place(db, form["community_id"]) is None:
        errors["community_id"] = _("Choose a community from the list.")
    compound_id = data.stable_id("compound", form["community_id"], form["name"])
    if not errors and data.get_compound(db, compound_id):
        errors["name"] = _("This community has a compound of this name already.")
    if not errors:
        values = {"compound_id": compound_id, "name": form["name"]}
        values.update({k: form[k] or None for k in ("community_id", "address")})
        try:
            get_replica().write("compounds", compound_id, values)
        except WriteError as exc:
            errors = write_errors(exc)
    if errors:
        return _compound_form(db, form=form, errors=errors, status=422)
    if ALL not in g.user.compounds:  # an admin of some compounds keeps seeing this one
        set_compounds(db, g.user.id, [*g.user.compounds, compound_id])
    flash(_("Saved."))
    return redirect(url_for("places.compound", compound_id=compound_id), code=303)


def _load_compound(compound_id: str) -> dict:
    compound = data.get_compound(get_db(), compound_id)
    if compound is None:
        missing()
    require_compound(compound_id)
    return compound


@bp.get("/compounds/<compound_id>")
@login_required
def compound(compound_id: str):
    db = get_db()
    found = _load_compound(compound_id)
    return render(
        "places/compound.html",
        compound=found,
        path=data.path(db, found["community_id"]),
        buildings=data.buildings(db, compound_id),
        form={},
        errors={},
        can_read=g.user.role in REGISTER_READERS,
    )


@bp.route("/compounds/<compound_id>/edit", methods=["GET", "POST"])
@roles_required(*ADMIN)
def edit_compound(compound_id: str):
    db = get_db()
    found = _load_compound(compound_id)
    if request.method == "GET":
        return _compound_form(db, compound=found)
    form, errors = _read_compound_form()
    if form["community_id"] and data.get_place(db, form["community_id"]) is None:
        errors["community_id"] = _("Choose a community from the list.")
    if not errors:
        changes = {k: form[k] or None for k in ("name", "community_id", "address")}
        changes = {k: v for k, v in changes.items() if v != found.get(k)}
        try:
            if changes:
                get_replica().write("compounds", compound_id, changes)
        except WriteError as exc:
            errors = write_errors(exc)
    if errors:
        return _compound_form(db, compound=found, form=form, errors=errors, status=422)
    flash(_("Saved."))
    return redirect(url_for("places.compound", compound_id=compound_id), code=303)


def _read_building_form() -> tuple[dict, dict, dict]:
    form = {k: text(request.form.get(k)) for k in ("name", "floors", "units")}
    errors: dict[str, str] = {}
    if not form["name"]:
        errors["name"] = _("The name is missing.")
    elif len(form["name"]) > 100:
        errors["name"] = _("At most %(n)s characters.", n=100)
    values: dict = {"name": form["name"]}
    for key, hi in (("floors", 200), ("units", 10000)):
        values[key], problem = parse_int(form[key], 0, hi)
        if problem:
            errors[key] = problem
    return form, values, errors


@bp.post("/compounds/<compound_id>/buildings")
@roles_required(*ADMIN)
def add_building(compound_id: str):
    db = get_db()
    found = _load_compound(compound_id)
    form, values, errors = _read_building_form()
    building_id = data.stable_id(compound_id, "building", form["name"])
    if not errors and data.get_building(db, building_id):
        errors["name"] = _("This compound has a building of this name already.")
    if not errors:
        try:
            get_replica().write(
                "buildings",
                building_id,
                {"compound_id": compound_id, **{k: v for k, v in values.items() if v is not None}},
            )
        except WriteError as exc:
            errors = write_errors(exc)
    if errors:
        return render(
            "places/compound.html",
            compound=found,
            path=data.path(db, found["community_id"]),
            buildings=data.buildings(db, compound_id),
            form=form,
            errors=errors,
            can_read=g.user.role in REGISTER_READERS,
            status=422,
        )
    flash(_("Saved."))
    return redirect(url_for("places.compound", compound_id=compound_id), code=303)


@bp.route("/buildings/<building_id>/edit", methods=["GET", "POST"])
@roles_required(*ADMIN)
def edit_building(building_id: str):
    db = get_db()
    building = data.get_building(db, building_id)
    if building is None:
        missing()
    require_compound(building["compound_id"])
    if request.method == "GET":
        return render("places/building_form.html", building=building, form=building, errors={})
    form, values, errors = _read_building_form()
    households = next(
        (
            b["households"]
            for b in data.buildings(db, building["compound_id"])
            if b["id"] == building_id
        ),
        0,
    )
    if not errors and form["name"] != building["name"] and households:
        errors["name"] = _("Households live in this building: its name cannot change.")
    if not errors:
        changes = {k: v for k, v in values.items() if v != building.get(k)}
        try:
            if changes:
                get_replica().write("buildings", building_id, changes)
        except WriteError as exc:
            errors = write_errors(exc)
    if errors:
        return render(
            "places/building_form.html", building=building, form=form, errors=errors, status=422
        )
    flash(_("Saved."))
    return redirect(url_for("places.compound", compound_id=building["compound_id"]), code=303)


@bp.app_context_processor
def place_labels():
    return {"level_label": level_label, "levels": data.LEVELS}
