"""`lastmeter demo`: seeds the DOMAIN.md community idempotently and serves it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests
from click.testing import CliRunner

from server import create_app
from server.cli import main
from server.demo import seed

from .conftest import sign_in


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory):
    """A demo data directory seeded once with `lastmeter demo --no-serve`."""
    data = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(main, ["demo", "--data", str(data), "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "secretary" in result.output
    assert "demo-secretary" in result.output
    return data


@pytest.fixture
def demo_app(demo_dir):
    app = create_app({"DATA_DIR": str(demo_dir / "server"), "TESTING": True})
    yield app
    app.extensions["replica"].close()


def test_demo_holds_the_compounds_of_the_reports(demo_app):
    replica = demo_app.extensions["replica"]
    names = {c["id"]: c["name"] for c in replica.rows("compounds")}
    sizes = {names[cid]: len(replica.rows("households", compound_id=cid)) for cid in names}
    assert sizes == {"临江雅居": 48, "华氏儒商花园": 368, "钻石公寓": 120}
    assert len(replica.rows("residents")) > 1000


def test_reseeding_changes_nothing(demo_dir, demo_app):
    replica = demo_app.extensions["replica"]
    before = replica.counter
    result = CliRunner().invoke(main, ["demo", "--data", str(demo_dir), "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "this run wrote 0 households, 0 residents" in result.output
    assert replica.counter == before


def test_demo_pages_serve_with_the_demo_logins(demo_app):
    secretary = sign_in(demo_app, "community_admin", ["*"], "secretary-test")
    html = secretary.get("/").get_data(as_text=True)
    assert "华氏儒商花园" in html
    assert "368" in html
    html = secretary.get("/households?q=101").get_data(as_text=True)
    assert "临江雅居" in html
    for username, _display, _role, _keys, password in seed.USERS:
        client = demo_app.test_client()
        page = client.get("/auth/login").get_data(as_text=True)
        token = page.split('name="csrf_token" value="')[1].split('"')[0]
        resp = client.post(
            "/auth/login", data={"username": username, "password": password, "csrf_token": token}
        )
        assert resp.status_code == 303, username


def test_volunteer_of_linjiang_sees_only_linjiang(demo_app):
    client = demo_app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    client.post(
        "/auth/login",
        data={"username": "vol-linjiang", "password": "demo-volunteer", "csrf_token": token},
    )
    body = client.get("/api/households").get_json()
    assert body["total"] == 48
    assert {h["compound"] for h in body["households"]} == {"临江雅居"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_demo_serves_over_http_and_stops_on_ctrl_c(tmp_path):
    port, agent_port = _free_port(), _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from server.cli import main; main()",
            "demo",
            "--data",
            str(tmp_path / "demo"),
            "--port",
            str(port),
            "--agent-port",
            str(agent_port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        status = None
        while time.monotonic() < deadline and status is None:
            try:
                status = requests.get(f"http://127.0.0.1:{port}/auth/login", timeout=5).status_code
            except (requests.ConnectionError, requests.Timeout):
                assert proc.poll() is None, proc.stdout.read()
                time.sleep(0.3)
        assert status == 200
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
        assert "stopped" in out
        assert "demo-secretary" in out
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
