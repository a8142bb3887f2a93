"""Fixtures for the certification core: a compound that passes every rule on a date."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from server.certification.facts import (
    Attestation,
    Building,
    Closure,
    CompoundFacts,
    Delivery,
    DisinfectionLog,
    Household,
    MedicineRequest,
    Resident,
    TemperatureCheck,
    WorkGroup,
)

D = dt.date(2020, 3, 8)  # the city's count of 8 March


def day(offset: int) -> dt.date:
    """D + offset days."""
    return D + dt.timedelta(days=offset)


def stamp(offset: int, hhmm: str = "08:00", zone: str = "+08:00") -> str:
    return f"{day(offset).isoformat()}T{hhmm}:00{zone}"


def good_compound(on: dt.date = D, households: int = 4, history: int = 14) -> CompoundFacts:
    """A compound that passes every rule on `on`: checks twice a day for `history` days,
    corridors disinfected twice a day, a delivery yesterday, closed with one gate open,
    the four work groups staffed and publicity attested."""
    buildings = [Building("b1", "1"), Building("b2", "2")]
    hhs = [Household(f"h{i}", str(i % 2 + 1), f"{i}01") for i in range(1, households + 1)]
    names = ["张三", "李四", "王五", "赵六", "钱七", "孙八"]
    residents = [Resident(f"r{i}", h.id, names[(i - 1) % len(names)]) for i, h in enumerate(hhs, 1)]
    offsets = range((on - D).days - history + 1, (on - D).days + 1)
    checks = [
        TemperatureCheck(f"c-{h.id}-{o}-{t}", h.id, f"r{h.id[1:]}", 36.5, stamp(o, t))
        for o in offsets
        for h in hhs
        for t in ("08:00", "20:00")
    ]
    logs = [
        DisinfectionLog(f"d-{b.name}-{o}-{t}", "corridor", stamp(o, t), b.name)
        for o in offsets
        for b in buildings
        for t in ("07:00", "19:00")
    ] + [DisinfectionLog(f"d-out-{o}", "outdoor", stamp(o, "10:00")) for o in offsets]
    last = (on - D).days
    return CompoundFacts(
        compound_id="cp1",
        name="临江雅居",
        community_id="jjd",
        buildings=buildings,
        households=hhs,
        residents=residents,
        checks=checks,
        disinfections=logs,
        deliveries=[Delivery("dl1", "h1", "delivered", stamp(last - 1, "15:00"), "vegetables")],
        medicine_requests=[
            MedicineRequest("m1", "h2", "降压药", "delivered", stamp(last - 5, "09:00"))
        ],
        closures=[Closure(dt.date(2020, 1, 23), ("north gate",))],
        work_groups=[
            WorkGroup("group_buying", ("周一",)),
            WorkGroup("vegetable_buying", ("吴二",)),
            WorkGroup("purchasing", ("郑三",)),
            WorkGroup("distribution", ("冯四", "陈五")),
        ],
        attestations=[
            Attestation("publicity", "banners and WeChat notices", "secretary", day(-20))
        ],
    )


@pytest.fixture
def compound() -> CompoundFacts:
    """A compound that passes every rule on D (2020-03-08)."""
    return good_compound()


@pytest.fixture
def b() -> SimpleNamespace:
    """The builders, for tests (conftest is not importable under importlib mode):
    b.D, b.day(offset), b.stamp(offset, "HH:MM", zone), b.good(on=..., households=...)."""
    return SimpleNamespace(D=D, day=day, stamp=stamp, good=good_compound)


class Store:
    """A server database file: the replica (synced tables) and the certification tables."""

    def __init__(self, path, replica=None):
        import sqlite_utils

        from server.certification import data
        from sync import Replica

        self.owns_replica = replica is None
        self.replica = replica if replica is not None else Replica(path)
        self.db = sqlite_utils.Database(str(path))
        data.migrations.apply(self.db)

    def seed(
        self, on: dt.date = D, households: int = 4, days: int = 4, compound="cp1", community="jjd"
    ):
        """A compound that passes on `on`, written through the replica and the records."""
        from server.certification import records

        r = self.replica
        r.write(
            "compounds",
            compound,
            {"compound_id": compound, "name": "临江雅居", "community_id": community},
        )
        for b in ("1", "2"):
            r.write("buildings", f"{compound}-b{b}", {"compound_id": compound, "name": b})
        hhs = {}
        for i in range(1, households + 1):
            hid = f"{compound}-h{i}"
            hhs[hid] = {"compound_id": compound, "building": str(i % 2 + 1), "unit": f"{i}01"}
        r.write_many("households", hhs)
        r.write_many(
            "residents",
            {
                f"{h}-r": {"compound_id": compound, "household_id": h, "name": f"居民{h[-1]}"}
                for h in hhs
            },
        )
        first = (on - D).days - days + 1
        offsets = range(first, (on - D).days + 1)
        r.write_many(
            "temperature_checks",
            {
                f"{h}-{o}-{t}": {
                    "compound_id": compound,
                    "household_id": h,
                    "resident_id": f"{h}-r",
                    "temperature_c": 36.6,
                    "measured_at": stamp(o, t),
                }
                for h in hhs
                for o in offsets
                for t in ("08:00", "20:00")
            },
        )
        r.write_many(
            "disinfection_logs",
            {
                f"{compound}-d{b}-{o}-{t}": {
                    "compound_id": compound,
                    "area": "corridor",
                    "building": b,
                    "done_at": stamp(o, t),
                }
                for b in ("1", "2")
                for o in range((on - D).days - 7, (on - D).days + 1)
                for t in ("07:00", "19:00")
            },
        )
        r.write(
            "deliveries",
            f"{compound}-dl1",
            {
                "compound_id": compound,
                "household_id": f"{compound}-h1",
                "status": "delivered",
                "delivered_at": stamp((on - D).days - 1, "15:00"),
            },
        )
        records.add_closure(self.db, compound, dt.date(2020, 1, 23), ["north gate"], "", "sec")
        for kind in ("group_buying", "vegetable_buying", "purchasing", "distribution"):
            records.set_work_group(self.db, compound, kind, ["周一"], "sec")
        records.add_attestation(
            self.db, compound, "publicity", "banners", "sec", dt.date(2020, 2, 1)
        )
        return compound

    def close(self):
        self.db.close()
        if self.owns_replica:
            self.replica.close()


@pytest.fixture
def store(tmp_path):
    """A Store on a fresh SQLite file in tmp_path; closed afterwards."""
    s = Store(tmp_path / "server.db")
    yield s
    s.close()


@pytest.fixture
def app_store(server_app):
    """A Store on the server app's own database file and replica."""
    s = Store(server_app.config["DATABASE"], server_app.extensions["replica"])
    yield s
    s.close()


@pytest.fixture
def login_as(server_app, auth):
    """login_as(username, role, compounds=("*",)): create the user and sign in as them."""
    from server.auth import data as auth_data
    from server.db import get_db

    def login(username, role="community_admin", compounds=("*",)):
        password = f"pw-{username}-123"
        with server_app.app_context():
            if auth_data.get_user_by_name(get_db(), username) is None:
                auth_data.create_user(get_db(), username, password, role, list(compounds))
        auth.client.post("/auth/logout", data={"csrf_token": auth.csrf("/auth/login")})
        resp = auth.login(username, password)
        assert resp.status_code == 303
        return resp

    return login
