"""The demo's supplies, through server.supply's own functions:

- 华氏儒商花园: the reported round, 70 cabbages for 368 households, under the standing
  priority policy (medical-worker families, then hardship, then elderly living alone),
  confirmed, so its deliveries and packing lists exist;
- 临江雅居: group-bought pork at 10 yuan/jin, open, with orders (the field agent shows it);
- the donations ledger: 8,000 yuan raised in two rounds for a couple who fell ill, one
  payment to their family, and donated vegetables in and out.

Each thing is found again (the round by item and note, the offer by item, the ledger by
purpose) and made only if missing, so a second run writes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from decimal import Decimal
from typing import Any

from sqlite_utils import Database

from sync import Replica

from ..supply import data as supply
from ..supply import ledger_data, orders
from .clock import Timeline

CABBAGE_NOTE = "70棵白菜分给368户：医护人员家庭、困难群众优先 70 cabbages for 368 households"
ROUND_SEED = 2020  # the draw among equals, stored with the round
PORK = "平价猪肉 subsidised pork"
FUND = "募捐：5栋患病夫妇 fundraising for the couple in 5栋 who fell ill"
VEGETABLES = "企业捐赠蔬菜 vegetables donated by companies"
SECRETARY = "secretary"


def cabbage_round(db: Database, replica: Replica, compound_id: str) -> int:
    """Returns the deliveries the confirmation wrote (0 when it was confirmed before)."""
    found = [
        r
        for r in db.query(
            "SELECT id, compound_ids, status FROM supply_rounds WHERE note = ?", [CABBAGE_NOTE]
        )
        if json.loads(r["compound_ids"]) == [compound_id] and r["status"] != "cancelled"
    ]
    round_id = found[0]["id"] if found else None
    if round_id is None:
        round_id = supply.create_round(
            db,
            compound_ids=[compound_id],
            item="白菜 cabbage",
            unit="棵 head",
            quantity=70,
            per_household=1,
            seed=ROUND_SEED,
            note=CABBAGE_NOTE,
            user=SECRETARY,
        )
    rnd = supply.get_round(db, round_id)
    assert rnd is not None
    if rnd["status"] != "draft":
        return 0
    shown, _homes = supply.plan_round(db, rnd)
    result = supply.confirm_round(db, replica, round_id, supply.fingerprint(shown), SECRETARY)
    return len(result.served)


def pork_offer(db: Database, replica: Replica, tl: Timeline, compound_id: str) -> int:
    """The offer and some households' orders; returns the orders written."""
    row = db.execute(
        "SELECT id FROM group_offers WHERE compound_id = ? AND item = ? AND deleted = 0",
        [compound_id, PORK],
    ).fetchone()
    opened = dt.datetime.combine(tl.day(1), dt.time(9), tl.tz)
    if row is None:
        offer_id = orders.create_offer(
            db,
            replica,
            compound_id=compound_id,
            item=PORK,
            unit="斤 jin",
            unit_price_yuan="10",
            deadline=(opened + dt.timedelta(days=2)).isoformat(),
            max_per_household="5",
            organiser="团购组 group-buying: 李红",
            note="600斤平价猪肉，每斤10元，每户限5斤 600 jin at 10 yuan/jin, 5 jin a household",
        )
    else:
        offer_id = row[0]
    offer = orders.get_offer(db, offer_id)
    assert offer is not None
    if offer["status"] != "open":
        return 0
    ordered = {
        r[0]
        for r in db.execute(
            "SELECT household_id FROM group_orders WHERE offer_id = ? AND deleted = 0", [offer_id]
        )
    }
    homes = [
        r[0]
        for r in db.execute(
            "SELECT id FROM households WHERE compound_id = ? AND deleted = 0 AND members > 0 "
            "ORDER BY building, unit",
            [compound_id],
        )
    ]
    rng = random.Random("pork")
    buyers = sorted(rng.sample(homes, min(22, len(homes))))
    written = 0
    for i, household_id in enumerate(buyers):
        if household_id in ordered:
            continue
        order_id = orders.place_order(
            db,
            replica,
            offer,
            household_id=household_id,
            quantity=("2", "3", "5", "2.5", "4")[i % 5],
            taken_by="志愿者 Volunteer (Linjiang)",
            now=opened + dt.timedelta(minutes=20 * (i + 1)),
        )
        if i % 3 != 2:
            orders.set_payment(db, replica, order_id, "paid")
        written += 1
    return written


def ledger(db: Database, tl: Timeline) -> int:
    """The donations ledger's entries (each purpose entered once)."""
    have = {e.purpose for e in ledger_data.entries(db)}
    entries: list[dict[str, Any]] = []
    if FUND not in have:
        entries += [
            {"kind": "money_in", "amount_yuan": Decimal("5200.00"), "date": tl.day(12),
             "counterparty": "业主微信群第一轮募捐 owners' WeChat group, round 1"},
            {"kind": "money_in", "amount_yuan": Decimal("2800.00"), "date": tl.day(9),
             "counterparty": "业主微信群第二轮募捐 owners' WeChat group, round 2"},
            {"kind": "money_out", "amount_yuan": Decimal("6000.00"), "date": tl.day(7),
             "counterparty": "患者家属 the couple's family",
             "note": "交付医疗费用 for their hospital costs; 收条已拍照 receipt photographed"},
        ]  # fmt: skip
        for e in entries:
            e["purpose"] = FUND
    if VEGETABLES not in have:
        entries += [
            {"kind": "goods_in", "purpose": VEGETABLES, "item": "蔬菜 vegetables",
             "unit": "斤 jin", "quantity": Decimal("3200"), "amount_yuan": Decimal("9600.00"),
             "date": tl.day(13),
             "counterparty": "武汉某农业公司 a farming company"},
            {"kind": "goods_out", "purpose": VEGETABLES, "item": "蔬菜 vegetables",
             "unit": "斤 jin", "quantity": Decimal("2144"), "date": tl.day(12),
             "note": "分装蔬菜包，每户4斤 packed as vegetable packages, 4 jin a household"},
        ]  # fmt: skip
    for e in entries:
        ledger_data.add(db, SECRETARY, **e)
    return len(entries)


def seed_supplies(
    db: Database, replica: Replica, tl: Timeline, huashi: str, linjiang: str
) -> dict[str, int]:
    return {
        "round_deliveries": cabbage_round(db, replica, huashi),
        "group_orders": pork_offer(db, replica, tl, linjiang),
        "ledger_entries": ledger(db, tl),
    }
