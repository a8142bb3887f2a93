"""The legal rule sets of owners' votes and the arithmetic of a result.

Sources (the only place in Last Meter that states them):

- Civil Code of the PRC 《中华人民共和国民法典》, in force 2021-01-01:
  - art. 278: the matters owners decide together (items 1-9); a vote needs owners holding
    two thirds or more of the exclusive area AND two thirds or more of the owners to take
    part; items 6-8 pass with three quarters or more of the participating area AND of the
    participating owners; the other items with more than half of each (过半数).
  - art. 1259: "以上" (or more) includes the bound; "超过" / 过半数 (more than) does not.
- Property Law of the PRC 《物权法》 (2007, repealed 2021-01-01), art. 76: raising or using
  the maintenance funds and rebuilding need two thirds or more of the TOTAL area AND of all
  owners in favour; other matters more than half of the total area AND of all owners.
- Property Management Regulations 《物业管理条例》 (2007 / 2018 revisions), art. 11-12: the
  same thresholds, and an owners' meeting needs more than half of the area and of the
  owners to take part.
- Supreme People's Court, interpretation on disputes over building ownership
  《最高人民法院关于审理建筑物区分所有权纠纷案件适用法律若干问题的解释》
  (法释〔2009〕7号, amended 2020), art. 7: changing the use of common parts or using them
  for business is an "other important matter" under Property Law art. 76 item 7 — so under
  the 2007 rules art. 278 item 8 is an ordinary matter. (Art. 8-9, how owners and areas are
  counted, are applied in electorate.py.)

Everything is exact: counts are ints, areas `Fraction`s built from decimal strings. A
float never reaches a threshold.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from .figures import Check, Totals, fmt_fraction

CHINA = dt.timezone(dt.timedelta(hours=8))
CIVIL_CODE_IN_FORCE = dt.date(2021, 1, 1)
HALF, TWO_THIRDS, THREE_QUARTERS = Fraction(1, 2), Fraction(2, 3), Fraction(3, 4)


@dataclass(frozen=True)
class Matter:
    """A matter owners decide together: Civil Code art. 278, item `item`."""

    id: str
    item: int
    label_en: str
    label_zh: str


# (id, English, Chinese) in the order of Civil Code art. 278 items 1-9.
_MATTER_ROWS = (
    ("rules_of_procedure", "Adopt or amend the owners' assembly rules of procedure",
     "制定和修改业主大会议事规则"),
    ("management_rules", "Adopt or amend the management rules", "制定和修改管理规约"),
    ("elect_committee", "Elect the owners' committee or replace its members",
     "选举业主委员会或者更换业主委员会成员"),
    ("property_manager", "Hire or dismiss the property company or other manager",
     "选聘和解聘物业服务企业或者其他管理人"),
    ("use_maintenance_funds", "Use the maintenance funds of the buildings",
     "使用建筑物及其附属设施的维修资金"),
    ("raise_maintenance_funds", "Raise maintenance funds for the buildings",
     "筹集建筑物及其附属设施的维修资金"),
    ("rebuild", "Alter or rebuild the buildings and their facilities",
     "改建、重建建筑物及其附属设施"),
    ("common_parts_use", "Change the use of common parts or use them for business",
     "改变共有部分的用途或者利用共有部分从事经营活动"),
    ("other_major", "Other important matters of common ownership and management "
     "(e.g. spending common revenue)", "有关共有和共同管理权利的其他重大事项（如使用公共收益）"),
)  # fmt: skip
MATTERS = tuple(Matter(m[0], i, m[1], m[2]) for i, m in enumerate(_MATTER_ROWS, start=1))
MATTER_BY_ID = {m.id: m for m in MATTERS}


@dataclass(frozen=True)
class RuleSet:
    id: str
    label_en: str
    label_zh: str
    binding: bool
    sources: tuple[str, ...]
    # art. 278 items that need the special (higher) threshold under this rule set
    special_items: frozenset[int] = frozenset()

    def kind(self, matter: Matter) -> str:
        return "special" if matter.item in self.special_items else "ordinary"


CIVIL_CODE = RuleSet(
    "civil-code-2021",
    "Civil Code (2021)",
    "民法典（2021年起）",
    True,
    ("Civil Code art. 278", "Civil Code art. 1259"),
    frozenset({6, 7, 8}),
)
PROPERTY_LAW = RuleSet(
    "property-law-2007",
    "Property Law (2007) and Property Management Regulations",
    "物权法（2007年）及物业管理条例",
    True,
    (
        "Property Law art. 76",
        "Property Management Regulations art. 11-12",
        "SPC interpretation on building ownership (2009) art. 7",
    ),
    frozenset({5, 6, 7}),
)
SIMPLE_MAJORITY = RuleSet(
    "simple-majority",
    "Simple majority of ballots cast — non-binding poll",
    "简单多数（不具法律效力的意见征询）",
    False,
    (),
)
AUTO = "auto"
RULE_SETS = {r.id: r for r in (CIVIL_CODE, PROPERTY_LAW, SIMPLE_MAJORITY)}
RULE_SET_IDS = (AUTO, CIVIL_CODE.id, PROPERTY_LAW.id, SIMPLE_MAJORITY.id)
NON_BINDING_NOTICE_EN = "Non-binding poll: not a decision of the owners under the law."
NON_BINDING_NOTICE_ZH = "意见征询，不具法律效力：不构成业主依法共同作出的决定。"


def resolve(rule_set_id: str, opens_at: dt.datetime | dt.date) -> RuleSet:
    """The rule set a motion uses; `auto` picks by the opening date in China time."""
    if rule_set_id != AUTO:
        try:
            return RULE_SETS[rule_set_id]
        except KeyError:
            raise ValueError(f"unknown rule set {rule_set_id!r}") from None
    if isinstance(opens_at, dt.datetime):
        if opens_at.tzinfo is None:
            raise ValueError("the opening time needs a time zone")
        day = opens_at.astimezone(CHINA).date()
    else:
        day = opens_at
    return CIVIL_CODE if day >= CIVIL_CODE_IN_FORCE else PROPERTY_LAW


OUTCOMES = {
    "passed": ("Passed", "通过"),
    "failed": ("Failed", "未通过"),
    "not_valid": ("Not valid: too few owners took part", "表决无效：参与表决的业主不足"),
    "undecided": ("Cannot be decided: the register lacks areas", "无法判定：登记簿缺少面积"),
}


@dataclass(frozen=True)
class Result:
    rule_set: RuleSet
    requested_rule_set: str
    matter: Matter
    kind: str
    totals: Totals
    checks: tuple[Check, ...]

    @property
    def valid(self) -> bool | None:
        stage = [c.passed for c in self.checks if c.stage == "participation"]
        return False if False in stage else (None if None in stage else True)

    @property
    def outcome(self) -> str:
        if self.valid is False:
            return "not_valid"
        approval = [c.passed for c in self.checks if c.stage == "approval"]
        if False in approval:
            return "failed"  # whatever the missing areas would say, it cannot pass
        if None in approval or self.valid is None:
            return "undecided"
        return "passed"

    def to_dict(self) -> dict[str, Any]:
        t = self.totals
        return {
            "rule_set": self.rule_set.id,
            "requested_rule_set": self.requested_rule_set,
            "binding": self.rule_set.binding,
            "notice_en": None if self.rule_set.binding else NON_BINDING_NOTICE_EN,
            "notice_zh": None if self.rule_set.binding else NON_BINDING_NOTICE_ZH,
            "sources": list(self.rule_set.sources),
            "matter": self.matter.id,
            "matter_item": self.matter.item,
            "kind": self.kind,
            "valid": self.valid,
            "outcome": self.outcome,
            "outcome_en": OUTCOMES[self.outcome][0],
            "outcome_zh": OUTCOMES[self.outcome][1],
            "totals": {
                "N": t.owners,
                "A": fmt_fraction(t.area),
                "N_p": t.owners_participating,
                "A_p": fmt_fraction(t.area_participating),
                "N_y": t.owners_for,
                "A_y": fmt_fraction(t.area_for),
                "owners_against": t.owners_against,
                "area_against": fmt_fraction(t.area_against),
                "owners_abstain": t.owners_abstain,
                "area_abstain": fmt_fraction(t.area_abstain),
            },
            "checks": [c.to_dict() for c in self.checks],
        }


def _checks(stage: str, values: tuple, bases: tuple, names: tuple, ratio: Fraction, source: str):
    inclusive = ratio != HALF  # art. 1259: "以上" includes the bound, "过半数" does not
    n, a = values
    base_n, base_a = bases
    return (
        Check(f"{stage}_owners", stage, "owners", Fraction(n), Fraction(base_n), names[0],
              ratio, inclusive, source),
        Check(f"{stage}_area", stage, "area", a, base_a, names[1], ratio, inclusive, source),
    )  # fmt: skip


def evaluate(
    rule_set_id: str,
    matter_id: str,
    totals: Totals,
    opens_at: dt.datetime | dt.date | None = None,
) -> Result:
    """Apply a rule set to the totals of a closed vote."""
    if rule_set_id == AUTO and opens_at is None:
        raise ValueError("the auto rule set needs the opening time")
    rules = resolve(rule_set_id, opens_at or CIVIL_CODE_IN_FORCE)
    try:
        matter = MATTER_BY_ID[matter_id]
    except KeyError:
        raise ValueError(f"unknown matter {matter_id!r}") from None
    kind = rules.kind(matter)
    t = totals
    total = (t.owners, t.area)
    took_part = (t.owners_participating, t.area_participating)
    in_favour = (t.owners_for, t.area_for)
    if rules is CIVIL_CODE:
        ratio = THREE_QUARTERS if kind == "special" else HALF
        checks = _checks("participation", took_part, total, ("N", "A"), TWO_THIRDS,
                         "Civil Code art. 278 para. 2")  # fmt: skip
        checks += _checks("approval", in_favour, took_part, ("N_p", "A_p"), ratio,
                          "Civil Code art. 278 para. 2; art. 1259")  # fmt: skip
    elif rules is PROPERTY_LAW:
        ratio = TWO_THIRDS if kind == "special" else HALF
        checks = _checks("participation", took_part, total, ("N", "A"), HALF,
                         "Property Management Regulations art. 12")  # fmt: skip
        checks += _checks("approval", in_favour, total, ("N", "A"), ratio,
                          "Property Law art. 76 para. 2")  # fmt: skip
    else:  # a simple majority of the ballots cast, by head only
        checks = _checks("approval", in_favour, took_part, ("N_p", "A_p"), HALF,
                         "non-binding poll")[:1]  # fmt: skip
    return Result(rules, rule_set_id, matter, kind, totals, checks)
