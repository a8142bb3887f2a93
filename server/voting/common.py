"""What the voting pages and API share: the blueprint, the clock, roles, labels."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from flask import Blueprint, abort, current_app, g
from flask_babel import gettext

from ..auth.access import require_compound
from ..db import get_db, get_replica
from ..i18n import select_locale
from . import data
from .commits import GroupCommit
from .rules import MATTER_BY_ID, RULE_SETS, RuleSet, resolve

bp = Blueprint("voting", __name__)

MANAGE = ("committee", "community_admin")  # create, open, issue links, close, audit
SEE_HOW = ("committee",)  # who voted how: committee only, and only for open ballots


def now() -> dt.datetime:
    """The server clock; tests put a callable in app.extensions['voting_clock']."""
    clock = current_app.extensions.get("voting_clock")
    return clock() if clock else dt.datetime.now(dt.UTC)


def writer() -> GroupCommit:
    """The app's group commit for online ballots (one per app, made on first use)."""
    return current_app.extensions.setdefault(
        "voting_writer", GroupCommit(current_app.extensions["replica"].lock)
    )


def zone() -> dt.tzinfo:
    return zoneinfo.ZoneInfo(current_app.config.get("TIMEZONE") or "Asia/Shanghai")


def local(text: str | None) -> str:
    """An ISO time as the compound's local time, e.g. 2020-03-10 09:00."""
    if not text:
        return ""
    return data.parse_time(text).astimezone(zone()).strftime("%Y-%m-%d %H:%M")


def zh() -> bool:
    return select_locale() == "zh_CN"


def label(obj: Any) -> str:
    return obj.label_zh if zh() else obj.label_en


def rule_set_of(motion: dict) -> RuleSet:
    return resolve(motion["rule_set"], data.parse_time(motion["opens_at"]))


def describe(motion: dict) -> dict[str, Any]:
    """Labels for a motion, in the page's language."""
    rules = rule_set_of(motion)
    matter = MATTER_BY_ID[motion["matter"]]
    return {
        "matter": label(matter),
        "item": matter.item,
        "kind": rules.kind(matter),
        "rule_set": label(rules),
        "auto": motion["rule_set"] == "auto",
        "binding": rules.binding,
        "opens": local(motion["opens_at"]),
        "closes": local(motion["closes_at"]),
    }


def publish(motion_id: str) -> None:
    """Send the motion's notice down to the agents (a synced row written by the server)."""
    motion = data.get_motion(get_db(), motion_id)
    if motion is not None:
        get_replica().write(
            "motion_notices", motion_id, data.notice_row(motion, rule_set_of(motion))
        )


def motion_or_404(motion_id: str) -> dict[str, Any]:
    motion = data.get_motion(get_db(), motion_id)
    if motion is None:
        abort(404, description="no such motion")
    return motion


def managed(motion_id: str) -> dict[str, Any]:
    """The motion, if the signed-in user manages votes in its compound."""
    motion = motion_or_404(motion_id)
    require_compound(motion["compound_id"])
    return motion


def may_see_how(motion: dict) -> bool:
    return bool(motion["open_ballot"]) and g.get("user") is not None and g.user.role in SEE_HOW


def rule_set_choices() -> list[tuple[str, str]]:
    auto = gettext("Automatic, by the opening date")
    return [("auto", auto)] + [(r.id, label(r)) for r in RULE_SETS.values()]
