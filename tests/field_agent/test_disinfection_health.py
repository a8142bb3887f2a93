"""Disinfection quick entry; health cases list, adding, and release by the roles allowed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from field_agent import localtime, settings


def test_quick_entry_records_area_building_and_who(volunteer, replica, client):
    resp = volunteer.post("/disinfection/", {"area": "corridor", "building": "1栋"})
    assert resp.status_code == 303
    [log] = replica.rows("disinfection_logs")
    assert log["area"] == "corridor"
    assert log["building"] == "1栋"
    assert log["done_by"] == "王芳"
    assert log["recorded_by"] == "王芳"
    html = client.get("/disinfection/?lang=en").get_data(as_text=True)
    assert "corridors" in html
    assert "1栋" in html


def test_other_area_with_time_and_staff(volunteer, replica, agent_app):
    with agent_app.app_context():
        when = (localtime.now() - dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    resp = volunteer.post(
        "/disinfection/",
        {"area": "other", "other_area": "快递柜", "done_by": "物业张师傅", "done_at": when},
    )
    assert resp.status_code == 303
    [log] = replica.rows("disinfection_logs")
    assert log["area"] == "快递柜"
    assert log["done_by"] == "物业张师傅"
    assert log["recorded_by"] == "王芳"
    assert log["building"] is None
    assert log["done_at"].startswith(when)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"area": "roof"}, "Choose an area."),
        ({"area": "other", "other_area": ""}, "Say which area."),
        ({"area": "other", "other_area": "x" * 201}, "At most 200 characters."),
        ({"area": "corridor", "building": "9栋"}, "No such building."),
        ({"area": "corridor", "done_at": "yesterday"}, "Not a date and time."),
        ({"area": "corridor", "done_at": "2999-01-01T08:00"}, "That is in the future."),
        ({"area": "corridor", "done_at": "2020-01-01T08:00"}, "More than 30 days ago."),
        ({"area": "corridor", "done_by": "x" * 101}, "At most 100 characters."),
        ({"area": "corridor", "note": "x" * 501}, "At most 500 characters."),
    ],
)
def test_disinfection_bad_inputs(volunteer, replica, form, message):
    resp = volunteer.post("/disinfection/?lang=en", form)
    assert resp.status_code == 422
    assert message in resp.get_data(as_text=True)
    assert replica.rows("disinfection_logs") == []


def set_role(agent_app, role):
    settings.save(Path(agent_app.config["DATA_DIR"]), role=role)


def open_case(replica, case_id="hc1", category="fever", start="2020-02-01"):
    replica.write(
        "health_cases",
        case_id,
        {
            "compound_id": "c1",
            "resident_id": "c1-1栋-101-r0",
            "household_id": "c1-1栋-101",
            "category": category,
            "start_date": start,
        },
    )


def test_list_shows_open_cases_with_names(volunteer, replica, client):
    open_case(replica, "hc1", "fever")
    open_case(replica, "hc2", "close_contact")
    replica.write("health_cases", "hc2", {"released_on": "2020-02-10"})
    html = client.get("/health/?lang=en").get_data(as_text=True)
    before_released = html.split("<h2>")[0]  # the open-cases table
    assert "居民101-0" in before_released
    assert "fever case" in before_released
    assert "close contact" not in before_released
    assert "2020-02-10" in html  # shown under Released


def test_volunteer_role_may_not_release(volunteer, replica, agent_app, client):
    set_role(agent_app, "volunteer")
    open_case(replica)
    assert 'name="released_on"' not in client.get("/health/").get_data(as_text=True)
    resp = volunteer.post("/health/hc1/release", {"released_on": "2020-02-15"})
    assert resp.status_code == 403
    assert replica.get("health_cases", "hc1")["released_on"] is None


@pytest.mark.parametrize("role", ["building_head", "community_admin"])
def test_release_by_building_head_or_admin(volunteer, replica, agent_app, role):
    set_role(agent_app, role)
    open_case(replica)
    resp = volunteer.post(
        "/health/hc1/release", {"released_on": "2020-02-15", "note": "14天观察期满"}
    )
    assert resp.status_code == 303
    case = replica.get("health_cases", "hc1")
    assert case["released_on"] == "2020-02-15"
    assert case["release_note"] == "14天观察期满"
    assert case["released_by"] == "王芳"
    assert volunteer.post("/health/hc1/release", {"released_on": "2020-02-16"}).status_code == 409


@pytest.mark.parametrize(
    ("day", "message"),
    [
        ("", "Enter a date."),
        ("15/02/2020", "Not a date"),
        ("2020-01-31", "Before the case started."),
        ("2999-01-01", "That is in the future."),
    ],
)
def test_release_bad_dates(volunteer, replica, agent_app, day, message):
    set_role(agent_app, "building_head")
    open_case(replica)
    resp = volunteer.post("/health/hc1/release?lang=en", {"released_on": day})
    assert resp.status_code == 422
    assert message in resp.get_data(as_text=True)
    assert replica.get("health_cases", "hc1")["released_on"] is None


def test_release_unknown_case_is_404(volunteer, agent_app):
    set_role(agent_app, "building_head")
    assert volunteer.post("/health/nope/release", {"released_on": "2020-02-15"}).status_code == 404


def test_add_suspected_case(volunteer, replica):
    resp = volunteer.post(
        "/health/new",
        {"resident_id": "c1-2栋-101-r0", "category": "suspected", "start_date": "2020-02-03"},
    )
    assert resp.status_code == 303
    [case] = replica.rows("health_cases")
    assert case["category"] == "suspected"
    assert case["household_id"] == "c1-2栋-101"
    assert case["recorded_by"] == "王芳"


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (
            {"resident_id": "nobody", "category": "fever", "start_date": "2020-02-03"},
            "Choose a resident.",
        ),
        (
            {"resident_id": "c1-2栋-101-r0", "category": "flu", "start_date": "2020-02-03"},
            "Choose a kind.",
        ),
        ({"resident_id": "c1-2栋-101-r0", "category": "fever", "start_date": "soon"}, "Not a date"),
        (
            {"resident_id": "c1-2栋-101-r0", "category": "fever", "start_date": "2999-02-03"},
            "in the future",
        ),
    ],
)
def test_add_case_bad_inputs(volunteer, replica, form, message):
    resp = volunteer.post("/health/new?lang=en", form)
    assert resp.status_code == 422
    assert message in resp.get_data(as_text=True)
    assert replica.rows("health_cases") == []
