"""Reading a household or resident from text (a form or a spreadsheet row).

Each parser returns (values, errors); errors map a field to a message for a person.
The same rules serve the edit forms and the imports, so a file and a form agree.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _

from sync import WriteError

TRUE = {"1", "y", "yes", "true", "t", "x", "√", "✓", "是", "有"}
FALSE = {"0", "n", "no", "false", "f", "否", "无", "-"}
AREA_SUFFIX = re.compile(r"\s*(m2|m²|㎡|平方米|平米|平)$", re.IGNORECASE)
SPLIT = re.compile(r"[,，、;；/]+")
MAX_AREA = Decimal(100_000)


def text(value: Any) -> str:
    """A cell as trimmed text (spreadsheets give numbers: 301.0 is unit '301')."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    out = " ".join(str(value).split())
    # Our exports guard against formula injection with a leading quote; take it off.
    if out[:2] in ("'=", "'+", "'-", "'@"):
        out = out[1:]
    return out


def parse_area(raw: str) -> tuple[float | None, str | None]:
    raw = AREA_SUFFIX.sub("", raw.strip()).replace("，", ".")
    if not raw:
        return None, None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        return None, _("The floor area must be a number of square metres, like 89.37.")
    if not value.is_finite() or value <= 0 or value > MAX_AREA:
        return None, _("The floor area must be more than 0 and at most 100000 m².")
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        return None, _("The floor area has at most two decimals.")
    # float(Decimal) keeps the typed decimal: repr() gives it back (voting relies on it).
    return float(value), None


def parse_bool(raw: str) -> tuple[bool | None, str | None]:
    low = raw.strip().lower()
    if low in TRUE:
        return True, None
    if low in FALSE or not low:
        return False, None
    return None, _("Write yes or no (1 or 0).")


def parse_int(raw: str, lo: int, hi: int) -> tuple[int | None, str | None]:
    raw = raw.strip()
    if not raw:
        return None, None
    try:
        value = int(Decimal(raw)) if Decimal(raw) == Decimal(raw).to_integral() else None
    except InvalidOperation:
        value = None
    if value is None or not lo <= value <= hi:
        return None, _("A whole number from %(lo)s to %(hi)s.", lo=lo, hi=hi)
    return value, None


def parse_names(raw: str) -> str | None:
    names = [n.strip() for n in SPLIT.split(raw) if n.strip()]
    return json.dumps(names, ensure_ascii=False) if names else None


def show_names(stored: str | None) -> str:
    if not stored:
        return ""
    try:
        names = json.loads(stored)
    except ValueError:
        return stored
    return "、".join(str(n) for n in names) if isinstance(names, list) else stored


def household(
    form: Mapping[str, Any], buildings: set[str] | None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Values for the households table and errors per field."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    building = text(form.get("building"))
    if not building:
        errors["building"] = _("Choose the building.")
    elif buildings is not None and building not in buildings:
        errors["building"] = _(
            "Unknown building %(name)s: add it to the compound first.", name=building
        )
    values["building"] = building
    unit = text(form.get("unit"))
    if not unit:
        errors["unit"] = _("The unit (door number) is missing.")
    elif len(unit) > 100:
        errors["unit"] = _("At most 100 characters.")
    values["unit"] = unit
    values["area_m2"], problem = parse_area(text(form.get("area_m2")))
    if problem:
        errors["area_m2"] = problem
    for name, limit in (("owner_name", 200), ("phone", 40), ("owner_key", 100)):
        value = text(form.get(name))
        if len(value) > limit:
            errors[name] = _("At most %(n)s characters.", n=limit)
        values[name] = value or None
    values["members"], problem = parse_int(text(form.get("members")), 0, 100)
    if problem:
        errors["members"] = problem
    for flag in ("medical_worker", "hardship", "elderly_alone", "developer_held"):
        values[flag], problem = parse_bool(text(form.get(flag)))
        if problem:
            errors[flag] = problem
    values["co_owners"] = parse_names(text(form.get("co_owners")))
    return values, errors


def resident(form: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    name = text(form.get("name"))
    if not name:
        errors["name"] = _("The name is missing.")
    elif len(name) > 200:
        errors["name"] = _("At most %(n)s characters.", n=200)
    values["name"] = name
    values["birth_year"], problem = parse_int(
        text(form.get("birth_year")), 1880, dt.date.today().year
    )
    if problem:
        errors["birth_year"] = problem
    phone = text(form.get("phone"))
    if len(phone) > 40:
        errors["phone"] = _("At most %(n)s characters.", n=40)
    values["phone"] = phone or None
    return values, errors


REASONS = {
    "required": lambda: _("Required."),
    "too_long": lambda: _("Too long."),
    "out_of_range": lambda: _("Out of range."),
    "bad_type": lambda: _("Wrong kind of value."),
    "compound_change": lambda: _("A row cannot move to another compound."),
}


def write_errors(exc: WriteError) -> dict[str, str]:
    """The engine's refusal, as messages per field (translated where we know the reason)."""
    out: dict[str, str] = {}
    for p in exc.problems:
        message = REASONS[p.reason]() if p.reason in REASONS else p.message
        out.setdefault(p.column or "_form", message)
    return out
