"""A community or village is epidemic-free when every compound is; a street when every
community and village is."""

from __future__ import annotations

import dataclasses
import json

import pytest

from server.certification.evaluate import evaluate, roll_up
from server.certification.facts import HealthCase


def compounds(b, n, failing=(), on=None):
    on = on or b.D
    out = []
    for i in range(n):
        facts = dataclasses.replace(b.good(on=on, households=2), compound_id=f"cp{i}", name=f"C{i}")
        if i in failing:
            case = HealthCase(f"x{i}", "confirmed", on, None, "r1", "h1")
            facts = dataclasses.replace(facts, health_cases=[case])
        out.append(evaluate(facts, on))
    return out


def test_community_passes_when_every_compound_passes(b):
    community = roll_up("community", "jjd", compounds(b, 3), name="蒋家墩社区")
    assert community.passed
    assert community.counts() == {"units": 3, "passed": 3, "share": "100.0"}
    assert community.earliest_pass == b.D


def test_community_fails_with_one_failing_compound_and_names_it(b):
    community = roll_up("community", "jjd", compounds(b, 3, failing={1}))
    assert not community.passed
    assert [c.compound_id for c in community.failing] == ["cp1"]
    assert community.counts() == {"units": 3, "passed": 2, "share": "66.6"}
    assert community.earliest_pass == b.day(14)
    data = json.loads(json.dumps(community.to_dict()))
    assert data["children"][1]["failing_rules"] == ["zero_confirmed"]


def test_unit_with_no_compounds_is_not_epidemic_free(b):
    empty = roll_up("village", "v1", [], on=b.D)
    assert not empty.passed
    assert empty.earliest_pass is None


def test_street_passes_only_when_every_community_and_village_does(b):
    good = roll_up("community", "a", compounds(b, 2))
    village = roll_up("village", "v", compounds(b, 1))
    bad = roll_up("community", "c", compounds(b, 2, failing={0}))
    assert roll_up("street", "s", [good, village]).passed
    street = roll_up("street", "s", [good, village, bad])
    assert not street.passed
    assert [u.unit_id for u in street.failing] == ["c"]
    assert street.to_dict()["children"][2]["failing"] == ["cp0"]


def test_roll_up_refuses_mixed_levels_and_dates(b):
    with pytest.raises(ValueError, match="street rolls up"):
        roll_up("street", "s", compounds(b, 1))
    with pytest.raises(ValueError, match="rolls up compounds"):
        roll_up("community", "c", [roll_up("village", "v", compounds(b, 1))])
    with pytest.raises(ValueError, match="different dates"):
        roll_up("community", "c", compounds(b, 1) + compounds(b, 1, on=b.day(1)))
    with pytest.raises(ValueError, match="unknown kind"):
        roll_up("district", "d", [])
