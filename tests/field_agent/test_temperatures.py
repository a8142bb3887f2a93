"""The temperature grid: one save per building, fevers open cases, bad readings save nothing."""

from __future__ import annotations

import re

import pytest

from field_agent import localtime

B1 = "1栋"
R101 = ["c1-1栋-101-r0", "c1-1栋-101-r1"]
R102 = ["c1-1栋-102-r0", "c1-1栋-102-r1"]
H201 = "c1-1栋-201"  # a household without listed residents


def grid_url(building=B1, lang="en"):
    return f"/temperatures/grid?building={building}&lang={lang}"


def checks(replica):
    return replica.rows("temperature_checks")


def test_grid_lists_every_resident_and_resident_less_household(volunteer, client):
    html = client.get(grid_url()).get_data(as_text=True)
    keys = re.findall(r'class="grid-cell" name="([^"]+)"', html)
    assert keys == [f"r:{r}" for r in R101 + R102] + [f"h:{H201}"]
    assert "0 of 5 checked today" in html
    assert "autofocus" in html


def test_save_writes_one_check_per_reading_with_the_volunteer(
    volunteer, client, replica, agent_app
):
    resp = volunteer.post(
        grid_url(), {f"r:{R101[0]}": "36.5", f"r:{R102[1]}": "36,8", f"h:{H201}": "３６．６"}
    )
    assert resp.status_code == 303
    rows = sorted(checks(replica), key=lambda r: r["temperature_c"])
    assert [r["temperature_c"] for r in rows] == [36.5, 36.6, 36.8]
    assert {r["recorded_by"] for r in rows} == {"王芳"}
    assert rows[1]["resident_id"] is None
    assert rows[1]["household_id"] == H201
    with agent_app.app_context():
        today = localtime.today()
        assert all(localtime.local_date(r["measured_at"]) == today for r in rows)
    assert replica.rows("health_cases") == []
    html = client.get(grid_url()).get_data(as_text=True)
    assert "3 of 5 checked today" in html


def test_fever_opens_a_case_on_the_spot_and_is_highlighted(volunteer, client, replica, agent_app):
    resp = volunteer.post(grid_url(), {f"r:{R101[0]}": "37.3", f"r:{R101[1]}": "37.2"})
    assert resp.status_code == 303
    cases = replica.rows("health_cases")
    assert len(cases) == 1
    case = cases[0]
    assert case["category"] == "fever"
    assert case["resident_id"] == R101[0]
    with agent_app.app_context():
        assert case["start_date"] == localtime.today().isoformat()
    fever_check = next(c for c in checks(replica) if c["temperature_c"] == 37.3)
    assert case["source_check_id"] == fever_check["id"]
    assert case["recorded_by"] == "王芳"
    html = client.get(grid_url()).get_data(as_text=True)
    assert html.count('<tr class="fever">') == 1
    assert "fever-mark" in html


def test_second_fever_reading_keeps_the_one_open_case(volunteer, replica):
    volunteer.post(grid_url(), {f"r:{R101[0]}": "38.0"})
    volunteer.post(grid_url(), {f"r:{R101[0]}": "38.4"})
    assert len(checks(replica)) == 2
    assert len(replica.rows("health_cases")) == 1


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("abc", "Not a number."),
        ("33.9", "Impossible reading"),
        ("43.1", "Impossible reading"),
        ("-37", "Impossible reading"),
        ("nan", "Not a number."),
        ("inf", "Not a number."),
        ("36.5.1", "Not a number."),
        ("36.555", "At most two decimals."),
        ("1e1", "Impossible reading"),
    ],
)
def test_impossible_reading_saves_nothing_of_the_grid(volunteer, client, replica, typed, message):
    resp = volunteer.post(grid_url(), {f"r:{R101[0]}": "36.6", f"r:{R101[1]}": typed})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert message in html
    assert "nothing was saved" in html
    # The message sits at the field, and what was typed is kept for fixing.
    cell = re.search(r'name="r:' + R101[1] + r'"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in cell
    assert 'value="36.6"' in html
    assert checks(replica) == []
    assert replica.rows("health_cases") == []


def test_empty_grid_is_refused(volunteer, replica):
    resp = volunteer.post(grid_url(), {f"r:{R101[0]}": "  "})
    assert resp.status_code == 422
    assert "Enter at least one reading." in resp.get_data(as_text=True)
    assert checks(replica) == []


def test_unknown_building_is_404(volunteer, client):
    assert client.get(grid_url("9栋")).status_code == 404
    assert volunteer.post(grid_url("9栋"), {"r:x": "36.6"}).status_code == 404


def test_fields_of_other_buildings_are_ignored(volunteer, replica):
    resp = volunteer.post(grid_url(), {f"r:{R101[0]}": "36.6", "r:c1-2栋-101-r0": "36.7"})
    assert resp.status_code == 303
    assert [c["resident_id"] for c in checks(replica)] == [R101[0]]


def test_htmx_save_returns_the_grid_fragment(volunteer, client, replica):
    resp = volunteer.post(grid_url(), {f"r:{R101[0]}": "37.5"}, headers={"HX-Request": "true"})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "<html" not in html
    assert 'id="grid"' in html
    assert "Saved 1 readings." in html
    assert "1 fever cases opened." in html
    assert "HX-Request" in resp.headers["Vary"]


def test_htmx_bad_reading_returns_422_fragment(volunteer, replica):
    resp = volunteer.post(grid_url(), {f"r:{R101[0]}": "99"}, headers={"HX-Request": "true"})
    assert resp.status_code == 422
    assert "<html" not in resp.get_data(as_text=True)
    assert checks(replica) == []


def test_buildings_page_shows_progress(volunteer, client):
    volunteer.post(grid_url(), {f"r:{R101[0]}": "36.6"})
    html = client.get("/temperatures/?lang=en").get_data(as_text=True)
    assert "1 / 5" in html
    assert "0 / 2" in html


def test_typed_fever_stays_marked_when_another_field_is_wrong(volunteer, replica):
    resp = volunteer.post(grid_url(), {f"r:{R101[0]}": "38.2", f"r:{R101[1]}": "3"})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert f'class="grid-cell fever" name="r:{R101[0]}"' in html
    assert f'class="grid-cell" name="r:{R101[1]}"' in html
    assert replica.rows("health_cases") == []
