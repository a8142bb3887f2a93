"""Paper ballots go up from the laptops and never down to any of them."""

from __future__ import annotations

from sync import Replica
from tests.server.sync_api.helpers import bearer, push, token_for

BALLOT = {
    "compound_id": "c1",
    "motion_id": "m1",
    "household_id": "h1",
    "choice": "for",
    "recorded_at": "2020-03-08T08:00:00+08:00",
    "receipt": "ABCD-EFGH-JKMN",
}


def test_paper_ballots_are_not_pulled_by_other_laptops(client, server_app, tmp_path):
    writer = Replica(tmp_path / "writer.db")
    try:
        writer.write("ballots", "b1", BALLOT)
        writer.write(
            "temperature_checks",
            "t1",
            {
                "compound_id": "c1",
                "household_id": "h1",
                "temperature_c": 36.6,
                "measured_at": "2020-03-08T08:00:00+08:00",
            },
        )
        resp = push(client, token_for(server_app, "vol1"), writer.changes_since(0).to_dict())
        assert resp.status_code == 200
        assert resp.get_json()["rejected"] == []
    finally:
        writer.close()
    assert server_app.extensions["replica"].get("ballots", "b1")["choice"] == "for"

    other = token_for(server_app, "vol2")
    pulled = client.get("/api/sync/pull?cursor=0&site=other-laptop", headers=bearer(other))
    assert pulled.status_code == 200
    tables = pulled.get_json()["tables"]
    assert "temperature_checks" in tables  # the rest of the scope still comes down
    assert "ballots" not in tables
