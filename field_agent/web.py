"""Helpers shared by the agent's pages: htmx, errors, security headers, safe redirects."""

from __future__ import annotations

from flask import Flask, Response, redirect, render_template, request, url_for
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


def safe_next(target: str | None, default: str = "places.home") -> str:
    # Only local paths: never bounce the user to another site.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for(default)


def back(default: str = "places.home", code: int = 303) -> Response:
    """Redirect after POST to the form's `next` (a local path) or `default`."""
    return redirect(safe_next(request.form.get("next") or request.args.get("next"), default), code)


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return render_template("error.html", message=exc.description or exc.name, code=exc.code), (
            exc.code
        )

    @app.after_request
    def security_headers(resp: Response) -> Response:
        resp.headers.setdefault("Content-Security-Policy", CSP)
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        if not request.path.startswith("/static"):
            resp.headers.setdefault("Cache-Control", "no-store")  # health data on a shared laptop
        return resp
