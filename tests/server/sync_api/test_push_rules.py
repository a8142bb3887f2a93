"""Every rule the server enforces on a push, each one produced by a request."""

from __future__ import annotations

import gzip
import json

import pytest

from server import create_app
from server.config import init_data_dir
from sync import Replica, new_id
from sync.clock import wall_ms
from tests.server.sync_api.helpers import (
    bearer,
    check,
    household,
    push,
    reasons,
    token_for,
)


def batch_of(replica: Replica) -> dict:
    return replica.changes_since(0).to_dict()


def set_value(batch: dict, table: str, column: str, value, row: int = 0) -> None:
    chunk = batch["tables"][table]
    i = chunk["columns"].index(column)
    mask = chunk["rows"][row][4]
    position = bin(mask & ((1 << i) - 1)).count("1")
    chunk["rows"][row][5][position] = value


def server_counter(app) -> int:
    return app.extensions["replica"].counter


def test_one_bad_cell_never_blocks_the_others(client, server_app, make_replica):
    token = token_for(server_app, "vol")
    agent = make_replica("agent")
    agent.write("temperature_checks", "ok", check("c1"))
    agent.write("temperature_checks", "hot", check("c1"))
    batch = batch_of(agent)
    rows = batch["tables"]["temperature_checks"]["rows"]
    set_value(
        batch, "temperature_checks", "temperature_c", 99.0, row=[r[0] for r in rows].index("hot")
    )
    resp = push(client, token, batch)
    body = resp.get_json()
    # The bad value, and with it the row's required temperature, are refused: that row only.
    assert "out_of_range" in {r["reason"] for r in body["rejected"]}
    assert {r["row_id"] for r in body["rejected"]} == {"hot"}
    assert body["ack"] == batch["next"]
    server = server_app.extensions["replica"]
    assert server.get("temperature_checks", "ok")["temperature_c"] == 36.6
    assert server.get("temperature_checks", "hot") is None


def test_role_may_not_write_a_table(client, server_app, make_replica):
    token = token_for(server_app, "vol", "volunteer")
    agent = make_replica("agent")
    agent.write("households", "h1", household("c1"))
    resp = push(client, token, batch_of(agent))
    assert reasons(resp) == {"role"}
    assert server_app.extensions["replica"].get("households", "h1") is None


def test_role_may_not_write_a_column(client, server_app, make_replica):
    token = token_for(server_app, "vol", "volunteer")
    agent = make_replica("agent")
    case = {"compound_id": "c1", "category": "fever", "start_date": "2020-03-01"}
    agent.write("health_cases", "k1", {**case, "released_on": "2020-03-10"})
    body = push(client, token, batch_of(agent)).get_json()
    assert [(r["column"], r["reason"]) for r in body["rejected"]] == [("released_on", "role")]
    stored = server_app.extensions["replica"].get("health_cases", "k1")
    assert stored["category"] == "fever"
    assert stored["released_on"] is None


def test_rows_outside_the_scope_are_refused(client, server_app, make_replica):
    token = token_for(server_app, "vol", compounds=("c1",))
    agent = make_replica("agent")
    agent.write("temperature_checks", "mine", check("c1"))
    agent.write("temperature_checks", "theirs", check("c2"))
    body = push(client, token, batch_of(agent)).get_json()
    assert {(r["row_id"], r["reason"]) for r in body["rejected"]} == {("theirs", "scope")}
    assert server_app.extensions["replica"].get("temperature_checks", "theirs") is None


def test_cells_stamped_by_another_site_are_refused(client, server_app, make_replica):
    token = token_for(server_app, "vol")
    other = make_replica("other")
    other.write("temperature_checks", "relayed", check("c1"))
    agent = make_replica("agent")
    agent.apply(other.changes_since(0))  # the agent holds another laptop's cells
    agent.write("temperature_checks", "own", check("c1"))
    batch = agent.changes_since(0).to_dict()
    assert len(batch["sites"]) == 2
    batch["origin"] = agent.site_id
    body = push(client, token, batch).get_json()
    assert {(r["row_id"], r["reason"]) for r in body["rejected"]} == {("relayed", "site")}
    assert server_app.extensions["replica"].get("temperature_checks", "own") is not None


