"""What a sync costs on the wire: with nothing new, one request under 2 KB (issue #3)."""

from __future__ import annotations

import pytest

from field_agent import settings
from field_agent.syncer import run_sync
from sync import Replica
from sync.http_client import make_session
from tests.faultproxy import FaultProxy
from tests.field_agent.helpers import LiveServer, run

pytestmark = pytest.mark.slow

CHECK = {
    "compound_id": "c1",
    "household_id": "h1",
    "temperature_c": 36.6,
    "measured_at": "2020-03-08T08:00:00+08:00",
}


@pytest.fixture
def enrolled(tmp_path):
    """A live server behind a counting proxy and an agent enrolled through the proxy."""
    server_dir, agent_dir = tmp_path / "server", tmp_path / "agent"
    run("server", "init", "--data", str(server_dir))
    token = run(
        "server", "add-device", "--data", str(server_dir),
        "--user", "lin", "--role", "building_head", "--compound", "c1",
    ).stdout.strip().splitlines()[-1]  # fmt: skip
    server = LiveServer(server_dir).start()
    proxy = FaultProxy(("127.0.0.1", server.port))
    try:
        run("agent", "init", "--data", str(agent_dir), "--server", proxy.url, "--token", token)
        yield agent_dir, proxy
    finally:
        proxy.close()
        server.stop()


def counting_session() -> tuple[object, list]:
    seen: list = []
    session = make_session(retries=1, backoff=0.2)
    session.hooks["response"].append(lambda resp, *args, **kwargs: seen.append(resp))
    return session, seen


def test_a_sync_with_nothing_new_is_one_request_under_2_kb(enrolled):
    agent_dir, proxy = enrolled
    with Replica(settings.db_path(agent_dir)) as replica:
        replica.write("temperature_checks", "t1", CHECK)
    first = run_sync(agent_dir)  # learns the server's site id (hello), pushes the check
    assert first.pushed_cells > 0
    conf = settings.load(agent_dir)
    assert (conf["role"], conf["user"], conf["scope"]) == ("building_head", "lin", ["c1"])
    # Someone edited the laptop's copy of the role, or the server changed it: the pull says.
    settings.save(agent_dir, role="volunteer")

    proxy.bytes_up = proxy.bytes_down = 0
    session, seen = counting_session()
    report = run_sync(agent_dir, session=session)

    assert [resp.request.path_url.split("?")[0] for resp in seen] == ["/api/sync/pull"]
    assert report.requests == 1
    assert report.pushed_cells == report.pulled_cells == 0
    wire = proxy.bytes_up + proxy.bytes_down  # HTTP headers included, as on the wire
    assert 0 < wire < 2048, wire
    assert settings.load(agent_dir)["role"] == "building_head"


def test_a_laptop_without_the_servers_site_id_says_hello_first(enrolled):
    agent_dir, _proxy = enrolled
    session, seen = counting_session()
    run_sync(agent_dir, session=session)
    paths = [resp.request.path_url.split("?")[0] for resp in seen]
    assert paths == ["/api/sync/hello", "/api/sync/pull"]
    assert settings.load(agent_dir)["server_site"]
