"""A small community with something in every table, every text field an XSS payload.

`build(data_dir)` writes it through the same data functions the pages use (the replica for
synced tables) and returns the ids, users and secrets the tests need. Compound c1 holds
the data; compound c2 is another compound, the scope of the "curious" users.
"""

from __future__ import annotations

import datetime as dt
import io
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from server import create_app
from server.auth import data as auth_data
from server.certification import records as cert_records
from server.db import get_db, get_replica
from server.places import data as places
from server.supply import data as supply_data
from server.supply import ledger_data
from server.supply import orders as supply_orders
from server.voting import data as voting_data

CN = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2020, 3, 10, 12, 0, tzinfo=CN)

# Two payloads from the brief; each field gets its own tag so a test can tell which
# field a page shows (and that it shows it escaped).
PAYLOADS = ('<script>alert("{tag}")</script>', '"><img src=x onerror=alert("{tag}")>')
RAW_MARKERS = ("<script>alert(", "<img src=x onerror")


def payload(tag: str, n: int = 0) -> str:
    return PAYLOADS[n % 2].format(tag=tag)


ROLES = (
    "volunteer",
    "building_head",
    "property",
    "committee",
    "community_admin",
    "street_official",
)
PASSWORD = "pw-security-123"


@dataclass
class World:
    data_dir: Path
    ids: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)  # tag -> field it sits in
    users: dict[str, int] = field(default_factory=dict)  # username -> id
    tokens: dict[str, str] = field(default_factory=dict)  # role -> device token
    secrets: dict[str, str] = field(default_factory=dict)  # ballot link, receipt

    def text(self, tag: str, where: str) -> str:
        self.tags[tag] = where
        return payload(tag, len(self.tags))

    def copy_to(self, target: Path) -> World:
        shutil.copytree(self.data_dir, target)
        return World(target, self.ids, self.tags, self.users, self.tokens, self.secrets)


def jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 30)).save(buf, "JPEG")
    return buf.getvalue()


def build(data_dir: Path) -> World:
    w = World(data_dir)
    app = create_app({"DATA_DIR": str(data_dir), "TESTING": True})
    app.extensions["voting_clock"] = lambda: NOW
    try:
        with app.app_context():
            _fill(w, app)
        photo = bytes.fromhex(w.secrets["photo"])
        resp = app.test_client().put(
            f"/api/blobs/{w.ids['sha']}?offset=0&total={len(photo)}",
            data=photo,
            headers={"Authorization": f"Bearer {w.tokens['volunteer']}"},
        )
        assert resp.status_code == 201, resp.get_data(as_text=True)
    finally:
        app.extensions["replica"].close()
    return w


