"""Who is asking: the signed-in user for pages, the device for the sync API."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import abort, current_app, g, jsonify, redirect, request, session, url_for

from ..db import get_db
from . import data
from .limiter import FailureLimiter


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


def device_limiter() -> FailureLimiter:
    limiter = current_app.extensions.get("device_limiter")
    if limiter is None:  # made on first use; setdefault keeps one if two threads race
        limit = int(current_app.config.get("DEVICE_TOKEN_FAILURES_PER_15_MIN", 30))
        limiter = current_app.extensions.setdefault("device_limiter", FailureLimiter(limit))
    return limiter


def too_many_bad_tokens() -> Any:
    """A 429 response (with Retry-After) while this address is over the bad-token limit."""
    wait = device_limiter().retry_after(request.remote_addr or "?")
    if not wait:
        return None
    resp = jsonify(error=f"too many bad device tokens from this address; retry in {wait} s")
    resp.status_code = 429
    resp.headers["Retry-After"] = str(wait)
    return resp


def device_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """A valid, unrevoked device token (Authorization: Bearer ...), else 401."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        limited = too_many_bad_tokens()
        if limited is not None:
            return limited
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header.startswith("Bearer ") else ""
        device = data.device_for_token(get_db(), token) if token else None
        if device is None:
            if token:
                device_limiter().failed(request.remote_addr or "?")
            resp = jsonify(error="missing, unknown or revoked device token; ask for a new one")
            resp.status_code = 401
            resp.headers["WWW-Authenticate"] = 'Bearer realm="lastmeter"'
            return resp
        g.device = device
        g.user = device.user
        return view(*args, **kwargs)

    wrapped.device_required = True  # type: ignore[attr-defined]
    return wrapped
