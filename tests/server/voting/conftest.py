"""Fixtures for votes on the server: a compound in the register, a committee member, a
clock the test moves (the only thing not real: time)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from server.db import get_replica
from tests.server.conftest import AuthActions, make_user

CN = dt.timezone(dt.timedelta(hours=8))
OPENS = dt.datetime(2020, 3, 10, 9, 0, tzinfo=CN)
CLOSES = OPENS + dt.timedelta(hours=50)


class Clock:
    """The voting clock: `clock.at = ...` or `clock.advance(hours=...)`."""

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += dt.timedelta(**delta)


@pytest.fixture
def clock(server_app):
    """Before the opening; the app's voting pages and API read this clock."""
    c = Clock(OPENS - dt.timedelta(hours=1))
    server_app.extensions["voting_clock"] = c
    return c


def add_households(app, compound_id: str, rows: dict[str, dict]) -> None:
    """Write households to the register through the replica, like the register pages."""
    with app.app_context():
        get_replica().write_many(
            "households",
            {
                hid: {"compound_id": compound_id, "building": "1", "unit": hid, **values}
                for hid, values in rows.items()
            },
        )


@pytest.fixture
def compound(server_app):
    """Compound c1: h1+h2 one owner (wang), h3 li, h4+h5 developer, h6 co-owned, h7 zhao."""
    add_households(
        server_app,
        "c1",
        {
            "h1": {"owner_key": "wang", "owner_name": "王芳", "area_m2": 89.37},
            "h2": {"owner_key": "wang", "owner_name": "王芳", "area_m2": 45.5},
            "h3": {"owner_key": "li", "owner_name": "李强", "area_m2": 100.0},
            "h4": {"developer_held": True, "area_m2": 80.0},
            "h5": {"developer_held": True, "area_m2": 70.0},
            "h6": {"owner_key": "zhang", "co_owners": '["刘娜", "张伟"]', "area_m2": 60.0},
            "h7": {"owner_key": "zhao", "owner_name": "赵敏", "area_m2": 75.0},
        },
    )
    return "c1"


@pytest.fixture
def committee(server_app, client):
    """A committee member of c1, signed in on `client`."""
    _, password = make_user(server_app, "wei", role="committee", compounds=("c1",))
    AuthActions(client).login("wei", password)
    return client


def csrf_of(client, path: str) -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


MOTION = {
    "compound_id": "c1",
    "title": "Reward the property staff with 10,000 yuan of common revenue",
    "body": "从公共收益中提取一万元奖励物业人员",
    "matter": "other_major",
    "rule_set": "civil-code-2021",
    "opens_at": OPENS.isoformat(),
    "closes_at": CLOSES.isoformat(),
}


@pytest.fixture
def open_motion(committee, compound, clock):
    """A civil-code motion on c1, opened (electorate frozen) and with links for all.
    Returns (motion_id, {owner_key: token})."""
    resp = committee.post("/api/motions", json=MOTION)
    assert resp.status_code == 201, resp.get_json()
    motion_id = resp.get_json()["id"]
    assert committee.post(f"/api/motions/{motion_id}/open", json={}).status_code == 200
    links = committee.post(f"/api/motions/{motion_id}/links", json={}).get_json()["links"]
    clock.at = OPENS + dt.timedelta(minutes=1)
    return motion_id, {item["owner_key"]: item["token"] for item in links}
