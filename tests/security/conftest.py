"""Fixtures for the security suite: a seeded world (built once, copied per test), clients."""

from __future__ import annotations

import re

import pytest

from server import create_app
from tests.security.world import NOW, PASSWORD, build


@pytest.fixture(scope="session")
def world_template(tmp_path_factory):
    """The world built once per run; tests get a copy (`world`)."""
    return build(tmp_path_factory.mktemp("world") / "server")


@pytest.fixture
def world(world_template, tmp_path):
    """A private copy of the seeded world's data directory."""
    return world_template.copy_to(tmp_path / "server")


def make_app(world, **config):
    app = create_app({"DATA_DIR": str(world.data_dir), "TESTING": True, **config})
    app.extensions["voting_clock"] = lambda: NOW
    return app


@pytest.fixture
def app(world):
    """The server on the world copy, CSRF on (as in production)."""
    a = make_app(world)
    yield a
    a.extensions["replica"].close()


def csrf_token(client, path="/auth/login"):
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client, username):
    resp = client.post(
        "/auth/login",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert resp.status_code == 303, f"{username} could not sign in: {resp.status_code}"
    return client
