"""What the certification needs beyond field records: each compound's closure with one
open entrance, its four named work groups and its publicity attestation (through
server.certification.records), and the nightly aggregates of the past days, so the
dashboard's chart shows the fortnight (server.certification.daily).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from sqlite_utils import Database

from ..certification import daily, records
from ..certification import data as cert_data
from ..certification.evaluate import calendar, evaluate
from ..certification.rules import get_version
from .clock import DAYS, ZONE, Timeline

SECRETARY = "社区书记 Secretary"

WORK_GROUPS = {
    "linjiang": {
        "group_buying": ["李红", "周建国"],
        "vegetable_buying": ["王敏"],
        "purchasing": ["陈刚"],
        "distribution": ["红色跑楼团 李强", "张杰", "刘洋"],
    },
    "huashi": {
        "group_buying": ["胡玉兰"],
        "vegetable_buying": ["郭平", "何静"],
        "purchasing": ["陈刚"],
        "distribution": ["林涛", "罗梅", "高勇"],
    },
    "diamond": {
        "group_buying": ["徐丽"],
        "vegetable_buying": ["孙超"],
        "purchasing": ["马军"],
        "distribution": ["朱芳", "物业 褚师傅"],
    },
}
CLOSURE_DAYS_AGO = 40  # compounds were closed early: one entrance left open, guarded
ATTESTATION_DAYS_AGO = 20


def cert_records(db: Database, tl: Timeline, keys: Mapping[str, str]) -> int:
    """Closure, work groups and publicity attestation of each compound, through
    server.certification.records; only what is missing or different is written."""
    written = 0
    for key, cid in keys.items():
        have = records.records(db, cid)
        if not have["closures"]:
            records.add_closure(
                db,
                cid,
                tl.day(CLOSURE_DAYS_AGO),
                ["南门 south gate"],
                "小区封闭管理，只留南门一个出入口，24小时值守、测温、登记 "
                "closed; the south gate alone stays open, guarded day and night",
                SECRETARY,
            )
            written += 1
        groups = {g["kind"]: g["members"] for g in have["work_groups"]}
        for kind, members in WORK_GROUPS[key].items():
            if groups.get(kind) != members:
                records.set_work_group(db, cid, kind, members, SECRETARY)
                written += 1
        if not any(a["item"] == "publicity" for a in have["attestations"]):
            records.add_attestation(
                db,
                cid,
                "publicity",
                "宣传栏、业主微信群、流动喇叭每日宣传防疫知识和小区规定 "
                "notice boards, the owners' WeChat group and a loudspeaker round every day",
                SECRETARY,
                tl.day(ATTESTATION_DAYS_AGO),
            )
            written += 1
    return written


CERTIFIED = "linjiang"  # applied for 5 days ago and approved by the street
CERTIFIED_DAYS_AGO = 5
STREET = "街道 Street official"


def certify(
    db: Database, tl: Timeline, compound_id: str, rules: str | None, zone: str | None
) -> int:
    """The compound's application on a past day, its stored check, and the street's
    approval (only a passing check can be approved); once."""
    if records.applications(db, [compound_id]):
        return 0
    on = tl.day(CERTIFIED_DAYS_AGO)
    version, days = get_version(rules), calendar(zone or ZONE)
    facts = cert_data.load_facts(db, [compound_id], on, version, days)[compound_id]
    explanation = evaluate(facts, on, version, days)
    app_id = records.apply(db, explanation, SECRETARY)
    if explanation.passed:
        records.decide(
            db, app_id, True, STREET, "材料齐全，现场核查属实 papers and site visit agree"
        )
    return 1


def aggregate_history(
    db: Database, server_dir: Path, tl: Timeline, rules: str | None, zone: str | None
) -> int:
    """The compound_days rows of the past days with data (today is live on the page), as
    `lastmeter server aggregate --days 13` makes them; returns rows changed."""
    up = daily.open_upstream(server_dir)
    try:
        stats = daily.aggregate(
            db, up, tl.day(1), get_version(rules), calendar(zone or ZONE), back=DAYS - 1
        )
    finally:
        up.close()
    return stats["changed"]
