"""The register's pages: list, filters, detail, edit forms (422 beside the field), escaping,
CSRF, languages."""

from __future__ import annotations

import re

from server.places.data import stable_id

from .conftest import post, sign_in

MARKUP = '<script>alert("x")</script><b>Bold</b>'


def test_overview_is_the_home_page_and_counts_the_register(admin, register):
    html = admin.get("/").get_data(as_text=True)
    assert "Alpha Garden" in html
    assert "Beta Court" in html
    # 4 households, 2 medical-worker families in the figures table
    assert re.search(r"<td>4</td>", html)


def test_household_list_filters_by_building_and_flag(admin, register):
    html = admin.get(f"/households?building={register.building_a}").get_data(as_text=True)
    assert "Owner A" in html
    assert "Spare A" in html
    assert "Owner B" not in html
    html = admin.get("/households?medical_worker=1").get_data(as_text=True)
    assert "Owner A" in html
    assert "Owner B" in html
    assert "Spare A" not in html


def test_household_list_paginates(admin, server_app, register):
    replica = server_app.extensions["replica"]
    homes = {
        stable_id(register.a, "1栋", f"9{i:02d}"): {
            "compound_id": register.a,
            "building": "1栋",
            "unit": f"9{i:02d}",
        }
        for i in range(60)
    }
    replica.write_many("households", homes)
    first = admin.get(f"/households?compound={register.a}").get_data(as_text=True)
    second = admin.get(f"/households?compound={register.a}&page=2").get_data(as_text=True)
    ids = set(homes) | {register.household_a, register.spare_household_a}
    on_first = {i for i in ids if i in first}
    on_second = {i for i in ids if i in second}
    assert len(on_first) == 50
    assert len(on_second) == 12
    assert not on_first & on_second
    assert 'rel="next"' in first
    assert 'rel="prev"' in second


def test_htmx_search_returns_the_fragment_only(admin, register):
    resp = admin.get("/households?q=Owner", headers={"HX-Request": "true"})
    html = resp.get_data(as_text=True)
    assert "HX-Request" in resp.headers["Vary"]
    assert html.lstrip().startswith('<section id="households">')
    assert "<html" not in html


def test_household_detail_lists_residents(admin, register):
    html = admin.get(f"/households/{register.household_a}").get_data(as_text=True)
    assert "Resident A" in html
    assert "89.37" in html


def test_bad_area_comes_back_422_beside_the_field(admin, server_app, register):
    resp = post(
        admin,
        f"/households/{register.household_a}/edit",
        {"building": "1栋", "unit": "101", "area_m2": "lots"},
    )
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'id="err-area_m2"' in html
    assert 'name="area_m2" type="text" value="lots"' in html
    assert (
        server_app.extensions["replica"].get("households", register.household_a)["area_m2"] == 89.37
    )


def test_unknown_building_and_taken_unit_are_refused(admin, register):
    resp = post(admin, f"/households/new?compound={register.a}", {"building": "99栋", "unit": "1"})
    assert resp.status_code == 422
    assert 'id="err-building"' in resp.get_data(as_text=True)
    resp = post(admin, f"/households/new?compound={register.a}", {"building": "1栋", "unit": "101"})
    assert resp.status_code == 422
    assert 'id="err-unit"' in resp.get_data(as_text=True)


def test_new_household_and_resident_are_written_through_the_replica(admin, server_app, register):
    replica = server_app.extensions["replica"]
    before = replica.counter
    resp = post(
        admin,
        f"/households/new?compound={register.a}",
        {"building": "1栋", "unit": "301", "area_m2": "75.5", "hardship": "1"},
    )
    assert resp.status_code == 303
    hid = stable_id(register.a, "1栋", "301")
    assert resp.headers["Location"].endswith(f"/households/{hid}")
    assert replica.get("households", hid)["hardship"] is True
    resp = post(admin, f"/households/{hid}/residents", {"name": "李娜", "birth_year": "1950"})
    assert resp.status_code == 303
    assert [r["name"] for r in replica.rows("residents", household_id=hid)] == ["李娜"]
    assert replica.counter > before  # stamped cells: they will sync to the agents
    resp = post(admin, f"/households/{hid}/residents", {"name": "X", "birth_year": "1700"})
    assert resp.status_code == 422
    assert 'id="err-birth_year"' in resp.get_data(as_text=True)