def test_unknown_tables_and_columns_are_refused(client, server_app, make_replica):
    token = token_for(server_app, "vol")
    agent = make_replica("agent")
    agent.write("temperature_checks", "t1", check("c1"))
    batch = batch_of(agent)
    row = batch["tables"]["temperature_checks"]["rows"][0]
    batch["tables"]["secret_table"] = {"columns": ["x"], "rows": [["s1", row[1], 0, None, 1, [1]]]}
    chunk = batch["tables"]["temperature_checks"]
    chunk["columns"].append("shoe_size")
    row[4] |= 1 << (len(chunk["columns"]) - 1)
    row[5].append(42)
    body = push(client, token, batch).get_json()
    got = {(r["table"], r["column"], r["reason"]) for r in body["rejected"]}
    assert ("secret_table", "unknown_table") in {(t, reason) for t, _, reason in got}
    assert ("temperature_checks", "shoe_size", "unknown_column") in got


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("temperature_c", "hot", "bad_type"),
        ("temperature_c", 99.5, "out_of_range"),
        ("measured_at", "yesterday", "bad_type"),
        ("note", "x" * 501, "too_long"),
        ("household_id", None, "required"),
    ],
)
def test_values_must_fit_their_column(client, server_app, make_replica, column, value, reason):
    token = token_for(server_app, "vol")
    agent = make_replica("agent")
    agent.write("temperature_checks", "t1", check("c1", note="n"))
    batch = batch_of(agent)
    set_value(batch, "temperature_checks", column, value)
    resp = push(client, token, batch)
    assert reason in reasons(resp)
    stored = server_app.extensions["replica"].get("temperature_checks", "t1")
    # A bad required value keeps the row out; a bad optional one is left out of the row.
    assert stored is None or stored[column] != value


def test_unknown_states_are_refused(client, server_app, make_replica):
    token = token_for(server_app, "vol")
    agent = make_replica("agent")
    agent.write("deliveries", "d1", {"compound_id": "c1", "household_id": "h1", "status": "out"})
    batch = batch_of(agent)
    set_value(batch, "deliveries", "status", "lost_in_space")
    assert reasons(push(client, token, batch)) == {"unknown_state"}


def test_immutable_rows_are_not_changed(client, server_app, make_replica):
    first, second = token_for(server_app, "vol1"), token_for(server_app, "vol2")
    # b writes a second later (its clock runs ahead): the later version is the one refused;
    # of two versions the earliest stamp wins everywhere, so replicas still converge.
    a, b = make_replica("a"), make_replica("b", now_ms=lambda: wall_ms() + 1000)
    a.write("temperature_checks", "same-id", check("c1", t=36.6))
    b.write("temperature_checks", "same-id", check("c1", t=38.9))
    assert reasons(push(client, first, batch_of(a))) == set()
    assert reasons(push(client, second, batch_of(b))) == {"immutable"}
    assert server_app.extensions["replica"].get("temperature_checks", "same-id")[
        "temperature_c"
    ] == pytest.approx(36.6)


def test_the_same_push_twice_is_accepted_twice(client, server_app, make_replica):
    token = token_for(server_app, "vol")
    agent = make_replica("agent")
    agent.write("temperature_checks", "t1", check("c1"))
    batch = batch_of(agent)
    assert reasons(push(client, token, batch)) == set()
    again = push(client, token, batch).get_json()
    assert again["rejected"] == []
    assert again["changed"] == 0
    assert again["accepted"] > 0


def test_clocks_too_far_ahead_are_refused(client, server_app, make_replica):
    token = token_for(server_app, "vol")
    ahead = wall_ms() + 24 * 3600 * 1000
    agent = make_replica("agent", now_ms=lambda: ahead)
    agent.write("temperature_checks", "t1", check("c1"))
    assert reasons(push(client, token, batch_of(agent))) == {"clock_ahead"}
    assert server_app.extensions["replica"].get("temperature_checks", "t1") is None


def test_a_row_cannot_move_to_another_compound(client, server_app, make_replica):
    token = token_for(server_app, "head", "building_head", compounds=("c1", "c2"))
    other = token_for(server_app, "head2", "building_head", compounds=("c1", "c2"))
    a, b = make_replica("a"), make_replica("b")
    a.write("households", "h1", household("c1"))
    assert reasons(push(client, token, batch_of(a))) == set()
    b.write("households", "h1", household("c2", unit="202"))
    assert reasons(push(client, other, batch_of(b))) == {"compound_change"}
    assert server_app.extensions["replica"].get("households", "h1")["compound_id"] == "c1"


