"""The laptop's local day and time in the community's time zone (config `timezone`)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app


@lru_cache(maxsize=8)
def zone(name: str) -> dt.tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        # A laptop without tz data (Windows without the tzdata package): China has no DST.
        return dt.timezone(dt.timedelta(hours=8), name)


def tz() -> dt.tzinfo:
    return zone(current_app.config.get("TIMEZONE", "Asia/Shanghai"))


def now() -> dt.datetime:
    return dt.datetime.now(tz()).replace(microsecond=0)


def now_iso() -> str:
    return now().isoformat()


def today() -> dt.date:
    return now().date()


def local_date(stamp: str | None) -> dt.date | None:
    """The local day of an ISO time written by any device (any offset)."""
    if not stamp:
        return None
    try:
        when = dt.datetime.fromisoformat(stamp)
    except ValueError:
        return None
    if when.tzinfo is None:
        return when.date()
    return when.astimezone(tz()).date()


def day_window(day: dt.date) -> str:
    """A text lower bound that holds every stamp of `day` whatever offset wrote it."""
    return (day - dt.timedelta(days=1)).isoformat()


def show(stamp: str | None) -> str:
    """An ISO time as local 'YYYY-MM-DD HH:MM' for pages."""
    if not stamp:
        return ""
    try:
        when = dt.datetime.fromisoformat(stamp)
    except ValueError:
        return stamp
    if when.tzinfo is not None:
        when = when.astimezone(tz())
    return when.strftime("%Y-%m-%d %H:%M")
