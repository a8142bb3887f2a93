"""`lastmeter server add-device / revoke-device` and `lastmeter agent init / sync / status`."""

from __future__ import annotations

import hashlib
import socket
import subprocess

import pytest
from click.testing import CliRunner

from server.cli import main
from sync import Replica
from tests.server.sync_api.helpers import LASTMETER, check, household

pytestmark = pytest.mark.slow


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def add_device(runner, server_dir, user="vol", role="building_head", compound="c1") -> str:
    result = runner.invoke(
        main,
        ["server", "add-device", "--data", str(server_dir.path), "--user", user,
         "--role", role, "--compound", compound],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("lm_")
    assert "shown only now" in result.stderr
    return token


def enrol(runner, data, url, token) -> None:
    result = runner.invoke(
        main, ["agent", "init", "--data", str(data), "--server", url, "--token", token]
    )
    assert result.exit_code == 0, result.output


def test_init_sync_and_status(runner, server_dir, live_server, tmp_path):
    with server_dir.replica() as srv:
        srv.write("households", "h1", household("c1"))
        srv.write("households", "h9", household("c9"))
    token = add_device(runner, server_dir)
    data = tmp_path / "laptop"
    enrol(runner, data, live_server.url, token)
    with Replica(data / "lastmeter.db") as agent:
        agent.write("temperature_checks", "t1", check("c1"))
    result = runner.invoke(main, ["agent", "sync", "--data", str(data)])
    assert result.exit_code == 0, result.output
    assert "pushed 7 cells" in result.stdout
    with Replica(data / "lastmeter.db") as agent:
        assert agent.get("households", "h1") is not None
        assert agent.get("households", "h9") is None
    status = runner.invoke(main, ["agent", "status", "--data", str(data)])
    assert status.exit_code == 0
    assert "cells waiting: 0" in status.stdout
    assert "rejected cells: 0" in status.stdout


def test_rejected_cells_make_sync_exit_3_and_show_in_status(
    runner, server_dir, live_server, tmp_path
):
    token = add_device(runner, server_dir, user="vol", role="volunteer")
    data = tmp_path / "laptop"
    enrol(runner, data, live_server.url, token)
    with Replica(data / "lastmeter.db") as agent:
        agent.write("temperature_checks", "t-far", check("c9"))
        agent.write("households", "h-new", household("c1"))
    result = runner.invoke(main, ["agent", "sync", "--data", str(data)])
    assert result.exit_code == 3
    assert "lastmeter agent status" in result.stderr
    status = runner.invoke(main, ["agent", "status", "--data", str(data)])
    assert "t-far" in status.stdout
    assert "scope" in status.stdout
    assert "h-new" in status.stdout
    assert "role" in status.stdout
    assert "outside this device's scope" in status.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_sync_fails_clearly_when_the_server_is_unreachable(tmp_path):
    data = tmp_path / "laptop"
    url = f"http://127.0.0.1:{free_port()}"
    subprocess.run(
        [LASTMETER, "agent", "init", "--data", str(data), "--server", url, "--token", "lm_x"],
        check=True,
        capture_output=True,
    )
    proc = subprocess.run(
        [LASTMETER, "agent", "sync", "--data", str(data)], capture_output=True, text=True
    )
    assert proc.returncode != 0
    assert "cannot reach the server" in proc.stderr
    assert url in proc.stderr


def test_sync_fails_clearly_when_the_token_is_revoked(runner, server_dir, live_server, tmp_path):
    token = add_device(runner, server_dir)
    data = tmp_path / "laptop"
    enrol(runner, data, live_server.url, token)
    assert runner.invoke(main, ["agent", "sync", "--data", str(data)]).exit_code == 0
    result = runner.invoke(main, ["server", "revoke-device", "--data", str(server_dir.path), "1"])
    assert result.exit_code == 0, result.output
    proc = subprocess.run(
        [LASTMETER, "agent", "sync", "--data", str(data)], capture_output=True, text=True
    )
    assert proc.returncode != 0
    assert "refused this device's token" in proc.stderr


def test_sync_fails_clearly_when_the_token_is_wrong(runner, live_server, tmp_path):
    data = tmp_path / "laptop"
    enrol(runner, data, live_server.url, "lm_made-up")
    result = runner.invoke(main, ["agent", "sync", "--data", str(data)])
    assert result.exit_code == 1
    assert "refused this device's token" in result.stderr


def test_sync_before_init_says_what_to_do(runner, tmp_path):
    result = runner.invoke(main, ["agent", "sync", "--data", str(tmp_path / "nothing")])
    assert result.exit_code == 1
    assert "lastmeter agent init" in result.stderr


def test_tokens_are_stored_only_as_hashes(runner, server_dir):
    token = add_device(runner, server_dir)
    with server_dir.replica() as srv:
        srv.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    stored = server_dir.db_path.read_bytes()
    assert token.encode() not in stored
    assert hashlib.sha256(token.encode()).hexdigest().encode() in stored
