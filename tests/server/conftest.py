"""Fixtures for the server: an app on a real data directory, clients, signed-in users."""

from __future__ import annotations

import re

import pytest

from server import create_app
from server.auth import data as auth_data
from server.db import get_db


@pytest.fixture
def server_app(tmp_path):
    """A server app on a fresh data directory in tmp_path (real SQLite file)."""
    app = create_app({"DATA_DIR": str(tmp_path / "server"), "TESTING": True})
    yield app
    app.extensions["replica"].close()


@pytest.fixture
def client(server_app):
    return server_app.test_client()


def make_user(app, username="sec", role="community_admin", compounds=("*",), password=None):
    """Create a user; returns (user, password)."""
    password = password or f"pw-{username}-123"
    with app.app_context():
        user = auth_data.create_user(get_db(), username, password, role, list(compounds))
    return user, password


def make_device(app, username="vol", role="volunteer", compounds=("c1",)):
    """Create a user with a device token; returns the token."""
    with app.app_context():
        db = get_db()
        user = auth_data.get_user_by_name(db, username)
        if user is None:
            user = auth_data.create_user(db, username, f"pw-{username}-123", role, list(compounds))
        _, token = auth_data.issue_device(db, user.id, f"{username}-laptop")
    return token


class AuthActions:
    """Sign in and out through the real pages (CSRF token read from the form)."""

    def __init__(self, client):
        self.client = client

    def csrf(self, path="/auth/login"):
        html = self.client.get(path).get_data(as_text=True)
        match = re.search(r'name="csrf_token" value="([^"]+)"', html)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def login(self, username, password):
        return self.client.post(
            "/auth/login",
            data={"username": username, "password": password, "csrf_token": self.csrf()},
        )

    def logout(self):
        return self.client.post("/auth/logout", data={"csrf_token": self.csrf("/")})


@pytest.fixture
def auth(client):
    return AuthActions(client)
