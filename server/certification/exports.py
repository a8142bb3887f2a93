"""The day's certification report as CSV and XLSX (one row per compound)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

COLUMNS = (
    "date",
    "community",
    "compound",
    "status",
    "status_since",
    "check",
    "failing_rules",
    "earliest_pass",
    "households",
    "coverage_percent",
    "fevers_today",
    "open_three_kinds",
    "deliveries_7_days",
    "open_medicine_requests",
    "rule_version",
)


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value  # a spreadsheet must not run a name as a formula
    return value


def to_csv(rows: Iterable[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel opens it as UTF-8


def to_xlsx(rows: Sequence[dict], title: str) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    ws.append(list(COLUMNS))
    for row in rows:
        ws.append([_cell(row.get(c)) for c in COLUMNS])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
