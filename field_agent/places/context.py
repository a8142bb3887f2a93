"""The compound this laptop works in (a laptop may hold several: the session picks one)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import flash, g, redirect, session, url_for
from flask_babel import gettext as _

from ..db import get_db
from . import data


def current_compound() -> dict[str, Any] | None:
    if "compound" not in g:
        db = get_db()
        chosen = session.get("compound_id")
        found = data.compound(db, chosen) if chosen else None
        if found is None:
            options = data.compounds(db)
            found = options[0] if options else None
        g.compound = found
    return g.compound


def compound_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Pages about a compound need its register, which comes with the first sync."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if current_compound() is None:
            flash(_("This laptop has no compound yet: sync with the server first."))
            return redirect(url_for("syncing.index"))
        return view(*args, **kwargs)

    return wrapped
