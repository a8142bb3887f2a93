"""Who is at the keyboard: the signed-in volunteer, the idle lock, the device's role."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    g,
    redirect,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from ..db import get_db
from ..web import is_htmx
from . import data

OPEN_BLUEPRINTS = {"static", "agent_static"}


def public(view: Callable[..., Any]) -> Callable[..., Any]:
    """A page that needs no signed-in volunteer (sign-in, first start, language)."""
    view.public = True  # type: ignore[attr-defined]
    return view


def passive(view: Callable[..., Any]) -> Callable[..., Any]:
    """A request that is not the volunteer's activity (status polling): the idle lock runs on."""
    view.passive = True  # type: ignore[attr-defined]
    return view


def _go(endpoint: str, **values: Any) -> Response:
    target = url_for(endpoint, **values)
    if is_htmx():
        resp = Response(status=204)
        resp.headers["HX-Redirect"] = target  # a whole-page visit, not a swapped fragment
        return resp
    return redirect(target, code=303 if request.method == "POST" else 302)


def _next() -> str | None:
    return request.full_path if request.method == "GET" and not is_htmx() else None


def has_volunteers() -> bool:
    if current_app.extensions.get("has_volunteers"):
        return True
    found = data.count(get_db()) > 0
    current_app.extensions["has_volunteers"] = found
    return found


def require_volunteer() -> Response | None:
    """before_request: every page but the public ones needs a volunteer, unlocked."""
    g.volunteer = None
    endpoint = request.endpoint
    if endpoint is None or request.blueprint in OPEN_BLUEPRINTS:
        return None
    view = current_app.view_functions.get(endpoint)
    vid = session.get("vid")
    if vid:
        idle = float(current_app.config["IDLE_LOCK_MINUTES"]) * 60
        if time.time() - float(session.get("seen", 0)) > idle:
            session.pop("vid", None)
            session["locked_vid"] = vid
            vid = None
        else:
            g.volunteer = data.get(get_db(), vid)
            if g.volunteer is None:
                session.pop("vid", None)
    if getattr(view, "public", False):
        return None
    if not has_volunteers():
        return _go("volunteers.setup")
    if g.volunteer is None:
        return _go("volunteers.signin", next=_next())
    # Polling is not activity, unless the page says the volunteer typed since the last
    # poll (agent.js): a long grid being filled in must not lock under their fingers.
    if not getattr(view, "passive", False) or request.headers.get("X-Volunteer-Active") == "1":
        session["seen"] = time.time()
    return None


def sign_in(volunteer: dict) -> None:
    lang = session.get("lang")
    compound = session.get("compound_id")
    session.clear()
    if lang:
        session["lang"] = lang
    if compound:
        session["compound_id"] = compound  # the laptop's place, not the person's
    session["vid"] = volunteer["id"]
    session["seen"] = time.time()
    session.permanent = True


def sign_out(*, lock: bool = False) -> None:
    vid = session.pop("vid", None)
    if lock and vid:
        session["locked_vid"] = vid
    else:
        session.pop("locked_vid", None)


def recorded_by() -> str:
    """What every record carries as the volunteer who recorded it (the device is the stamp)."""
    return g.volunteer["name"]


def device_role() -> str | None:
    """The role the server gave this device (stored at sync), None before the first sync."""
    from .. import settings

    return settings.load_cached(current_app.config["DATA_DIR"]).get("role")


def roles_required(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The device's role must be one of `roles` (e.g. releasing a health case), else 403."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if device_role() not in roles:
                abort(403, description=_("This laptop's role may not do this."))
            return view(*args, **kwargs)

        return wrapped

    return decorator
