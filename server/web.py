"""Helpers shared by the server's pages and API: htmx, errors, security headers."""

from __future__ import annotations

import datetime as dt
import sqlite3
from zoneinfo import ZoneInfo

from flask import Flask, Response, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def render(template: str, fragment: str | None = None, status: int = 200, **context) -> Response:
    """The full page, or only its fragment when htmx asks (Vary: HX-Request)."""
    name = fragment if fragment and is_htmx() else template
    resp = Response(render_template(name, **context), status=status)
    resp.headers["Vary"] = "HX-Request"
    return resp


def wants_json() -> bool:
    return request.path.startswith("/api/")


def generic_message(code: int | None) -> str:
    """Werkzeug's stock descriptions are English; pages say the same in the page's language."""
    messages = {
        400: _("The request could not be understood. Check what you entered and try again."),
        401: _("Sign in first."),
        403: _("Your role or scope does not allow this."),
        404: _("There is no such page."),
        405: _("This page cannot be used that way."),
        409: _("Someone changed this in the meantime. Reload and try again."),
        413: _("What you sent is too large."),
        429: _("Too many attempts. Wait a while and try again."),
    }
    return messages.get(code or 0, _("Something went wrong. Try again later."))


def local_time(value: str | None, zone: str = "Asia/Shanghai") -> str:
    """An ISO-8601 time as 'YYYY-MM-DD HH:MM' on the server's calendar; text kept if not a time."""
    if not value:
        return ""
    try:
        stamp = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(ZoneInfo(zone))
    return stamp.strftime("%Y-%m-%d %H:%M")


def init_app(app: Flask) -> None:
    @app.template_filter("local_time")
    def local_time_filter(value: str | None) -> str:
        return local_time(value, app.config.get("TIMEZONE") or "Asia/Shanghai")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        message = exc.description or exc.name
        if wants_json():
            return jsonify(error=message), exc.code
        if message == type(exc).description:
            message = generic_message(exc.code)
        return render_template("error.html", message=message, code=exc.code), exc.code

    @app.errorhandler(sqlite3.OperationalError)
    def storage_full(exc: sqlite3.OperationalError):
        # SQLITE_FULL: the transaction was rolled back, nothing of the request was kept.
        # Say so (507) instead of a bare 500, so agents retry later and people know why.
        if "full" not in str(exc).lower():
            raise exc
        app.logger.error("disk full: %s %s: %s", request.method, request.path, exc)
        message = (
            "the server's disk is full: nothing of this request was kept; "
            "free some space on the server, then try again"
        )
        if wants_json():
            return jsonify(error=message), 507
        return render_template("error.html", message=message, code=507), 507

    @app.after_request
    def security_headers(resp: Response) -> Response:
        resp.headers.setdefault("Content-Security-Policy", CSP)
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        if request.path.startswith(("/auth", "/api/")) or "user_id" in request.cookies:
            resp.headers.setdefault("Cache-Control", "no-store")
        return resp