def test_names_with_markup_are_escaped_everywhere(admin, server_app, register):
    replica = server_app.extensions["replica"]
    replica.write("households", register.household_a, {"owner_name": MARKUP})
    replica.write("residents", register.resident_a, {"name": MARKUP})
    replica.write("compounds", register.a, {"name": MARKUP})
    for path in (
        "/",
        "/compounds",
        f"/compounds/{register.a}",
        "/households",
        f"/households/{register.household_a}",
        f"/households?q={MARKUP}",
        f"/residents/{register.resident_a}/edit",
    ):
        html = admin.get(path).get_data(as_text=True)
        assert "<script>alert" not in html, path
        assert "<b>Bold</b>" not in html, path
    html = admin.get(f"/households/{register.household_a}").get_data(as_text=True)
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;b&gt;Bold&lt;/b&gt;" in html


def test_posts_without_csrf_token_are_refused(admin, server_app, register):
    resp = admin.post(
        f"/households/{register.household_a}/edit", data={"building": "1栋", "unit": "555"}
    )
    assert resp.status_code == 400
    assert server_app.extensions["replica"].get("households", register.household_a)["unit"] == "101"
    resp = admin.post("/users", data={"username": "x", "password": "12345678", "role": "volunteer"})
    assert resp.status_code == 400


def test_htmx_post_with_header_token_is_accepted(admin, register):
    html = admin.get("/").get_data(as_text=True)
    token = re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)
    resp = admin.post(
        f"/households/{register.household_a}/residents",
        data={"name": "Via htmx"},
        headers={"X-CSRFToken": token, "HX-Request": "true"},
    )
    assert resp.status_code == 303


def test_pages_render_in_chinese_by_default_and_english_on_request(admin, register):
    zh = admin.get("/households").get_data(as_text=True)
    assert '<html lang="zh-CN">' in zh
    assert "住户" in zh
    assert "楼栋" in zh
    assert "退出登录" in zh
    en = admin.get("/households?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in en
    assert "Households" in en
    assert "Building" in en
    assert "Sign out" in en
    assert "住户" not in en


def test_language_switch_is_remembered(admin, register):
    resp = post(admin, "/auth/lang/en", {"next": "/compounds"})
    assert resp.status_code == 303
    assert "Compounds" in admin.get("/compounds").get_data(as_text=True)


def test_street_official_sees_counts_but_no_names(server_app, register):
    street = sign_in(server_app, "street_official", ["*"], "street")
    html = street.get("/").get_data(as_text=True)
    assert "Alpha Garden" in html
    assert "Owner A" not in html
    assert street.get("/households").status_code == 403
    assert street.get(f"/households/{register.household_a}").status_code == 403


def test_engine_refusal_comes_back_beside_its_field(admin, server_app, register):
    # The form does not limit co-owners; the engine's column does (2,000 characters).
    resp = post(
        admin,
        f"/households/{register.household_a}/edit",
        {"building": "1栋", "unit": "101", "co_owners": "、".join(["欧阳娜娜"] * 500)},
    )
    assert resp.status_code == 422
    assert 'id="err-co_owners"' in resp.get_data(as_text=True)
    assert (
        server_app.extensions["replica"].get("households", register.household_a)["co_owners"]
        is None
    )


def test_household_api_is_in_the_openapi_document(client):
    spec = client.get("/api/openapi.json").get_json()
    assert "get" in spec["paths"]["/api/households"]
