"""The legal rule sets at their exact thresholds, one owner or one m² either side."""

import datetime as dt
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.voting.figures import Totals, fmt_area, parse_area
from server.voting.rules import (
    AUTO,
    MATTERS,
    RULE_SET_IDS,
    RULE_SETS,
    evaluate,
    resolve,
)

CN = dt.timezone(dt.timedelta(hours=8))


def totals(n, a, n_for, a_for, n_against=0, a_against="0", n_abstain=0, a_abstain="0"):
    return Totals(n, a, n_for, a_for, n_against, a_against, n_abstain, a_abstain)


def check(result, check_id):
    return next(c for c in result.checks if c.id == check_id)


# -- matters and rule sets ------------------------------------------------------------


def test_matters_are_the_nine_items_of_article_278_with_both_languages():
    assert [m.item for m in MATTERS] == list(range(1, 10))
    assert len({m.id for m in MATTERS}) == 9
    assert all(m.label_en and m.label_zh for m in MATTERS)


@pytest.mark.parametrize(
    ("rule_set", "special"),
    [
        ("civil-code-2021", {"raise_maintenance_funds", "rebuild", "common_parts_use"}),
        ("property-law-2007", {"use_maintenance_funds", "raise_maintenance_funds", "rebuild"}),
        ("simple-majority", set()),
    ],
)
def test_which_matters_need_the_special_threshold(rule_set, special):
    rules = RULE_SETS[rule_set]
    assert {m.id for m in MATTERS if rules.kind(m) == "special"} == special


def test_every_binding_rule_set_cites_its_sources_and_the_poll_is_marked_non_binding():
    assert RULE_SET_IDS[0] == AUTO
    assert "Civil Code art. 278" in RULE_SETS["civil-code-2021"].sources
    assert "Civil Code art. 1259" in RULE_SETS["civil-code-2021"].sources
    assert "Property Law art. 76" in RULE_SETS["property-law-2007"].sources
    poll = evaluate("simple-majority", "other_major", totals(10, "1000", 6, "600", 4, "400"))
    assert poll.to_dict()["binding"] is False
    assert "Non-binding" in poll.to_dict()["notice_en"]
    assert poll.to_dict()["notice_zh"]


@pytest.mark.parametrize(
    ("opens_at", "expected"),
    [
        (dt.datetime(2020, 12, 31, 23, 59, tzinfo=CN), "property-law-2007"),
        (dt.datetime(2021, 1, 1, 0, 0, tzinfo=CN), "civil-code-2021"),
        # 16:00 UTC on 31 December is already 1 January in China
        (dt.datetime(2020, 12, 31, 16, 0, tzinfo=dt.UTC), "civil-code-2021"),
        (dt.datetime(2020, 12, 31, 15, 59, tzinfo=dt.UTC), "property-law-2007"),
        (dt.date(2020, 2, 20), "property-law-2007"),
    ],
)
def test_auto_picks_the_law_in_force_on_the_opening_day_in_china(opens_at, expected):
    assert resolve(AUTO, opens_at).id == expected
    result = evaluate(AUTO, "other_major", totals(3, "300", 3, "300"), opens_at)
    assert result.rule_set.id == expected
    assert result.to_dict()["requested_rule_set"] == AUTO


def test_auto_refuses_a_naive_time_and_unknown_names_are_refused():
    with pytest.raises(ValueError, match="time zone"):
        resolve(AUTO, dt.datetime(2021, 1, 1))
    with pytest.raises(ValueError, match="unknown rule set"):
        resolve("civil-code-1999", dt.date(2021, 1, 1))
    with pytest.raises(ValueError, match="unknown matter"):
        evaluate("civil-code-2021", "buy_a_yacht", totals(1, "1", 1, "1"))
    with pytest.raises(ValueError, match="opening time"):
        evaluate(AUTO, "other_major", totals(1, "1", 1, "1"))


# -- exact arithmetic -----------------------------------------------------------------


