"""The demo's field records for the last 14 days, as the volunteers would have made them.

Written through the server's replica (so they sync down to the agents): temperature checks
twice a day for every resident, corridor disinfection twice a day in every building and
the public areas daily, vegetable packages, medicine bought on behalf of residents, and
health cases. The story the certification dashboard then tells:
- 临江雅居 and 钻石公寓 pass: every household checked, every item in place; 临江雅居 had a
  37.4 °C reading 9 days ago whose fever case was released after two normal re-checks.
- 华氏儒商花园 fails: a resident of 3栋 1201 read 37.8 °C 3 days ago and the fever case is
  not released, and nobody checked building 8栋 yesterday.
Every id is uuid5 of what the record is (store.demo_id), so a second run writes nothing.
"""

from __future__ import annotations

import datetime as dt
import random
import zlib
from collections.abc import Mapping
from typing import Any

from sqlite_utils import Database

from sync import Replica

from .clock import DAYS, Timeline, stamp
from .store import demo_id, write_changed, write_missing

# The story's cases: (compound key, building, unit).
FEVER_HOME = ("huashi", "3栋", "1201")  # 37.8 °C three days ago, not released
FEVER_READING = 37.8
FEVER_DAYS_AGO = 3
UNCHECKED_BUILDING = ("huashi", "8栋")  # no check yesterday
RELEASED_HOME = ("linjiang", "2栋", "302")  # 37.4 °C nine days ago, released two days later
RELEASED_READING = 37.4
RELEASED_DAYS_AGO = 9

CHECK_SLOTS = (("am", 8), ("pm", 19))  # building heads' rounds, local time
VEGETABLE_EVERY = 4  # a free vegetable package round every four days
REFUSED_HOME = ("diamond", "2栋", "702")
REFUSAL = "家里菜还够，留给别人 has enough, give it to others"
TODAY_PACKAGES = "linjiang"  # today's round is packed and waits for the volunteers there

PROPERTY_STAFF = {
    "linjiang": ("物业 周师傅", "物业 吴师傅"),
    "huashi": ("物业 郑师傅", "物业 冯师傅", "物业 陈阿姨"),
    "diamond": ("物业 褚师傅", "物业 卫师傅", "物业 蒋阿姨"),  # a property staff of 3
}
RUNNERS = ("红色跑楼团 李强", "红色跑楼团 王敏", "红色跑楼团 张杰", "志愿者 刘洋")
SECRETARY = "社区书记 Secretary"

# (compound, building, unit, drug, boxes, yuan, days before the story's day, outcome, reason)
MEDICINE = (
    ("linjiang", "1栋", "201", "硝苯地平控释片 nifedipine", 2, 68.00, 10, "delivered", None),
    ("linjiang", "2栋", "402", "二甲双胍片 metformin", 3, 45.60, 6, "delivered", None),
    ("huashi", "5栋", "1502", "阿托伐他汀钙片 atorvastatin", 2, 96.00, 8, "delivered", None),
    (
        "huashi",
        "2栋",
        "801",
        "苏黄止咳胶囊 cough capsules",
        4,
        213.60,
        5,
        "refused",
        "老人嫌价格太贵，不要了 too expensive, changed her mind",
    ),
    ("diamond", "3栋", "1001", "胰岛素注射液 insulin", 1, 128.50, 3, "delivered", None),
    # This morning's: one bought and on its way, one still to buy (both well inside 48 h).
    ("linjiang", "1栋", "302", "苯磺酸氨氯地平片 amlodipine", 2, 32.80, 0, "bought", None),
    ("linjiang", "2栋", "101", "速效救心丸 suxiao jiuxin pills", 1, None, 0, "requested", None),
)


def _name(seed: str) -> str:
    rng = random.Random(seed)
    return rng.choice("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗") + "".join(
        rng.choice("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚华玉兰萍红梅") for _ in range(2)
    )


def building_head(key: str, building: str) -> str:
    return f"楼栋长 {_name(f'head/{key}/{building}')}"


def _bno(building: str) -> int:
    return int(building.rstrip("栋"))


def _reading(check_id: str) -> float:
    """36.0 to 36.7 °C, the same for the same check every run."""
    return round(36.0 + (zlib.crc32(check_id.encode()) % 8) / 10, 1)


