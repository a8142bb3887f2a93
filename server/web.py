"""Helpers shared by the server's pages and API: htmx, errors, security headers."""

from __future__ import annotations

import sqlite3

from flask import Flask, Response, jsonify, render_template, request
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


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        message = exc.description or exc.name
        if wants_json():
            return jsonify(error=message), exc.code
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
