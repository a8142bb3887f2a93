"""Seed a demo community from DOMAIN.md, idempotently (stable ids, only changed cells).

Three compounds of the reports: 临江雅居 Linjiang Yaju (48 households), 华氏儒商花园
Huashi Rushang Garden (368) and 钻石公寓 Diamond Apartments (in 八达里社区, scaled down
to 120 of its community's 4,700 households). Names, areas and flags are made up from a
fixed seed, so every run seeds the same register.

Then the last 14 days of field work up to today (Asia/Shanghai): field.py (checks,
disinfection, deliveries, medicine, health cases), cert.py (closures, work groups,
attestations, 临江雅居's approved application, the nightly aggregates), votes.py (the
owners' votes of 华氏儒商花园) and supplies.py (the cabbage round, pork, the ledger).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sync import Replica

from ..auth import data as auth_data
from ..config import init_data_dir
from ..db import open_db
from ..places import data as places
from ..places.data import stable_id
from .cert import CERTIFIED, aggregate_history, cert_records, certify
from .clock import ZONE, Timeline
from .field import seed_field
from .supplies import seed_supplies
from .votes import seed_votes

NAME = "演示社区 Last Meter demo"


@dataclass(frozen=True)
class DemoCompound:
    key: str
    name: str
    community: str
    buildings: int
    floors: int
    per_floor: int  # households per floor
    address: str


COMPOUNDS = (
    DemoCompound("linjiang", "临江雅居", "蒋家墩社区", 2, 4, 6, "青山区蒋家墩社区"),
    DemoCompound("huashi", "华氏儒商花园", "西桥社区", 8, 23, 2, "唐家墩街西桥社区"),
    DemoCompound("diamond", "钻石公寓", "八达里社区", 4, 15, 2, "八达里社区"),
)

# (user name, display name, role, compounds by key ("*" = all), password)
USERS = (
    ("secretary", "社区书记 Secretary", "community_admin", ("*",), "demo-secretary"),
    ("vol-linjiang", "志愿者 Volunteer (Linjiang)", "volunteer", ("linjiang",), "demo-volunteer"),
    (
        "head-huashi",
        "楼栋长 Building head (Huashi)",
        "building_head",
        ("huashi",),
        "demo-buildinghead",
    ),
    ("property-diamond", "物业 Property (Diamond)", "property", ("diamond",), "demo-property"),
    ("committee-huashi", "业委会 Committee (Huashi)", "committee", ("huashi",), "demo-committee"),
    ("street", "街道 Street official", "street_official", ("*",), "demo-street"),
)
DEVICES = (
    ("head-huashi", "楼栋长的笔记本 head's laptop"),
    ("vol-linjiang", "志愿者笔记本 laptop 1"),
)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红梅建国志文斌辉鹏宇浩晨欣怡"


def compound_id(key: str) -> str:
    return stable_id("demo-compound", key)


def _person(rng: random.Random, surname: str | None = None) -> str:
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    return (surname or rng.choice(SURNAMES)) + given


def _write_changed(replica: Replica, table: str, rows: dict[str, dict[str, Any]]) -> int:
    """Write only rows whose values differ from what is stored (re-seeding writes nothing)."""
    existing = {r["id"]: r for r in replica.rows(table)}
    changed = {}
    for row_id, values in rows.items():
        old = existing.get(row_id)
        diff = values if old is None else {k: v for k, v in values.items() if old.get(k) != v}
        if diff:
            changed[row_id] = diff if old is not None else values
    if changed:
        replica.write_many(table, changed)
    return len(changed)


def register_rows(rng: random.Random) -> tuple[dict, dict, dict, dict]:
    compounds, buildings, households, residents = {}, {}, {}, {}
    for dc in COMPOUNDS:
        cid = compound_id(dc.key)
        compounds[cid] = {"compound_id": cid, "name": dc.name, "address": dc.address}
        for b in range(1, dc.buildings + 1):
            bname = f"{b}栋"
            bid = stable_id(cid, "building", bname)
            units = dc.floors * dc.per_floor
            buildings[bid] = {
                "compound_id": cid,
                "name": bname,
                "floors": dc.floors,
                "units": units,
            }
            for floor in range(1, dc.floors + 1):
                for k in range(1, dc.per_floor + 1):
                    unit = f"{floor}{k:02d}"
                    hid = stable_id(cid, bname, unit)
                    owner = _person(rng)
                    members = rng.choice((1, 1, 2, 2, 3, 3, 3, 4, 4, 5))
                    developer = dc.key == "huashi" and rng.random() < 0.02
                    households[hid] = {
                        "compound_id": cid,
                        "building": bname,
                        "unit": unit,
                        "area_m2": round(rng.uniform(48, 140), 2),
                        "owner_name": None if developer else owner,
                        "phone": f"13{rng.randrange(10**9):09d}",
                        "members": 0 if developer else members,
                        "medical_worker": rng.random() < 0.04,
                        "hardship": rng.random() < 0.06,
                        "elderly_alone": members == 1 and rng.random() < 0.5,
                        "owner_key": "developer" if developer else f"owner-{hid[:8]}",
                        "developer_held": developer,
                    }
                    if developer:
                        continue
                    names = [owner] + [_person(rng, owner[0]) for _ in range(members - 1)]
                    for i, name in enumerate(names):
                        rid = stable_id(hid, name)
                        if rid in residents:
                            continue
                        born = rng.randrange(1935, 1965) if i == 0 else rng.randrange(1960, 2019)
                        residents[rid] = {
                            "compound_id": cid,
                            "household_id": hid,
                            "name": name,
                            "birth_year": born,
                        }
    return compounds, buildings, households, residents


def seed(server_dir: Path, now: dt.datetime | None = None) -> dict[str, Any]:
    """Create or bring up to date the demo server's data; returns what was written.

    Field records, votes and supplies are dated relative to `now` (default: the clock) in
    Asia/Shanghai; see field.py, votes.py and supplies.py for the story they tell."""
    init_data_dir(server_dir, name=NAME, level="community")
    from .. import create_app

    app = create_app({"DATA_DIR": str(server_dir)})
    rules, zone = app.config.get("CERTIFICATION_RULES"), app.config.get("TIMEZONE") or ZONE
    tl = Timeline.at(now, zone)
    replica: Replica = app.extensions["replica"]
    db = open_db(server_dir / "lastmeter.db")
    try:
        city = places.add_place(db, "city", "武汉市", None)
        qingshan = places.add_place(db, "district", "青山区", city)
        jianghan = places.add_place(db, "district", "江汉区", city)
        street = places.add_place(db, "street", "唐家墩街", jianghan)
        communities = {
            "蒋家墩社区": places.add_place(db, "community", "蒋家墩社区", qingshan),
            "西桥社区": places.add_place(db, "community", "西桥社区", street),
            # DOMAIN.md does not name Badali's district: it hangs under the city.
            "八达里社区": places.add_place(db, "community", "八达里社区", city),
        }
        register = register_rows(random.Random(2020))
        compounds, buildings, households, residents = register
        for dc in COMPOUNDS:
            compounds[compound_id(dc.key)]["community_id"] = communities[dc.community]
        written = {
            "compounds": _write_changed(replica, "compounds", compounds),
            "buildings": _write_changed(replica, "buildings", buildings),
            "households": _write_changed(replica, "households", households),
            "residents": _write_changed(replica, "residents", residents),
        }
        for username, display, role, keys, password in USERS:
            scope = ["*"] if keys == ("*",) else [compound_id(k) for k in keys]
            user = auth_data.get_user_by_name(db, username)
            if user is None:
                auth_data.create_user(db, username, password, role, scope, display)
            else:
                auth_data.set_password(db, user.id, password)
                db.execute("UPDATE users SET role = ?, active = 1 WHERE id = ?", [role, user.id])
                auth_data.set_compounds(db, user.id, scope)
        for username, device in DEVICES:
            user = auth_data.get_user_by_name(db, username)
            if user and not any(d["name"] == device for d in auth_data.list_devices(db, user.id)):
                auth_data.issue_device(db, user.id, device)
        keys = {dc.key: compound_id(dc.key) for dc in COMPOUNDS}
        # The seed's writes need no fsync each (ballots commit one by one): a demo file.
        db.execute("PRAGMA synchronous=NORMAL")
        written.update(seed_field(replica, db, tl, keys, register))
        written["cert_records"] = cert_records(db, tl, keys)
        committee = auth_data.get_user_by_name(db, "committee-huashi")
        written.update(
            seed_votes(db, replica, tl, keys["huashi"], committee.id if committee else None)
        )
        written.update(seed_supplies(db, replica, tl, keys["huashi"], keys["linjiang"]))
        written["applications"] = certify(db, tl, keys[CERTIFIED], rules, zone)
        written["compound_days"] = aggregate_history(db, server_dir, tl, rules, zone)
        written["households_total"] = len(households)
        written["residents_total"] = len(residents)
        written["today"] = tl.today
        return written
    finally:
        db.close()
        replica.close()