def _homes(households: Mapping[str, dict], keys: Mapping[str, str]) -> list[tuple]:
    """(compound key, household id, row) in building, floor and unit order."""
    key_of = {cid: key for key, cid in keys.items()}
    rows = [(key_of[h["compound_id"]], hid, h) for hid, h in households.items()]
    return sorted(rows, key=lambda r: (r[0], _bno(r[2]["building"]), int(r[2]["unit"])))


def find_home(households: Mapping[str, dict], keys: Mapping[str, str], where: tuple) -> str:
    key, building, unit = where
    for hid, h in households.items():
        if h["compound_id"] == keys[key] and h["building"] == building and h["unit"] == unit:
            return hid
    raise LookupError(f"no household {where} in the demo register")


def temperature_checks(
    tl: Timeline,
    keys: Mapping[str, str],
    households: Mapping[str, dict],
    residents: Mapping[str, dict],
    story: dt.date,
) -> dict[str, dict[str, Any]]:
    """Every resident twice a day (a household with no one registered: the household),
    but building 8栋 of 华氏儒商花园 on the day before the story's day."""
    people: dict[str, list[str | None]] = {}
    for rid, r in sorted(residents.items()):
        people.setdefault(r["household_id"], []).append(rid)
    fever_home = find_home(households, keys, FEVER_HOME)
    released_home = find_home(households, keys, RELEASED_HOME)
    gap = story - dt.timedelta(days=1)
    fever_day = story - dt.timedelta(days=FEVER_DAYS_AGO)
    released_day = story - dt.timedelta(days=RELEASED_DAYS_AGO)
    rows: dict[str, dict[str, Any]] = {}
    position: dict[tuple[str, str], int] = {}
    for key, hid, h in _homes(households, keys):
        n = position[(key, h["building"])] = position.get((key, h["building"]), -1) + 1
        head = building_head(key, h["building"])
        for day in tl.days(DAYS):
            if (key, h["building"]) == UNCHECKED_BUILDING and day == gap:
                continue
            for slot, hour in CHECK_SLOTS:
                minute, second = divmod(_bno(h["building"]) * 600 + n * 15, 60)
                if slot == "pm" and not tl.past(day, hour, minute, second):
                    continue  # the evening round has not happened yet today
                measured = stamp(tl.when(day, hour, minute, second))
                for rid in people.get(hid) or [None]:
                    check_id = demo_id("check", rid or hid, day, slot)
                    row = {
                        "compound_id": h["compound_id"],
                        "household_id": hid,
                        "resident_id": rid,
                        "temperature_c": _reading(check_id),
                        "measured_at": measured,
                        "recorded_by": head,
                    }
                    first = rid is not None and rid == people[hid][0]
                    if first and hid == fever_home and day == fever_day and slot == "am":
                        row.update(temperature_c=FEVER_READING, note="发热 fever")
                    if first and hid == released_home and day == released_day and slot == "pm":
                        row.update(temperature_c=RELEASED_READING, note="发热 fever")
                    if rid is None:
                        row["note"] = (
                            "住户未登记，户内检测 household checked, residents not registered"
                        )
                    rows[check_id] = row
    return rows


def health_cases(
    keys: Mapping[str, str],
    households: Mapping[str, dict],
    residents: Mapping[str, dict],
    story: dt.date,
) -> dict[str, dict[str, Any]]:
    """The fever cases the readings above opened (one released, one still open)."""
    rows = {}
    for where, days_ago, slot, reading, released in (
        (FEVER_HOME, FEVER_DAYS_AGO, "am", FEVER_READING, False),
        (RELEASED_HOME, RELEASED_DAYS_AGO, "pm", RELEASED_READING, True),
    ):
        hid = find_home(households, keys, where)
        rid = _first_resident(households, residents, keys, where)
        start = story - dt.timedelta(days=days_ago)
        check_id = demo_id("check", rid, start, slot)
        row = {
            "compound_id": households[hid]["compound_id"],
            "resident_id": rid,
            "household_id": hid,
            "category": "fever",
            "start_date": start.isoformat(),
            "source_check_id": check_id,
            "note": f"{reading} °C，居家隔离观察 isolating at home",
            "recorded_by": building_head(where[0], where[1]),
        }
        if released:
            row.update(
                released_on=(start + dt.timedelta(days=2)).isoformat(),
                release_note="连续两日复测正常（36.5 °C） normal on re-check two days running",
                released_by=SECRETARY,
            )
        rows[demo_id("case", check_id)] = row
    return rows


