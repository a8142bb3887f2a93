"""Which ballot counts, the tally, and the recount from the public bulletin."""

import datetime as dt
import itertools
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.voting.counting import (
    RECEIPT_ALPHABET,
    Ballot,
    Window,
    bulletin,
    classify,
    count,
    new_receipt,
    recount,
)
from server.voting.electorate import UnitRecord, freeze

CN = dt.timezone(dt.timedelta(hours=8))
OPEN = dt.datetime(2020, 3, 1, 8, 0, tzinfo=CN)
CLOSE = OPEN + dt.timedelta(hours=50)
WINDOW = Window(OPEN, CLOSE)
H = dt.timedelta(hours=1)
_ids = itertools.count()


def electorate():
    return freeze(
        [
            UnitRecord("h1", "wang", area=Fraction("89.37")),
            UnitRecord("h2", "wang", area=Fraction("45.5")),  # wang owns two units
            UnitRecord("h3", "li", area=Fraction(100)),
            UnitRecord("h4", "dev", area=Fraction(80), developer_held=True),
            UnitRecord("h5", "dev", area=Fraction(70), developer_held=True),
            UnitRecord("h6", "zhang", area=Fraction(60), co_owners=("张伟", "刘娜"), voter="刘娜"),
            UnitRecord("h7", "zhao", area=Fraction(75)),
        ]
    )


def online(owner, choice, at, **over):
    n = next(_ids)
    return Ballot(f"b{n:05d}", "online", choice, at, owner_key=owner, receipt=f"R{n:05d}", **over)


def paper(household, choice, recorded, received=None, **over):
    n = next(_ids)
    return Ballot(f"b{n:05d}", "paper", choice, received or recorded, household_id=household,
                  recorded_at=recorded, receipt=f"R{n:05d}", **over)  # fmt: skip


def status(classified, ballot):
    c = next(c for c in classified if c.ballot.id == ballot.id)
    return c.status, c.reason


def test_online_then_paper_the_paper_ballot_counts():
    e = electorate()
    first = online("o:li", "against", OPEN + H)
    second = paper("h3", "for", OPEN + 2 * H, received=OPEN + 30 * H)
    classified, t = count([second, first], e, WINDOW)
    assert status(classified, first) == ("superseded", "superseded")
    assert status(classified, second) == ("counted", "counted")
    assert t.owners["for"] == 1
    assert t.owners["against"] == 0


def test_paper_then_online_the_online_ballot_counts():
    e = electorate()
    first = paper("h3", "for", OPEN + H, received=OPEN + 3 * H)
    second = online("o:li", "abstain", OPEN + 2 * H)
    classified, t = count([first, second], e, WINDOW)
    assert status(classified, first)[0] == "superseded"
    assert status(classified, second)[0] == "counted"
    assert t.owners["abstain"] == 1


def test_a_paper_ballot_counts_by_when_it_was_recorded_not_when_it_synced():
    # recorded on paper at hour 1, synced after an online vote at hour 2: online is later
    e = electorate()
    on = online("o:li", "against", OPEN + 2 * H)
    pa = paper("h3", "for", OPEN + H, received=OPEN + 20 * H)
    classified, t = count([pa, on], e, WINDOW)
    assert status(classified, on)[0] == "counted"
    assert status(classified, pa)[0] == "superseded"


def test_a_paper_ballot_arriving_more_than_a_day_after_the_close_is_late():
    e = electorate()
    on = online("o:li", "against", OPEN + H)
    late = paper("h3", "for", CLOSE - H, received=CLOSE + 24 * H + dt.timedelta(seconds=1))
    just_in = paper("h7", "for", CLOSE - H, received=CLOSE + 24 * H)
    classified, t = count([on, late, just_in], e, WINDOW)
    assert status(classified, late) == ("late", "late")
    assert status(classified, on)[0] == "counted"  # the earlier online ballot still counts
    assert status(classified, just_in)[0] == "counted"
    assert (t.owners["for"], t.owners["against"]) == (1, 1)


