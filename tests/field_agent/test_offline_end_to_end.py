"""End to end with a live server subprocess: record offline, sync in the background."""

from __future__ import annotations

import io
import re
import time
from pathlib import Path

import pytest

from field_agent import close_app, create_app, start_background_sync
from sync import Replica
from sync.blobstore import BlobStore
from tests.field_agent.helpers import AgentActions, LiveServer, jpeg_bytes, run

pytestmark = pytest.mark.slow

B1 = "1栋"


def seed_server(db_path: Path, residents: int = 50) -> None:
    """A compound with one building of `residents` people (two per household)."""
    with Replica(db_path) as server:
        server.write("compounds", "c1", {"compound_id": "c1", "name": "临江雅居"})
        server.write("buildings", "c1-b1", {"compound_id": "c1", "name": B1})
        households = {}
        people = {}
        for i in range(residents // 2):
            hid = f"h{i:02d}"
            households[hid] = {"compound_id": "c1", "building": B1, "unit": f"{101 + i}"}
            for p in range(2):
                people[f"{hid}-r{p}"] = {
                    "compound_id": "c1",
                    "household_id": hid,
                    "name": f"居民{i}-{p}",
                }
        server.write_many("households", households)
        server.write_many("residents", people)
        server.write(
            "deliveries",
            "shared-d1",
            {"compound_id": "c1", "household_id": "h00", "kind": "vegetables", "status": "planned"},
        )


@pytest.fixture
def server_dir(tmp_path):
    path = tmp_path / "server"
    run("server", "init", "--data", str(path))
    seed_server(path / "lastmeter.db")
    return path


def add_device(server_dir: Path, user: str) -> str:
    out = run(
        "server",
        "add-device",
        "--data",
        str(server_dir),
        "--user",
        user,
        "--role",
        "building_head",
        "--compound",
        "c1",
    ).stdout
    return out.strip().splitlines()[-1]


def enrolled_agent(tmp_path: Path, name: str, url: str, token: str):
    data = tmp_path / name
    run("agent", "init", "--data", str(data), "--server", url, "--token", token)
    app = create_app(
        {"DATA_DIR": str(data), "SYNC_INTERVAL_SECONDS": 0.2, "RETRY_INTERVAL_SECONDS": 0.2}
    )
    return app


def wait_for(predicate, timeout: float = 60.0, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def status_numbers(client) -> dict[str, int]:
    html = client.get("/sync/status?lang=en").get_data(as_text=True)
    found = dict(re.findall(r"(Waiting|Rejected|Photos waiting): <strong>(\d+)</strong>", html))
    return {k: int(v) for k, v in found.items()} | {"offline": "Offline" in html}


def test_offline_records_reach_the_server_by_background_sync(tmp_path, server_dir):
    token = add_device(server_dir, "head1")
    server = LiveServer(server_dir).start()
    app = enrolled_agent(tmp_path, "agent", server.url, token)
    job = app.extensions["agent_sync"]
    try:
        assert job.run_once()  # first sync: the register comes down
        server.stop()  # from here on the laptop is alone in the stairwell

        client = app.test_client()
        volunteer = AgentActions(client)
        assert volunteer.setup("王芳", "2468").status_code == 303
        # 50 temperature checks in one grid save (two fevers).
        html = client.get(f"/temperatures/grid?building={B1}").get_data(as_text=True)
        keys = re.findall(r'class="grid-cell" name="([^"]+)"', html)
        assert len(keys) == 50
        readings = {k: "36.5" for k in keys}
        readings[keys[3]] = "37.8"
        readings[keys[40]] = "38.1"
        assert volunteer.post(f"/temperatures/grid?building={B1}", readings).status_code == 303
        # 10 deliveries, each added and delivered with one click.
        for i in range(10):
            form = {
                "household_id": f"h{i:02d}",
                "kind": "donation",
                "items": f"大米 {i}",
                "quantity": "5",
            }
            assert volunteer.post("/deliveries/new", form).status_code == 303
        local = app.extensions["replica"]
        mine = [r["id"] for r in local.rows("deliveries") if r["id"] != "shared-d1"]
        assert len(mine) == 10
        for delivery_id in mine:
            resp = volunteer.post(f"/deliveries/{delivery_id}/status", {"status": "delivered"})
            assert resp.status_code == 303
        # A medicine request with a photo of the box.
        photo = jpeg_bytes(2000, 1500)
        resp = volunteer.post(
            "/medicine/new",
            {
                "household_id": "h05",
                "drug_name": "硝苯地平控释片",
                "quantity": "3",
                "photo": (io.BytesIO(photo), "box.jpg"),
            },
            content_type="multipart/form-data",
        )
        assert resp.status_code == 303
        [request] = local.rows("medicine_requests")
        sha = request["photo_sha256"]
        waiting = status_numbers(client)
        assert waiting["Waiting"] > 0
        assert waiting["Photos waiting"] == 1

        # The background thread finds no server and says so; pages keep working.
        start_background_sync(app)
        assert wait_for(lambda: job.state["online"] is False)
        assert status_numbers(client)["offline"]
        assert client.get("/deliveries/").status_code == 200

        server.start()  # the same port: the laptop finds its server again
        assert wait_for(
            lambda: (n := status_numbers(client))["Waiting"] == 0 and "Photos waiting" not in n
        ), status_numbers(client)
        job.stop()

        with Replica(server_dir / "lastmeter.db") as srv:
            checks = {r["id"]: r for r in srv.rows("temperature_checks")}
            assert checks == {r["id"]: r for r in local.rows("temperature_checks")}
            assert len(checks) == 50
            assert sorted(r["temperature_c"] for r in checks.values())[-2:] == [37.8, 38.1]
            assert {r["recorded_by"] for r in checks.values()} == {"王芳"}
            fevers = srv.rows("health_cases")
            assert sorted(c["note"] for c in fevers) == ["37.8 °C", "38.1 °C"]
            delivered = [r for r in srv.rows("deliveries") if r["id"] != "shared-d1"]
            assert sorted(r["id"] for r in delivered) == sorted(mine)
            assert {r["status"] for r in delivered} == {"delivered"}
            assert {r["volunteer"] for r in delivered} == {"王芳"}
            assert srv.rows("medicine_requests") == local.rows("medicine_requests")
            assert srv.get("photos", sha) == local.get("photos", sha)
        server_blob = BlobStore(server_dir / "blobs").read(sha)
        assert server_blob == BlobStore(Path(app.config["BLOB_DIR"])).read(sha)
        assert status_numbers(client)["Rejected"] == 0
    finally:
        close_app(app)
        server.stop()


def test_two_agents_mark_one_delivery_offline_and_both_end_higher(tmp_path, server_dir):
    tokens = [add_device(server_dir, "head-a"), add_device(server_dir, "head-b")]
    server = LiveServer(server_dir).start()
    apps = [enrolled_agent(tmp_path, n, server.url, t) for n, t in zip("ab", tokens, strict=True)]
    try:
        for app in apps:
            assert app.extensions["agent_sync"].run_once()
        server.stop()
        clients = [app.test_client() for app in apps]
        for client, name in zip(clients, ("王芳", "李强"), strict=True):
            actions = AgentActions(client)
            assert actions.setup(name, "1357").status_code == 303
        a, b = (AgentActions(c) for c in clients)
        assert a.post("/deliveries/shared-d1/status", {"status": "out"}).status_code == 303
        assert b.post("/deliveries/shared-d1/status", {"status": "packed"}).status_code == 303
        server.start()
        for app in (apps[0], apps[1], apps[0]):
            assert app.extensions["agent_sync"].run_once()
        for app, client in zip(apps, clients, strict=True):
            assert app.extensions["replica"].get("deliveries", "shared-d1")["status"] == "out"
            html = client.get("/deliveries/?lang=en").get_data(as_text=True)
            row = re.search(r'<tr id="d-shared-d1".*?</tr>', html, re.S).group(0)
            assert "out for delivery" in row
            assert 'value="packed"' not in row
        with Replica(server_dir / "lastmeter.db") as srv:
            assert srv.get("deliveries", "shared-d1")["status"] == "out"
    finally:
        for app in apps:
            close_app(app)
        server.stop()