def test_street_officials_may_not_push_at_all(client, server_app, make_replica):
    token = token_for(server_app, "street", "street_official", compounds=("*",))
    agent = make_replica("agent")
    agent.write("temperature_checks", "t1", check("c1"))
    resp = push(client, token, batch_of(agent))
    assert resp.status_code == 403
    assert "error" in resp.get_json()


# -- malformed requests: 400 / 413, nothing changes ------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"protocol_version": 1},
        {
            "protocol_version": 99,
            "origin": "x",
            "next": 1,
            "more": False,
            "sites": [],
            "tables": {},
        },
        {
            "protocol_version": 1,
            "origin": "x",
            "next": -1,
            "more": False,
            "sites": [],
            "tables": {},
        },
        {
            "protocol_version": 1,
            "origin": "x",
            "next": 1,
            "more": False,
            "sites": [],
            "tables": {},
            "extra": True,
        },
        [1, 2, 3],
        {
            "protocol_version": 1,
            "origin": "x",
            "next": 1,
            "more": False,
            "sites": [],
            "tables": {"temperature_checks": {"columns": "nope", "rows": []}},
        },
    ],
)
def test_malformed_batches_get_400(client, server_app, body):
    token = token_for(server_app, "vol")
    before = server_counter(server_app)
    resp = push(client, token, body)
    assert resp.status_code == 400
    assert resp.get_json()["error"]
    assert server_counter(server_app) == before


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b"this is not json", {}),
        (b"\xff\xfe\x00garbage", {}),
        (b"not gzip at all", {"Content-Encoding": "gzip"}),
        (gzip.compress(b"{nope"), {"Content-Encoding": "gzip"}),
    ],
)
def test_bodies_that_are_not_json_get_400(client, server_app, body, headers):
    token = token_for(server_app, "vol")
    resp = push(client, token, body, headers=headers)
    assert resp.status_code == 400
    assert resp.is_json
    assert resp.get_json()["error"]


def test_a_gzip_body_cut_before_its_checksum_gets_400(client, server_app, make_replica):
    token = token_for(server_app, "vol")
    agent = make_replica("agent")
    agent.write("temperature_checks", "t1", check("c1"))
    body = gzip.compress(json.dumps(batch_of(agent)).encode())[:-6]  # JSON whole, trailer cut
    resp = push(client, token, body, headers={"Content-Encoding": "gzip"})
    assert resp.status_code == 400
    assert "incomplete" in resp.get_json()["error"]
    assert server_app.extensions["replica"].get("temperature_checks", "t1") is None


def test_a_gzipped_push_is_accepted(client, server_app, make_replica):
    token = token_for(server_app, "vol")
    agent = make_replica("agent")
    agent.write("temperature_checks", "t1", check("c1"))
    body = gzip.compress(json.dumps(batch_of(agent)).encode())
    resp = push(client, token, body, headers={"Content-Encoding": "gzip"})
    assert reasons(resp) == set()
    assert server_app.extensions["replica"].get("temperature_checks", "t1") is not None


@pytest.fixture
def small_server(tmp_path):
    """A server whose config.toml sets max_request_bytes = 4000."""
    data = tmp_path / "small"
    init_data_dir(data, max_request_bytes=4000)
    app = create_app({"DATA_DIR": str(data), "TESTING": True})
    yield app
    app.extensions["replica"].close()


def test_oversized_bodies_get_413_from_the_configured_limit(small_server, make_replica):
    assert small_server.config["MAX_REQUEST_BYTES"] == 4000
    client = small_server.test_client()
    token = token_for(small_server, "vol")
    agent = make_replica("agent")
    agent.write_many("temperature_checks", {new_id(): check("c1") for _ in range(100)})
    body = json.dumps(batch_of(agent))
    assert len(body) > 4000
    before = server_counter(small_server)
    resp = push(client, token, body)
    assert resp.status_code == 413
    assert "error" in resp.get_json()
    assert server_counter(small_server) == before


def test_a_gzip_bomb_gets_413(small_server):
    client = small_server.test_client()
    token = token_for(small_server, "vol")
    bomb = gzip.compress(b"[" + b"0," * 200_000 + b"0]")
    assert len(bomb) < 4000
    resp = push(client, token, bomb, headers={"Content-Encoding": "gzip"})
    assert resp.status_code == 413


