"""Deliveries: the day's list, one click per status, filters, never backwards."""

from __future__ import annotations

import datetime as dt
import re

import pytest

D1 = "c1-1栋-101-d1"


def listed(html):
    return re.findall(r'<tr id="d-([^"]+)"', html)


def test_day_list_and_filters(volunteer, client, replica):
    replica.write(
        "deliveries",
        "extra",
        {
            "compound_id": "c1",
            "household_id": "c1-2栋-101",
            "kind": "group_buy",
            "round_id": "R2",
        },
    )
    assert len(listed(client.get("/deliveries/").get_data(as_text=True))) == 6
    assert len(listed(client.get("/deliveries/?building=1栋").get_data(as_text=True))) == 3
    assert listed(client.get("/deliveries/?round=R2").get_data(as_text=True)) == ["extra"]
    assert listed(client.get("/deliveries/?kind=group_buy").get_data(as_text=True)) == ["extra"]
    assert len(listed(client.get("/deliveries/?kind=vegetables").get_data(as_text=True))) == 5


def test_finished_yesterday_drops_off_today_stays(volunteer, client, replica):
    yesterday = (dt.datetime.now(dt.UTC) - dt.timedelta(days=2)).isoformat(timespec="seconds")
    replica.write("deliveries", D1, {"status": "delivered", "delivered_at": yesterday})
    assert D1 not in listed(client.get("/deliveries/").get_data(as_text=True))
    volunteer.post("/deliveries/c1-1栋-102-d1/status", {"status": "delivered"})
    assert "c1-1栋-102-d1" in listed(client.get("/deliveries/").get_data(as_text=True))


@pytest.mark.parametrize("status", ["packed", "out", "delivered"])
def test_one_click_moves_the_status_and_records_who(volunteer, replica, status):
    resp = volunteer.post(f"/deliveries/{D1}/status", {"status": status, "next": "/deliveries/"})
    assert resp.status_code == 303
    assert resp.headers["Location"] == "/deliveries/"
    row = replica.get("deliveries", D1)
    assert row["status"] == status
    assert row["volunteer"] == "王芳"
    assert row["recorded_by"] == "王芳"
    assert (row["delivered_at"] is not None) == (status == "delivered")


def test_refused_needs_a_reason(volunteer, replica):
    resp = volunteer.post(f"/deliveries/{D1}/status?lang=en", {"status": "refused", "reason": " "})
    assert resp.status_code == 422
    assert "Say why it was refused." in resp.get_data(as_text=True)
    assert replica.get("deliveries", D1)["status"] == "planned"
    resp = volunteer.post(f"/deliveries/{D1}/status", {"status": "refused", "reason": "不在家"})
    assert resp.status_code == 303
    row = replica.get("deliveries", D1)
    assert row["status"] == "refused"
    assert row["refused_reason"] == "不在家"


def test_reason_too_long_is_refused(volunteer, replica):
    resp = volunteer.post(f"/deliveries/{D1}/status", {"status": "refused", "reason": "x" * 501})
    assert resp.status_code == 422
    assert replica.get("deliveries", D1)["status"] == "planned"


def test_a_delivery_never_moves_backwards(volunteer, replica):
    volunteer.post(f"/deliveries/{D1}/status", {"status": "out"})
    resp = volunteer.post(f"/deliveries/{D1}/status?lang=en", {"status": "packed"})
    assert resp.status_code == 422
    assert "a delivery never moves back" in resp.get_data(as_text=True)
    assert replica.get("deliveries", D1)["status"] == "out"


@pytest.mark.parametrize("status", ["", "planned", "lost", "DELIVERED"])
def test_unknown_status_is_refused(volunteer, replica, status):
    resp = volunteer.post(f"/deliveries/{D1}/status", {"status": status})
    assert resp.status_code == 422
    assert replica.get("deliveries", D1)["status"] == "planned"


def test_unknown_delivery_is_404(volunteer):
    assert volunteer.post("/deliveries/nope/status", {"status": "out"}).status_code == 404


