"""Fixtures for the field agent: an app on a real data directory, a signed-in volunteer."""

from __future__ import annotations

import pytest

from field_agent import close_app, create_app
from tests.field_agent.helpers import AgentActions, seed_register


@pytest.fixture
def agent_app(tmp_path):
    """An agent app on a fresh data directory with a small register (as if pulled)."""
    app = create_app({"DATA_DIR": str(tmp_path / "agent"), "TESTING": True})
    seed_register(app.extensions["replica"])
    yield app
    close_app(app)


@pytest.fixture
def client(agent_app):
    return agent_app.test_client()


@pytest.fixture
def actions(client):
    return AgentActions(client)


@pytest.fixture
def volunteer(actions):
    """王芳 set up at first start (PIN 1234) and signed in; returns the actions helper."""
    resp = actions.setup("王芳", "1234")
    assert resp.status_code == 303
    return actions


@pytest.fixture
def replica(agent_app):
    return agent_app.extensions["replica"]
