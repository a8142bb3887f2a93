"""The sync client against the real server app, through a Flask-test-client transport."""

from __future__ import annotations

import pytest
import requests

from server import create_app
from sync import Replica, Schema, new_id
from sync.clock import wall_ms
from sync.http_client import SyncClient, SyncError, outbox, set_outbox_status
from sync.tables import default_tables
from tests.flask_transport import FlaskTransport, session_for
from tests.server.sync_api.helpers import cells, check, delivery, household, token_for

URL = "http://server"


@pytest.fixture
def app(tmp_path):
    """A server app on a real data directory."""
    app = create_app({"DATA_DIR": str(tmp_path / "server"), "TESTING": True})
    yield app
    app.extensions["replica"].close()


def make_client(app, replica: Replica, token: str, **kw) -> tuple[SyncClient, FlaskTransport]:
    session, transport = session_for(app, URL)
    return SyncClient(replica, URL, token, session=session, **kw), transport


class LoseAnswers(FlaskTransport):
    """The server handles the request, then the answer is lost on the way back."""

    def __init__(self, app, lose: set[int]) -> None:
        super().__init__(app)
        self.lose = lose
        self.calls = 0

    def send(self, request, **kw):
        resp = super().send(request, **kw)
        self.calls += 1
        if self.calls in self.lose:
            raise requests.ConnectionError("connection reset by peer (after the server committed)")
        return resp


def test_two_agents_exchange_through_the_server(app, make_replica):
    a, b = make_replica("a"), make_replica("b")
    ta = token_for(app, "head-a", "building_head", ("c1",))
    tb = token_for(app, "head-b", "building_head", ("c1",))
    a.write("households", "h1", household("c1", owner_name="Wang"))
    a.write("temperature_checks", "t1", check("c1", household_id="h1"))
    report = make_client(app, a, ta)[0].sync()
    assert report.pushed_cells > 0
    assert report.rejected == 0
    make_client(app, b, tb)[0].sync()
    assert b.get("households", "h1")["owner_name"] == "Wang"
    b.write("households", "h1", {"owner_name": "Wang Li"})
    make_client(app, b, tb)[0].sync()
    make_client(app, a, ta)[0].sync()
    assert a.get("households", "h1")["owner_name"] == "Wang Li"
    assert cells(a) == cells(b) == cells(app.extensions["replica"])


def test_nothing_new_costs_one_request(app, make_replica):
    agent = make_replica("agent")
    token = token_for(app, "vol")
    agent.write("temperature_checks", "t1", check("c1"))
    client, transport = make_client(app, agent, token)
    client.sync()
    again, transport = make_client(app, agent, token, server_site=client.server_site)
    report = again.sync()
    assert report.requests == 1
    assert transport.requests == [("GET", "/api/sync/pull", 200)]
    assert report.pushed_cells == report.pulled_cells == 0


def test_batches_are_bounded_by_cells_and_bytes(app, make_replica):
    agent = make_replica("agent")
    token = token_for(app, "vol")
    agent.write_many("temperature_checks", {new_id(): check("c1") for _ in range(300)})
    client, transport = make_client(app, agent, token, max_cells=700, max_bytes=8_000)
    sizes = []
    real_request = client._request

    def spy(method, path, **kw):
        if path.endswith("/push"):
            import gzip

            sizes.append(len(gzip.decompress(kw["data"])))
        return real_request(method, path, **kw)

    client._request = spy
    report = client.sync()
    assert report.pushed_cells == 300 * 7
    assert len(sizes) > 2100 // 700  # the byte bound cut more batches than the cell bound
    assert max(sizes) <= 8_000
    assert app.extensions["replica"].db.execute(
        "SELECT count(*) FROM temperature_checks"
    ).fetchone() == (300,)


def test_a_server_with_a_lower_limit_gets_smaller_batches(tmp_path, make_replica):
    small = create_app({"DATA_DIR": str(tmp_path / "small"), "MAX_REQUEST_BYTES": 6_000})
    try:
        agent = make_replica("agent")
        token = token_for(small, "vol")
        agent.write_many("temperature_checks", {new_id(): check("c1") for _ in range(400)})
        client, transport = make_client(small, agent, token)
        report = client.sync()
        statuses = [status for _, path, status in transport.requests if path.endswith("/push")]
        assert 413 in statuses
        assert statuses[-1] == 200
        assert report.pushed_cells == 400 * 7
        assert cells(agent) == cells(small.extensions["replica"])
    finally:
        small.extensions["replica"].close()


def test_cursors_move_only_after_an_acknowledged_batch(app, make_replica):
    agent = make_replica("agent")
    token = token_for(app, "vol")
    agent.write_many("temperature_checks", {new_id(): check("c1") for _ in range(50)})
    session = requests.Session()
    transport = LoseAnswers(app, lose={3})  # hello, push 1, push 2 (committed, answer lost)
    session.mount(URL, transport)
    client = SyncClient(agent, URL, token, session=session, max_cells=70)
    with pytest.raises(SyncError) as err:
        client.sync()
    assert err.value.kind == "unreachable"
    server_site = app.extensions["replica"].site_id
    sent = agent.cursor(server_site)["sent"]
    assert 0 < sent < agent.counter  # the first batch only
    report = make_client(app, agent, token)[0].sync()
    assert report.rejected == 0
    assert agent.cursor(server_site)["sent"] == agent.counter
    assert cells(agent) == cells(app.extensions["replica"])


