"""Households and residents: the list with search and filters, detail, edit forms.

Every read is limited to the user's compounds; every write goes through the replica
(so it syncs to the agents) and is refused unless the role may write the table.
"""

from __future__ import annotations

from flask import Blueprint, flash, g, redirect, request, url_for
from flask_babel import gettext as _

from sync import WriteError

from ..auth.access import login_required, require_compound, roles_required
from ..db import get_db, get_replica
from ..places import data as places
from ..places.data import stable_id
from ..places.scope import REGISTER_READERS, may_edit, missing, require_write, scope_of
from ..web import render
from . import data, fields

bp = Blueprint("register", __name__)


def list_args() -> dict:
    """The list's filters from the query string (unknown flags and bad pages ignored)."""
    args = request.args
    try:
        page = max(1, min(int(args.get("page", "1")), 100_000))
    except ValueError:
        page = 1
    return {
        "q": fields.text(args.get("q"))[:100],
        "compound": args.get("compound") or "",
        "building": args.get("building") or "",
        "flags": tuple(f for f in data.FLAGS if args.get(f)),
        "page": page,
    }


def query_households(args: dict) -> tuple[list[dict], int]:
    db = get_db()
    building = None
    if args["compound"]:
        require_compound(args["compound"])
    if args["building"]:
        found = places.get_building(db, args["building"])
        if found is None:
            missing()
        require_compound(found["compound_id"])
        building = (found["compound_id"], found["name"])
    return data.household_page(
        db,
        scope_of(g.user),
        compound=args["compound"] or None,
        building=building,
        flags=args["flags"],
        q=args["q"] or None,
        page=args["page"],
    )


