"""First start, sign-in by PIN, quick switching, idle lock, adding volunteers, language."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..db import get_db
from ..web import back, render, safe_next
from . import data
from .access import has_volunteers, public, sign_in, sign_out

bp = Blueprint("volunteers", __name__)
NAV = [("volunteers.index", _l("Volunteers"))]


def _form_errors(errors: dict[str, str]) -> dict[str, str]:
    return {field: _(msg) for field, msg in errors.items()}


@bp.route("/setup", methods=["GET", "POST"])
@public
def setup():
    """First start: the first volunteer of this laptop chooses a name and PIN."""
    db = get_db()
    if has_volunteers():
        return redirect(url_for("volunteers.signin"))
    form = {"name": ""}
    errors: dict[str, str] = {}
    if request.method == "POST":
        form["name"] = data.clean_name(request.form.get("name", ""))
        errors = data.check_new(
            db, form["name"], request.form.get("pin", ""), request.form.get("pin2", "")
        )
        if not errors:
            person = data.create(db, form["name"], request.form["pin"])
            sign_in(person)
            flash(_("Welcome, %(name)s. This laptop is ready.", name=person["name"]))
            return redirect(url_for("places.home"), code=303)
    status = 422 if errors else 200
    return render("volunteers/setup.html", form=form, errors=_form_errors(errors), status=status)


@bp.route("/signin", methods=["GET", "POST"])
@public
def signin():
    db = get_db()
    if not has_volunteers():
        return redirect(url_for("volunteers.setup"))
    people = data.all_active(db)
    chosen = request.values.get("volunteer") or session.get("locked_vid")
    error = None
    status = 200
    if request.method == "POST":
        pin = request.form.get("pin", "")
        result = data.check_pin(db, chosen or "", pin) if chosen else "choose"
        if result == "ok":
            person = data.get(db, chosen)
            sign_in(person)
            return redirect(safe_next(request.args.get("next")), code=303)
        error = {
            "choose": _("Choose who you are."),
            "wrong": _("Wrong PIN."),
            "paused": _("Too many wrong PINs. Wait a minute and try again."),
        }[result]
        status = 429 if result == "paused" else 401 if result == "wrong" else 422
    locked = session.get("locked_vid")
    return render(
        "volunteers/signin.html",
        people=people,
        chosen=chosen,
        locked=locked,
        error=error,
        status=status,
    )


@bp.post("/switch")
@public
def switch():
    """Hand the laptop to someone else: sign out, straight to the list of names."""
    sign_out()
    return redirect(url_for("volunteers.signin"), code=303)


@bp.post("/lock")
@public
def lock():
    """Lock now (walking away); the same person unlocks with the PIN."""
    sign_out(lock=True)
    return redirect(url_for("volunteers.signin"), code=303)


@bp.route("/volunteers", methods=["GET", "POST"])
def index():
    """Everyone who uses this laptop; add a volunteer."""
    db = get_db()
    form = {"name": ""}
    errors: dict[str, str] = {}
    if request.method == "POST":
        form["name"] = data.clean_name(request.form.get("name", ""))
        errors = data.check_new(
            db, form["name"], request.form.get("pin", ""), request.form.get("pin2", "")
        )
        if not errors:
            data.create(db, form["name"], request.form["pin"])
            flash(_("%(name)s can now sign in on this laptop.", name=form["name"]))
            return redirect(url_for("volunteers.index"), code=303)
    return render(
        "volunteers/index.html",
        people=data.all_active(db),
        form=form,
        errors=_form_errors(errors),
        status=422 if errors else 200,
    )


@bp.post("/lang/<code>")
@public
def set_language(code: str):
    if code not in ("zh_CN", "en"):
        return render("error.html", message=_("Unknown language."), code=404, status=404)
    session["lang"] = code
    return back()
