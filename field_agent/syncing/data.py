"""What the status bar, the outbox and the conflicts pages show; resending a rejected cell."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlite_utils import Database

from sync import Replica, WriteError, new_id
from sync.clock import millis
from sync.schema import Table


def count_open_rejected(db: Database) -> int:
    return db.execute("SELECT count(*) FROM _lm_outbox WHERE status = 'open'").fetchone()[0]


# Who-recorded-it travels with every edit; its conflicts follow the edit's, never shown alone.
META_COLUMNS = ("recorded_by",)


def count_conflicts(db: Database) -> int:
    return db.execute(
        "SELECT count(*) FROM _lm_conflicts WHERE resolved = 0 AND col <> 'recorded_by'"
    ).fetchone()[0]


def local_counter(db: Database) -> int:
    row = db.execute("SELECT value FROM _lm_meta WHERE key = 'counter'").fetchone()
    return int(row[0]) if row else 0


def hlc_time(stamp: int | None) -> dt.datetime | None:
    if not stamp:
        return None
    return dt.datetime.fromtimestamp(millis(stamp) / 1000, dt.UTC)


class BadValue(ValueError):
    pass


def parse_value(table: Table, column: str, raw: str) -> Any:
    """Typed value for a column from a form field (empty means no value)."""
    col = table.by_name.get(column)
    if col is None:
        raise BadValue(f"{table.name} has no column {column}")
    raw = (raw or "").strip()
    if raw == "":
        return None
    if col.type == "int":
        try:
            return int(raw)
        except ValueError:
            raise BadValue("a whole number is needed") from None
    if col.type == "real":
        try:
            value = Decimal(raw.replace(",", "."))
        except InvalidOperation:
            raise BadValue("a number is needed") from None
        if not value.is_finite():
            raise BadValue("a number is needed")
        return float(value)
    if col.type == "bool":
        if raw.lower() in ("1", "true", "yes", "y", "是"):
            return True
        if raw.lower() in ("0", "false", "no", "n", "否"):
            return False
        raise BadValue("yes or no is needed")
    return raw


def resend(
    replica: Replica, item: dict[str, Any], raw: str | None, who: str
) -> tuple[str, str | None]:
    """Write a rejected cell again (fixed or as it was) so the next sync sends it.

    Returns (how, new_row_id): "cell" for a mutable row's cell, "row" for a whole mutable
    row written again, "copy" for an immutable row re-created under a new id (a written
    row never changes; the correction is a new row). Raises BadValue or WriteError.
    """
    table = replica.schema.tables.get(item["tbl"])
    if table is None:
        raise BadValue(f"this laptop has no table {item['tbl']}")
    current = replica.get(table.name, item["row_id"])
    if current is None:
        raise BadValue("the row is no longer on this laptop")
    values = {k: v for k, v in current.items() if k != "id"}
    col = item["col"]
    if col is not None and raw is not None:
        values[col] = parse_value(table, col, raw)
    if table.immutable:
        if table.name == "photos":
            raise BadValue("a photo's record cannot be re-created; discard it")
        new = new_id()
        replica.write(table.name, new, {k: v for k, v in values.items() if v is not None})
        return "copy", new
    if "recorded_by" in table.by_name:
        values["recorded_by"] = who
    if col is not None:
        cells = {col: values[col]}
        if "recorded_by" in table.by_name:
            cells["recorded_by"] = who
        replica.write(table.name, item["row_id"], cells)
        return "cell", None
    replica.write(table.name, item["row_id"], {k: v for k, v in values.items() if v is not None})
    return "row", None


__all__ = ["BadValue", "WriteError", "parse_value", "resend"]