def test_the_late_limit_is_configurable():
    e = electorate()
    b = paper("h3", "for", CLOSE - H, received=CLOSE + 2 * H)
    short = Window(OPEN, CLOSE, late_after=H)
    assert status(classify([b], e, short), b)[0] == "late"
    assert status(classify([b], e, WINDOW), b)[0] == "counted"


def test_ballots_cast_at_or_after_the_close_or_before_the_open_are_refused():
    e = electorate()
    at_close = online("o:li", "for", CLOSE)
    before = online("o:zhao", "for", OPEN - dt.timedelta(seconds=1))
    last_moment = online("o:zhang", "for", CLOSE - dt.timedelta(microseconds=1))
    paper_after = paper("h1", "for", CLOSE + H)
    classified, t = count([at_close, before, last_moment, paper_after], e, WINDOW)
    assert status(classified, at_close) == ("refused", "after_close")
    assert status(classified, paper_after) == ("refused", "after_close")
    assert status(classified, before) == ("refused", "before_open")
    assert status(classified, last_moment)[0] == "counted"
    assert t.owners["for"] == 1


def test_ballots_outside_the_electorate_are_refused_and_kept():
    e = electorate()
    stranger = paper("h99", "for", OPEN + H)
    unknown = online("o:nobody", "for", OPEN + H)
    classified, t = count([stranger, unknown], e, WINDOW)
    assert status(classified, stranger) == ("refused", "not_in_electorate")
    assert status(classified, unknown) == ("refused", "not_in_electorate")
    assert len(classified) == 2
    assert t.owners["not_voting"] == e.total_owners
    assert classified[0].to_dict()["reason_zh"]


def test_a_paper_ballot_with_its_clock_in_the_future_cannot_win():
    e = electorate()
    honest = online("o:li", "against", OPEN + 5 * H)
    ahead = paper("h3", "for", dt.datetime(2099, 1, 1, tzinfo=CN), received=OPEN + 6 * H)
    classified, _ = count([honest, ahead], e, WINDOW)
    assert status(classified, ahead) == ("refused", "clock_ahead")
    assert status(classified, honest)[0] == "counted"


def test_an_owner_of_two_units_votes_once_with_both_areas():
    e = electorate()
    a = paper("h1", "against", OPEN + H)
    b = paper("h2", "for", OPEN + 2 * H)  # same owner, other flat: supersedes
    classified, t = count([a, b], e, WINDOW)
    assert status(classified, a)[0] == "superseded"
    assert t.owners["for"] == 1
    assert t.area["for"] == Fraction("134.87")


def test_developer_units_vote_once_and_co_owners_once():
    e = electorate()
    ballots = [
        paper("h4", "for", OPEN + H),
        paper("h5", "against", OPEN + 2 * H),
        paper("h6", "abstain", OPEN + H),
        online("o:zhang", "for", OPEN + 3 * H),
    ]
    classified, t = count(ballots, e, WINDOW)
    assert [c.status for c in classified].count("counted") == 2
    assert t.owners["against"] == 1
    assert t.area["against"] == 150
    assert t.owners["for"] == 1
    assert t.area["for"] == 60
    assert t.owners["not_voting"] == e.total_owners - 2


def test_the_tally_accounts_for_every_owner_and_every_square_metre():
    e = electorate()
    ballots = [online("o:li", "for", OPEN + H), paper("h7", "against", OPEN + H)]
    _, t = count(ballots, e, WINDOW)
    assert sum(t.owners.values()) == e.total_owners == 5
    assert sum(t.area.values()) == e.total_area
    totals = t.totals()
    assert (totals.owners_participating, totals.area_participating) == (2, 175)


def test_a_bad_choice_is_refused():
    e = electorate()
    b = online("o:li", "maybe", OPEN + H)
    assert status(classify([b], e, WINDOW), b) == ("refused", "bad_choice")


def test_ballots_need_aware_times_and_unique_ids():
    with pytest.raises(ValueError, match="time zone"):
        Ballot("x", "online", "for", dt.datetime(2020, 3, 1), owner_key="o:li")
    with pytest.raises(ValueError, match="recorded"):
        Ballot("x", "paper", "for", OPEN, household_id="h1")
    with pytest.raises(ValueError, match="close after"):
        Window(CLOSE, OPEN)
    b = online("o:li", "for", OPEN + H)
    with pytest.raises(ValueError, match="share an id"):
        classify([b, b], electorate(), WINDOW)


