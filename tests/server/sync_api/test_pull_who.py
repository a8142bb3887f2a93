"""The pull answer says who the device is when asked (who=1), so a sync needs no hello."""

from __future__ import annotations

from server.auth import data as auth_data
from server.db import open_db
from sync import Batch
from tests.server.sync_api.helpers import bearer, check, token_for


def test_pull_with_who_carries_the_devices_user_role_and_scope(client, server_app):
    token = token_for(server_app, "lin", role="building_head", compounds=("c1", "c7"))
    body = client.get(
        "/api/sync/pull?cursor=0&site=agent-1&who=1", headers=bearer(token)
    ).get_json()
    assert body["user"] == "lin"
    assert body["role"] == "building_head"
    assert body["scope"] == ["c1", "c7"]


def test_pull_without_who_is_a_batch_an_older_agent_still_reads(client, server_app):
    """An older agent pops server_time_ms and scope, and refuses any other unknown key."""
    server = server_app.extensions["replica"]
    server.write("temperature_checks", "t1", check("c1"))
    token = token_for(server_app, "lin", role="building_head")
    body = client.get("/api/sync/pull?cursor=0&site=agent-1", headers=bearer(token)).get_json()
    assert "user" not in body
    assert "role" not in body
    body.pop("server_time_ms")
    body.pop("scope")
    assert Batch.from_dict(body).cells == len(server.schema["temperature_checks"].column_names)


def test_pull_tells_a_changed_scope_at_once(client, server_app):
    token = token_for(server_app, "lin", role="building_head", compounds=("c1",))
    db = open_db(server_app.config["DATABASE"])
    try:
        user = auth_data.get_user_by_name(db, "lin")
        auth_data.set_compounds(db, user.id, ["c1", "c2"])
    finally:
        db.close()
    body = client.get(
        "/api/sync/pull?cursor=0&site=agent-1&who=1", headers=bearer(token)
    ).get_json()
    assert body["scope"] == ["c1", "c2"]
    assert body["role"] == "building_head"
