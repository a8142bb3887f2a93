"""The certification pages and API through the real app (SQLite file, sessions, CSRF)."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest

D = "2020-03-08"


def csrf(client, path):
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, f"no form on {path}"
    return match.group(1)


def fever_case(app_store, b, cid="cp1", start=-2, category="fever", released=None):
    row = {
        "compound_id": cid,
        "resident_id": f"{cid}-h1-r",
        "household_id": f"{cid}-h1",
        "category": category,
        "start_date": b.day(start).isoformat(),
    }
    if released is not None:
        row["released_on"] = b.day(released).isoformat()
    app_store.replica.write("health_cases", f"case-{category}-{start}", row)


def test_api_compound_explains_every_rule(client, app_store, login_as):
    app_store.seed()
    login_as("sec")
    resp = client.get(f"/api/compounds/cp1/certification?date={D}")
    assert resp.status_code == 200
    doc = resp.get_json()
    assert doc["passed"] is True
    assert doc["rule_version"] == "wuhan-2020-03"
    assert doc["certification"]["state"] == "none"
    assert doc["certification"]["display"] == "passes"
    assert len(doc["rules"]) == 8


def test_api_compound_names_the_person_for_the_community_but_not_for_the_street(
    client, app_store, login_as, b
):
    app_store.seed()
    fever_case(app_store, b)
    login_as("sec")
    doc = client.get(f"/api/compounds/cp1/certification?date={D}").get_json()
    assert doc["passed"] is False
    rule = next(r for r in doc["rules"] if r["rule"] == "zero_three_kinds")
    assert rule["earliest_pass"] == "2020-03-20"
    assert "居民1" in rule["facts"][0]["text"]
    login_as("street", role="street_official")
    doc = client.get(f"/api/compounds/cp1/certification?date={D}").get_json()
    text = next(r for r in doc["rules"] if r["rule"] == "zero_three_kinds")["facts"][0]["text"]
    assert "居民1" not in text
    assert text == "fever case of a resident in building 2, unit 101 since 03-06, not released"
    assert "居民1" not in str(doc)


def test_api_community_rolls_up_its_compounds(client, app_store, login_as, b):
    app_store.seed(compound="cpA")
    app_store.seed(compound="cpB")
    login_as("sec")
    doc = client.get(f"/api/communities/jjd/certification?date={D}").get_json()
    assert doc["passed"] is True
    assert doc["counts"] == {"units": 2, "passed": 2, "share": "100.0"}
    fever_case(app_store, b, cid="cpB", category="confirmed", start=-1)
    doc = client.get(f"/api/communities/jjd/certification?date={D}").get_json()
    assert doc["passed"] is False
    assert [c["id"] for c in doc["children"] if not c["passed"]] == ["cpB"]
    assert doc["earliest_pass"] == "2020-03-21"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        (f"/api/compounds/cp1/certification?date={D}", 403),
        ("/api/compounds/cp1/certification?date=08-03-2020", 400),
        (f"/api/communities/jjd/certification?date={D}", 403),
        (f"/api/communities/nowhere/certification?date={D}", 404),
    ],
)
def test_api_refuses_out_of_scope_and_bad_dates(client, app_store, login_as, path, status):
    app_store.seed()
    login_as("vol", role="volunteer", compounds=("cp-other",))
    if "08-03" in path:
        login_as("sec")
    resp = client.get(path)
    assert resp.status_code == status
    assert "error" in resp.get_json()


def test_api_needs_a_session(client, app_store):
    app_store.seed()
    resp = client.get(f"/api/compounds/cp1/certification?date={D}")
    assert resp.status_code == 401


def test_api_is_in_the_openapi_document(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert "/api/compounds/{compound_id}/certification" in paths
    assert "/api/communities/{community_id}/certification" in paths


def test_apply_approve_then_lose_status_automatically(client, app_store, login_as, b):
    app_store.seed()
    login_as("sec")
    page = f"/certification/compounds/cp1?date={D}"
    resp = client.post(
        "/certification/compounds/cp1/apply", data={"date": D, "csrf_token": csrf(client, page)}
    )
    assert resp.status_code == 303
    login_as("street", role="street_official")
    html = client.get(page).get_data(as_text=True)
    app_id = re.search(r"/certification/applications/(\d+)/decide", html).group(1)
    resp = client.post(
        f"/certification/applications/{app_id}/decide",
        data={"decision": "approve", "csrf_token": csrf(client, page)},
    )
    assert resp.status_code == 303
    doc = client.get(f"/api/compounds/cp1/certification?date={D}").get_json()
    assert doc["certification"]["state"] == "certified"
    fever_case(app_store, b, category="confirmed", start=2)
    later = "2020-03-12"
    doc = client.get(f"/api/compounds/cp1/certification?date={later}").get_json()
    assert doc["certification"]["state"] == "lost"
    assert doc["certification"]["since"] == "2020-03-10"
    html = client.get(f"/certification/compounds/cp1?date={later}").get_data(as_text=True)
    assert "2020-03-10" in html
    assert "03-10 起出现确诊病例" in html  # the reason in the page's language
    en = client.get(f"/certification/compounds/cp1?date={later}&lang=en").get_data(as_text=True)
    assert "confirmed case since 03-10" in en
    assert doc["certification"]["reason_params"] == {
        "category": "confirmed",
        "start_date": "2020-03-10",
    }  # no name or address: the reason goes on published lists


def test_volunteer_cannot_apply_and_official_cannot_attest(client, app_store, login_as):
    app_store.seed()
    page = f"/certification/compounds/cp1?date={D}"
    login_as("vol", role="volunteer", compounds=("cp1",))
    token = csrf(client, "/certification/lists")
    resp = client.post("/certification/compounds/cp1/apply", data={"csrf_token": token})
    assert resp.status_code == 403
    login_as("street", role="street_official")
    resp = client.post(
        "/certification/compounds/cp1/attestations",
        data={"item": "publicity", "note": "x", "on_date": D, "csrf_token": csrf(client, page)},
    )
    assert resp.status_code == 403


def test_attestation_without_note_comes_back_422_with_the_message(client, app_store, login_as):
    app_store.seed()
    login_as("sec")
    page = f"/certification/compounds/cp1?date={D}"
    resp = client.post(
        "/certification/compounds/cp1/attestations",
        data={"item": "publicity", "note": " ", "on_date": D, "csrf_token": csrf(client, page)},
    )
    assert resp.status_code == 422
    assert "确认到位须写明做到了什么。" in resp.get_data(as_text=True)  # Chinese first
    resp = client.post(
        "/certification/compounds/cp1/attestations?lang=en",
        data={"item": "publicity", "note": " ", "on_date": D, "csrf_token": csrf(client, page)},
    )
    assert "an attestation needs a note" in resp.get_data(as_text=True)


def test_closure_with_two_open_entrances_fails_the_item(client, app_store, login_as):
    app_store.seed()
    login_as("sec")
    page = f"/certification/compounds/cp1?date={D}"
    resp = client.post(
        "/certification/compounds/cp1/closures",
        data={
            "closed_on": "2020-01-28",
            "open_entrances": "north gate\neast gate",
            "csrf_token": csrf(client, page),
        },
    )
    assert resp.status_code == 303
    doc = client.get(f"/api/compounds/cp1/certification?date={D}").get_json()
    rule = next(r for r in doc["rules"] if r["rule"] == "closed_management")
    assert rule["passed"] is False
    assert "2 entrances open (north gate, east gate)" in rule["facts"][0]["text"]


def test_dashboard_shows_status_and_chart_and_answers_htmx_with_the_fragment(
    client, app_store, login_as, b
):
    app_store.seed()
    fever_case(app_store, b, cid="cp1", start=0)
    login_as("sec")
    resp = client.get(f"/certification?date={D}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "临江雅居" in html
    assert "<svg" in html
    assert "<html" in html
    frag = client.get(f"/certification?date={D}", headers={"HX-Request": "true"})
    assert "HX-Request" in frag.headers["Vary"]
    text = frag.get_data(as_text=True)
    assert "<html" not in text
    assert 'id="cert-dashboard"' in text
    assert "<svg" in text


def test_exports_csv_and_xlsx(client, app_store, login_as):
    app_store.seed()
    login_as("sec")
    csv_text = client.get(f"/certification/report.csv?date={D}").get_data().decode("utf-8-sig")
    lines = csv_text.strip().split("\r\n")
    assert lines[0].startswith("date,community,compound,status")
    assert lines[1].startswith("2020-03-08,jjd,临江雅居,passes")
    xlsx = client.get(f"/certification/report.xlsx?date={D}")
    ws = openpyxl.load_workbook(io.BytesIO(xlsx.get_data())).active
    assert ws.cell(2, 3).value == "临江雅居"
    assert ws.cell(2, 10).value == "100.0"


def test_published_list_page_and_no_second_list_on_a_date(client, app_store, login_as):
    app_store.seed()
    login_as("street", role="street_official")
    token = csrf(client, "/certification/lists")
    resp = client.post("/certification/lists", data={"on_date": D, "csrf_token": token})
    assert resp.status_code == 303
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert D in page
    again = client.post("/certification/lists", data={"on_date": D, "csrf_token": token})
    assert again.status_code == 422
    assert f"{D} 的名单已经公布。" in again.get_data(as_text=True)


def test_totals_page_counts_epidemic_free_units_per_district_and_street(
    client, server_app, login_as
):
    replica = server_app.extensions["replica"]
    base = {"day": D, "community_kind": "community", "households": 10, "checked": 10, "fevers": 0}
    rows = {
        "a1": {
            "community_id": "ca",
            "street_name": "青山街",
            "district_name": "青山区",
            "status": "certified",
        },
        "a2": {
            "community_id": "ca",
            "street_name": "青山街",
            "district_name": "青山区",
            "status": "certified",
        },
        "b1": {
            "community_id": "cb",
            "street_name": "唐家墩街",
            "district_name": "江汉区",
            "status": "fails",
        },
        "v1": {
            "community_id": "vv",
            "community_kind": "village",
            "street_name": "唐家墩街",
            "district_name": "江汉区",
            "status": "certified",
        },
    }
    replica.write_many(
        "compound_days",
        {f"{cid}/{D}": {"compound_id": cid, **base, **r} for cid, r in rows.items()},
    )
    login_as("city", role="street_official")
    html = client.get(f"/certification/totals?date={D}").get_data(as_text=True)
    assert "3 / 4 (75.0%)" in html  # compounds
    assert "1 / 2 (50.0%)" in html  # communities
    assert "1 / 1 (100.0%)" in html  # villages
    assert html.index("江汉区") < html.index("青山区")
