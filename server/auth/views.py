"""Sign in and out of the server's pages."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _

from ..db import get_db
from . import data

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _safe_next(target: str | None) -> str:
    # Only local paths: never bounce a signed-in user to another site.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    error = None
    if request.method == "POST":
        db = get_db()
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        key = f"{request.remote_addr}|{username.lower()}"
        limit = int(current_app.config["LOGIN_ATTEMPTS_PER_15_MIN"])
        if data.too_many_attempts(db, key, limit):
            error = _("Too many attempts. Wait 15 minutes and try again.")
            return render_template("auth/login.html", error=error), 429
        user = data.check_password(db, username, password) if username and password else None
        if user is None:
            data.record_attempt(db, key)
            # One message whether the name or the password was wrong: no user enumeration.
            error = _("Wrong user name or password.")
            return render_template("auth/login.html", error=error), 401
        data.clear_attempts(db, key)
        lang = session.get("lang")
        session.clear()
        if lang:
            session["lang"] = lang
        session["user_id"] = user.id
        session.permanent = True
        return redirect(_safe_next(request.args.get("next")), code=303)
    return render_template("auth/login.html", error=error)


@bp.route("/logout", methods=["POST"])
def logout():
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang
    flash(_("Signed out."))
    return redirect(url_for("auth.login"), code=303)


@bp.route("/lang/<code>", methods=["POST"])
def set_language(code: str):
    if code not in ("zh_CN", "en"):
        return render_template("error.html", message=_("Unknown language.")), 404
    session["lang"] = code
    return redirect(_safe_next(request.form.get("next")), code=303)


@bp.app_context_processor
def inject_user():
    return {"current_user": g.get("user")}