def disinfection_logs(
    tl: Timeline, keys: Mapping[str, str], buildings: Mapping[str, dict]
) -> dict[str, dict[str, Any]]:
    """Property: every building's corridors at 07:00 and 16:30; community: public areas at 10:00."""
    key_of = {cid: key for key, cid in keys.items()}
    rows: dict[str, dict[str, Any]] = {}
    for day in tl.days(DAYS):
        for bid, b in sorted(buildings.items(), key=lambda x: (x[1]["compound_id"], x[1]["name"])):
            staff = PROPERTY_STAFF[key_of[b["compound_id"]]]
            for i, (hour, minute) in enumerate(((7, 0), (16, 30))):
                who = staff[(_bno(b["name"]) + i) % len(staff)]
                done = tl.when(day, hour, minute + _bno(b["name"]) * 3)
                rows[demo_id("disinfection", bid, day, i)] = {
                    "compound_id": b["compound_id"],
                    "area": "corridor",  # the field agent's code for 楼道
                    "building": b["name"],
                    "done_by": who,
                    "done_at": stamp(done),
                    "note": "含氯消毒液喷洒楼道、扶手、电梯按钮 chlorine: corridor, rails, lift",
                    "recorded_by": who,
                }
        for cid in keys.values():
            rows[demo_id("disinfection", cid, day, "public")] = {
                "compound_id": cid,
                "area": "outdoor",  # the field agent's code for the outdoor public areas
                "done_by": "社区消杀队 community team",
                "done_at": stamp(tl.when(day, 10, 0)),
                "note": "大门、垃圾站、快递点 gate, refuse point, parcel shelf",
                "recorded_by": SECRETARY,
            }
    return rows


def _runner(n: int, day: dt.date) -> str:
    return RUNNERS[(n + day.toordinal()) % len(RUNNERS)]


def _package(tl: Timeline, n: int, h: dict, day: dt.date) -> dict[str, Any]:
    runner = _runner(n, day)
    row: dict[str, Any] = {
        "compound_id": h["compound_id"],
        "household_id": h["id"],
        "kind": "vegetables",
        "items": "青菜、土豆、萝卜、鸡蛋 greens, potatoes, radish, eggs (≈100元)",
        "quantity": 1,
        "volunteer": runner,
        "recorded_by": runner,
    }
    today = day == tl.today
    if today and h["unit"][:-2] != "1":
        row["status"] = "packed"  # the runners start with the ground floors
    else:
        minute, second = divmod(_bno(h["building"]) * 900 + (n % 60) * 20, 60)
        when = tl.when(day, 9 if today else 10, minute, second)
        row.update(status="delivered", delivered_at=stamp(when))
    return row


def round_days(tl: Timeline) -> list[dt.date]:
    """Past days of the window on the community's four-day rhythm (by date, so a run on
    a later day finds the same rounds)."""
    return [d for d in tl.days(DAYS)[:-1] if d.toordinal() % VEGETABLE_EVERY == 0]