@bp.get("/households")
@roles_required(*REGISTER_READERS)
def households():
    args = list_args()
    rows, total = query_households(args)
    scope = scope_of(g.user)
    db = get_db()
    pages = max(1, -(-total // data.PER_PAGE))
    return render(
        "register/households.html",
        "register/_households.html",
        rows=rows,
        total=total,
        pages=pages,
        args=args,
        compounds=places.compound_names(db, scope),
        buildings=places.buildings_in(db, scope),
        can_edit=may_edit(g.user, "households"),
        page_url=page_url,
    )


def page_url(page: int) -> str:
    params = {k: v for k, v in request.args.items() if v}
    params["page"] = str(page)
    return url_for("register.households", **params)


def _load_household(household_id: str) -> dict:
    household = data.get_household(get_db(), household_id)
    if household is None:
        missing()
    require_compound(household["compound_id"])
    return household


@bp.get("/households/<household_id>")
@roles_required(*REGISTER_READERS)
def household(household_id: str):
    found = _load_household(household_id)
    return _detail(found)


def _detail(found: dict, form: dict | None = None, errors: dict | None = None, status=200):
    return render(
        "register/household.html",
        household=found,
        co_owners=fields.show_names(found.get("co_owners")),
        residents=data.residents_of(get_db(), found["id"]),
        can_edit=may_edit(g.user, "households"),
        form=form or {},
        errors=errors or {},
        status=status,
    )


def _household_form(compound: dict, household=None, form=None, errors=None, status=200):
    if form is None:
        form = dict(household or {})
        form["co_owners"] = fields.show_names(form.get("co_owners"))
    return render(
        "register/household_form.html",
        compound=compound,
        household=household,
        form=form,
        errors=errors or {},
        buildings=places.buildings(get_db(), compound["id"]),
        status=status,
    )


def _unit_taken(compound_id: str, values: dict, own_id: str | None) -> bool:
    other = data.households_by_unit(get_db(), compound_id).get((values["building"], values["unit"]))
    return other is not None and other["id"] != own_id


def _write(table: str, row_id: str, values: dict) -> dict[str, str]:
    """Write the values (nothing when there are none); the engine's refusal as form errors."""
    try:
        if values:
            get_replica().write(table, row_id, values)
    except WriteError as exc:
        return fields.write_errors(exc)
    return {}


@bp.route("/households/new", methods=["GET", "POST"])
@login_required
def new_household():
    db = get_db()
    compound_id = request.values.get("compound", "")
    if not compound_id:
        if not may_edit(g.user, "households"):
            require_write("households", None)
        choices = places.compound_names(db, scope_of(g.user))
        return render("register/choose_compound.html", compounds=choices)
    compound = places.get_compound(db, compound_id)
    if compound is None:
        missing()
    require_write("households", compound_id)
    if request.method == "GET":
        return _household_form(compound, form={})
    form = request.form.to_dict()
    values, errors = fields.household(form, places.building_names(db, compound_id))
    if not errors and _unit_taken(compound_id, values, None):
        errors["unit"] = _("This unit is in the register already.")
    household_id = stable_id(compound_id, values["building"], values["unit"])
    if not errors:
        errors = _write("households", household_id, {"compound_id": compound_id, **values})
    if errors:
        return _household_form(compound, form=form, errors=errors, status=422)
    flash(_("Saved."))
    return redirect(url_for("register.household", household_id=household_id), code=303)


@bp.route("/households/<household_id>/edit", methods=["GET", "POST"])
@login_required
def edit_household(household_id: str):
    found = _load_household(household_id)
    require_write("households", found["compound_id"])
    db = get_db()
    compound = places.get_compound(db, found["compound_id"])
    if request.method == "GET":
        return _household_form(compound, household=found)
    form = request.form.to_dict()
    values, errors = fields.household(form, places.building_names(db, found["compound_id"]))
    if not errors and _unit_taken(found["compound_id"], values, household_id):
        errors["unit"] = _("Another household has this unit.")
    if not errors:
        changes = {k: v for k, v in values.items() if v != found.get(k)}
        errors = _write("households", household_id, changes)
    if errors:
        return _household_form(compound, household=found, form=form, errors=errors, status=422)
    flash(_("Saved."))
    return redirect(url_for("register.household", household_id=household_id), code=303)


@bp.post("/households/<household_id>/delete")
@login_required
def delete_household(household_id: str):
    found = _load_household(household_id)
    require_write("households", found["compound_id"])
    replica = get_replica()
    for person in data.residents_of(get_db(), household_id):
        replica.delete("residents", person["id"])
    replica.delete("households", household_id)
    flash(_("Household %(b)s-%(u)s removed.", b=found["building"], u=found["unit"]))
    return redirect(url_for("register.households", compound=found["compound_id"]), code=303)


@bp.post("/households/<household_id>/residents")
@login_required
def add_resident(household_id: str):
    found = _load_household(household_id)
    require_write("residents", found["compound_id"])
    form = request.form.to_dict()
    values, errors = fields.resident(form)
    resident_id = stable_id(household_id, values["name"])
    if not errors and data.get_resident(get_db(), resident_id):
        errors["name"] = _("This person is listed already.")
    if not errors:
        row = {"compound_id": found["compound_id"], "household_id": household_id, **values}
        errors = _write("residents", resident_id, row)
    if errors:
        return _detail(found, form=form, errors=errors, status=422)
    flash(_("Saved."))
    return redirect(url_for("register.household", household_id=household_id), code=303)


def _load_resident(resident_id: str) -> dict:
    person = data.get_resident(get_db(), resident_id)
    if person is None:
        missing()
    require_compound(person["compound_id"])
    return person


@bp.route("/residents/<resident_id>/edit", methods=["GET", "POST"])
@login_required
def edit_resident(resident_id: str):
    person = _load_resident(resident_id)
    require_write("residents", person["compound_id"])
    if request.method == "GET":
        return render("register/resident_form.html", person=person, form=person, errors={})
    form = request.form.to_dict()
    values, errors = fields.resident(form)
    if not errors:
        changes = {k: v for k, v in values.items() if v != person.get(k)}
        errors = _write("residents", resident_id, changes)
    if errors:
        return render(
            "register/resident_form.html", person=person, form=form, errors=errors, status=422
        )
    flash(_("Saved."))
    return redirect(url_for("register.household", household_id=person["household_id"]), code=303)


@bp.post("/residents/<resident_id>/delete")
@login_required
def delete_resident(resident_id: str):
    person = _load_resident(resident_id)
    require_write("residents", person["compound_id"])
    get_replica().delete("residents", resident_id)
    flash(_("%(name)s removed.", name=person["name"]))
    return redirect(url_for("register.household", household_id=person["household_id"]), code=303)


from . import io_views  # noqa: E402, F401  (registers the import, export and API routes)
