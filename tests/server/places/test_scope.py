"""A user of one compound sees and changes only that compound's register."""

from __future__ import annotations

import pytest

from .conftest import post, sign_in


@pytest.fixture
def volunteer_a(server_app, register):
    return sign_in(server_app, "volunteer", [register.a], "vol-a")


@pytest.fixture
def head_a(server_app, register):
    return sign_in(server_app, "building_head", [register.a], "head-a")


def test_household_list_shows_only_own_compound(volunteer_a, register):
    html = volunteer_a.get("/households").get_data(as_text=True)
    assert "Owner A" in html
    assert "Owner B" not in html
    assert "Beta Court" not in html  # not even in the compound filter


def test_search_never_reaches_another_compound(volunteer_a, register):
    html = volunteer_a.get("/households?q=Resident+B").get_data(as_text=True)
    assert register.household_b not in html
    assert "Owner B" not in html
    html = volunteer_a.get("/households?q=Resident+A").get_data(as_text=True)
    assert register.household_a in html


def test_api_lists_only_own_compound(volunteer_a, register):
    body = volunteer_a.get("/api/households").get_json()
    assert {h["compound_id"] for h in body["households"]} == {register.a}
    assert body["total"] == 2


@pytest.mark.parametrize(
    "path",
    [
        "/households/{hh}",
        "/households?compound={b}",
        "/households?building={bld}",
        "/api/households?compound={b}",
        "/compounds/{b}",
        "/households/{missing}",
    ],
)
def test_volunteer_of_a_gets_403_for_b(volunteer_a, register, path):
    url = path.format(
        hh=register.household_b, b=register.b, bld=register.building_b, missing="nope"
    )
    assert volunteer_a.get(url).status_code == 403


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/households/{hh}/edit", {"building": "1栋", "unit": "999"}),
        ("/households/{hh}/residents", {"name": "Intruder"}),
        ("/households/{hh}/delete", {}),
        ("/residents/{res}/edit", {"name": "Renamed"}),
        ("/residents/{res}/delete", {}),
        ("/households/new?compound={b}", {"building": "1栋", "unit": "777"}),
    ],
)
def test_building_head_of_a_cannot_change_b(head_a, server_app, register, path, data):
    url = path.format(hh=register.household_b, res=register.resident_b, b=register.b)
    assert post(head_a, url, data).status_code == 403
    replica = server_app.extensions["replica"]
    assert replica.get("households", register.household_b)["unit"] == "101"
    assert replica.get("residents", register.resident_b)["name"] == "Resident B"


def test_building_head_of_a_can_change_a(head_a, server_app, register):
    resp = post(
        head_a,
        f"/households/{register.household_a}/edit",
        {"building": "1栋", "unit": "101", "area_m2": "92.5", "owner_name": "New owner"},
    )
    assert resp.status_code == 303
    row = server_app.extensions["replica"].get("households", register.household_a)
    assert (row["owner_name"], row["area_m2"]) == ("New owner", 92.5)


def test_scoped_admin_cannot_grant_other_compounds(server_app, register):
    admin_a = sign_in(server_app, "community_admin", [register.a], "admin-a")
    resp = post(
        admin_a,
        "/users",
        {
            "username": "sneaky",
            "password": "longenough1",
            "role": "volunteer",
            "compounds": register.b,
        },
    )
    assert resp.status_code == 422
    resp = post(
        admin_a,
        "/users",
        {
            "username": "sneaky",
            "password": "longenough1",
            "role": "volunteer",
            "all_compounds": "1",
        },
    )
    assert resp.status_code == 422
    assert "sneaky" not in admin_a.get("/users").get_data(as_text=True)


def test_scoped_admin_export_holds_only_own_compound(server_app, register):
    admin_a = sign_in(server_app, "community_admin", [register.a], "admin-a")
    body = admin_a.get("/export/households.csv").get_data(as_text=True)
    assert "Owner A" in body
    assert "Owner B" not in body
    assert admin_a.get(f"/export/households.csv?compound={register.b}").status_code == 403