def deliveries(
    tl: Timeline, keys: Mapping[str, str], households: Mapping[str, dict]
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """Free vegetable packages every four days to every occupied flat, and an extra round
    today in 临江雅居, packed and waiting for the runners (the field agent shows it).

    Returns (rows, settled): `settled` are earlier days' extra rounds as delivered, for a
    demo seeded again on a later day (the caller writes only those already stored)."""
    rows: dict[str, dict[str, Any]] = {}
    settled: dict[str, dict[str, Any]] = {}
    refused = find_home(households, keys, REFUSED_HOME)
    for n, (key, hid, h) in enumerate(_homes(households, keys)):
        if not h.get("members"):
            continue  # nobody lives there
        home = {**h, "id": hid}
        for day in round_days(tl):
            row = rows[demo_id("vegetables", hid, day)] = _package(tl, n, home, day)
            if hid == refused and day.toordinal() % (3 * VEGETABLE_EVERY) == 0:
                row.update(status="refused", refused_reason=REFUSAL)  # one round in three
        if key == TODAY_PACKAGES:
            for day in tl.days(DAYS)[:-1]:
                settled[demo_id("vegetables", hid, day)] = _package(tl, n, home, day)
            rows[demo_id("vegetables", hid, tl.today)] = _package(tl, n, home, tl.today)
    return rows, settled


def medicine_requests(
    tl: Timeline, keys: Mapping[str, str], households: Mapping[str, dict], story: dt.date
) -> dict[str, dict[str, Any]]:
    """The requests of MEDICINE, dated back from the story's day; those still open on it
    show as delivered once that day is past."""
    rows = {}
    for key, building, unit, drug, boxes, price, days_ago, outcome, reason in MEDICINE:
        hid = find_home(households, keys, (key, building, unit))
        day = story - dt.timedelta(days=days_ago)
        if day < tl.today and outcome not in ("delivered", "refused"):
            outcome = "delivered"
        asked_by = _runner(0, day)
        row = {
            "compound_id": keys[key],
            "household_id": hid,
            "drug_name": drug,
            "quantity": boxes,
            "status": outcome,
            "requested_by": asked_by,
            "created_at": stamp(tl.when(day, 9, 30)),
            "recorded_by": asked_by,
        }
        if price is not None:
            row.update(price_yuan=price, bought_by="采买组 purchasing: 陈刚")
        if outcome in ("delivered", "refused"):
            row["delivered_by"] = asked_by
        if reason:
            row["refused_reason"] = reason
        rows[demo_id("medicine", hid, drug, day)] = row
    return rows


def _stored(db: Database, table: str, rows: dict[str, dict[str, Any]]) -> dict[str, dict]:
    have = {r[0] for r in db.execute(f"SELECT id FROM {table}")}
    return {k: v for k, v in rows.items() if k in have}


def _first_resident(households, residents, keys, where) -> str:
    hid = find_home(households, keys, where)
    return min(r for r, row in residents.items() if row["household_id"] == hid)


def story_day(
    db: Database,
    tl: Timeline,
    keys: Mapping[str, str],
    households: Mapping[str, dict],
    residents: Mapping[str, dict],
) -> dt.date:
    """The day the story is told from: the day of the first seeding (found again from the
    fever case it recorded), so a demo seeded again on a later day goes on from there
    instead of adding a fever a day; a new story starts once that case is out of the
    window (the readings that make a gap or a fever are history and stay)."""
    resident = _first_resident(households, residents, keys, FEVER_HOME)
    row = db.execute(
        "SELECT max(start_date) FROM health_cases WHERE resident_id = ? AND category = 'fever' "
        "AND deleted = 0",
        [resident],
    ).fetchone()
    if row and row[0]:
        told = dt.date.fromisoformat(row[0]) + dt.timedelta(days=FEVER_DAYS_AGO)
        if (tl.today - told).days < DAYS - FEVER_DAYS_AGO:
            return told
    return tl.today


def seed_field(
    replica: Replica,
    db: Database,
    tl: Timeline,
    keys: Mapping[str, str],
    register: tuple[dict, dict, dict, dict],
) -> dict[str, int]:
    """Write the fortnight's records; returns rows written per table (0 on a re-run)."""
    _compounds, buildings, households, residents = register
    story = story_day(db, tl, keys, households, residents)
    vegetables, late = deliveries(tl, keys, households)
    return {
        "temperature_checks": write_missing(
            replica,
            db,
            "temperature_checks",
            temperature_checks(tl, keys, households, residents, story),
        ),
        "disinfection_logs": write_missing(
            replica, db, "disinfection_logs", disinfection_logs(tl, keys, buildings)
        ),
        "health_cases": write_changed(
            replica, "health_cases", health_cases(keys, households, residents, story)
        ),
        "deliveries": write_changed(
            replica,
            "deliveries",
            {**_stored(db, "deliveries", late), **vegetables},
            first_only=("delivered_at",),
        ),
        "medicine_requests": write_changed(
            replica,
            "medicine_requests",
            medicine_requests(tl, keys, households, story),
            first_only=("created_at",),
        ),
    }
