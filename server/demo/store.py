"""Writing demo rows through the replica so that re-seeding writes nothing new.

Rows have stable ids (uuid5 of what they are), so a second run finds them: immutable rows
(checks, disinfection logs) are written only when missing, mutable rows only in the cells
that differ. A row whose state a person has moved on since (a delivery the volunteer marked
delivered on the laptop) is left alone: the seed never tries to move a state backwards.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlite_utils import Database

from sync import Replica

DEMO_NS = uuid.UUID("3b0f8c1e-2d4a-5e6f-8a9b-0c1d2e3f4a5b")


def demo_id(*parts: Any) -> str:
    """A stable id for a demo record: uuid5 of what it is (kind, household, day, slot...)."""
    return str(uuid.uuid5(DEMO_NS, "|".join(str(p) for p in parts)))


def write_changed(
    replica: Replica,
    table: str,
    rows: dict[str, dict[str, Any]],
    first_only: tuple[str, ...] = (),
) -> int:
    """Write only rows whose values differ from what is stored; returns rows written.

    `first_only` columns are written with a new row (or into an empty cell) and never
    changed after: a time today depends on the moment of the run (clock.Timeline.when)."""
    if not rows:
        return 0
    t = replica.schema[table]
    ranks = {c.name: c.ranks for c in t.columns if c.merge == "max"}
    existing = {r["id"]: r for r in replica.rows(table)}
    changed = {}
    for row_id, values in rows.items():
        old = existing.get(row_id)
        if old is None:
            changed[row_id] = values
            continue
        diff = {
            k: v
            for k, v in values.items()
            if old.get(k) != v and not (k in first_only and old.get(k) is not None)
        }
        if any(
            col in diff
            and old.get(col) is not None
            and ranks[col][diff[col]] <= ranks[col][old[col]]
            for col in ranks
        ):
            continue  # moved on since (or sideways): leave it as the people left it
        if diff:
            changed[row_id] = diff
    if changed:
        replica.write_many(table, changed)
    return len(changed)


def write_missing(
    replica: Replica, db: Database, table: str, rows: dict[str, dict[str, Any]]
) -> int:
    """Immutable rows: write those whose id is not stored yet; returns rows written."""
    if not rows:
        return 0
    have = {r[0] for r in db.execute(f"SELECT id FROM {table}")}
    missing = {k: v for k, v in rows.items() if k not in have}
    if missing:
        replica.write_many(table, missing)
    return len(missing)
