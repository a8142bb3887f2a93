"""Fixtures for the register areas: a small seeded register and signed-in clients."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest

from server.auth import data as auth_data
from server.db import get_db
from server.places import data as places
from server.places.data import stable_id


@dataclass
class Register:
    """Two compounds (A and B) with a building, households and residents each."""

    a: str
    b: str
    building_a: str
    building_b: str
    household_a: str
    household_b: str
    resident_a: str
    resident_b: str
    spare_household_a: str  # for tests that delete
    spare_resident_a: str
    community: str


def seed_register(app) -> Register:
    """Write the register through the app's replica, as the pages do."""
    replica = app.extensions["replica"]
    a, b = stable_id("test", "A"), stable_id("test", "B")
    with app.app_context():
        db = get_db()
        city = places.add_place(db, "city", "Wuhan", None)
        community = places.add_place(db, "community", "Xiqiao", city)
    replica.write_many(
        "compounds",
        {
            a: {"compound_id": a, "name": "Alpha Garden", "community_id": community},
            b: {"compound_id": b, "name": "Beta Court", "community_id": community},
        },
    )
    ids = {}
    for cid, tag in ((a, "a"), (b, "b")):
        bid = stable_id(cid, "building", "1栋")
        replica.write("buildings", bid, {"compound_id": cid, "name": "1栋", "floors": 6})
        ids[f"building_{tag}"] = bid
        homes = {}
        for unit, owner in (("101", f"Owner {tag.upper()}"), ("102", f"Spare {tag.upper()}")):
            hid = stable_id(cid, "1栋", unit)
            homes[hid] = {
                "compound_id": cid,
                "building": "1栋",
                "unit": unit,
                "area_m2": 89.37,
                "owner_name": owner,
                "medical_worker": unit == "101",
            }
        replica.write_many("households", homes)
        first, spare = list(homes)
        ids[f"household_{tag}"], ids[f"spare_household_{tag}"] = first, spare
        residents = {}
        for hid, name in ((first, f"Resident {tag.upper()}"), (spare, f"Spare person {tag}")):
            rid = stable_id(hid, name)
            residents[rid] = {"compound_id": cid, "household_id": hid, "name": name}
        replica.write_many("residents", residents)
        ids[f"resident_{tag}"], ids[f"spare_resident_{tag}"] = list(residents)
    return Register(
        a=a,
        b=b,
        building_a=ids["building_a"],
        building_b=ids["building_b"],
        household_a=ids["household_a"],
        household_b=ids["household_b"],
        resident_a=ids["resident_a"],
        resident_b=ids["resident_b"],
        spare_household_a=ids["spare_household_a"],
        spare_resident_a=ids["spare_resident_a"],
        community=community,
    )


@pytest.fixture
def register(server_app) -> Register:
    """The app's register with compounds A and B (see Register)."""
    return seed_register(server_app)


def csrf_token(client, path="/auth/login") -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def sign_in(app, role: str, compounds, username: str | None = None):
    """A new test client signed in as a new user of `role` over `compounds`."""
    username = username or f"{role}-{'-'.join(c[:4] for c in compounds)}"
    password = f"pw-{username}-123"
    with app.app_context():
        db = get_db()
        if auth_data.get_user_by_name(db, username) is None:
            auth_data.create_user(db, username, password, role, list(compounds))
    client = app.test_client()
    token = csrf_token(client)
    resp = client.post(
        "/auth/login", data={"username": username, "password": password, "csrf_token": token}
    )
    assert resp.status_code == 303, resp.get_data(as_text=True)
    return client


@pytest.fixture
def admin(server_app, register):
    """A community_admin of every compound, signed in."""
    return sign_in(server_app, "community_admin", ["*"], "secretary")


def post(client, path, data=None, **kw):
    """POST a form with this session's CSRF token."""
    data = dict(data or {})
    data.setdefault("csrf_token", csrf_token(client, "/"))
    return client.post(path, data=data, **kw)
