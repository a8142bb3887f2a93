"""Helpers for the engine's tests (imported as tests.sync.helpers)."""

from __future__ import annotations

from sync import ApplyResult, Replica, Schema, Table
from sync.schema import Column

CHECK_AT = "2020-03-08T08:00:00+08:00"


def pull(src: Replica, dst: Replica, *, limit: int | None = None) -> list[ApplyResult]:
    """Bring dst up to date with src through src's cursor for dst, batch by batch."""
    results = []
    while True:
        start = dst.cursor(src.site_id)["received"]
        batch = src.changes_since(start, exclude_site=dst.site_id, limit=limit)
        results.append(dst.apply(batch))
        dst.set_cursor(src.site_id, received=batch.next)
        if not batch.more:
            return results


def small_schema() -> Schema:
    """A schema with one of each kind of column, for rules that need no domain meaning."""
    return Schema(
        [
            Table(
                "items",
                [
                    Column("name", max_length=20),
                    Column("qty", "int", min=0, max=1000),
                    Column("status", merge="max", states=("new", "packed", ("done", "refused"))),
                    Column("flag", "bool"),
                ],
            ),
            Table(
                "readings",
                [Column("value", "real", required=True, min=30, max=45), Column("note")],
                immutable=True,
            ),
        ]
    )


def check(household: str = "h1", temperature: float = 36.6, **over: object) -> dict[str, object]:
    """A valid temperature check row."""
    return {
        "compound_id": "c1",
        "household_id": household,
        "temperature_c": temperature,
        "measured_at": CHECK_AT,
        **over,
    }


def delivery(**over: object) -> dict[str, object]:
    """A valid new delivery row."""
    return {
        "compound_id": "c1",
        "household_id": "h1",
        "kind": "vegetables",
        "status": "planned",
        **over,
    }
