"""Rule versions as data: window, fever threshold, which items count, and every threshold.

A stored check names the version it used (`RuleVersion.id`), so the rules may change
without rewriting history. Add a version here; never edit one that checks have used.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# The six items 六个到位, in the order the press reports listed them.
PUBLICITY = "publicity"
CLOSED_MANAGEMENT = "closed_management"
SCREENING = "screening"
DISINFECTION = "disinfection"
SUPPLY = "supply"
ORGANISATION = "organisation"
ITEMS = (PUBLICITY, CLOSED_MANAGEMENT, SCREENING, DISINFECTION, SUPPLY, ORGANISATION)

# The two halves of zero occurrence 疫情零发生.
ZERO_CONFIRMED = "zero_confirmed"
ZERO_THREE_KINDS = "zero_three_kinds"
ZERO_RULES = (ZERO_CONFIRMED, ZERO_THREE_KINDS)

# Labels for pages and exports: (Simplified Chinese, English).
LABELS = {
    ZERO_CONFIRMED: ("无确诊病例", "No confirmed case"),
    ZERO_THREE_KINDS: ("三类人员均已解除", "No unreleased person of the three kinds"),
    PUBLICITY: ("宣传引导到位", "Publicity and guidance"),
    CLOSED_MANAGEMENT: ("封闭管理到位", "Closed management"),
    SCREENING: ("排查摸底到位", "Screening and survey"),
    DISINFECTION: ("消杀卫生到位", "Disinfection and hygiene"),
    SUPPLY: ("供应保障到位", "Supply guarantee"),
    ORGANISATION: ("组织发动到位", "Organisation and mobilisation"),
}

# Work groups every compound must name (DOMAIN.md, "People and roles").
WORK_GROUP_KINDS = ("group_buying", "vegetable_buying", "purchasing", "distribution")
WORK_GROUP_LABELS = {
    "group_buying": ("团购组", "group-buying"),
    "vegetable_buying": ("购菜组", "vegetable buying"),
    "purchasing": ("采买组", "purchasing"),
    "distribution": ("分发组", "distribution"),
}

# disinfection_logs.area values that mean a building's corridors 楼道 (compared after
# strip + lower). The field agent should write "corridor" with the building set.
CORRIDOR_AREAS = ("corridor", "corridors", "stairwell", "楼道", "走廊", "楼梯间")

THREE_KINDS = ("suspected", "fever", "close_contact")


@dataclass(frozen=True)
class RuleVersion:
    """One jurisdiction's rules. Every threshold of the check lives here."""

    id: str
    jurisdiction: str
    title: str
    # Zero occurrence: a case counts while its start date is within (D - window, D].
    window_days: int = 14
    # A reading at or above this is a fever 发热. Exact decimal, never a float literal.
    fever_threshold_c: Decimal = Decimal("37.3")
    # Which of the six items count for this version.
    items: tuple[str, ...] = ITEMS
    # Disinfection: a log on each of the last N days, corridors K times a day per building.
    disinfection_days: int = 7
    corridor_per_day: int = 2
    corridor_areas: tuple[str, ...] = CORRIDOR_AREAS
    # Screening: every household checked on each of the last N days (D included).
    screening_days: int = 3
    # Supply: at least N deliveries done in the last M days; no medicine request open
    # (requested or bought) for longer than H hours.
    supply_days: int = 7
    min_deliveries: int = 1
    medicine_max_hours: int = 48
    # Closed management: at most this many entrances left open.
    max_open_entrances: int = 1
    work_group_kinds: tuple[str, ...] = WORK_GROUP_KINDS
    # An attestation stands in for an item with no record at all; when this is True it
    # also overrides recorded gaps (a household unchecked, an overdue medicine request).
    attestation_overrides_gaps: bool = False

    def __post_init__(self) -> None:
        unknown = set(self.items) - set(ITEMS)
        if unknown:
            raise ValueError(f"rule version {self.id}: unknown items {sorted(unknown)}")
        if not isinstance(self.fever_threshold_c, Decimal):
            raise TypeError("fever_threshold_c must be a Decimal")
        for name in ("window_days", "disinfection_days", "screening_days", "supply_days"):
            if getattr(self, name) < 1:
                raise ValueError(f"rule version {self.id}: {name} must be at least 1")

    def counts(self, item: str) -> bool:
        return item in self.items


WUHAN_2020_03 = RuleVersion(
    id="wuhan-2020-03",
    jurisdiction="武汉市 Wuhan",
    title="无疫情小区、社区（村）标准 (March 2020): 14-day window, fever at 37.3 °C",
)

# Other cities counted back over shorter windows. This version is an example of such a
# rule, for testing and for a jurisdiction to copy: name the real one when adding it.
EXAMPLE_5D = RuleVersion(
    id="example-5d",
    jurisdiction="example",
    title="Example: 5-day window, fever at 37.3 °C, screening over 5 days",
    window_days=5,
    screening_days=5,
)

VERSIONS = {v.id: v for v in (WUHAN_2020_03, EXAMPLE_5D)}
DEFAULT_VERSION = WUHAN_2020_03.id
DEFAULT_TIMEZONE = "Asia/Shanghai"


def get_version(version_id: str | None = None) -> RuleVersion:
    """The rule version with this id (the default when None); KeyError names the known ones."""
    key = version_id or DEFAULT_VERSION
    try:
        return VERSIONS[key]
    except KeyError:
        raise KeyError(f"unknown rule version {key!r}; known: {', '.join(VERSIONS)}") from None