def _fill(w: World, app: Any) -> None:
    db = get_db()
    rep = get_replica()
    t = w.text
    city = places.add_place(db, "city", t("xss_city", "places.name"), None)
    community = places.add_place(db, "community", t("xss_community", "places.name"), city)
    w.ids.update(city=city, community=community, c1="c1", c2="c2")
    rep.write_many(
        "compounds",
        {
            "c1": {
                "compound_id": "c1",
                "name": t("xss_compound", "compounds.name"),
                "community_id": community,
                "address": t("xss_address", "compounds.address"),
            },
            "c2": {"compound_id": "c2", "name": "Other compound", "community_id": community},
        },
    )
    rep.write("buildings", "b1", {"compound_id": "c1", "name": "1", "floors": 6, "units": 12})
    rep.write_many(
        "households",
        {
            "h1": {
                "compound_id": "c1",
                "building": "1",
                "unit": "101",
                "owner_name": t("xss_owner", "households.owner_name"),
                "phone": "13800000000",
                "owner_key": "owner-1",
                "area_m2": 80.5,
                "members": 2,
            },
            "h2": {
                "compound_id": "c1",
                "building": "1",
                "unit": "102",
                "owner_name": "李强",
                "owner_key": "owner-2",
                "area_m2": 60.0,
            },
            "h9": {"compound_id": "c2", "building": "9", "unit": "901", "owner_name": "c2"},
        },
    )
    w.ids.update(household="h1", building="b1")
    rep.write(
        "residents",
        "r1",
        {"compound_id": "c1", "household_id": "h1", "name": t("xss_resident", "residents.name")},
    )
    w.ids["resident"] = "r1"
    rep.write(
        "temperature_checks",
        "t1",
        {
            "compound_id": "c1",
            "household_id": "h1",
            "resident_id": "r1",
            "temperature_c": 37.8,
            "measured_at": "2020-03-10T08:00:00+08:00",
            "note": t("xss_check_note", "temperature_checks.note"),
        },
    )
    rep.write(
        "health_cases",
        "hc1",
        {
            "compound_id": "c1",
            "resident_id": "r1",
            "household_id": "h1",
            "category": "fever",
            "start_date": "2020-03-10",
            "note": t("xss_case_note", "health_cases.note"),
        },
    )
    rep.write(
        "deliveries",
        "d1",
        {
            "compound_id": "c1",
            "household_id": "h1",
            "kind": "vegetables",
            "items": t("xss_items", "deliveries.items"),
            "status": "refused",
            "refused_reason": t("xss_delivery_refused", "deliveries.refused_reason"),
        },
    )
    photo = jpeg()
    import hashlib

    sha = hashlib.sha256(photo).hexdigest()
    rep.write(
        "medicine_requests",
        "m1",
        {
            "compound_id": "c1",
            "household_id": "h1",
            "drug_name": t("xss_drug", "medicine_requests.drug_name"),
            "quantity": 2,
            "price_yuan": 35.5,
            "status": "refused",
            "refused_reason": t("xss_medicine_refused", "medicine_requests.refused_reason"),
            "photo_sha256": sha,
            "created_at": "2020-03-09T10:00:00+08:00",
        },
    )
    rep.write(
        "photos",
        sha,
        {
            "compound_id": "c1",
            "mime": "image/jpeg",
            "size": len(photo),
            "ref_table": "m",
            "ref_id": "m1",
        },
    )
    w.ids.update(request="m1", sha=sha)
    w.secrets["photo"] = photo.hex()
    rep.write(
        "disinfection_logs",
        "ds1",
        {
            "compound_id": "c1",
            "area": t("xss_area", "disinfection_logs.area"),
            "building": "1",
            "done_at": "2020-03-10T07:00:00+08:00",
            "note": t("xss_disinfection_note", "disinfection_logs.note"),
        },
    )
    # -- users, one per role in c1; curious users in c2; devices ----------------------
    for role in ROLES:
        # The secretary and the street see every compound, as in `lastmeter demo`.
        scope = ["*"] if role in ("street_official", "community_admin") else ["c1"]
        user = auth_data.create_user(
            db, role, PASSWORD, role, scope, t(f"xss_user_{role}", "users.display_name")
        )
        w.users[role] = user.id
        _, token = auth_data.issue_device(db, user.id, t(f"xss_dev_{role}", "devices.name"))
        w.tokens[role] = token
    for role in ("volunteer", "building_head", "committee", "community_admin", "property"):
        user = auth_data.create_user(db, f"curious_{role}", PASSWORD, role, ["c2"])
        w.users[f"curious_{role}"] = user.id
        _, token = auth_data.issue_device(db, user.id, "curious laptop")
        w.tokens[f"curious_{role}"] = token
    w.ids["device"] = "1"
    w.ids["user"] = str(w.users["volunteer"])
    # -- supply: offer, order, round, ledger -------------------------------------------
    offer = supply_orders.create_offer(
        db,
        rep,
        compound_id="c1",
        item=t("xss_offer_item", "group_offers.item"),
        unit="jin",
        unit_price_yuan="10",
        organiser=t("xss_organiser", "group_offers.organiser"),
        note=t("xss_offer_note", "group_offers.note"),
    )
    rep.write(
        "group_orders",
        "o1",
        {
            "compound_id": "c1",
            "offer_id": offer,
            "household_id": "h1",
            "quantity": "2",
            "payment": "unpaid",
            "note": t("xss_order_note", "group_orders.note"),
        },
    )
    rnd = supply_data.create_round(
        db,
        compound_ids=["c1"],
        item=t("xss_round_item", "supply_rounds.item"),
        unit="pack",
        quantity="1",
        note=t("xss_round_note", "supply_rounds.note"),
        user="community_admin",
    )
    entry = ledger_data.add(
        db,
        "community_admin",
        kind="money_in",
        purpose=t("xss_purpose", "ledger.purpose"),
        date="2020-03-09",
        amount_yuan="8000",
        counterparty=t("xss_donor", "ledger.counterparty (donor)"),
        note=t("xss_ledger_note", "ledger.note"),
    )
    w.ids.update(offer=offer, order="o1", round=rnd, entry=entry.id)
    # -- certification records -----------------------------------------------------------
    day = dt.date(2020, 3, 10)
    cert_records.add_closure(
        db,
        "c1",
        day,
        [t("xss_entrance", "cert_closures.open_entrances")],
        t("xss_closure_note", "cert_closures.note"),
        "community_admin",
    )
    cert_records.set_work_group(
        db, "c1", "distribution", [t("xss_member", "cert_work_groups.members")], "community_admin"
    )
    cert_records.add_attestation(
        db, "c1", "publicity", t("xss_attest", "cert_attestations.note"), "community_admin", day
    )
    # -- votes: an open motion with a link and a ballot, a closed one with a bulletin ---
    values = {
        "compound_id": "c1",
        "title": t("xss_motion_title", "motions.title"),
        "body": t("xss_motion_body", "motions.body"),
        "matter": "common_revenue",
        "rule_set": "auto",
        "opens_at": "2020-03-10T09:00:00+08:00",
        "closes_at": "2020-03-12T11:00:00+08:00",
        "late_after_hours": 24,
        "show_running": 1,
        "open_ballot": 0,
    }
    _check_matter(values)
    motion = voting_data.create_motion(db, values, w.users["committee"], NOW)
    voting_data.open_motion(db, motion, NOW)
    link = voting_data.issue_links(db, motion, NOW, ["o:owner-1"])[0]
    got = voting_data.cast_online(db, link["token"], "for", NOW)
    closed = voting_data.create_motion(
        db,
        {**values, "closes_at": "2020-03-10T11:00:00+08:00"},
        w.users["committee"],
        NOW - dt.timedelta(hours=3),
    )
    early = NOW - dt.timedelta(hours=2, minutes=30)
    voting_data.open_motion(db, closed, early)
    closed_link = voting_data.issue_links(db, closed, early, ["o:owner-2"])
    voting_data.cast_online(db, closed_link[0]["token"], "against", early)
    voting_data.close_motion(db, closed, NOW)
    w.ids.update(motion=motion, closed_motion=closed)
    w.secrets.update(ballot=link["token"], receipt=got["receipt"])


def _check_matter(values: dict[str, Any]) -> None:
    if values["matter"] not in voting_data.MATTER_BY_ID:  # pick any known matter
        values["matter"] = next(iter(voting_data.MATTER_BY_ID))
