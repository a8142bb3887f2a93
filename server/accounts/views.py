"""Users (role and compounds) and devices (tokens issued once, revoked) for the secretary.

A community_admin manages only users whose compounds all lie in their own scope, and
grants only compounds of their own scope ("all compounds" only if they have it).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, g, redirect, request, url_for
from flask_babel import gettext as _

from ..auth import data as auth_data
from ..auth.access import roles_required
from ..auth.data import ALL
from ..db import get_db
from ..permissions import ROLES
from ..places import data as places
from ..places.scope import ADMIN, scope_of
from ..web import render
from . import data

bp = Blueprint("accounts", __name__)


def role_label(role: str) -> str:
    return {
        "volunteer": _("Volunteer"),
        "building_head": _("Building head"),
        "property": _("Property management"),
        "committee": _("Owners' committee"),
        "community_admin": _("Community staff (admin)"),
        "street_official": _("Street official"),
    }.get(role, role)


def manageable(user_compounds: list[str]) -> bool:
    if ALL in g.user.compounds:
        return True
    return ALL not in user_compounds and set(user_compounds) <= set(g.user.compounds)


def _grantable() -> list[dict]:
    return places.compound_names(get_db(), scope_of(g.user))


def _read_scope(form) -> tuple[list[str], str | None]:
    if form.get("all_compounds"):
        if ALL not in g.user.compounds:
            return [], _("You may grant only your own compounds.")
        return [ALL], None
    allowed = {c["id"] for c in _grantable()}
    chosen = [c for c in form.getlist("compounds") if c]
    if not chosen:
        return [], _("Choose at least one compound.")
    if any(c not in allowed for c in chosen):
        return [], _("You may grant only your own compounds.")
    return chosen, None


def _users_page(form=None, errors=None, status=200):
    db = get_db()
    users = [u for u in data.list_users(db) if manageable(u["compounds"])]
    names = {c["id"]: c["name"] for c in places.compound_names(db, None)}
    return render(
        "accounts/users.html",
        users=users,
        names=names,
        roles=ROLES,
        compounds=_grantable(),
        may_grant_all=ALL in g.user.compounds,
        form=form or {},
        errors=errors or {},
        status=status,
    )


@bp.get("/users")
@roles_required(*ADMIN)
def users():
    return _users_page()


@bp.post("/users")
@roles_required(*ADMIN)
def create_user():
    form = request.form
    errors: dict[str, str] = {}
    role = form.get("role", "")
    if role not in ROLES:
        errors["role"] = _("Choose a role.")
    compounds, problem = _read_scope(form)
    if problem:
        errors["compounds"] = problem
    username = form.get("username", "").strip()
    password = form.get("password", "")
    if not username or len(username) > 80:
        errors["username"] = _("The user name must be 1 to 80 characters.")
    if len(password) < 8:
        errors["password"] = _("The password must have at least 8 characters.")
    if not errors:
        try:
            auth_data.create_user(
                get_db(),
                username,
                password,
                role,
                compounds,
                form.get("display_name", "").strip()[:200] or None,
            )
        except auth_data.AccountError:
            # Only an admin sees this page; the name is what they typed.
            errors["username"] = _("A user of this name exists already.")
    if errors:
        shown = {k: v for k, v in form.items() if k != "password"}
        shown["compounds"] = form.getlist("compounds")
        return _users_page(shown, errors, status=422)
    flash(_("User %(name)s created.", name=username))
    return redirect(url_for("accounts.users"), code=303)


def _load_user(user_id: int):
    user = auth_data.get_user(get_db(), user_id)
    if user is None or not manageable(user.compounds):
        abort(403, description=_("Not found, or outside your scope."))
    return user


def _user_page(user, token=None, errors=None, status=200):
    db = get_db()
    names = {c["id"]: c["name"] for c in places.compound_names(db, None)}
    return render(
        "accounts/user.html",
        user=user,
        devices=auth_data.list_devices(db, user.id),
        names=names,
        roles=ROLES,
        compounds=_grantable(),
        may_grant_all=ALL in g.user.compounds,
        token=token,
        server_url=request.host_url.rstrip("/"),
        errors=errors or {},
        status=status,
    )


@bp.get("/users/<int:user_id>")
@roles_required(*ADMIN)
def user(user_id: int):
    return _user_page(_load_user(user_id))


@bp.post("/users/<int:user_id>")
@roles_required(*ADMIN)
def update_user(user_id: int):
    found = _load_user(user_id)
    errors = {}
    role = request.form.get("role", "")
    if role not in ROLES:
        errors["role"] = _("Choose a role.")
    compounds, problem = _read_scope(request.form)
    if problem:
        errors["compounds"] = problem
    if found.id == g.user.id and role != found.role:
        errors["role"] = _("You cannot change your own role.")
    if errors:
        return _user_page(found, errors=errors, status=422)
    data.update_user(get_db(), user_id, role, compounds)
    flash(_("Saved."))
    return redirect(url_for("accounts.user", user_id=user_id), code=303)


@bp.post("/users/<int:user_id>/devices")
@roles_required(*ADMIN)
def issue_device(user_id: int):
    found = _load_user(user_id)
    name = request.form.get("name", "").strip()
    if not name or len(name) > 100:
        errors = {"name": _("The device name must be 1 to 100 characters.")}
        return _user_page(found, errors=errors, status=422)
    token = auth_data.issue_device(get_db(), user_id, name)[1]
    # Shown once, in this response only (never in a redirect, a flash or a log).
    resp = _user_page(found, token=token)
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/devices")
@roles_required(*ADMIN)
def devices():
    db = get_db()
    scopes = {u["id"]: u["compounds"] for u in data.list_users(db)}
    shown = [d for d in auth_data.list_devices(db) if manageable(scopes.get(d["user_id"], []))]
    return render("accounts/devices.html", devices=shown)


@bp.post("/devices/<int:device_id>/revoke")
@roles_required(*ADMIN)
def revoke_device(device_id: int):
    db = get_db()
    device = data.get_device(db, device_id)
    if device is None:
        abort(403, description=_("Not found, or outside your scope."))
    owner = _load_user(device["user_id"])
    if auth_data.revoke_device(db, device_id):
        flash(_("Device %(name)s revoked: it can no longer sync.", name=device["name"]))
    back = request.form.get("back")
    if back == "user":
        return redirect(url_for("accounts.user", user_id=owner.id), code=303)
    return redirect(url_for("accounts.devices"), code=303)


@bp.app_context_processor
def account_labels():
    return {"role_label": role_label}


@bp.app_template_filter("lm_time")
def lm_time(stamp: int | None) -> str:
    """A Unix time as local date and minute in the server's time zone; blank if none."""
    if not stamp:
        return ""
    zone = ZoneInfo(current_app.config.get("TIMEZONE") or "Asia/Shanghai")
    return dt.datetime.fromtimestamp(stamp, zone).strftime("%Y-%m-%d %H:%M")