def test_areas_never_come_from_floats():
    assert parse_area("89.37") == Fraction(8937, 100)
    assert parse_area(" 12 ") == 12
    with pytest.raises(TypeError, match="float"):
        parse_area(0.1)
    with pytest.raises(TypeError):
        totals(3, 0.3, 1, "0.1")
    with pytest.raises(ValueError, match="negative"):
        parse_area("-1")


def test_tenths_add_up_exactly_at_a_bound():
    # 0.1 + 0.2 == 0.3 exactly: in floats 0.1 + 0.2 > 0.3 and this would pass.
    t = totals(2, "0.6", 1, "0.3", 1, "0.3")
    r = evaluate("property-law-2007", "other_major", t)
    assert check(r, "approval_area").passed is False  # 0.3 is not more than half of 0.6
    assert check(r, "approval_area").margin == 0


def test_counts_and_areas_cannot_exceed_the_electorate():
    with pytest.raises(ValueError, match="more owners"):
        totals(2, "100", 2, "50", 1, "10")
    with pytest.raises(ValueError, match="more area"):
        totals(3, "100", 2, "90", 1, "20")


# -- civil code (2021): participation 2/3 of N and A, inclusive -----------------------
# N = 300, A = 30000 m²: two thirds are exactly 200 owners and 20000 m².


@pytest.mark.parametrize(
    ("n_p", "a_p", "owners_ok", "area_ok"),
    [
        (200, "20000", True, True),  # exactly at both bounds: included (art. 1259)
        (199, "20000", False, True),
        (200, "19999", True, False),
        (201, "20001", True, True),
    ],
)
def test_civil_code_participation_is_two_thirds_inclusive(n_p, a_p, owners_ok, area_ok):
    t = totals(300, "30000", 0, "0", n_p, a_p)
    r = evaluate("civil-code-2021", "other_major", t)
    assert check(r, "participation_owners").passed is owners_ok
    assert check(r, "participation_area").passed is area_ok
    assert r.valid is (owners_ok and area_ok)
    if not r.valid:
        assert r.outcome == "not_valid"


def test_civil_code_participation_margins_are_stated():
    r = evaluate("civil-code-2021", "other_major", totals(300, "30000", 0, "0", 199, "19997.5"))
    owners, area = check(r, "participation_owners"), check(r, "participation_area")
    assert owners.needed == 200
    assert owners.text_en().endswith("fails by 1 owner")
    assert area.text_en().endswith("fails by 2.5 m²")
    assert "差1人" in owners.text_zh()
    r = evaluate("civil-code-2021", "other_major", totals(300, "30000", 0, "0", 200, "20000"))
    assert check(r, "participation_owners").text_en().endswith("passes by 1 owner")
    assert check(r, "participation_area").text_en().endswith("passes exactly at the bound")


@pytest.mark.parametrize(
    ("n_for", "a_for", "outcome"),
    [
        (101, "10001", "passed"),  # over half of N_p = 200 and A_p = 20000
        (100, "10001", "failed"),  # exactly half is not over half
        (101, "10000", "failed"),
        (101, "10000.01", "passed"),
    ],
)
def test_civil_code_ordinary_matter_needs_over_half_of_participants(n_for, a_for, outcome):
    a_against = str(Fraction(20000) - Fraction(a_for))
    t = totals(300, "30000", n_for, a_for, 200 - n_for, a_against)
    r = evaluate("civil-code-2021", "elect_committee", t)
    assert r.kind == "ordinary"
    assert r.valid is True
    assert r.outcome == outcome


@pytest.mark.parametrize(
    ("n_for", "a_for", "outcome"),
    [
        (150, "15000", "passed"),  # exactly three quarters: included
        (149, "15000", "failed"),
        (150, "14999", "failed"),
    ],
)
@pytest.mark.parametrize("matter", ["raise_maintenance_funds", "rebuild", "common_parts_use"])
def test_civil_code_special_matter_needs_three_quarters_inclusive(matter, n_for, a_for, outcome):
    a_against = str(Fraction(20000) - Fraction(a_for))
    t = totals(300, "30000", n_for, a_for, 200 - n_for, a_against)
    r = evaluate("civil-code-2021", matter, t)
    assert r.kind == "special"
    assert r.outcome == outcome


