"""Export the household and resident lists as CSV or XLSX, in the import's own columns
(so an exported file imports back unchanged)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from .data import HOUSEHOLD_COLUMNS
from .fields import show_names

# The columns export_households selects: the compound's name, then the household's own.
HOUSEHOLD_EXPORT = ("compound", *HOUSEHOLD_COLUMNS)
RESIDENT_EXPORT = ("compound", "building", "unit", "name", "birth_year", "phone")
BOOLS = {"medical_worker", "hardship", "elderly_alone", "developer_held"}


def cell(column: str, value: Any) -> Any:
    if value is None:
        return ""
    if column in BOOLS:
        return 1 if value else 0
    if column == "co_owners":
        return show_names(value)
    if column == "area_m2" and isinstance(value, float):
        return repr(value)  # the decimal as typed (89.37), never 89.37000000000001
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value  # a spreadsheet must not run a name as a formula
    return value


def rows_for(columns: Sequence[str], rows: Iterable[dict]) -> Iterable[list]:
    for row in rows:
        yield [cell(c, row.get(c)) for c in columns]


def to_csv(columns: Sequence[str], rows: Iterable[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(rows_for(columns, rows))
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel opens it as UTF-8


def to_xlsx(columns: Sequence[str], rows: Iterable[dict], title: str) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append(list(columns))
    for values in rows_for(columns, rows):
        sheet.append(
            [float(v) if c == "area_m2" and v else v for c, v in zip(columns, values, strict=True)]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
