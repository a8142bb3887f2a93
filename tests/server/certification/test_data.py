"""Facts loaded with SQL from a real replica file; records, applications, status, lists."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from server.certification import data, records
from server.certification.days import LocalDays
from server.certification.evaluate import evaluate
from server.certification.rules import WUHAN_2020_03
from sync import Replica, new_id

V = WUHAN_2020_03
DAYS = LocalDays()


def check(store, cid, on):
    facts = data.load_facts(store.db, [cid], on, V)[cid]
    return evaluate(facts, on, V, DAYS)


def sync_from(agent: Replica, server: Replica) -> None:
    """What the sync API does with a pushed batch, without HTTP."""
    result = server.apply(agent.changes_since(0))
    assert not result.rejected, result.rejected


def test_seeded_compound_passes_from_loaded_facts(b, store):
    cid = store.seed()
    result = check(store, cid, b.D)
    assert result.passed, [(r.rule, [f.text for f in r.failing_facts]) for r in result.failing]
    assert result.name == "临江雅居"
    assert result.result("screening").details["households"] == 4


def test_only_rows_the_rules_can_look_at_are_loaded(b, store):
    cid = store.seed()
    old = {"compound_id": cid, "household_id": f"{cid}-h1", "temperature_c": 36.5}
    store.replica.write("temperature_checks", "old", {**old, "measured_at": b.stamp(-20)})
    store.replica.write(
        "temperature_checks",
        "old-fever",
        {**old, "temperature_c": 38.5, "measured_at": b.stamp(-10)},
    )
    store.replica.write("temperature_checks", "mid", {**old, "measured_at": b.stamp(-10)})
    ids = {c[0] for c in data.load_facts(store.db, [cid], b.D, V)[cid].checks}
    assert "old-fever" in ids
    assert "old" not in ids
    assert "mid" not in ids  # not a fever and before the screening days


def test_fever_from_a_synced_check_fails_the_compound_and_its_release_passes_it(b, store, tmp_path):
    cid = store.seed()
    agent = Replica(tmp_path / "agent.db")
    try:
        agent.write(
            "temperature_checks",
            "hot1",
            {
                "compound_id": cid,
                "household_id": f"{cid}-h2",
                "resident_id": f"{cid}-h2-r",
                "temperature_c": 38.2,
                "measured_at": b.stamp(-1, "20:10"),
            },
        )
        sync_from(agent, store.replica)
        result = check(store, cid, b.D)
        assert not result.passed
        assert [f.code for f in result.result("zero_three_kinds").failing_facts] == [
            "fever_reading_open"
        ]
        assert "居民2" in result.result("zero_three_kinds").failing_facts[0].text
        case = {
            "compound_id": cid,
            "resident_id": f"{cid}-h2-r",
            "household_id": f"{cid}-h2",
            "category": "fever",
            "start_date": b.day(-1).isoformat(),
            "source_check_id": "hot1",
        }
        agent.write("health_cases", "case1", case)
        sync_from(agent, store.replica)
        assert not check(store, cid, b.D).passed  # a case now, still not released
        agent.write("health_cases", "case1", {"released_on": b.D.isoformat()})
        sync_from(agent, store.replica)
        assert check(store, cid, b.D).passed
    finally:
        agent.close()


def test_deleted_case_no_longer_counts(b, store):
    cid = store.seed()
    case = {
        "compound_id": cid,
        "household_id": f"{cid}-h1",
        "category": "confirmed",
        "start_date": b.day(-2).isoformat(),
    }
    store.replica.write("health_cases", "c9", case)
    assert not check(store, cid, b.D).passed
    store.replica.delete("health_cases", "c9")
    assert check(store, cid, b.D).passed


def test_medicine_request_without_created_at_takes_its_uuid7_time(store):
    rid = new_id()
    stamp = data.created_from_id(rid)
    assert abs(dt.datetime.fromisoformat(stamp).timestamp() - time.time()) < 60
    assert data.created_from_id("not-a-uuid").startswith("1970-01-01")


def test_stored_check_names_its_rule_version_and_keeps_the_explanation(b, store):
    cid = store.seed()
    app_id = records.apply(store.db, check(store, cid, b.D), "sec")
    app = records.get_application(store.db, app_id)
    stored = records.get_check(store.db, app["check_id"])
    assert stored["rule_version"] == "wuhan-2020-03"
    assert stored["explanation"]["passed"] is True
    assert stored["explanation"]["date"] == "2020-03-08"
    assert app["status"] == "pending"


def test_failing_check_cannot_be_approved_and_rejection_needs_a_reason(b, store):
    cid = store.seed()
    store.replica.write(
        "health_cases",
        "c1",
        {"compound_id": cid, "category": "confirmed", "start_date": b.day(-1).isoformat()},
    )
    app_id = records.apply(store.db, check(store, cid, b.D), "sec")
    with pytest.raises(records.CertError, match="cannot be approved"):
        records.decide(store.db, app_id, True, "street")
    with pytest.raises(records.CertError, match="why"):
        records.decide(store.db, app_id, False, "street")
    records.decide(store.db, app_id, False, "street", "confirmed case on 03-07")
    assert records.get_application(store.db, app_id)["status"] == "rejected"
    with pytest.raises(records.CertError, match="rejected already"):
        records.decide(store.db, app_id, False, "street", "again")


def certify(store, cid, on):
    app_id = records.apply(store.db, check(store, cid, on), "sec")
    records.decide(store.db, app_id, True, "street")


def status(store, cid, on):
    return records.certification(store.db, cid, on, V, DAYS)


def test_certified_compound_loses_status_with_a_later_confirmed_case(b, store):
    cid = store.seed()
    certify(store, cid, b.D)
    assert status(store, cid, b.D)["state"] == "certified"
    assert status(store, cid, b.day(-1))["state"] == "none"
    store.replica.write(
        "health_cases",
        "c2",
        {
            "compound_id": cid,
            "resident_id": f"{cid}-h1-r",
            "category": "confirmed",
            "start_date": b.day(3).isoformat(),
        },
    )
    assert status(store, cid, b.day(2))["state"] == "certified"
    lost = status(store, cid, b.day(5))
    assert lost["state"] == "lost"
    assert lost["since"] == b.day(3)
    assert lost["reason"] == "confirmed case since 03-11"  # published: no name, no address


@pytest.mark.parametrize(("released", "state"), [(2, "certified"), (3, "lost"), (None, "lost")])
def test_three_kinds_case_after_certification_loses_status_unless_released_that_day(
    b, store, released, state
):
    cid = store.seed()
    certify(store, cid, b.D)
    case = {
        "compound_id": cid,
        "household_id": f"{cid}-h3",
        "category": "close_contact",
        "start_date": b.day(2).isoformat(),
    }
    if released is not None:
        case["released_on"] = b.day(released).isoformat()
    store.replica.write("health_cases", "c3", case)
    assert status(store, cid, b.day(6))["state"] == state


def test_unrecorded_fever_reading_after_certification_loses_status(b, store):
    cid = store.seed()
    certify(store, cid, b.D)
    store.replica.write(
        "temperature_checks",
        "hot",
        {
            "compound_id": cid,
            "household_id": f"{cid}-h1",
            "temperature_c": 37.3,
            "measured_at": b.stamp(4, "23:59"),
        },
    )
    s = status(store, cid, b.day(6))
    assert s["state"] == "lost"
    assert s["since"] == b.day(4)


def test_revocation_ends_certification_with_its_reason(b, store):
    cid = store.seed()
    certify(store, cid, b.D)
    records.revoke(store.db, cid, b.day(2), "gate found open at night", "street")
    assert status(store, cid, b.day(1))["state"] == "certified"
    s = status(store, cid, b.day(2))
    assert (s["state"], s["since"], s["reason"]) == (
        "revoked",
        b.day(2),
        "gate found open at night",
    )


def statuses(store, on):
    out = []
    for c in data.compounds(store.db):
        out.append({"compound_id": c["id"], "name": c["name"], **status(store, c["id"], on)})
    return out


def test_published_list_is_an_immutable_snapshot_and_shows_later_losses(b, store):
    good = store.seed(compound="cpA")
    other = store.seed(compound="cpB")
    certify(store, good, b.D)
    certify(store, other, b.D)
    first = records.publish_list(
        store.db, "street1", "唐家墩街", b.D, statuses(store, b.D), "street"
    )
    store.replica.write(
        "health_cases",
        "cB",
        {"compound_id": other, "category": "confirmed", "start_date": b.day(1).isoformat()},
    )
    with pytest.raises(records.CertError, match="published already"):
        records.publish_list(store.db, "street1", "唐家墩街", b.D, statuses(store, b.D), "street")
    second = records.publish_list(
        store.db, "street1", "唐家墩街", b.day(3), statuses(store, b.day(3)), "street"
    )
    snap1 = records.get_list(store.db, first)["entries"]
    snap2 = records.get_list(store.db, second)["entries"]
    assert sorted(e["compound_id"] for e in snap1["certified"]) == ["cpA", "cpB"]
    assert snap1["changes"] == []
    assert [e["compound_id"] for e in snap2["certified"]] == ["cpA"]
    assert [(e["compound_id"], e["state"], e["since"]) for e in snap2["changes"]] == [
        ("cpB", "lost", "2020-03-09")
    ]
    assert snap2["previous_list"] == "2020-03-08"
    with pytest.raises(records.CertError, match="later list"):
        records.publish_list(store.db, "street1", "x", b.day(2), [], "street")


def test_records_refuse_bad_input(store):
    with pytest.raises(records.CertError, match="unknown work group"):
        records.set_work_group(store.db, "cp1", "choir", ["a"], "sec")
    with pytest.raises(records.CertError, match="needs a note"):
        records.add_attestation(store.db, "cp1", "publicity", "  ", "sec", dt.date(2020, 3, 1))
    with pytest.raises(records.CertError, match="unknown item"):
        records.add_attestation(store.db, "cp1", "luck", "yes", "sec", dt.date(2020, 3, 1))


def test_grouped_loading_gives_the_same_explanation_as_every_row(b, store):
    """With one offset all through, checks load as one row per household and day."""
    cid = store.seed(days=6)
    w = store.replica.write
    base = {"compound_id": cid, "household_id": f"{cid}-h3"}
    w(
        "temperature_checks",
        "z1",
        {**base, "temperature_c": 36.6, "measured_at": "2020-03-07T16:30:00Z"},
    )
    w("temperature_checks", "f1", {**base, "temperature_c": 38.0, "measured_at": b.stamp(-9)})
    w(
        "temperature_checks",
        "f2",
        {**base, "temperature_c": 37.5, "measured_at": b.stamp(-1, "23:59")},
    )
    w(
        "temperature_checks",
        "f3",
        {**base, "temperature_c": 37.8, "measured_at": "2020-03-05T15:00:00Z"},
    )
    store.replica.write(
        "health_cases",
        "k1",
        {**base, "category": "fever", "start_date": b.day(-9).isoformat(), "source_check_id": "f1"},
    )
    for on in (b.day(-1), b.D, b.day(1)):
        plain = data.load_facts(store.db, [cid], on, V)[cid]
        grouped = data.load_facts(store.db, [cid], on, V, DAYS)[cid]
        assert len(grouped.checks) < len(plain.checks)
        assert evaluate(grouped, on, V, DAYS).to_dict() == evaluate(plain, on, V, DAYS).to_dict()


def test_grouped_loading_counts_the_first_screening_day_to_the_minute(b, store):
    """Grouped rows cover the screening days exactly: stamps just inside and just outside
    the first day, in the zone's offset and in others, count as the plain rows do."""
    cid = store.seed(days=2)  # checks on D-1 and D only: D-2, the first day, is open
    w = store.replica.write
    edge = {
        "h1": b.stamp(-2, "00:00"),  # first day, the zone's offset: counts
        "h2": b.stamp(-3, "23:59"),  # the day before: does not count
        "h3": "2020-03-06T00:30:00+09:00",  # 03-05 23:30 here: does not count
        "h4": "2020-03-05T16:00:00Z",  # 03-06 00:00 here: counts
    }
    for hh, when in edge.items():
        w(
            "temperature_checks",
            f"edge-{hh}",
            {
                "compound_id": cid,
                "household_id": f"{cid}-{hh}",
                "temperature_c": 36.6,
                "measured_at": when,
            },
        )
    grouped = evaluate(data.load_facts(store.db, [cid], b.D, V, DAYS)[cid], b.D, V, DAYS)
    plain = evaluate(data.load_facts(store.db, [cid], b.D, V)[cid], b.D, V, DAYS)
    assert grouped.to_dict() == plain.to_dict()
    missing = grouped.result("screening").details["missing"]
    assert sorted(m["household_id"] for m in missing) == [f"{cid}-h2", f"{cid}-h3"]
