"""The cache of checks: a page seen again reuses checks, but any change to a compound's
rows (added, edited in place, deleted) or to the certification
records shows on the very next view, and only the changed compounds are checked again."""

from __future__ import annotations

import datetime as dt

from server.certification import data, records, service
from server.db import get_db
from sync import Replica

D = "2020-03-08"


def api(client, cid="cp1"):
    resp = client.get(f"/api/compounds/{cid}/certification?date={D}")
    assert resp.status_code == 200
    return resp.get_json()


def rule(doc, name):
    return next(r for r in doc["rules"] if r["rule"] == name)


def sync_in(app_store, agent: Replica) -> None:
    """What the sync API does with a pushed batch (the same merge), without HTTP."""
    result = app_store.replica.apply(agent.changes_since(0))
    assert not result.rejected, result.rejected


def test_fever_synced_in_fails_the_compound_on_the_very_next_view(
    client, app_store, login_as, b, tmp_path
):
    app_store.seed(compound="cp1")
    app_store.seed(compound="cp2")
    login_as("sec")
    assert api(client)["passed"] is True
    assert api(client)["passed"] is True  # the second view comes from the cache
    page = client.get(f"/certification?date={D}").get_data(as_text=True)
    agent = Replica(tmp_path / "agent.db")
    try:
        agent.write(
            "temperature_checks",
            "hot1",
            {
                "compound_id": "cp1",
                "household_id": "cp1-h2",
                "resident_id": "cp1-h2-r",
                "temperature_c": 38.2,
                "measured_at": b.stamp(0, "09:15"),
            },
        )
        sync_in(app_store, agent)
        doc = api(client)
        assert doc["passed"] is False
        facts = [f["code"] for f in rule(doc, "zero_three_kinds")["facts"] if not f["ok"]]
        assert facts == ["fever_reading_open"]
        assert api(client, "cp2")["passed"] is True
        after = client.get(f"/certification?date={D}").get_data(as_text=True)
        assert '<tr class="fever">' not in page
        assert after.count('<tr class="fever">') == 1  # the fever today, in cp1's row
        # Its case recorded, then released: an edit in place of the same row.
        case = {
            "compound_id": "cp1",
            "resident_id": "cp1-h2-r",
            "household_id": "cp1-h2",
            "category": "fever",
            "start_date": D,
            "source_check_id": "hot1",
        }
        agent.write("health_cases", "case1", case)
        sync_in(app_store, agent)
        assert api(client)["passed"] is False
        agent.write("health_cases", "case1", {"released_on": D})
        sync_in(app_store, agent)
        assert api(client)["passed"] is True
    finally:
        agent.close()


def test_only_the_compound_whose_rows_changed_is_checked_again(server_app, app_store, b):
    app_store.seed(compound="cp1")
    app_store.seed(compound="cp2")
    with server_app.test_request_context():
        db = get_db()
        compounds = data.compounds(db)
        first = service.check_compounds(db, compounds, b.D)
        again = service.check_compounds(db, compounds, b.D)
        assert [a is f for a, f in zip(again, first, strict=True)] == [True, True]
        app_store.replica.write(
            "health_cases",
            "k1",
            {"compound_id": "cp2", "category": "confirmed", "start_date": b.day(-1).isoformat()},
        )
        second = service.check_compounds(db, compounds, b.D)
        by_id = {c.compound["id"]: c for c in second}
        assert by_id["cp1"] is first[0]
        assert by_id["cp2"] is not first[1]
        assert by_id["cp2"].explanation.passed is False
        assert by_id["cp1"].explanation.passed is True
        # A write to a table the check does not read keeps every check.
        app_store.replica.write(
            "temperature_checks",
            "elsewhere",
            {
                "compound_id": "cp9",
                "household_id": "x",
                "temperature_c": 36.5,
                "measured_at": b.stamp(0),
            },
        )
        third = service.check_compounds(db, compounds, b.D)
        assert [t is s for t, s in zip(third, second, strict=True)] == [True, True]


def test_household_deleted_in_one_compound_changes_it_and_not_the_other(
    client, app_store, login_as
):
    app_store.seed(compound="cp1")
    app_store.seed(compound="cp2")
    login_as("sec")
    assert rule(api(client, "cp1"), "screening")["details"]["households"] == 4
    assert rule(api(client, "cp2"), "screening")["details"]["households"] == 4
    app_store.replica.delete("households", "cp1-h4")  # an edit in place: deleted = 1
    assert rule(api(client, "cp1"), "screening")["details"]["households"] == 3
    assert rule(api(client, "cp2"), "screening")["details"]["households"] == 4


def test_certification_record_changes_show_on_the_next_view(client, app_store, login_as):
    app_store.seed()
    login_as("sec")
    assert rule(api(client), "closed_management")["passed"] is True
    records.add_closure(
        app_store.db, "cp1", dt.date(2020, 3, 1), ["north gate", "east gate"], "", "sec"
    )
    assert rule(api(client), "closed_management")["passed"] is False


def test_renamed_compound_shows_its_new_name(client, app_store, login_as):
    app_store.seed()
    login_as("sec")
    assert api(client)["name"] == "临江雅居"
    app_store.replica.write("compounds", "cp1", {"name": "临江雅居二期"})
    assert api(client)["name"] == "临江雅居二期"


def test_compound_version_moves_with_its_rows_added_edited_and_deleted(app_store, b):
    app_store.seed(compound="cp1")
    app_store.seed(compound="cp2")
    db = app_store.db

    def versions():
        return data.compound_versions(db, ["cp1", "cp2"])

    v0 = versions()
    assert versions() == v0
    app_store.replica.write(
        "disinfection_logs",
        "log-new",
        {"compound_id": "cp1", "area": "corridor", "building": "1", "done_at": b.stamp(0)},
    )
    v1 = versions()
    assert v1["cp1"] != v0["cp1"]
    assert v1["cp2"] == v0["cp2"]
    app_store.replica.write("deliveries", "cp2-dl1", {"status": "refused"})
    v2 = versions()
    assert v2["cp2"] != v1["cp2"]
    assert v2["cp1"] == v1["cp1"]
    app_store.replica.delete("residents", "cp1-h1-r")
    v3 = versions()
    assert v3["cp1"] != v2["cp1"]
    assert v3["cp2"] == v2["cp2"]


def test_today_is_judged_again_as_the_clock_moves(server_app, app_store, monkeypatch):
    """No row changes, but a medicine request becomes overdue (48 h) as time passes: the
    cached check of today follows the clock (the moment is the process edge faked here)."""
    with server_app.test_request_context():
        today = service.today()
        app_store.seed(on=today)
        start = service.cal().start_of(today)
        app_store.replica.write(
            "medicine_requests",
            "med1",
            {
                "compound_id": "cp1",
                "household_id": "cp1-h1",
                "drug_name": "降压药",
                "status": "requested",
                "created_at": (start - dt.timedelta(hours=40)).isoformat(),
            },
        )
        now = [start + dt.timedelta(hours=7)]
        monkeypatch.setattr(service, "as_of", lambda on: now[0] if on == today else None)
        db = get_db()
        compounds = data.compounds(db)
        supply = service.check_compounds(db, compounds, today)[0].explanation.result("supply")
        assert supply.passed is True
        now[0] = start + dt.timedelta(hours=9)
        supply = service.check_compounds(db, compounds, today)[0].explanation.result("supply")
        assert supply.passed is False
        assert [f.code for f in supply.failing_facts] == ["medicine_overdue"]
