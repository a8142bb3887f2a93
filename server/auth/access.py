"""Who is asking: the signed-in user for pages, the device for the sync API."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import abort, g, jsonify, redirect, request, session, url_for

from ..db import get_db
from . import data


def load_user() -> None:
    user_id = session.get("user_id")
    g.user = data.get_user(get_db(), user_id) if user_id else None


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if g.get("user") is None:
            if request.path.startswith("/api/"):
                return jsonify(error="sign in first"), 401
            return redirect(url_for("auth.login", next=request.full_path))
        return view(*args, **kwargs)

    wrapped.login_required = True  # type: ignore[attr-defined]
    return wrapped


def roles_required(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Signed in with one of `roles`, else 403."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if g.get("user") is None:
                return login_required(view)(*args, **kwargs)
            if g.user.role not in roles:
                abort(403, description="your role may not do this")
            return view(*args, **kwargs)

        wrapped.roles = roles  # type: ignore[attr-defined]
        return wrapped

    return decorator


def require_compound(compound_id: str | None) -> None:
    """403 unless the signed-in user's scope holds this compound."""
    if g.get("user") is None or not g.user.sees(compound_id):
        abort(403, description="this compound is outside your scope")


def device_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """A valid, unrevoked device token (Authorization: Bearer ...), else 401."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header.startswith("Bearer ") else ""
        device = data.device_for_token(get_db(), token) if token else None
        if device is None:
            resp = jsonify(error="missing, unknown or revoked device token; ask for a new one")
            resp.status_code = 401
            resp.headers["WWW-Authenticate"] = 'Bearer realm="lastmeter"'
            return resp
        g.device = device
        g.user = device.user
        return view(*args, **kwargs)

    wrapped.device_required = True  # type: ignore[attr-defined]
    return wrapped
