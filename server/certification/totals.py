"""Totals on a street, district or city server, from the `compound_days` rows received.

Epidemic-free means certified (approved and not lost or revoked) on that day; a
community or village is epidemic-free when every one of its compounds is.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlite_utils import Database

from .explanation import share


def latest_day(db: Database) -> dt.date | None:
    row = db.execute("SELECT max(day) FROM compound_days WHERE deleted = 0").fetchone()
    return dt.date.fromisoformat(row[0]) if row and row[0] else None


def _rows(db: Database, first: dt.date, last: dt.date) -> list[dict]:
    return list(
        db.query(
            "SELECT day, compound_id, community_id, community_name, community_kind, street_id, "
            "street_name, district_id, district_name, households, checked, fevers, status "
            "FROM compound_days WHERE deleted = 0 AND day BETWEEN ? AND ?",
            [first.isoformat(), last.isoformat()],
        )
    )


def _tally(rows: list[dict]) -> dict[str, Any]:
    units: dict[str, dict] = {}
    for r in rows:
        u = units.setdefault(
            r["community_id"] or r["compound_id"], {"kind": r["community_kind"], "free": True}
        )
        u["free"] = u["free"] and r["status"] == "certified"
    out: dict[str, Any] = {
        "compounds": len(rows),
        "compounds_free": sum(1 for r in rows if r["status"] == "certified"),
        "compounds_passing": sum(1 for r in rows if r["status"] != "fails"),
        "households": sum(r["households"] or 0 for r in rows),
        "checked": sum(r["checked"] or 0 for r in rows),
        "fevers": sum(r["fevers"] or 0 for r in rows),
    }
    for kind in ("community", "village"):
        mine = [u for u in units.values() if (u["kind"] or "community") == kind]
        out[f"{kind}_units"] = len(mine)
        out[f"{kind}_free"] = sum(1 for u in mine if u["free"])
        out[f"{kind}_share"] = share(out[f"{kind}_free"], len(mine))
    out["compounds_share"] = share(out["compounds_free"], out["compounds"])
    out["coverage"] = share(out["checked"], out["households"])
    return out


def by_unit(db: Database, on: dt.date) -> dict[str, Any]:
    """The day's totals: overall, per district, and per street within each district."""
    rows = _rows(db, on, on)
    districts: dict[str, list[dict]] = {}
    for r in rows:
        districts.setdefault(r["district_name"] or "—", []).append(r)
    out = []
    for name in sorted(districts):
        streets: dict[str, list[dict]] = {}
        for r in districts[name]:
            streets.setdefault(r["street_name"] or "—", []).append(r)
        out.append(
            {
                "name": name,
                "totals": _tally(districts[name]),
                "streets": [{"name": s, "totals": _tally(streets[s])} for s in sorted(streets)],
            }
        )
    return {"totals": _tally(rows), "districts": out}


def history(db: Database, last: dt.date, days: int) -> list[dict[str, Any]]:
    """The overall totals of each of the last `days` days that have rows, oldest first."""
    first = last - dt.timedelta(days=days - 1)
    by_day: dict[str, list[dict]] = {}
    for r in _rows(db, first, last):
        by_day.setdefault(r["day"], []).append(r)
    return [{"day": d, **_tally(by_day[d])} for d in sorted(by_day)]
