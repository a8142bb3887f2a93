"""Fixtures for the photo blobs: a live waitress server in a thread, agents with photo stores."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.live import LiveApp
from tests.server.blobs.helpers import Agent


@pytest.fixture
def live(server_app) -> Iterator[LiveApp]:
    """server_app under waitress on a random port of 127.0.0.1."""
    server = LiveApp(server_app)
    yield server
    server.stop()


@pytest.fixture
def agent(tmp_path) -> Iterator[Agent]:
    """A field agent in tmp_path/agent."""
    a = Agent(tmp_path / "agent")
    yield a
    a.replica.close()
