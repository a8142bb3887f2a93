"""The six items 六个到位 at their edges: each from data with evidence, or attested."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from server.certification.evaluate import evaluate
from server.certification.explanation import ATTESTED, DATA, NONE
from server.certification.facts import (
    Attestation,
    Closure,
    Delivery,
    DisinfectionLog,
    MedicineRequest,
    TemperatureCheck,
    WorkGroup,
)
from server.certification.rules import WUHAN_2020_03

replace = dataclasses.replace


def rule(facts, on, name, **kw):
    return evaluate(facts, on, **kw).result(name)


# -- screening and survey 排查摸底 ------------------------------------------------------


def test_screening_full_coverage_is_100_percent(b, compound):
    r = rule(compound, b.D, "screening")
    assert r.passed
    assert r.details["percent"] == "100.0"
    assert r.details["missing"] == []
    assert [row["date"] for row in r.details["by_day"]] == [b.day(-2), b.day(-1), b.D]


def test_screening_one_household_missing_fails_and_lists_it(b, compound):
    checks = [c for c in compound.checks if not (c.household_id == "h3" and "03-07T" in c[4])]
    r = rule(replace(compound, checks=checks), b.D, "screening")
    assert not r.passed
    assert r.details["percent"] == "75.0"
    assert r.details["covered"] == 3
    assert r.details["missing"] == [
        {"household_id": "h3", "building": "2", "unit": "301", "days": [b.day(-1)]}
    ]
    assert "building 2, unit 301: no temperature check on 03-07" in [f.text for f in r.facts]


def test_screening_percent_rounds_down_never_shows_100_with_a_gap(b):
    facts = b.good(households=2500, history=3)
    checks = [c for c in facts.checks if not (c.household_id == "h7" and "03-08T20" in c[4])]
    checks = [c for c in checks if not (c.household_id == "h7" and "03-08T08" in c[4])]
    r = rule(replace(facts, checks=checks), b.D, "screening")
    assert r.details["percent"] == "99.9"
    assert not r.passed


@pytest.mark.parametrize(
    ("stamp_args", "passes"),
    [
        ((-3, "23:59", "+08:00"), False),  # the evening before the window: D-2 stays empty
        ((-2, "00:01", "+08:00"), True),
        ((-3, "15:59", "Z"), False),  # = D-3 23:59 in Shanghai
        ((-3, "16:01", "Z"), True),  # = D-2 00:01 in Shanghai
    ],
)
def test_screening_check_counts_on_its_local_date_at_midnight(b, compound, stamp_args, passes):
    kept = [c for c in compound.checks if not (c.household_id == "h1" and "03-06T" in c[4])]
    extra = TemperatureCheck("late", "h1", "r1", 36.4, b.stamp(*stamp_args))
    r = rule(replace(compound, checks=[*kept, extra]), b.D, "screening")
    assert r.passed is passes


def test_screening_with_no_check_at_all_has_no_data(b, compound):
    r = rule(replace(compound, checks=[]), b.D, "screening")
    assert not r.passed
    assert r.basis == NONE


# -- disinfection and hygiene 消杀卫生 ----------------------------------------------------


def test_one_corridor_disinfection_instead_of_two_fails_for_that_building(b, compound):
    logs = [
        log for log in compound.disinfections if log.id != f"d-2-{-4}-19:00"
    ]  # building 2, 03-04 evening
    r = rule(replace(compound, disinfections=logs), b.D, "disinfection")
    assert not r.passed
    assert [f.text for f in r.failing_facts] == [
        "building 2: corridors disinfected fewer than 2 times a day on 03-04 (1)"
    ]
    assert r.details["buildings"]["2"][2] == 1


def test_day_without_any_disinfection_log_fails(b, compound):
    logs = [log for log in compound.disinfections if "03-05T" not in log.done_at]
    r = rule(replace(compound, disinfections=logs), b.D, "disinfection")
    assert not r.passed
    assert "no disinfection log on 03-05" in [f.text for f in r.failing_facts]


def test_corridor_logs_older_than_seven_days_do_not_count(b, compound):
    logs = [log for log in compound.disinfections if log.done_at >= b.day(-6).isoformat()]
    assert rule(replace(compound, disinfections=logs), b.D, "disinfection").passed
    logs = [log for log in logs if log.done_at >= b.day(-5).isoformat()]
    assert not rule(replace(compound, disinfections=logs), b.D, "disinfection").passed


def test_corridor_log_without_corridor_area_does_not_count(b, compound):
    logs = [
        replace(log, area="lobby") if log.id == "d-1-0-07:00" else log
        for log in compound.disinfections
    ]
    assert not rule(replace(compound, disinfections=logs), b.D, "disinfection").passed
    logs = [
        replace(log, area=" 楼道 ") if log.id == "d-1-0-07:00" else log
        for log in compound.disinfections
    ]
    assert rule(replace(compound, disinfections=logs), b.D, "disinfection").passed


def test_no_disinfection_log_can_be_attested(b, compound):
    att = Attestation("disinfection", "paper log kept by property", "secretary", b.day(-1))
    facts = replace(compound, disinfections=[], attestations=[*compound.attestations, att])
    r = rule(facts, b.D, "disinfection")
    assert r.passed
    assert r.basis == ATTESTED
    assert r.attestation == att


# -- closed management 封闭管理 ----------------------------------------------------------


@pytest.mark.parametrize(
    ("entrances", "passes"),
    [((), True), (("north gate",), True), (("north gate", "east gate"), False)],
)
def test_at_most_one_entrance_open(b, compound, entrances, passes):
    facts = replace(compound, closures=[Closure(dt.date(2020, 1, 23), entrances)])
    r = rule(facts, b.D, "closed_management")
    assert r.passed is passes
    assert r.details["closed_on"] == dt.date(2020, 1, 23)


def test_closure_recorded_after_d_does_not_count(b, compound):
    facts = replace(compound, closures=[Closure(b.day(1), ("north gate",))])
    r = rule(facts, b.D, "closed_management")
    assert not r.passed
    assert r.basis == NONE


def test_latest_closure_on_or_before_d_is_the_one_judged(b, compound):
    closures = [Closure(dt.date(2020, 1, 23), ("a", "b")), Closure(dt.date(2020, 1, 28), ("a",))]
    assert rule(replace(compound, closures=closures), b.D, "closed_management").passed
    on = dt.date(2020, 1, 25)
    assert not rule(replace(compound, closures=closures), on, "closed_management").passed


# -- supply guarantee 供应保障 -----------------------------------------------------------


def med(b, offset, hhmm, status="requested", zone="+08:00"):
    return MedicineRequest("m9", "h4", "阿莫西林", status, b.stamp(offset, hhmm, zone))


@pytest.mark.parametrize(
    ("offset", "hhmm", "status", "passes"),
    [
        (-1, "00:00", "requested", True),  # exactly 48 h before the end of D
        (-2, "23:59", "requested", False),  # 48 h 1 min
        (-2, "23:59", "bought", False),  # bought but not delivered
        (-5, "09:00", "delivered", True),
        (-5, "09:00", "refused", True),
        (1, "09:00", "requested", True),  # made after D: not known on D
    ],
)
def test_medicine_request_older_than_48_hours_not_delivered_fails(
    b, compound, offset, hhmm, status, passes
):
    facts = replace(compound, medicine_requests=[med(b, offset, hhmm, status)])
    r = rule(facts, b.D, "supply")
    assert r.passed is passes
    if not passes:
        assert r.failing_facts[0].code == "medicine_overdue"
        assert "阿莫西林" in r.failing_facts[0].text
        assert "building 1, unit 401" in r.failing_facts[0].text


def test_medicine_age_is_measured_at_as_of_when_given(b, compound):
    now = dt.datetime.fromisoformat(b.stamp(0, "09:00"))
    late = replace(compound, medicine_requests=[med(b, -2, "08:59")])
    fresh = replace(compound, medicine_requests=[med(b, -2, "09:01")])
    assert not rule(late, b.D, "supply", as_of=now).passed
    assert rule(fresh, b.D, "supply", as_of=now).passed
    assert not rule(fresh, b.D, "supply").passed  # by the end of D it is 62 h old


@pytest.mark.parametrize(("offset", "passes"), [(-6, True), (-7, False)])
def test_a_delivery_within_the_last_seven_days_is_needed(b, compound, offset, passes):
    facts = replace(compound, deliveries=[Delivery("x", "h1", "delivered", b.stamp(offset))])
    r = rule(facts, b.D, "supply")
    assert r.passed is passes
    assert r.details["deliveries"] == (1 if passes else 0)


def test_planned_delivery_is_not_a_delivery(b, compound):
    facts = replace(compound, deliveries=[Delivery("x", "h1", "planned", None)])
    assert not rule(facts, b.D, "supply").passed


# -- organisation and mobilisation 组织发动 ----------------------------------------------


def test_missing_work_group_fails_naming_it(b, compound):
    groups = [g for g in compound.work_groups if g.kind != "purchasing"]
    r = rule(replace(compound, work_groups=groups), b.D, "organisation")
    assert not r.passed
    assert [f.params["kind"] for f in r.failing_facts] == ["purchasing"]


def test_work_group_with_nobody_assigned_fails(b, compound):
    groups = [*compound.work_groups[:3], WorkGroup("distribution", ("  ",))]
    assert not rule(replace(compound, work_groups=groups), b.D, "organisation").passed


def test_no_work_groups_at_all_fails_without_attestation(b, compound):
    r = rule(replace(compound, work_groups=[]), b.D, "organisation")
    assert not r.passed
    assert r.basis == NONE


# -- publicity and guidance 宣传引导, and attestations in general ------------------------


def test_publicity_attested_passes_on_the_attestation(b, compound):
    r = rule(compound, b.D, "publicity")
    assert r.passed
    assert r.basis == ATTESTED
    assert r.facts[0].text == "attested by secretary on 02-17: banners and WeChat notices"


@pytest.mark.parametrize(
    "attestations",
    [
        [],
        [Attestation("publicity", "notices", "secretary", dt.date(2020, 3, 9))],  # after D
        [Attestation("publicity", "   ", "secretary", dt.date(2020, 3, 1))],  # no note
        [Attestation("screening", "notices", "secretary", dt.date(2020, 3, 1))],  # other item
    ],
)
def test_publicity_without_valid_attestation_fails(b, compound, attestations):
    r = rule(replace(compound, attestations=attestations), b.D, "publicity")
    assert not r.passed
    assert r.basis == NONE


def test_attestation_does_not_override_recorded_gaps(b, compound):
    checks = [c for c in compound.checks if c.household_id != "h2"]
    att = Attestation("screening", "all checked on paper", "secretary", b.D)
    facts = replace(compound, checks=checks, attestations=[*compound.attestations, att])
    r = rule(facts, b.D, "screening")
    assert not r.passed
    assert r.basis == DATA
    assert r.facts[-1].code == "attestation_not_enough"
    lenient = replace(WUHAN_2020_03, id="lenient", attestation_overrides_gaps=True)
    r = rule(facts, b.D, "screening", version=lenient)
    assert r.passed
    assert r.basis == ATTESTED
    assert any(f.code == "household_unchecked" for f in r.facts)  # the gap stays visible


def test_disinfection_log_fields_from_a_synced_row(b):
    row = {
        "id": "x",
        "compound_id": "cp1",
        "area": "corridor",
        "building": "3",
        "done_at": b.stamp(0),
        "done_by": "v1",
        "deleted": 0,
    }
    log = DisinfectionLog.from_row(row)
    assert (log.area, log.building, log.done_at) == ("corridor", "3", b.stamp(0))