def test_rejected_cells_wait_in_the_outbox_with_their_reasons(app, make_replica):
    agent = make_replica("agent")
    token = token_for(app, "vol", "volunteer", ("c1",))
    agent.write("temperature_checks", "fine", check("c1"))
    agent.write("temperature_checks", "elsewhere", check("c9"))
    agent.write("households", "h1", household("c1"))
    report = make_client(app, agent, token)[0].sync()
    assert report.rejected > 0
    items = outbox(agent.path)
    assert {(i["tbl"], i["row_id"], i["reason"]) for i in items} == {
        ("temperature_checks", "elsewhere", "scope"),
        ("households", "h1", "role"),
    }
    assert all(i["message"] for i in items)
    assert {i["value"] for i in items if i["col"] == "compound_id"} == {"c9", "c1"}
    # The same answer again (a retry) adds nothing; a person can dismiss an entry.
    agent.set_cursor(app.extensions["replica"].site_id, sent=0)
    make_client(app, agent, token)[0].sync()
    assert len(outbox(agent.path)) == len(items)
    assert set_outbox_status(agent.path, items[0]["id"], "discarded")
    assert len(outbox(agent.path)) == len(items) - 1
    assert outbox(agent.path, "discarded")[0]["id"] == items[0]["id"]


def test_a_refused_token_is_an_unauthorized_error(app, make_replica):
    agent = make_replica("agent")
    with pytest.raises(SyncError) as err:
        make_client(app, agent, "lm_not-a-token")[0].sync()
    assert err.value.kind == "unauthorized"
    assert "refused" in str(err.value)


def test_a_laptop_whose_clock_is_behind_still_stores_what_it_pulls(app, make_replica):
    app.extensions["replica"].write("households", "h1", household("c1"))
    behind = wall_ms() - 3 * 3600 * 1000
    agent = make_replica("agent", now_ms=lambda: behind)
    token = token_for(app, "vol", "volunteer", ("c1",))
    report = make_client(app, agent, token)[0].sync()
    assert agent.get("households", "h1") is not None
    assert report.clock_offset_ms > 2 * 3600 * 1000


def test_cells_this_laptop_cannot_store_are_pulled_again_later(app, make_replica, tmp_path):
    server = app.extensions["replica"]
    server.write("households", "h1", household("c1"))
    server.write("deliveries", "d1", delivery("c1"))
    old = Schema([t for t in default_tables() if t.name != "deliveries"])
    agent = Replica(tmp_path / "old.db", old)
    token = token_for(app, "vol", "volunteer", ("c1",))
    try:
        with pytest.raises(SyncError) as err:
            make_client(app, agent, token)[0].sync()
        assert "update Last Meter" in str(err.value)
        assert agent.cursor(server.site_id)["received"] == 0
    finally:
        agent.close()
    upgraded = make_replica("old")  # the same file, opened by a newer Last Meter
    make_client(app, upgraded, token)[0].sync()
    assert upgraded.get("deliveries", "d1") is not None


def test_a_widened_scope_brings_the_new_compounds_rows(app, make_replica):
    server = app.extensions["replica"]
    server.write("households", "h1", household("c1"))
    server.write("households", "h2", household("c2"))
    agent = make_replica("agent")
    token = token_for(app, "vol", "volunteer", ("c1",))
    make_client(app, agent, token)[0].sync()
    assert agent.get("households", "h2") is None
    from server.auth import data as auth_data
    from server.db import open_db

    db = open_db(app.config["DATABASE"])
    auth_data.set_compounds(db, auth_data.get_user_by_name(db, "vol").id, ["c1", "c2"])
    db.close()
    make_client(app, agent, token)[0].sync()
    assert agent.get("households", "h2") is not None
    assert cells(agent) == cells(server, scope=["c1", "c2"])


def test_progress_is_reported_per_batch(app, make_replica):
    agent = make_replica("agent")
    token = token_for(app, "vol")
    agent.write_many("temperature_checks", {new_id(): check("c1") for _ in range(30)})
    seen = []
    client = make_client(app, agent, token, max_cells=70, progress=lambda *a: seen.append(a))[0]
    client.sync()
    pushes = [done for phase, done, _ in seen if phase == "push"]
    assert pushes == sorted(pushes)
    assert pushes[-1] == 30 * 7
    assert len(pushes) >= 3


def test_rows_edited_after_they_were_written_travel_whole_in_small_batches(app, make_replica):
    agent = make_replica("agent")
    token = token_for(app, "head", "building_head", ("c1",))
    agent.write_many("deliveries", {f"d{i}": delivery("c1", f"h{i}") for i in range(200)})
    # Edited later: these rows now sit at the end of the counter order, their first cells not.
    agent.write_many("deliveries", {f"d{i}": {"status": "out"} for i in range(0, 200, 3)})
    session = requests.Session()
    session.mount(URL, LoseAnswers(app, lose={4}))  # and the pass is cut off half-way
    with pytest.raises(SyncError):
        SyncClient(agent, URL, token, session=session, max_cells=150).sync()
    make_client(app, agent, token, max_cells=150)[0].sync()
    server = app.extensions["replica"]
    assert cells(server, scope=["c1"]) == cells(agent)
    assert server.get("deliveries", "d0") == agent.get("deliveries", "d0")


def test_a_first_pull_in_small_batches_brings_rows_edited_after_they_were_written(
    app, make_replica
):
    server = app.extensions["replica"]
    server.write_many("households", {f"h{i}": household("c1", str(i)) for i in range(200)})
    server.write_many("households", {f"h{i}": {"members": 4} for i in range(0, 200, 7)})
    agent = make_replica("agent")
    token = token_for(app, "vol", "volunteer", ("c1",))
    session = requests.Session()
    session.mount(URL, LoseAnswers(app, lose={5}))
    with pytest.raises(SyncError):
        SyncClient(agent, URL, token, session=session, max_cells=100).sync()
    make_client(app, agent, token, max_cells=100)[0].sync()
    assert cells(agent) == cells(server, scope=["c1"])
    assert agent.get("households", "h0")["building"] == "1"
