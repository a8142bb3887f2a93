"""Which compounds the signed-in user may see, and who may read or edit the register."""

from __future__ import annotations

from flask import abort, g
from flask_babel import gettext as _

from ..auth.data import ALL
from ..permissions import may_write

# Who may read names and households (street officials see counts only: DOMAIN.md says
# only aggregates, never names, leave the community).
REGISTER_READERS = ("volunteer", "building_head", "property", "committee", "community_admin")
ADMIN = ("community_admin",)


def scope_of(user) -> list[str] | None:
    """None for every compound, else the user's compound ids."""
    return None if ALL in user.compounds else list(user.compounds)


def may_edit(user, table: str) -> bool:
    return user is not None and may_write(user.role, table)


def require_write(table: str, compound_id: str | None) -> None:
    """403 unless the user's role may write `table` and the compound is in scope."""
    user = g.get("user")
    if not may_edit(user, table):
        abort(403, description=_("Your role may not change this."))
    if not user.sees(compound_id):
        abort(403, description=_("This compound is outside your scope."))


def missing() -> None:
    """An unknown id: 404 for who sees everything, else the same 403 as out of scope, so
    ids (derived from compound, building and unit) cannot be probed across compounds."""
    user = g.get("user")
    if user is not None and ALL in user.compounds:
        abort(404)
    abort(403, description=_("Not found, or outside your scope."))
