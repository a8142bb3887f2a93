"""Rule versions are data: window, fever threshold and counted items per version."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from server.certification.evaluate import evaluate
from server.certification.explanation import NOT_COUNTED
from server.certification.facts import HealthCase, TemperatureCheck
from server.certification.rules import (
    DEFAULT_VERSION,
    EXAMPLE_5D,
    ITEMS,
    VERSIONS,
    WUHAN_2020_03,
    RuleVersion,
    get_version,
)


def test_default_version_is_wuhan_march_2020():
    v = get_version()
    assert v.id == DEFAULT_VERSION == "wuhan-2020-03"
    assert v.window_days == 14
    assert v.fever_threshold_c == Decimal("37.3")
    assert v.items == ITEMS
    assert (v.disinfection_days, v.corridor_per_day, v.screening_days) == (7, 2, 3)
    assert (v.supply_days, v.medicine_max_hours, v.max_open_entrances) == (7, 48, 1)


def test_every_version_has_a_distinct_id_and_a_jurisdiction():
    assert len(VERSIONS) >= 2
    for key, v in VERSIONS.items():
        assert key == v.id
        assert v.jurisdiction


def test_unknown_version_is_refused_with_the_known_ones():
    with pytest.raises(KeyError, match="wuhan-2020-03"):
        get_version("nowhere-1900")


def test_version_with_unknown_item_or_float_threshold_is_refused():
    with pytest.raises(ValueError, match="unknown items"):
        RuleVersion("x", "x", "x", items=("publicity", "prayer"))
    with pytest.raises(TypeError):
        RuleVersion("x", "x", "x", fever_threshold_c=37.3)  # type: ignore[arg-type]


@pytest.mark.parametrize(("start", "wuhan", "five_day"), [(-4, False, False), (-5, False, True)])
def test_window_comes_from_the_version(b, compound, start, wuhan, five_day):
    case = HealthCase("c", "fever", b.day(start), None, "r1", "h1")
    facts = dataclasses.replace(compound, health_cases=[case])
    assert evaluate(facts, b.D, WUHAN_2020_03).passed is wuhan
    result = evaluate(facts, b.D, EXAMPLE_5D.id)
    assert result.passed is five_day
    assert result.rule_version == "example-5d"


def test_fever_threshold_comes_from_the_version(b, compound):
    check = TemperatureCheck("hot", "h1", "r1", 37.5, b.stamp(-1))
    facts = dataclasses.replace(compound, checks=[*compound.checks, check])
    assert not evaluate(facts, b.D).passed
    higher = dataclasses.replace(WUHAN_2020_03, id="t", fever_threshold_c=Decimal("37.6"))
    assert evaluate(facts, b.D, higher).passed


def test_item_not_counted_by_the_version_does_not_fail(b, compound):
    facts = dataclasses.replace(compound, attestations=[], work_groups=[])
    assert not evaluate(facts, b.D).passed
    fewer = dataclasses.replace(
        WUHAN_2020_03,
        id="fewer",
        items=tuple(i for i in ITEMS if i not in ("publicity", "organisation")),
    )
    result = evaluate(facts, b.D, fewer)
    assert result.passed
    assert result.result("publicity").basis == NOT_COUNTED
    assert result.to_dict()["rule_version"] == "fewer"
