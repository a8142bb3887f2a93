"""Freezing an electorate as the Supreme People's Court counts owners and areas."""

import random
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.voting.electorate import (
    DEVELOPER_KEY,
    Electorate,
    UnitRecord,
    area_from_register,
    changes,
    freeze,
)


def unit(hid, key=None, area="90", **over):
    return UnitRecord(hid, owner_key=key, owner_name=over.pop("name", None), area=area, **over)


def test_each_unit_is_one_owner():
    e = freeze([unit("h1", "p1"), unit("h2", "p2"), unit("h3")])
    assert e.total_owners == 3
    assert e.total_area == 270
    assert e.owner_key_for("h3") == "u:h3"
    assert e.owner_key_for("h1") == "o:p1"


def test_an_owner_of_several_units_counts_once_with_the_areas_summed():
    e = freeze(
        [
            unit("h1", "wang", "89.37", name="王芳"),
            unit("h2", "wang", "45.5", name="王芳"),
            unit("h3", "li", "100"),
        ]
    )
    assert e.total_owners == 2
    wang = e.by_key["o:wang"]
    assert wang.households == ("h1", "h2")
    assert wang.area == Fraction("134.87")
    assert wang.name == "王芳"
    assert e.total_area == Fraction("234.87")
    assert e.owner_key_for("h2") == "o:wang"


def test_all_developer_units_together_are_one_owner():
    e = freeze(
        [
            unit("h1", "dev-co", "80", developer_held=True),
            unit("h2", None, "70", developer_held=True),  # sold but not delivered
            unit("h3", "buyer", "60"),
        ]
    )
    assert e.total_owners == 2
    dev = e.by_key[DEVELOPER_KEY]
    assert dev.developer is True
    assert dev.households == ("h1", "h2")
    assert dev.area == 150
    assert e.total_area == 210


def test_co_owners_cast_one_vote_through_the_named_voter():
    e = freeze([unit("h1", "couple", co_owners=("张伟", "刘娜"), voter="刘娜"), unit("h2", "x")])
    assert e.total_owners == 2
    couple = e.by_key["o:couple"]
    assert couple.voter == "刘娜"
    assert couple.co_owners == ("刘娜", "张伟")
    assert e.problems == ()


def test_register_problems_are_listed_not_guessed():
    e = freeze(
        [
            unit("h1", co_owners=("A", "B")),  # no voter named
            unit("h2", co_owners=("A", "B"), voter="C"),  # voter not a co-owner
            unit("h3", area=None),
            unit("h4", "k", name="王芳"),
            unit("h5", "k", name="王芳芳"),
        ]
    )
    text = "\n".join(e.problems)
    assert "h1: co-owners have not named a voter" in text
    assert "h2: voter C is not a co-owner" in text
    assert "h3: no exclusive area" in text
    assert "one key, several names" in text
    assert e.total_area is None  # A cannot be known
    assert e.households_without_area == ("h3",)
    assert e.total_owners == 4


def test_a_household_twice_in_the_register_is_refused():
    with pytest.raises(ValueError, match="twice"):
        freeze([unit("h1"), unit("h1")])


def test_register_rows_are_read_with_exact_areas():
    assert area_from_register(89.37) == Fraction("89.37")
    assert area_from_register(None) is None
    assert area_from_register("") is None
    e = freeze(
        [
            {"id": "h1", "area_m2": 0.1, "owner_key": "a"},
            {"id": "h2", "area_m2": 0.2, "owner_key": "a"},
            {"household_id": "h3", "area": "0.3", "co_owners": '["x", "y"]', "voter": "x"},
        ]
    )
    assert e.by_key["o:a"].area == Fraction("0.3")  # not 0.30000000000000004
    assert e.total_area == Fraction("0.6")
    assert e.by_key["u:h3"].voter == "x"


def test_the_frozen_electorate_round_trips_through_json():
    e = freeze([unit("h1", "a", "10.5"), unit("h2", "a", "1/3"), unit("h3", area=None)])
    again = Electorate.from_dict(e.to_dict())
    assert again == e
    assert again.fingerprint() == e.fingerprint()
    assert again.by_household == e.by_household


def test_register_changes_after_the_freeze_are_reported_not_applied():
    frozen = freeze([unit("h1", "a", "90"), unit("h2", "b", "80"), unit("h3", "c")])
    now = freeze([unit("h1", "a", "91"), unit("h2", "b", "80"), unit("h4", "d")])
    report = changes(frozen, now)
    assert {"owner": "o:a", "change": "changed", "fields": ["area"]} in report
    assert {"owner": "o:c", "change": "removed", "households": ["h3"]} in report
    assert {"owner": "o:d", "change": "added", "households": ["h4"]} in report
    assert len(report) == 3
    assert frozen.total_area == 260  # the frozen electorate itself is unchanged


records = st.lists(
    st.builds(
        UnitRecord,
        household_id=st.text("abcdefgh0123", min_size=1, max_size=4),
        owner_key=st.one_of(st.none(), st.sampled_from(["p", "q", "r", "s"])),
        owner_name=st.none(),
        area=st.one_of(st.none(), st.decimals(0, 500, places=2).map(str)),
        developer_held=st.booleans(),
    ),
    unique_by=lambda u: u.household_id,
    max_size=30,
)


@given(records, st.randoms())
def test_the_same_register_in_any_order_freezes_to_the_same_electorate(units, rnd):
    shuffled = list(units)
    rnd.shuffle(shuffled)
    a, b = freeze(units), freeze(shuffled)
    assert a == b
    assert a.fingerprint() == b.fingerprint()


@given(records)
def test_every_unit_belongs_to_exactly_one_owner_and_areas_add_up(units):
    e = freeze(units)
    assert sorted(e.by_household) == sorted(u.household_id for u in units)
    assert sum(len(o.households) for o in e.owners) == len(units)
    developer_units = [u for u in units if u.developer_held]
    assert (DEVELOPER_KEY in e.by_key) == bool(developer_units)
    if all(u.area is not None for u in units):
        assert e.total_area == sum((Fraction(u.area) for u in units), Fraction(0))
    assert e.total_owners <= len(units)


def test_a_large_register_freezes_in_one_pass():
    rnd = random.Random(7)
    units = [unit(f"h{i}", f"p{rnd.randrange(4000)}", f"{rnd.randint(40, 160)}.{i % 100:02d}")
             for i in range(5000)]  # fmt: skip
    e = freeze(units)
    assert e.total_owners == len({u.owner_key for u in units})
    assert len(e.by_household) == 5000
