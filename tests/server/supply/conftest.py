"""Fixtures for the supply pages: a register of two compounds and signed-in users."""

from __future__ import annotations

import re

import pytest

from server.auth import data as auth_data
from server.db import get_db, open_db


def seed_register(app, compounds=("c1", "c2"), buildings=3, per_building=4):
    """Write compounds and households through the replica (as the register area would).

    In each compound, household 0 of building 1 is a medical-worker family, household 1 of
    every building a hardship household and household 2 of building 2 an elderly person alone.
    """
    replica = app.extensions["replica"]
    replica.write_many(
        "compounds", {c: {"compound_id": c, "name": f"Compound {c}"} for c in compounds}
    )
    homes = {}
    for c in compounds:
        for b in range(1, buildings + 1):
            for u in range(per_building):
                homes[f"{c}-b{b}-{u}"] = {
                    "compound_id": c,
                    "building": str(b),
                    "unit": f"{u + 1}01",
                    "owner_name": f"Owner {c}{b}{u}",
                    "medical_worker": b == 1 and u == 0,
                    "hardship": u == 1,
                    "elderly_alone": b == 2 and u == 2,
                }
    replica.write_many("households", homes)
    return homes


class Pages:
    """A signed-in client whose POSTs carry the CSRF token of a page, as a browser's would."""

    def __init__(self, app, client):
        self.app, self.client = app, client

    def sign_in(self, username, role, compounds=("*",), english=True):
        password = f"pw-{username}-123"
        with self.app.app_context():
            auth_data.create_user(get_db(), username, password, role, list(compounds))
        self.client.post("/auth/logout", data={"csrf_token": self.token("/auth/login")})
        resp = self.client.post(
            "/auth/login",
            data={"username": username, "password": password, "csrf_token": self.token()},
        )
        assert resp.status_code in (302, 303), (username, resp.status_code, resp.headers)
        if english:  # the pages speak Chinese first; the tests read the English msgids
            self.client.post("/auth/lang/en", data={"csrf_token": self.token("/supply/")})
        return self

    def token(self, page="/auth/login"):
        html = self.client.get(page).get_data(as_text=True)
        return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)

    def get(self, path, **kwargs):
        return self.client.get(path, **kwargs)

    def post(self, path, data=None, page="/auth/login", **kwargs):
        return self.client.post(
            path, data={**(data or {}), "csrf_token": self.token(page)}, **kwargs
        )


@pytest.fixture
def register(server_app):
    """Two compounds of 3 buildings x 4 households each."""
    return seed_register(server_app)


@pytest.fixture
def admin(server_app, client, register):
    """A community admin of every compound, signed in."""
    return Pages(server_app, client).sign_in("sec", "community_admin")


@pytest.fixture
def pages(server_app, client, register):
    """A client to sign in with any role: `pages.sign_in("vol", "volunteer", ["c1"])`."""
    return Pages(server_app, client)


@pytest.fixture
def db(server_app):
    """Our own sqlite-utils handle on the server's file, to read what the pages did.

    Not an app context: one held open would share `g` (and its CSRF token) across requests.
    """
    handle = open_db(server_app.config["DATABASE"])
    yield handle
    handle.close()
