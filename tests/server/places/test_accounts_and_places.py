"""Users and devices pages; places, compounds and buildings written through the replica."""

from __future__ import annotations

import re

from server import create_app
from server.db import get_db
from server.places import data as places
from server.places.data import stable_id

from .conftest import post, sign_in


def test_admin_creates_a_user_who_can_sign_in_with_that_scope(admin, server_app, register):
    resp = post(
        admin,
        "/users",
        {
            "username": "wang",
            "display_name": "王芳",
            "password": "pw-wang-123",  # what sign_in uses
            "role": "volunteer",
            "compounds": register.a,
        },
    )
    assert resp.status_code == 303
    wang = sign_in(server_app, "volunteer", [register.a], "wang")  # existing user: signs in
    body = wang.get("/api/households").get_json()
    assert {h["compound_id"] for h in body["households"]} == {register.a}


def test_bad_user_form_comes_back_422_and_never_echoes_the_password(admin, register):
    resp = post(
        admin,
        "/users",
        {"username": "li", "password": "short7!", "role": "volunteer", "compounds": register.a},
    )
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'id="err-password"' in html
    assert "short7!" not in html


def test_device_token_is_shown_once_and_revoking_stops_sync(admin, server_app, register):
    post(
        admin,
        "/users",
        {
            "username": "zhao",
            "password": "zhao-password",
            "role": "volunteer",
            "compounds": register.a,
        },
    )
    user_id = re.search(r'href="/users/(\d+)">zhao<', admin.get("/users").get_data(as_text=True))
    user_id = user_id.group(1)
    resp = post(admin, f"/users/{user_id}/devices", {"name": "Zhao's laptop"})
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    token = re.search(r"<code>(lm_[^<]+)</code>", resp.get_data(as_text=True)).group(1)
    sync = server_app.test_client()
    bearer = {"Authorization": f"Bearer {token}"}
    assert sync.get("/api/sync/hello", headers=bearer).status_code == 200
    page = admin.get(f"/users/{user_id}").get_data(as_text=True)
    assert token not in page  # never shown again
    device_id = re.search(r'action="/devices/(\d+)/revoke"', page).group(1)
    assert post(admin, f"/devices/{device_id}/revoke", {"back": "user"}).status_code == 303
    assert sync.get("/api/sync/hello", headers=bearer).status_code == 401
    assert "Zhao&#39;s laptop" in admin.get("/devices").get_data(as_text=True)


def test_admin_changes_a_users_role_and_compounds(admin, server_app, register):
    post(
        admin,
        "/users",
        {
            "username": "sun",
            "password": "sun-password",
            "role": "volunteer",
            "compounds": register.a,
        },
    )
    html = admin.get("/users").get_data(as_text=True)
    user_id = re.search(r'href="/users/(\d+)">sun<', html).group(1)
    resp = post(
        admin,
        f"/users/{user_id}",
        {"role": "building_head", "compounds": [register.a, register.b]},
    )
    assert resp.status_code == 303
    from server.auth import data as auth_data

    with server_app.app_context():
        user = auth_data.get_user(get_db(), int(user_id))
    assert user.role == "building_head"
    assert sorted(user.compounds) == sorted([register.a, register.b])


def test_places_form_keeps_the_hierarchy_strict(admin, server_app, register):
    with server_app.app_context():
        community = next(p for p in places.all_places(get_db()) if p["level"] == "community")
    resp = post(
        admin, "/places", {"level": "street", "name": "唐家墩街", "parent_id": community["id"]}
    )
    assert resp.status_code == 422
    assert 'id="err-parent_id"' in resp.get_data(as_text=True)
    resp = post(admin, "/places", {"level": "district", "name": "江汉区", "parent_id": ""})
    assert resp.status_code == 303
    assert "江汉区" in admin.get("/places").get_data(as_text=True)


def test_compound_and_building_are_written_through_the_replica(admin, server_app, register):
    replica = server_app.extensions["replica"]
    resp = post(admin, "/compounds/new", {"name": "临江雅居", "community_id": register.community})
    assert resp.status_code == 303
    cid = stable_id("compound", register.community, "临江雅居")
    assert replica.get("compounds", cid)["compound_id"] == cid
    resp = post(admin, f"/compounds/{cid}/buildings", {"name": "3栋", "floors": "7"})
    assert resp.status_code == 303
    bid = stable_id(cid, "building", "3栋")
    assert replica.get("buildings", bid)["floors"] == 7
    resp = post(admin, f"/compounds/{cid}/buildings", {"name": "3栋"})
    assert resp.status_code == 422  # the same building twice
    resp = post(admin, f"/buildings/{bid}/edit", {"name": "3栋", "floors": "-1"})
    assert resp.status_code == 422
    assert 'id="err-floors"' in resp.get_data(as_text=True)


def test_building_with_households_cannot_be_renamed(admin, register):
    resp = post(admin, f"/buildings/{register.building_a}/edit", {"name": "One"})
    assert resp.status_code == 422
    assert 'id="err-name"' in resp.get_data(as_text=True)


def test_street_server_lists_the_units_below_it(tmp_path):
    app = create_app({"DATA_DIR": str(tmp_path / "street"), "TESTING": True, "LEVEL": "street"})
    try:
        with app.app_context():
            db = get_db()
            street = places.add_place(db, "street", "唐家墩街", None)
            xiqiao = places.add_place(db, "community", "西桥社区", street)
            places.add_place(db, "community", "东桥社区", street)
        app.extensions["replica"].write(
            "compounds", "c1", {"compound_id": "c1", "name": "华氏儒商花园", "community_id": xiqiao}
        )
        client = sign_in(app, "street_official", ["*"], "street")
        html = client.get("/").get_data(as_text=True)
        assert "唐家墩街" in html
        assert "西桥社区" in html
        assert "东桥社区" in html
        row = re.search(r"<td>西桥社区</td>(.*?)</tr>", html, re.S).group(1)
        assert row.strip().endswith("<td>1</td>")  # one compound below Xiqiao
    finally:
        app.extensions["replica"].close()
