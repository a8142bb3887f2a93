"""Nightly aggregation: one `compound_days` row per compound and day, sent upstream.

The rows live in their own replica file (DIR/upstream.db, schema `sync.upstream_schema()`),
so what goes up is the aggregate tables and nothing else: the file holds no other table.
Recomputing a day writes only the cells that changed, so running twice changes nothing,
and records that arrive late (a laptop offline for days) are folded in by recomputing
the recent days; the upstream receives the corrected cells.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from sync import Replica, upstream_schema

from . import data, records
from .days import LocalDays
from .evaluate import evaluate
from .facts import CompoundFacts
from .rules import RuleVersion

UPSTREAM_DB = "upstream.db"
TABLE = "compound_days"
RECOMPUTE_DAYS = 7  # late records older than this are not folded in


def open_upstream(data_dir: str | Path) -> Replica:
    return Replica(Path(data_dir) / UPSTREAM_DB, upstream_schema())


def row_id(compound_id: str, day: dt.date) -> str:
    return f"{compound_id}/{day.isoformat()}"


def _counts(f: CompoundFacts, day: dt.date, version: RuleVersion, cal: LocalDays) -> dict[str, int]:
    d = day.toordinal()
    threshold = float(version.fever_threshold_c)
    checked: set[str] = set()
    fevers: set[str] = set()
    # Text dates within a day of the local date, as in evaluate._scan_checks.
    lo, hi = (
        (day - dt.timedelta(days=1)).isoformat(),
        (day + dt.timedelta(days=1)).isoformat() + "~",
    )
    for c in f.checks:
        stamp = c[4]
        if stamp < lo or stamp > hi or cal.ordinal(stamp) != d:
            continue
        checked.add(c[1])
        if c[3] >= threshold:
            fevers.add(c[2] or f"hh:{c[1]}")
    end = cal.end_of(day)
    return {
        "checked": len(checked),
        "fevers": len(fevers),
        "confirmed": sum(
            1 for c in f.health_cases if c.category == "confirmed" and c.start_date == day
        ),
        "deliveries": sum(
            1 for x in f.deliveries if x.delivered_at and cal.ordinal(x.delivered_at) == d
        ),
        "medicine_open": sum(1 for m in f.medicine_requests if cal.instant(m.created_at) < end),
    }


def _place_columns(db: Database, community_id: str | None, cache: dict) -> dict[str, Any]:
    if community_id not in cache:
        unit = data.unit(db, community_id) if community_id else None
        path = data.place_path(db, community_id)
        street, district = path.get("street"), path.get("district")
        cache[community_id] = {
            "community_id": community_id,
            "community_name": unit["name"] if unit else None,
            "community_kind": unit["level"]
            if unit and unit["level"] in ("community", "village")
            else "community",
            "street_id": street["id"] if street else None,
            "street_name": street["name"] if street else None,
            "district_id": district["id"] if district else None,
            "district_name": district["name"] if district else None,
        }
    return cache[community_id]


def day_rows(
    db: Database, compound_ids: Sequence[str], day: dt.date, version: RuleVersion, cal: LocalDays
) -> dict[str, dict[str, Any]]:
    """The aggregate row of each compound for `day`, keyed by row id."""
    out: dict[str, dict[str, Any]] = {}
    places: dict = {}
    for cid, f in data.load_facts(db, compound_ids, day, version, cal).items():
        expl = evaluate(f, day, version, cal)
        state = records.certification(db, cid, day, version, cal, f)["state"]
        status = "certified" if state == "certified" else ("passes" if expl.passed else "fails")
        zero = expl.result("zero_three_kinds").details
        out[row_id(cid, day)] = {
            "compound_id": cid,
            "day": day.isoformat(),
            "compound_name": f.name,
            **_place_columns(db, f.community_id, places),
            "households": len(f.households),
            "residents": len(f.residents),
            **_counts(f, day, version, cal),
            "open_three_kinds": int(zero.get("open", 0)),
            "status": status,
            "failing_rules": ",".join(r.rule for r in expl.failing),
            "rule_version": version.id,
        }
    return out


def store(up: Replica, rows: dict[str, dict[str, Any]]) -> int:
    """Write the cells that differ from what is stored; returns how many rows changed."""
    changed: dict[str, dict[str, Any]] = {}
    for rid, row in rows.items():
        old = up.get(TABLE, rid)
        diff = row if old is None else {k: v for k, v in row.items() if old.get(k) != v}
        if diff:
            changed[rid] = diff
    if changed:
        up.write_many(TABLE, changed)
    return len(changed)


def aggregate(
    db: Database,
    up: Replica,
    last: dt.date,
    version: RuleVersion,
    cal: LocalDays,
    back: int = RECOMPUTE_DAYS,
    compound_ids: Sequence[str] | None = None,
) -> dict[str, int]:
    """Recompute the rows of days last-back+1 .. last; returns counts for the log."""
    ids = compound_ids if compound_ids is not None else [c["id"] for c in data.compounds(db)]
    rows = changed = 0
    for n in range(back - 1, -1, -1):
        day = last - dt.timedelta(days=n)
        computed = day_rows(db, ids, day, version, cal)
        rows += len(computed)
        changed += store(up, computed)
    return {"days": back, "rows": rows, "changed": changed}


def missing_days(
    up_path: str | Path, compound_ids: Sequence[str], first: dt.date, last: dt.date
) -> list[dt.date]:
    """Days in first..last for which some compound has no row yet."""
    if not compound_ids:
        return []
    have = _fetch(
        up_path,
        "SELECT day, count(*) FROM compound_days WHERE deleted = 0 AND day BETWEEN ? AND ? "
        f"AND compound_id IN ({','.join('?' * len(compound_ids))}) GROUP BY day",
        [first.isoformat(), last.isoformat(), *compound_ids],
    )
    full = {d for d, n in have if n >= len(compound_ids)}
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    return [d for d in days if d.isoformat() not in full]


def series(
    up_path: str | Path, compound_ids: Sequence[str], first: dt.date, last: dt.date
) -> dict[str, dict]:
    """Per day: households, checked, fevers summed over the compounds."""
    if not compound_ids:
        return {}
    rows = _fetch(
        up_path,
        "SELECT day, sum(households), sum(checked), sum(fevers), sum(status != "
        "'fails') FROM compound_days "
        "WHERE deleted = 0 AND day BETWEEN ? AND ? "
        f"AND compound_id IN ({','.join('?' * len(compound_ids))}) GROUP BY day",
        [first.isoformat(), last.isoformat(), *compound_ids],
    )
    return {
        r[0]: {"households": r[1], "checked": r[2], "fevers": r[3], "passing": r[4]} for r in rows
    }


def _fetch(path: str | Path, sql: str, params: list) -> list[tuple]:
    if not Path(path).exists():
        return []
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    try:
        return con.execute(sql, params).fetchall()
    except sqlite3.OperationalError:
        return []  # the table is not made yet
    finally:
        con.close()


def push(up: Replica, url: str, token: str) -> Any:
    """Send the new cells of upstream.db to the street/district/city server (push only)."""
    from sync.http_client import SyncClient

    client = SyncClient(up, url, token, peer_name="upstream")
    client.hello()
    client.push()
    return client.report
