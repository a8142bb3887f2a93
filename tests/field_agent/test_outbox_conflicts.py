"""The outbox of rejected cells (fix and resend, or discard) and the conflicts page."""

from __future__ import annotations

import re

import pytest

from sync import Replica
from sync.clock import wall_ms
from sync.http_client import SyncClient, outbox

D1 = "c1-1栋-101-d1"


def reject(replica, table, row_id, column, value, reason="role", message="not allowed"):
    """Record a server's rejection the way the sync client does after a push."""
    client = SyncClient(replica, "http://127.0.0.1:9", "token")
    client._keep_rejected(
        [
            {
                "table": table,
                "row_id": row_id,
                "column": column,
                "value": value,
                "reason": reason,
                "message": message,
                "hlc": 1,
            }
        ]
    )
    return outbox(replica.path)[-1]["id"]


def test_outbox_lists_rejected_cells_with_reasons(volunteer, replica, client):
    reject(replica, "deliveries", D1, "status", "out", "scope", "compound c1 is outside")
    html = client.get("/sync/outbox?lang=en").get_data(as_text=True)
    assert "scope: compound c1 is outside" in html
    assert 'value="out"' in html
    status = client.get("/sync/status?lang=en").get_data(as_text=True)
    assert re.search(r"Rejected: <strong>1</strong>", status)


def test_fix_and_resend_writes_the_cell_again(volunteer, replica):
    replica.write("deliveries", D1, {"status": "out"})
    item = reject(replica, "deliveries", D1, "items", "蔬菜包")
    before = replica.counter
    resp = volunteer.post(f"/sync/outbox/{item}/resend", {"value": "蔬菜包 (大)"})
    assert resp.status_code == 303
    row = replica.get("deliveries", D1)
    assert row["items"] == "蔬菜包 (大)"
    assert row["recorded_by"] == "王芳"
    assert replica.counter > before  # a fresh stamp: the next push carries it
    assert outbox(replica.path) == []
    assert outbox(replica.path, "resent")[0]["id"] == item


def test_resend_of_a_bad_value_is_refused_at_the_field(volunteer, replica):
    item = reject(replica, "deliveries", D1, "quantity", 3)
    resp = volunteer.post(f"/sync/outbox/{item}/resend", {"value": "three"})
    assert resp.status_code == 422
    assert "a number is needed" in resp.get_data(as_text=True)
    resp = volunteer.post(f"/sync/outbox/{item}/resend", {"value": "-5"})
    assert resp.status_code == 422  # the engine's own check: quantity >= 0
    assert [i["id"] for i in outbox(replica.path)] == [item]


def test_resend_cannot_move_a_delivery_backwards(volunteer, replica):
    replica.write("deliveries", D1, {"status": "delivered"})
    item = reject(replica, "deliveries", D1, "status", "delivered")
    resp = volunteer.post(f"/sync/outbox/{item}/resend", {"value": "packed"})
    assert resp.status_code == 422
    assert replica.get("deliveries", D1)["status"] == "delivered"


def test_resend_of_an_immutable_row_makes_a_corrected_copy(volunteer, replica):
    replica.write(
        "temperature_checks",
        "t1",
        {
            "compound_id": "c1",
            "household_id": "c1-1栋-101",
            "temperature_c": 36.6,
            "measured_at": "2020-03-08T08:00:00+08:00",
            "recorded_by": "王芳",
        },
    )
    first = reject(replica, "temperature_checks", "t1", "temperature_c", 36.6)
    second = reject(replica, "temperature_checks", "t1", "measured_at", "x")
    resp = volunteer.post(f"/sync/outbox/{first}/resend", {"value": "36.7"})
    assert resp.status_code == 303
    rows = {r["id"]: r for r in replica.rows("temperature_checks")}
    assert len(rows) == 2
    assert rows["t1"]["temperature_c"] == 36.6
    copy = next(r for i, r in rows.items() if i != "t1")
    assert copy["temperature_c"] == 36.7
    assert copy["household_id"] == "c1-1栋-101"
    assert {i["id"] for i in outbox(replica.path, "resent")} == {first, second}


def test_discard(volunteer, replica):
    item = reject(replica, "deliveries", D1, "status", "out")
    assert volunteer.post(f"/sync/outbox/{item}/discard").status_code == 303
    assert outbox(replica.path) == []
    assert volunteer.post(f"/sync/outbox/{item}/discard").status_code == 404
    assert volunteer.post(f"/sync/outbox/{item}/resend", {"value": "x"}).status_code == 404


@pytest.fixture
def conflict(replica, tmp_path):
    """Another device changes the delivery's items concurrently and later: ours loses."""
    # Its clock runs a second ahead, so "later" holds even when both writes share a millisecond.
    other = Replica(tmp_path / "other.db", now_ms=lambda: wall_ms() + 1000)
    try:
        other.apply(replica.changes_since(0))
        replica.write("deliveries", D1, {"items": "mine", "recorded_by": "王芳"})
        other.write("deliveries", D1, {"items": "theirs", "recorded_by": "李强"})
        replica.apply(other.changes_since(0))
    finally:
        other.close()
    columns = sorted(c["column"] for c in replica.conflicts())
    assert columns == ["items", "recorded_by"]
    return next(c for c in replica.conflicts() if c["column"] == "items")


def test_conflicts_page_shows_yours_and_theirs(volunteer, client, conflict):
    html = client.get("/sync/conflicts?lang=en").get_data(as_text=True)
    assert "mine" in html
    assert "theirs" in html
    assert "李强" in html
    status = client.get("/sync/status?lang=en").get_data(as_text=True)
    assert re.search(r"Conflicts: <strong>1</strong>", status)


def test_keep_theirs_dismisses(volunteer, replica, conflict):
    resp = volunteer.post(f"/sync/conflicts/{conflict['id']}/keep-theirs")
    assert resp.status_code == 303
    assert replica.conflicts() == []
    assert replica.get("deliveries", D1)["items"] == "theirs"
    assert volunteer.post(f"/sync/conflicts/{conflict['id']}/keep-theirs").status_code == 404


def test_write_mine_again(volunteer, replica, conflict):
    resp = volunteer.post(f"/sync/conflicts/{conflict['id']}/write-mine")
    assert resp.status_code == 303
    assert replica.conflicts() == []
    row = replica.get("deliveries", D1)
    assert row["items"] == "mine"
    assert row["recorded_by"] == "王芳"
    assert volunteer.post(f"/sync/conflicts/{conflict['id']}/write-mine").status_code == 404


def test_sync_now_without_enrolment_says_so(volunteer, client):
    resp = volunteer.post("/sync/now?lang=en")
    assert resp.status_code == 303
    assert "not enrolled" in client.get("/sync/?lang=en").get_data(as_text=True)


def test_status_bar_counts_waiting_cells(volunteer, client, replica):
    html = client.get("/sync/status?lang=en").get_data(as_text=True)
    waiting = int(re.search(r"Waiting: <strong>(\d+)</strong>", html).group(1))
    assert waiting > 0  # the seeded register was written here and never sent
    replica.write("deliveries", "new", {"compound_id": "c1", "household_id": "c1-1栋-101"})
    html = client.get("/sync/status?lang=en").get_data(as_text=True)
    assert int(re.search(r"Waiting: <strong>(\d+)</strong>", html).group(1)) == waiting + 2
    assert "Not enrolled" in html
