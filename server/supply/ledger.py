"""The donations ledger: immutable entries of money and goods, in and out, per purpose.

An entry is never changed or removed. A mistake is corrected by a new entry that names
the one it corrects and carries the opposite amount; the right figures, if any, are then
entered again. Every balance is a plain sum of entries, so every figure on a page adds
up from the rows beneath it. Money is exact `Decimal` yuan (to the fen); goods are
counted per item and unit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import InputError

MONEY_IN = "money_in"
MONEY_OUT = "money_out"
GOODS_IN = "goods_in"
GOODS_OUT = "goods_out"
KINDS = (MONEY_IN, MONEY_OUT, GOODS_IN, GOODS_OUT)
FEN = Decimal("0.01")
MAX_AMOUNT = Decimal(100_000_000)  # a community ledger, not a bank: catches typos
TEXT_LIMITS = {"purpose": 200, "counterparty": 200, "item": 200, "unit": 40, "note": 1000}


class LedgerError(InputError):
    """A ledger entry that cannot be recorded; `field` names the input at fault."""


@dataclass(frozen=True)
class Entry:
    id: str
    kind: str
    purpose: str
    date: dt.date
    amount_yuan: Decimal | None = None  # money entries; goods entries may carry a value
    item: str | None = None  # goods entries
    unit: str | None = None
    quantity: Decimal | None = None
    counterparty: str | None = None  # the donor (in) or the recipient (out)
    note: str | None = None
    corrects: str | None = None  # id of the entry this one reverses

    @property
    def is_money(self) -> bool:
        return self.kind in (MONEY_IN, MONEY_OUT)

    @property
    def direction(self) -> int:
        """+1 for what comes in, -1 for what goes out."""
        return 1 if self.kind in (MONEY_IN, GOODS_IN) else -1


def _decimal(value: Any, field: str) -> Decimal:
    if isinstance(value, bool | float):
        raise LedgerError(
            field,
            "%(field)s must be given exactly (text or Decimal), not %(value)r",
            field=field,
            value=value,
        )
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise LedgerError(
            field, "%(field)s must be a number, not %(value)r", field=field, value=value
        ) from None
    if not number.is_finite():
        raise LedgerError(
            field, "%(field)s must be a finite number, not %(value)r", field=field, value=value
        )
    if abs(number) > MAX_AMOUNT:
        raise LedgerError(
            field, "%(field)s is implausibly large (%(number)s)", field=field, number=number
        )
    return number


def _text(value: Any, field: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise LedgerError(
            field, "%(field)s must be text, not %(type)s", field=field, type=type(value).__name__
        )
    value = value.strip()
    if len(value) > TEXT_LIMITS[field]:
        raise LedgerError(
            field,
            "%(field)s is longer than %(limit)s characters",
            field=field,
            limit=TEXT_LIMITS[field],
        )
    return value or None


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise LedgerError("date", "date must be a date like 2020-02-10, not %(value)r", value=value)


def make_entry(
    *,
    id: str,
    kind: str,
    purpose: Any,
    date: Any,
    amount_yuan: Any = None,
    item: Any = None,
    unit: Any = None,
    quantity: Any = None,
    counterparty: Any = None,
    note: Any = None,
    corrects: str | None = None,
) -> Entry:
    """Validate raw input (a form, a stored row) into an Entry, or raise LedgerError.

    Amounts are positive in ordinary entries; only a correction carries negative ones.
    """
    if kind not in KINDS:
        raise LedgerError(
            "kind",
            "unknown kind %(kind)r; use one of %(choices)s",
            kind=kind,
            choices=", ".join(KINDS),
        )
    if not isinstance(id, str) or not id:
        raise LedgerError("id", "an entry needs an id")
    purpose = _text(purpose, "purpose")
    if not purpose:
        raise LedgerError("purpose", "purpose is required (what the money or goods are for)")
    sign = -1 if corrects else 1

    def signed(value: Any, field: str, required: bool) -> Decimal | None:
        if value is None or value == "":
            if required:
                raise LedgerError(
                    field, "%(field)s is required for %(kind)s", field=field, kind=kind
                )
            return None
        number = _decimal(value, field)
        if number * sign < 0:
            if corrects:
                raise LedgerError(
                    field,
                    "%(field)s correction amounts must be negative (%(number)s)",
                    field=field,
                    number=number,
                )
            raise LedgerError(
                field, "%(field)s cannot be negative (%(number)s)", field=field, number=number
            )
        if number == 0:
            raise LedgerError(field, "%(field)s must not be zero", field=field)
        return number

    money = kind in (MONEY_IN, MONEY_OUT)
    amount = signed(amount_yuan, "amount_yuan", required=money)
    if amount is not None and amount != amount.quantize(FEN):
        raise LedgerError(
            "amount_yuan", "amount_yuan has more than two decimals (%(amount)s)", amount=amount
        )
    if money:
        if item is not None or quantity is not None or unit is not None:
            raise LedgerError("item", "a %(kind)s entry has no item, unit or quantity", kind=kind)
        return Entry(
            id,
            kind,
            purpose,
            _date(date),
            amount,
            counterparty=_text(counterparty, "counterparty"),
            note=_text(note, "note"),
            corrects=corrects,
        )
    item, unit = _text(item, "item"), _text(unit, "unit")
    if not item:
        raise LedgerError("item", "item is required for %(kind)s (e.g. cabbage)", kind=kind)
    if not unit:
        raise LedgerError(
            "unit", "unit is required for %(kind)s (e.g. jin, box, package)", kind=kind
        )
    return Entry(
        id,
        kind,
        purpose,
        _date(date),
        amount,
        item,
        unit,
        signed(quantity, "quantity", required=True),
        _text(counterparty, "counterparty"),
        _text(note, "note"),
        corrects,
    )


def correction(original: Entry, *, id: str, date: Any, note: Any = None) -> Entry:
    """The entry that reverses `original`: same kind, purpose and item, opposite amounts."""
    if original.corrects:
        raise LedgerError("corrects", "a correction cannot itself be corrected; enter it again")

    def neg(x: Decimal | None) -> Decimal | None:
        return None if x is None else -x

    return replace(
        original,
        id=id,
        date=_date(date),
        amount_yuan=neg(original.amount_yuan),
        quantity=neg(original.quantity),
        note=_text(note, "note"),
        corrects=original.id,
    )


def check_new(entries: Iterable[Entry], new: Entry) -> None:
    """Raise LedgerError if `new` cannot join `entries` (ids, corrections)."""
    by_id: dict[str, Entry] = {}
    corrected: set[str] = set()
    for entry in entries:
        by_id[entry.id] = entry
        if entry.corrects:
            corrected.add(entry.corrects)
    if new.id in by_id:
        raise LedgerError("id", "entry %(id)s already exists; entries are never changed", id=new.id)
    if not new.corrects:
        return
    original = by_id.get(new.corrects)
    if original is None:
        raise LedgerError("corrects", "entry %(id)s to correct does not exist", id=new.corrects)
    if original.corrects:
        raise LedgerError("corrects", "a correction cannot itself be corrected; enter it again")
    if new.corrects in corrected:
        raise LedgerError("corrects", "entry %(id)s has already been corrected", id=new.corrects)
    expected = correction(original, id=new.id, date=new.date, note=new.note)
    if new != expected:
        raise LedgerError(
            "corrects",
            "a correction must repeat the entry it corrects (kind, purpose, item, unit, "
            "counterparty) with the opposite amounts",
        )


def append(entries: list[Entry], new: Entry) -> list[Entry]:
    """A new list with `new` added after checking it; the old list is left as it was."""
    check_new(entries, new)
    return [*entries, new]


@dataclass(frozen=True)
class Balance:
    """Money in, out and held for one purpose (yuan)."""

    received: Decimal = Decimal(0)
    spent: Decimal = Decimal(0)

    @property
    def held(self) -> Decimal:
        return self.received - self.spent


def money_balances(entries: Iterable[Entry]) -> dict[str, Balance]:
    """Balance per purpose: money in minus money out; corrections included as entered."""
    sums: dict[str, list[Decimal]] = {}
    for e in entries:
        if not e.is_money or e.amount_yuan is None:
            continue
        row = sums.setdefault(e.purpose, [Decimal("0.00"), Decimal("0.00")])  # shown to the fen
        row[0 if e.kind == MONEY_IN else 1] += e.amount_yuan
    return {purpose: Balance(r, s) for purpose, (r, s) in sorted(sums.items())}


GoodsKey = tuple[str, str, str]  # (purpose, item, unit)


def goods_balances(entries: Iterable[Entry]) -> dict[GoodsKey, Balance]:
    """Quantities in, out and held per (purpose, item, unit)."""
    sums: dict[GoodsKey, list[Decimal]] = {}
    for e in entries:
        if e.is_money or e.quantity is None or e.item is None or e.unit is None:
            continue
        row = sums.setdefault((e.purpose, e.item, e.unit), [Decimal(0), Decimal(0)])
        row[0 if e.kind == GOODS_IN else 1] += e.quantity
    return {key: Balance(r, s) for key, (r, s) in sorted(sums.items())}


def goods_value(entries: Iterable[Entry]) -> dict[str, Decimal]:
    """Declared yuan value of goods held per purpose (goods entries that carry one)."""
    values: dict[str, Decimal] = {}
    for e in entries:
        if e.is_money or e.amount_yuan is None:
            continue
        values[e.purpose] = values.get(e.purpose, Decimal(0)) + e.direction * e.amount_yuan
    return dict(sorted(values.items()))


def overdrawn(entries: Iterable[Entry]) -> list[str]:
    """Purposes (and goods) with more out than in: shown as a warning, never hidden."""
    entries = list(entries)
    found = [f"{p}: {b.held} yuan" for p, b in money_balances(entries).items() if b.held < 0]
    found += [
        f"{p}: {b.held} {unit} of {item}"
        for (p, item, unit), b in goods_balances(entries).items()
        if b.held < 0
    ]
    return found


def entry_from_row(row: Mapping[str, Any]) -> Entry:
    """Rebuild an Entry from a stored row (text amounts, ISO date)."""
    fields = ("amount_yuan", "item", "unit", "quantity", "counterparty", "note", "corrects")
    return make_entry(
        id=row["id"],
        kind=row["kind"],
        purpose=row["purpose"],
        date=row["date"],
        **{name: row.get(name) for name in fields},
    )


def entry_to_row(entry: Entry) -> dict[str, Any]:
    """A row to store: amounts as exact text, the date as ISO text."""

    def text(x: Decimal | None) -> str | None:
        return None if x is None else str(x)

    return {
        "id": entry.id,
        "kind": entry.kind,
        "purpose": entry.purpose,
        "date": entry.date.isoformat(),
        "amount_yuan": text(entry.amount_yuan),
        "item": entry.item,
        "unit": entry.unit,
        "quantity": text(entry.quantity),
        "counterparty": entry.counterparty,
        "note": entry.note,
        "corrects": entry.corrects,
    }