def test_htmx_click_returns_the_row(volunteer, replica):
    resp = volunteer.post(
        f"/deliveries/{D1}/status", {"status": "packed"}, headers={"HX-Request": "true"}
    )
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert html.startswith(f'<tr id="d-{D1}"')
    assert 'value="packed"' not in html  # only forward buttons remain
    assert 'value="out"' in html
    resp = volunteer.post(
        f"/deliveries/{D1}/status?lang=en", {"status": "planned"}, headers={"HX-Request": "true"}
    )
    assert resp.status_code == 422
    assert "Unknown status." in resp.get_data(as_text=True)


def test_buttons_offer_only_forward_states(volunteer, client, replica):
    replica.write("deliveries", D1, {"status": "out"})
    html = client.get("/deliveries/?building=1栋").get_data(as_text=True)
    row = re.search(rf'<tr id="d-{D1}".*?</tr>', html, re.S).group(0)
    assert 'value="packed"' not in row
    assert 'value="delivered"' in row
    assert 'value="refused"' in row


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("household_id", "", "Choose a household."),
        ("household_id", "c9-x", "Choose a household."),
        ("kind", "bribe", "Choose a kind."),
        ("items", "", "Say what is delivered."),
        ("items", "x" * 501, "At most 500 characters."),
        ("quantity", "abc", "Not a number."),
        ("quantity", "-1", "A quantity between"),
        ("round_id", "r" * 101, "At most 100 characters."),
    ],
)
def test_new_delivery_bad_inputs(volunteer, replica, field, value, message):
    form = {"household_id": "c1-2栋-101", "kind": "donation", "items": "大米", "quantity": "2"}
    form[field] = value
    resp = volunteer.post("/deliveries/new?lang=en", form)
    assert resp.status_code == 422
    assert message in resp.get_data(as_text=True)
    assert len(replica.rows("deliveries")) == 5


def test_new_delivery_is_planned_and_listed(volunteer, client, replica):
    form = {"household_id": "c1-2栋-101", "kind": "donation", "items": "大米", "quantity": "2.5"}
    assert volunteer.post("/deliveries/new", form).status_code == 303
    new = [r for r in replica.rows("deliveries") if r["items"] == "大米"]
    assert len(new) == 1
    assert new[0]["status"] == "planned"
    assert new[0]["quantity"] == 2.5
    assert new[0]["recorded_by"] == "王芳"
    assert new[0]["id"] in listed(client.get("/deliveries/").get_data(as_text=True))


def test_long_lists_come_in_pages_of_200(volunteer, client, replica):
    replica.write_many(
        "deliveries",
        {
            f"bulk{i:03d}": {
                "compound_id": "c1",
                "household_id": "c1-2栋-102",
                "kind": "vegetables",
            }
            for i in range(445)
        },
    )
    first = client.get("/deliveries/?lang=en").get_data(as_text=True)
    assert len(listed(first)) == 200
    assert "Rows 1 to 200 of 450" in first
    assert "page=2" in first
    last = client.get("/deliveries/?page=3&lang=en").get_data(as_text=True)
    assert len(listed(last)) == 50
    assert "Rows 401 to 450 of 450" in last
    seen = set()
    for page in (1, 2, 3):
        seen |= set(listed(client.get(f"/deliveries/?page={page}").get_data(as_text=True)))
    assert len(seen) == 450
    assert listed(client.get("/deliveries/?page=abc").get_data(as_text=True)) == listed(first)
    assert len(listed(client.get("/deliveries/?page=99").get_data(as_text=True))) == 50


def test_list_follows_changes_merged_from_the_server(volunteer, client, replica, tmp_path):
    from sync import Replica

    assert "st-planned" in client.get("/deliveries/?building=1栋").get_data(as_text=True)
    other = Replica(tmp_path / "server.db")
    try:
        other.apply(replica.changes_since(0))
        other.write("deliveries", D1, {"status": "out"})
        replica.apply(other.changes_since(0))
    finally:
        other.close()
    html = client.get("/deliveries/?building=1栋").get_data(as_text=True)
    row = re.search(rf'<tr id="d-{D1}".*?</tr>', html, re.S).group(0)
    assert "st-out" in row
