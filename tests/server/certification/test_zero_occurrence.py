"""Zero occurrence 疫情零发生 at its edges, and the earliest date it could pass."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from server.certification.evaluate import evaluate
from server.certification.facts import HealthCase, TemperatureCheck
from server.certification.rules import ZERO_CONFIRMED, ZERO_THREE_KINDS


def with_cases(facts, *cases):
    return dataclasses.replace(facts, health_cases=[*facts.health_cases, *cases])


def with_checks(facts, *checks):
    return dataclasses.replace(facts, checks=[*facts.checks, *checks])


def case(b, category, start, released=None, resident="r1", household="h1", **kw):
    return HealthCase(
        f"case-{category}-{start}",
        category,
        b.day(start),
        None if released is None else b.day(released),
        resident,
        household,
        **kw,
    )


def test_good_compound_passes_every_rule_and_serialises(b, compound):
    result = evaluate(compound, b.D)
    assert result.passed, [(r.rule, r.facts) for r in result.failing]
    assert result.earliest_pass == b.D
    data = json.loads(json.dumps(result.to_dict()))
    assert data["passed"] is True
    assert data["rule_version"] == "wuhan-2020-03"
    assert {r["rule"] for r in data["rules"]} >= {ZERO_CONFIRMED, ZERO_THREE_KINDS, "screening"}


@pytest.mark.parametrize(
    ("start", "passes", "earliest"),
    [
        (-20, True, None),
        (-14, True, None),  # exactly 14 days before D: the last case is 14 days back
        (-13, False, 1),
        (-1, False, 13),
        (0, False, 14),
        (1, True, None),  # starts after D: not known on D
    ],
)
def test_confirmed_case_counts_while_start_is_within_14_days(b, compound, start, passes, earliest):
    result = evaluate(with_cases(compound, case(b, "confirmed", start)), b.D)
    rule = result.result(ZERO_CONFIRMED)
    assert rule.passed is passes
    assert result.passed is passes
    assert rule.earliest_pass == (None if earliest is None else b.day(earliest))


def test_confirmed_case_counts_even_when_released(b, compound):
    result = evaluate(with_cases(compound, case(b, "confirmed", -3, released=-1)), b.D)
    assert not result.result(ZERO_CONFIRMED).passed
    assert result.result(ZERO_CONFIRMED).earliest_pass == b.day(11)


@pytest.mark.parametrize(
    ("category", "start", "released", "passes", "earliest"),
    [
        ("fever", -14, None, True, None),  # started exactly 14 days before D: out of window
        ("fever", -13, None, False, 1),
        ("fever", -3, 0, True, None),  # released on D
        ("fever", -3, 1, False, 1),  # released the day after D
        ("fever", -3, -1, True, None),
        ("fever", -13, 5, False, 1),  # leaves the window before its release
        ("suspected", -3, None, False, 11),
        ("suspected", 0, 0, True, None),
        ("close_contact", 0, None, False, 14),
        ("close_contact", 1, None, True, None),  # starts after D
    ],
)
def test_three_kinds_case_must_be_released_on_or_before_d(
    b, compound, category, start, released, passes, earliest
):
    result = evaluate(with_cases(compound, case(b, category, start, released)), b.D)
    rule = result.result(ZERO_THREE_KINDS)
    assert rule.passed is passes
    assert result.passed is passes
    assert rule.earliest_pass == (None if earliest is None else b.day(earliest))


def test_open_case_fact_names_person_building_and_start(b, compound):
    result = evaluate(with_cases(compound, case(b, "fever", -6)), b.D)
    texts = [f.text for f in result.result(ZERO_THREE_KINDS).failing_facts]
    assert texts == [
        "fever case of resident 张三 in building 2, unit 101 since 03-02, not released"
    ]
    params = result.result(ZERO_THREE_KINDS).failing_facts[0].params
    assert params["resident_name"] == "张三"
    assert params["building"] == "2"


def test_released_case_is_listed_as_evidence(b, compound):
    result = evaluate(with_cases(compound, case(b, "close_contact", -6, released=-2)), b.D)
    rule = result.result(ZERO_THREE_KINDS)
    assert rule.passed
    assert any("released 03-06" in f.text and f.ok for f in rule.facts)


def fever(b, offset, hhmm="09:00", zone="+08:00", temp=38.1, cid="fever1", resident="r1"):
    return TemperatureCheck(cid, "h1", resident, temp, b.stamp(offset, hhmm, zone))


@pytest.mark.parametrize(
    ("temp", "passes"),
    [(37.2, True), (37.29, True), (37.3, False), (39.0, False)],
)
def test_fever_reading_at_threshold_fails_without_a_case(b, compound, temp, passes):
    result = evaluate(with_checks(compound, fever(b, -2, temp=temp)), b.D)
    assert result.result(ZERO_THREE_KINDS).passed is passes


def test_fever_reading_fails_until_its_case_is_released(b, compound):
    facts = with_checks(compound, fever(b, -2))
    result = evaluate(facts, b.D)
    rule = result.result(ZERO_THREE_KINDS)
    assert not rule.passed
    assert rule.failing_facts[0].code == "fever_reading_open"
    assert "38.1 °C" in rule.failing_facts[0].text
    assert rule.earliest_pass == b.day(12)
    opened = case(b, "fever", -2, source_check_id="fever1")
    assert not evaluate(with_cases(facts, opened), b.D).passed
    released = case(b, "fever", -2, released=0, source_check_id="fever1")
    assert evaluate(with_cases(facts, released), b.D).passed


def test_fever_reading_within_an_open_case_of_same_person_is_that_case(b, compound):
    facts = with_cases(with_checks(compound, fever(b, -2)), case(b, "fever", -4, released=-1))
    # The case (03-04..03-07) covers the 03-06 reading; released on 03-07, so it passes.
    assert evaluate(facts, b.D).passed


def test_fever_reading_after_release_is_a_new_fever(b, compound):
    facts = with_cases(with_checks(compound, fever(b, 0)), case(b, "fever", -4, released=-1))
    rule = evaluate(facts, b.D).result(ZERO_THREE_KINDS)
    assert not rule.passed
    assert rule.earliest_pass == b.day(14)


@pytest.mark.parametrize(
    ("offset", "hhmm", "zone", "passes"),
    [
        (-14, "23:59", "+08:00", True),  # local date D-14: out of the window
        (-13, "00:01", "+08:00", False),  # one minute later, local date D-13: in window
        (-14, "15:59", "Z", True),  # = D-14 23:59 in Shanghai
        (-14, "16:01", "Z", False),  # = D-13 00:01 in Shanghai
        (0, "23:59", "+08:00", False),
        (0, "16:01", "Z", True),  # = D+1 00:01 in Shanghai: after D
    ],
)
def test_fever_reading_counts_on_its_local_date(b, compound, offset, hhmm, zone, passes):
    result = evaluate(with_checks(compound, fever(b, offset, hhmm, zone)), b.D)
    assert result.result(ZERO_THREE_KINDS).passed is passes


def test_fever_window_follows_the_configured_zone(b, compound):
    facts = with_checks(compound, fever(b, -14, "16:01", "Z"))
    assert not evaluate(facts, b.D).passed  # Shanghai: 03-(D-13) 00:01
    assert evaluate(facts, b.D, tz="UTC").result(ZERO_THREE_KINDS).passed  # UTC: D-14


@pytest.mark.parametrize(
    "cases",
    [
        [("confirmed", -3, None)],
        [("fever", -5, None)],
        [("fever", -5, 2)],
        [("confirmed", -3, None), ("suspected", -1, None), ("fever", -5, 3)],
        [("close_contact", 0, None)],
    ],
)
def test_earliest_pass_date_is_exact_if_nothing_new_happens(b, cases):
    def facts_on(on):
        good = b.good(on=on)
        made = [case(b, cat, s, r, resident=f"r{i}") for i, (cat, s, r) in enumerate(cases, 1)]
        return with_cases(good, *made)

    first = evaluate(facts_on(b.D), b.D)
    assert not first.passed
    earliest = first.earliest_pass
    assert earliest is not None
    assert earliest > b.D
    assert not evaluate(
        facts_on(earliest - dt.timedelta(days=1)), earliest - dt.timedelta(days=1)
    ).passed
    assert evaluate(facts_on(earliest), earliest).passed


def test_earliest_pass_is_none_when_an_item_needs_action(b, compound):
    facts = with_cases(dataclasses.replace(compound, work_groups=[]), case(b, "confirmed", -3))
    result = evaluate(facts, b.D)
    assert result.earliest_pass is None
    assert result.zero_occurrence_passes_on == b.day(11)
    assert result.to_dict()["earliest_pass"] is None
