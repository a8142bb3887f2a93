"""The sync client learns who it is from the pull, and notices a server it did not know."""

from __future__ import annotations

import pytest

from server import create_app
from sync import Replica
from sync.http_client import SyncClient
from tests.flask_transport import session_for
from tests.server.sync_api.helpers import cells, check, token_for


@pytest.fixture
def make_app(tmp_path):
    """make(name) -> a server app on tmp_path/<name>; all closed afterwards."""
    apps = []

    def make(name: str):
        app = create_app({"DATA_DIR": str(tmp_path / name), "TESTING": True})
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["replica"].close()


def client_for(app, replica: Replica, token: str, **kw):
    session, transport = session_for(app, "http://server")
    return SyncClient(replica, "http://server", token, session=session, **kw), transport


def test_a_sync_without_hello_learns_user_role_and_scope_from_the_pull(make_app, make_replica):
    app = make_app("server")
    agent = make_replica("agent")
    token = token_for(app, "lin", "building_head", ("c1", "c3"))
    first, _ = client_for(app, agent, token)
    first.sync()
    again, transport = client_for(app, agent, token, server_site=first.server_site)
    report = again.sync()
    assert transport.requests == [("GET", "/api/sync/pull", 200)]
    assert (report.user, report.role, report.scope) == ("lin", "building_head", ["c1", "c3"])
    assert report.clock_offset_ms is not None


def test_a_kept_server_site_of_another_server_is_noticed_and_everything_goes_up(
    make_app, make_replica
):
    """Re-enrolled to another server with the old server's site id still kept: the pull's
    origin gives it away; the client says hello and pushes from that server's cursor."""
    old, new = make_app("old"), make_app("new")
    agent = make_replica("agent")
    agent.write_many("temperature_checks", {f"t{i}": check("c1") for i in range(3)})
    first, _ = client_for(old, agent, token_for(old, "lin", "building_head"))
    first.sync()
    assert first.server_site == old.extensions["replica"].site_id
    moved, transport = client_for(
        new, agent, token_for(new, "lin", "building_head"), server_site=first.server_site
    )
    report = moved.sync()
    new_site = new.extensions["replica"].site_id
    assert report.server_site == moved.server_site == new_site
    assert ("GET", "/api/sync/hello", 200) in transport.requests
    assert cells(new.extensions["replica"]) == cells(agent)
    assert agent.cursor(new_site)["sent"] == agent.counter
