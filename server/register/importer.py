"""Import households and residents from the spreadsheets communities already keep.

read_rows() turns a CSV or XLSX file into rows of text; plan_*() checks every row against
the register and says, per row, what would happen (new, changed, unchanged) or what is
wrong; apply() writes a plan without errors in one write_many per table. Ids are stable
(compound + building + unit; household + name), and only changed cells are written,
so importing the same file twice changes nothing.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlite_utils import Database

from sync import Replica

from ..places.data import building_names, stable_id
from . import data, fields

MAX_ROWS = 20_000
KINDS = ("households", "residents")

ALIASES = {
    "compound": ("compound", "小区"),
    "building": ("building", "楼栋", "楼号", "栋", "楼"),
    "unit": ("unit", "门牌号", "户号", "房号", "单元号", "房间号"),
    "area_m2": ("area_m2", "area", "面积", "建筑面积", "专有面积", "专有部分面积"),
    "owner_name": ("owner_name", "owner", "户主", "业主", "业主姓名"),
    "phone": ("phone", "电话", "联系电话", "手机", "手机号"),
    "members": ("members", "人数", "户内人数", "在家人数"),
    "medical_worker": ("medical_worker", "医护家庭", "医护"),
    "hardship": ("hardship", "困难户", "困难群众", "困难"),
    "elderly_alone": ("elderly_alone", "独居老人", "独居"),
    "owner_key": ("owner_key", "业主编号"),
    "co_owners": ("co_owners", "共有人"),
    "developer_held": ("developer_held", "开发商持有", "未售"),
    "name": ("name", "姓名", "居民姓名"),
    "birth_year": ("birth_year", "出生年份", "出生年"),
}
HEADER = {alias.casefold(): key for key, names in ALIASES.items() for alias in names}


class ImportFileError(ValueError):
    """The file as a whole cannot be read (not a CSV/XLSX, no header, too many rows)."""


@dataclass
class RowResult:
    line: int
    cells: dict[str, str]
    status: str = "unchanged"  # new | changed | unchanged | error
    errors: dict[str, str] = field(default_factory=dict)
    row_id: str | None = None


@dataclass
class Plan:
    kind: str
    rows: list[RowResult]
    writes: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def errors(self) -> list[RowResult]:
        return [r for r in self.rows if r.errors]

    def count(self, status: str) -> int:
        return sum(1 for r in self.rows if r.status == status)


# -- reading files -------------------------------------------------------------------------


def read_rows(filename: str, content: bytes) -> list[dict[str, str]]:
    """Rows of a CSV or XLSX file as {column key: text}; unknown columns are kept as-is."""
    name = filename.lower()
    if name.endswith(".xlsx") or content[:2] == b"PK":
        table = _xlsx(content)
    elif name.endswith((".csv", ".txt")) or not name:
        table = _csv(content)
    else:
        raise ImportFileError(_("Upload a .csv or .xlsx file."))
    rows = iter(table)
    header = next(rows, None)
    if not header or not any(fields.text(h) for h in header):
        raise ImportFileError(_("The file is empty: the first row must name the columns."))
    keys = [HEADER.get(fields.text(h).casefold(), fields.text(h)) for h in header]
    out = []
    for values in rows:
        cells = {k: fields.text(v) for k, v in zip(keys, values, strict=False) if k}
        if any(cells.values()):
            out.append(cells)
        if len(out) > MAX_ROWS:
            raise ImportFileError(_("At most %(n)s rows per file.", n=MAX_ROWS))
    return out


def _csv(content: bytes) -> list[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFileError(_("The CSV file is neither UTF-8 nor GBK text."))
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise ImportFileError(_("The CSV file is malformed: %(e)s", e=str(exc))) from None


def _xlsx(content: bytes) -> Iterable[tuple]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise ImportFileError(_("This is not an .xlsx workbook.")) from None
    try:
        sheet = book.worksheets[0]
        rows = []
        for values in sheet.iter_rows(values_only=True):
            rows.append(values)
            if len(rows) > MAX_ROWS + 1:
                break
        return rows
    finally:
        book.close()


# -- planning ------------------------------------------------------------------------------


def _same(old: Any, new: Any) -> bool:
    if isinstance(new, bool):
        return bool(old) == new  # a flag never set reads as "no"
    return old == new


def _changes(existing: dict | None, values: dict[str, Any]) -> dict[str, Any]:
    if existing is None:
        return {k: v for k, v in values.items() if v is not None}
    changed = {k: v for k, v in values.items() if not _same(existing.get(k), v)}
    if existing.get("deleted"):
        changed = {k: v for k, v in values.items() if v is not None}  # re-create it whole
    return changed


def _wrong_compound(cells: dict[str, str], compound_name: str) -> str | None:
    named = cells.get("compound")
    if named and named != compound_name:
        return _("This row belongs to compound %(name)s.", name=named)
    return None


def plan_households(
    db: Database, compound_id: str, compound_name: str, rows: list[dict[str, str]]
) -> Plan:
    buildings = building_names(db, compound_id)
    live = data.households_by_unit(db, compound_id)
    every = data.all_households(db, compound_id)
    plan = Plan("households", [])
    seen: dict[tuple[str, str], int] = {}
    for i, cells in enumerate(rows, start=2):
        result = RowResult(i, cells)
        plan.rows.append(result)
        values, errors = fields.household(cells, buildings)
        # Only columns present in the file are imported; the rest keep their values.
        values = {k: v for k, v in values.items() if k in cells or k in ("building", "unit")}
        wrong = _wrong_compound(cells, compound_name)
        if wrong:
            errors["compound"] = wrong
        key = (values["building"], values["unit"])
        if not errors.get("unit") and not errors.get("building"):
            if key in seen:
                errors["unit"] = _(
                    "Duplicate household: the same unit as row %(line)s.", line=seen[key]
                )
            else:
                seen[key] = i
        if errors:
            result.status, result.errors = "error", errors
            continue
        existing = live.get(key)
        row_id = existing["id"] if existing else stable_id(compound_id, *key)
        existing = existing or every.get(row_id)
        changes = _changes(existing, values)
        result.row_id = row_id
        if existing is None or existing.get("deleted"):
            result.status = "new"
            plan.writes[row_id] = {"compound_id": compound_id, **changes}
        elif changes:
            result.status = "changed"
            plan.writes[row_id] = changes
    return plan


def plan_residents(
    db: Database, compound_id: str, compound_name: str, rows: list[dict[str, str]]
) -> Plan:
    live = data.households_by_unit(db, compound_id)
    every = data.residents_by_id(db, compound_id)
    plan = Plan("residents", [])
    seen: dict[str, int] = {}
    for i, cells in enumerate(rows, start=2):
        result = RowResult(i, cells)
        plan.rows.append(result)
        values, errors = fields.resident(cells)
        values = {k: v for k, v in values.items() if k in cells or k == "name"}
        wrong = _wrong_compound(cells, compound_name)
        if wrong:
            errors["compound"] = wrong
        building, unit = cells.get("building", ""), cells.get("unit", "")
        household = live.get((building, unit))
        if not unit:
            errors["unit"] = _("The unit (door number) is missing.")
        elif household is None:
            errors["unit"] = _(
                "No household %(b)s-%(u)s in the register: import households first.",
                b=building,
                u=unit,
            )
        if errors:
            result.status, result.errors = "error", errors
            continue
        row_id = stable_id(household["id"], values["name"])
        if row_id in seen:
            result.status = "error"
            result.errors = {
                "name": _("Duplicate resident: the same person as row %(line)s.", line=seen[row_id])
            }
            continue
        seen[row_id] = i
        existing = every.get(row_id)
        changes = _changes(existing, values)
        result.row_id = row_id
        if existing is None or existing.get("deleted"):
            result.status = "new"
            plan.writes[row_id] = {
                "compound_id": compound_id,
                "household_id": household["id"],
                **changes,
            }
        elif changes:
            result.status = "changed"
            plan.writes[row_id] = changes
    return plan


def plan(db: Database, kind: str, compound_id: str, compound_name: str, rows: list) -> Plan:
    planner = plan_households if kind == "households" else plan_residents
    return planner(db, compound_id, compound_name, rows)


def apply(replica: Replica, plan: Plan) -> int:
    """Write the plan in one write_many (one transaction); returns the rows written."""
    if plan.errors:
        raise ValueError("a plan with errors is never written")
    if plan.writes:
        replica.write_many(plan.kind, plan.writes)
    return len(plan.writes)
