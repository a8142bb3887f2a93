"""Exact figures of a vote: areas as fractions, the totals, and one threshold check.

No floats: counts are ints, areas `Fraction`s built from decimal strings, so a result
at a threshold is never decided by rounding. The legal choice of ratios is in rules.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from math import floor
from typing import Any


def parse_area(value: Any) -> Fraction:
    """An exact area from a decimal string ('89.37', or '2469/3' as fmt_fraction writes
    it), int, Decimal or Fraction — never a float."""
    if isinstance(value, bool | float):
        raise TypeError("areas must be given as decimal strings, not floats")
    if isinstance(value, Fraction):
        result = value
    elif isinstance(value, int | Decimal):
        result = Fraction(value)
    elif isinstance(value, str):
        try:
            text = value.strip()
            result = Fraction(text) if "/" in text else Fraction(Decimal(text))
        except (ArithmeticError, ValueError):
            raise ValueError(f"not an area: {value!r}") from None
    else:
        raise TypeError(f"not an area: {value!r}")
    if result < 0:
        raise ValueError(f"an area cannot be negative: {value!r}")
    return result


def fmt_area(value: Fraction | None) -> str:
    """Exact decimal when it terminates, else rounded to 0.01 with '≈'."""
    if value is None:
        return "?"
    d, twos, fives = value.denominator, 0, 0
    while d % 2 == 0:
        d, twos = d // 2, twos + 1
    while d % 5 == 0:
        d, fives = d // 5, fives + 1
    if d == 1:  # exact: shift by 10**k in integers, no Decimal context to round it
        k = max(twos, fives)
        digits = str(abs(value.numerator) * 10**k // value.denominator).rjust(k + 1, "0")
        text = (digits[:-k] + "." + digits[-k:]).rstrip("0").rstrip(".") if k else digits
        return ("-" if value < 0 else "") + text
    rounded = Decimal(value.numerator) / Decimal(value.denominator)
    return "≈" + str(rounded.quantize(Decimal("0.01")))


def fmt_fraction(value: Fraction | None) -> str | None:
    """Lossless text for JSON: '1234.5' or '2469/3'."""
    if value is None:
        return None
    text = fmt_area(value)
    return str(value) if text.startswith("≈") else text


@dataclass(frozen=True)
class Totals:
    """The electorate and the ballots counted. An area is None where it is not known."""

    owners: int  # N
    area: Fraction | None  # A
    owners_for: int  # N_y
    area_for: Fraction | None  # A_y
    owners_against: int = 0
    area_against: Fraction | None = Fraction(0)
    owners_abstain: int = 0
    area_abstain: Fraction | None = Fraction(0)

    def __post_init__(self) -> None:
        if min(self.owners, self.owners_for, self.owners_against, self.owners_abstain) < 0:
            raise ValueError("owner counts cannot be negative")
        if self.owners_participating > self.owners:
            raise ValueError("more owners took part than there are owners")
        for name in ("area", "area_for", "area_against", "area_abstain"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, parse_area(value))
        a, a_p = self.area, self.area_participating
        if a is not None and a_p is not None and a_p > a:
            raise ValueError("more area took part than the total area")

    @property
    def owners_participating(self) -> int:  # N_p: abstaining owners take part
        return self.owners_for + self.owners_against + self.owners_abstain

    @property
    def area_participating(self) -> Fraction | None:  # A_p
        parts = (self.area_for, self.area_against, self.area_abstain)
        return None if any(p is None for p in parts) else sum(parts, Fraction(0))


@dataclass(frozen=True)
class Check:
    """One test of a result: value compared with ratio x base, with the margin."""

    id: str
    stage: str  # "participation" or "approval"
    measure: str  # "owners" or "area"
    value: Fraction | None
    base: Fraction | None
    base_name: str  # "N", "N_p", "A", "A_p"
    ratio: Fraction
    inclusive: bool  # 2/3, 3/4: the bound counts (以上); 1/2: strictly more (过半数)
    source: str

    @property
    def bound(self) -> Fraction | None:
        return None if self.base is None else self.ratio * self.base

    @property
    def needed(self) -> int | None:
        """Owners: the smallest whole number that passes."""
        if self.measure != "owners" or self.bound is None:
            return None
        b = self.bound
        if self.inclusive:
            return -floor(-b)  # ceiling
        return floor(b) + 1

    @property
    def passed(self) -> bool | None:
        """None: cannot be decided (an area is missing from the register)."""
        if self.value is None or self.bound is None:
            return None
        return self.value >= self.bound if self.inclusive else self.value > self.bound

    @property
    def margin(self) -> Fraction | None:
        """Owners: how many fewer would fail it (passed) or more are needed (failed).
        Area: the distance to the bound in m²."""
        if self.passed is None:
            return None
        if self.measure == "owners":
            needed = self.needed or 0
            return Fraction(self.value - needed + 1 if self.passed else needed - self.value)
        return abs(self.value - self.bound)

    def _ratio_text(self) -> str:
        word = "at least" if self.inclusive else "more than"
        return f"{word} {self.ratio} of {self.base_name}"

    def text_en(self) -> str:
        if self.passed is None:
            return f"{self.measure}: cannot be decided, the register lacks areas"
        if self.measure == "owners":
            unit = "owner" if self.margin == 1 else "owners"
            bound = f"{fmt_area(self.bound)}, so {self.needed} needed"
            verdict = "passes" if self.passed else "fails"
            return (
                f"{self.value} owners, {self._ratio_text()} ({int(self.base)}) is {bound}: "
                f"{verdict} by {self.margin} {unit}"
            )
        head = (
            f"{fmt_area(self.value)} m², {self._ratio_text()} ({fmt_area(self.base)} m²) "
            f"is {fmt_area(self.bound)} m²: "
        )
        if self.margin == 0:
            return head + (
                "passes exactly at the bound"
                if self.passed
                else "fails, exactly at the bound, which is not more than it"
            )
        verdict = "passes" if self.passed else "fails"
        return head + f"{verdict} by {fmt_area(self.margin)} m²"

    def text_zh(self) -> str:
        if self.passed is None:
            return "面积：登记簿缺少面积，无法判定" if self.measure == "area" else "无法判定"
        verdict = "通过" if self.passed else "未通过"
        if self.measure == "owners":
            base = f"{self.base_name}（{int(self.base)}人）"
            gap = f"再少{self.margin}人即未通过" if self.passed else f"差{self.margin}人"
            tail = f"即至少{self.needed}人"
        else:
            base = f"{self.base_name}（{fmt_area(self.base)}平方米）"
            gap = f"{'超出' if self.passed else '差'}{fmt_area(self.margin)}平方米"
            if self.margin == 0:
                gap = "恰好达到界值" if self.passed else "恰好等于界值，未过半"
            tail = f"界值{fmt_area(self.bound)}平方米"
        if self.inclusive:
            need = f"须达{base}的{self.ratio}以上（含本数）"
        else:
            need = f"须超过{base}的半数（过半数，不含本数）"
        value = f"{self.value}人" if self.measure == "owners" else f"{fmt_area(self.value)}平方米"
        return f"{value}，{need}，{tail}：{verdict}（{gap}）"

    def to_dict(self) -> dict[str, Any]:
        whole = self.measure == "owners"
        return {
            "id": self.id,
            "stage": self.stage,
            "measure": self.measure,
            "value": None
            if self.value is None
            else (int(self.value) if whole else fmt_fraction(self.value)),
            "base": None
            if self.base is None
            else (int(self.base) if whole else fmt_fraction(self.base)),
            "base_name": self.base_name,
            "ratio": str(self.ratio),
            "inclusive": self.inclusive,
            "bound": fmt_fraction(self.bound),
            "needed": self.needed,
            "passed": self.passed,
            "margin": None
            if self.margin is None
            else (int(self.margin) if whole else fmt_fraction(self.margin)),
            "source": self.source,
            "text_en": self.text_en(),
            "text_zh": self.text_zh(),
        }