def test_civil_code_abstentions_take_part_but_are_not_in_favour():
    # N = 3: 1 for + 1 abstaining make 2 of 3 take part (valid), 1 of 2 is not over half.
    r = evaluate("civil-code-2021", "other_major", totals(3, "300", 1, "100", 0, "0", 1, "100"))
    assert r.valid is True
    assert r.outcome == "failed"
    # Without the abstention only 1 of 3 took part: not valid.
    r = evaluate("civil-code-2021", "other_major", totals(3, "300", 1, "100"))
    assert r.outcome == "not_valid"


# -- property law (2007): thresholds of the totals ------------------------------------


@pytest.mark.parametrize(
    ("n_for", "a_for", "outcome"),
    [
        (151, "15001", "passed"),
        (150, "15001", "not_valid"),  # 150 of 300 is not over half: nor is participation
        (151, "15000", "not_valid"),
        (151, "15000.01", "passed"),
    ],
)
def test_property_law_ordinary_matter_needs_over_half_of_all_owners(n_for, a_for, outcome):
    r = evaluate("property-law-2007", "other_major", totals(300, "30000", n_for, a_for))
    assert r.kind == "ordinary"
    assert r.outcome == outcome


def test_property_law_counts_against_the_totals_not_the_participants():
    # 151 of 300 in favour, 100 against: passes although the civil code would ask more turnout.
    t = totals(300, "30000", 151, "15100", 100, "10000")
    assert evaluate("property-law-2007", "other_major", t).outcome == "passed"
    assert evaluate("civil-code-2021", "other_major", t).outcome == "passed"
    # 151 of 300 in favour and nobody else: fine in 2007, not valid in 2021.
    t = totals(300, "30000", 151, "15100")
    assert evaluate("property-law-2007", "other_major", t).outcome == "passed"
    assert evaluate("civil-code-2021", "other_major", t).outcome == "not_valid"


@pytest.mark.parametrize(
    ("n_for", "a_for", "outcome"),
    [
        (200, "20000", "passed"),  # exactly two thirds: included
        (199, "20000", "failed"),
        (200, "19999", "failed"),
    ],
)
@pytest.mark.parametrize("matter", ["use_maintenance_funds", "raise_maintenance_funds", "rebuild"])
def test_property_law_special_matter_needs_two_thirds_of_totals(matter, n_for, a_for, outcome):
    a_against = str(Fraction(30000) - Fraction(a_for))
    r = evaluate("property-law-2007", matter, totals(300, "30000", n_for, a_for, 300 - n_for,
                                                      a_against))  # fmt: skip
    assert r.kind == "special"
    assert r.outcome == outcome


def test_using_maintenance_funds_is_special_in_2007_but_ordinary_in_2021():
    # 151 of 300 owners and area in favour, all took part.
    t = totals(300, "30000", 151, "15100", 149, "14900")
    assert evaluate("property-law-2007", "use_maintenance_funds", t).outcome == "failed"
    assert evaluate("civil-code-2021", "use_maintenance_funds", t).outcome == "passed"


# -- simple majority ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n_for", "n_against", "n_abstain", "outcome"),
    [(3, 2, 0, "passed"), (2, 2, 0, "failed"), (2, 1, 1, "failed"), (1, 0, 0, "passed")],
)
def test_simple_majority_is_over_half_of_ballots_cast(n_for, n_against, n_abstain, outcome):
    t = totals(100, "10000", n_for, str(n_for * 100), n_against, str(n_against * 100),
               n_abstain, str(n_abstain * 100))  # fmt: skip
    r = evaluate("simple-majority", "other_major", t)
    assert r.outcome == outcome
    assert [c.id for c in r.checks] == ["approval_owners"]