# -- tokens ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/sync/hello"),
        ("POST", "/api/sync/push"),
        ("GET", "/api/sync/pull?cursor=0&site=x"),
    ],
)
def test_missing_wrong_and_revoked_tokens_get_401(client, server_app, method, path):
    token = token_for(server_app, "vol")
    assert client.open(path, method=method, headers=bearer(token)).status_code in (200, 400)
    from server.auth import data as auth_data
    from server.db import open_db

    db = open_db(server_app.config["DATABASE"])
    revoked = token_for(server_app, "vol")
    auth_data.revoke_device(db, auth_data.device_for_token(db, revoked).id)
    db.close()
    for headers in ({}, bearer("lm_wrong"), {"Authorization": token}, bearer(revoked)):
        resp = client.open(path, method=method, headers=headers)
        assert resp.status_code == 401
        assert resp.get_json()["error"]
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_hello_tells_who_the_device_is_and_the_server_time(client, server_app):
    token = token_for(server_app, "vol", compounds=("c1", "c7"))
    body = client.get("/api/sync/hello", headers=bearer(token)).get_json()
    assert body["role"] == "volunteer"
    assert body["scope"] == ["c1", "c7"]
    assert body["server_site"] == server_app.extensions["replica"].site_id
    assert abs(body["server_time_ms"] - wall_ms()) < 60_000


# -- pull -------------------------------------------------------------------------------


def test_pull_returns_only_the_devices_compounds_and_never_its_own_cells(
    client, server_app, make_replica
):
    server = server_app.extensions["replica"]
    server.write("temperature_checks", "c1-check", check("c1"))
    server.write("temperature_checks", "c2-check", check("c2"))
    token = token_for(server_app, "vol", compounds=("c1",))
    agent = make_replica("agent")
    agent.write("temperature_checks", "own", check("c1"))
    assert reasons(push(client, token, batch_of(agent))) == set()
    resp = client.get(
        f"/api/sync/pull?cursor=0&site={agent.site_id}", headers=bearer(token)
    ).get_json()
    ids = [row[0] for chunk in resp["tables"].values() for row in chunk["rows"]]
    assert ids == ["c1-check"]
    assert isinstance(resp["server_time_ms"], int)
    assert resp["scope"] == ["c1"]


@pytest.mark.parametrize(
    "query", ["", "cursor=x&site=a", "cursor=-1&site=a", "cursor=0", "cursor=0&site=a&limit=0"]
)
def test_pull_with_bad_parameters_gets_400(client, server_app, query):
    token = token_for(server_app, "vol")
    resp = client.get(f"/api/sync/pull?{query}", headers=bearer(token))
    assert resp.status_code == 400
    assert resp.get_json()["error"]


# -- one laptop, one token ---------------------------------------------------------------


def test_a_token_used_with_another_database_gets_409(client, server_app, make_replica):
    token = token_for(server_app, "vol")
    first, second = make_replica("first"), make_replica("second")
    first.write("temperature_checks", "t1", check("c1"))
    second.write("temperature_checks", "t2", check("c1"))
    assert reasons(push(client, token, batch_of(first))) == set()
    resp = push(client, token, batch_of(second))
    assert resp.status_code == 409
    assert "another laptop" in resp.get_json()["error"]
    assert server_app.extensions["replica"].get("temperature_checks", "t2") is None
    pulled = client.get(f"/api/sync/pull?cursor=0&site={second.site_id}", headers=bearer(token))
    assert pulled.status_code == 409


def test_a_copied_database_under_a_second_token_gets_409(
    client, server_app, make_replica, tmp_path
):
    import shutil

    first_token = token_for(server_app, "vol")
    original = make_replica("original")
    original.write("temperature_checks", "t1", check("c1"))
    assert reasons(push(client, first_token, batch_of(original))) == set()
    original.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(tmp_path / "original.db", tmp_path / "copy.db")
    copy = make_replica("copy")
    assert copy.site_id == original.site_id
    copy.write("temperature_checks", "t2", check("c1"))
    second_token = token_for(server_app, "vol")
    resp = push(client, second_token, batch_of(copy))
    assert resp.status_code == 409
    assert "copy" in resp.get_json()["error"]
    assert server_app.extensions["replica"].get("temperature_checks", "t2") is None
