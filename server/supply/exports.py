"""CSV and XLSX downloads of plans, packing lists, orders and the ledger."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from flask import Response, abort
from openpyxl import Workbook

FORMATS = ("csv", "xlsx")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _safe(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula is quoted (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if v is None else _safe(v) for v in row])
    # A BOM so that spreadsheet programs read the Chinese text as UTF-8.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(sheet: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet[:31])
    ws.append(list(headers))
    for row in rows:
        # Decimals stay exact in the file's XML (openpyxl writes them as written).
        ws.append([_safe(v) if not isinstance(v, Decimal) else v for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def download(
    fmt: str, name: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]
) -> Response:
    rows = list(rows)
    if fmt == "csv":
        body, mime = csv_bytes(headers, rows), "text/csv; charset=utf-8"
    elif fmt == "xlsx":
        body, mime = xlsx_bytes(name, headers, rows), XLSX
    else:
        abort(404, description=f"unknown format {fmt!r}; use csv or xlsx")
    resp = Response(body, mimetype=mime)
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return resp