# -- missing areas --------------------------------------------------------------------


def test_missing_areas_leave_the_area_test_undecided():
    t = totals(300, None, 160, None, 100, None)
    r = evaluate("civil-code-2021", "other_major", t)
    assert check(r, "participation_owners").passed is True
    assert check(r, "participation_area").passed is None
    assert r.valid is None
    assert r.outcome == "undecided"
    assert "cannot be decided" in check(r, "approval_area").text_en()
    assert r.to_dict()["totals"]["A"] is None


def test_missing_areas_do_not_hide_a_head_count_that_already_fails():
    assert evaluate("civil-code-2021", "other_major", totals(300, None, 10, None)).outcome == (
        "not_valid"
    )
    t = totals(300, None, 100, None, 150, None)
    assert evaluate("civil-code-2021", "other_major", t).outcome == "failed"


# -- properties -----------------------------------------------------------------------


@given(
    n=st.integers(1, 400),
    centi=st.lists(st.integers(0, 30000), min_size=1, max_size=400),
    data=st.data(),
)
def test_civil_code_matches_integer_cross_multiplication(n, centi, data):
    """Areas in hundredths of m²: the Fraction result equals the integer arithmetic."""
    centi = centi[:n] + [0] * (n - len(centi[:n]))
    n_for = data.draw(st.integers(0, n))
    n_against = data.draw(st.integers(0, n - n_for))
    a_for, a_against = sum(centi[:n_for]), sum(centi[n_for : n_for + n_against])
    total = sum(centi)
    t = totals(n, Fraction(total, 100), n_for, Fraction(a_for, 100), n_against,
               Fraction(a_against, 100))  # fmt: skip
    r = evaluate("civil-code-2021", "other_major", t)
    n_p, a_p = n_for + n_against, a_for + a_against
    valid = 3 * n_p >= 2 * n and 3 * a_p >= 2 * total
    passes = 2 * n_for > n_p and 2 * a_for > a_p
    assert r.valid is valid
    assert r.outcome == ("not_valid" if not valid else "passed" if passes else "failed")


@given(st.integers(0, 200), st.integers(0, 200), st.integers(0, 200), st.data())
def test_one_more_vote_in_favour_never_turns_a_pass_into_a_fail(n_for, n_against, spare, data):
    rule_set = data.draw(st.sampled_from(["civil-code-2021", "property-law-2007"]))
    matter = data.draw(st.sampled_from([m.id for m in MATTERS]))
    n = n_for + n_against + spare + 1
    before = totals(n, str(n * 10), n_for, str(n_for * 10), n_against, str(n_against * 10))
    after = totals(n, str(n * 10), n_for + 1, str((n_for + 1) * 10), n_against,
                   str(n_against * 10))  # fmt: skip
    if evaluate(rule_set, matter, before).outcome == "passed":
        assert evaluate(rule_set, matter, after).outcome == "passed"


@given(st.fractions(min_value=0, max_value=10**6))
def test_area_text_is_exact_or_marked_approximate(value):
    text = fmt_area(value)
    if text.startswith("≈"):
        assert abs(Fraction(text[1:]) - value) <= Fraction(1, 200)
    else:
        assert Fraction(text) == value


def test_result_as_json_shows_every_test_with_its_numbers():
    r = evaluate("civil-code-2021", "other_major", totals(4, "400", 3, "300", 0, "0", 0, "0"))
    d = r.to_dict()
    assert d["outcome"] == "passed"
    assert [c["id"] for c in d["checks"]] == [
        "participation_owners",
        "participation_area",
        "approval_owners",
        "approval_area",
    ]
    part = d["checks"][0]
    assert part["value"] == 3
    assert part["base"] == 4
    assert part["ratio"] == "2/3"
    assert part["bound"] == "8/3"
    assert part["needed"] == 3
    assert part["margin"] == 1
    assert d["checks"][1]["bound"] == "800/3"