def test_the_bulletin_recount_equals_the_tally_and_shows_no_names():
    e = electorate()
    ballots = [online("o:li", "for", OPEN + H), online("o:li", "against", OPEN + 2 * H),
               paper("h1", "abstain", OPEN + H), paper("h99", "for", OPEN + H),
               paper("h7", "for", OPEN + H, received=CLOSE + 25 * H)]  # fmt: skip
    classified, t = count(ballots, e, WINDOW)
    board = bulletin(classified, e)
    assert recount(board) == t
    assert len(board["entries"]) == len(ballots)
    text = repr(board)
    assert "wang" not in text
    assert "h1" not in text
    assert {e["status"] for e in board["entries"]} == {"counted", "superseded", "refused", "late"}


def test_a_tampered_bulletin_does_not_recount_to_the_tally():
    e = electorate()
    classified, t = count([online("o:li", "for", OPEN + H)], e, WINDOW)
    board = bulletin(classified, e)
    board["entries"][0]["choice"] = "against"
    assert recount(board) != t


def test_the_recount_holds_when_areas_are_missing():
    e = freeze([UnitRecord("h1", area=None), UnitRecord("h2", area=Fraction(50))])
    classified, t = count([paper("h2", "for", OPEN + H)], e, WINDOW)
    assert t.total_area is None
    assert t.area["for"] == 50
    assert t.area["not_voting"] is None
    assert recount(bulletin(classified, e)) == t


def test_receipts_are_short_readable_and_distinct():
    codes = {new_receipt() for _ in range(2000)}
    assert len(codes) == 2000
    code = codes.pop()
    assert len(code) == 14
    assert set(code.replace("-", "")) <= set(RECEIPT_ALPHABET)


# -- properties -----------------------------------------------------------------------

OWNERS = ["o:wang", "o:li", "developer", "o:zhang", "o:zhao", "o:nobody"]
HOUSEHOLDS = ["h1", "h2", "h3", "h4", "h5", "h6", "h7", "h99"]
minutes = st.integers(-120, 50 * 60 + 120).map(lambda m: OPEN + dt.timedelta(minutes=m))
delays = st.integers(0, 80 * 60).map(lambda m: dt.timedelta(minutes=m))


@st.composite
def ballots(draw):
    n = next(_ids)
    choice = draw(st.sampled_from(["for", "against", "abstain"]))
    at = draw(minutes)
    if draw(st.booleans()):
        return Ballot(f"p{n}", "online", choice, at, owner_key=draw(st.sampled_from(OWNERS)),
                      receipt=f"R{n}")  # fmt: skip
    return Ballot(f"p{n}", "paper", choice, at + draw(delays),
                  household_id=draw(st.sampled_from(HOUSEHOLDS)), recorded_at=at,
                  receipt=f"R{n}")  # fmt: skip


@settings(max_examples=200)
@given(st.lists(ballots(), max_size=25), st.randoms())
def test_counting_is_independent_of_order_and_recount_equals_tally(batch, rnd):
    e = electorate()
    classified, t = count(batch, e, WINDOW)
    shuffled = list(batch)
    rnd.shuffle(shuffled)
    again, t2 = count(shuffled, e, WINDOW)
    assert t2 == t
    assert {c.ballot.id: c.status for c in again} == {c.ballot.id: c.status for c in classified}
    assert recount(bulletin(classified, e)) == t
    counted = [c.owner_key for c in classified if c.status == "counted"]
    assert len(counted) == len(set(counted))  # at most one counted ballot per owner
    assert len(classified) == len(batch)
    for c in classified:
        if c.status == "counted":  # nothing else of this owner counts later before the close
            later = [
                d for d in classified
                if d.owner_key == c.owner_key and d.status == "superseded"
                and d.ballot.cast_at > c.ballot.cast_at
            ]  # fmt: skip
            assert later == []
