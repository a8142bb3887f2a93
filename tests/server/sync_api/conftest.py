"""Fixtures for the sync API: server data directories, live servers, agents."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sync import Replica
from tests.server.sync_api.helpers import LiveServer, ServerDir


@pytest.fixture
def server_dir(tmp_path) -> ServerDir:
    """An initialised server data directory in tmp_path/server."""
    return ServerDir(tmp_path / "server")


@pytest.fixture
def live_server(server_dir) -> Iterator[LiveServer]:
    """`lastmeter server run` on a random port of 127.0.0.1, on server_dir."""
    server = LiveServer(server_dir.path).start()
    yield server
    server.stop()


@pytest.fixture
def agents(tmp_path) -> Iterator[Any]:
    """make(name) -> a Replica in tmp_path/<name>/lastmeter.db; all closed afterwards."""
    opened: list[Replica] = []

    def make(name: str) -> Replica:
        (tmp_path / name).mkdir(exist_ok=True)
        replica = Replica(tmp_path / name / "lastmeter.db")
        opened.append(replica)
        return replica

    yield make
    for replica in opened:
        replica.close()
