"""The demo's owners' votes in 华氏儒商花园, through server.voting.data (the committee's
own steps: create, open, issue links, owners cast online ballots, close).

- The reported case (DOMAIN.md): take 10,000 yuan of common revenue to reward the property
  staff, opened 2 days ago for 50 hours under the 2007 Property Law; about 100 owners for
  and 2 against so far, so the committee page shows the turnout while it runs.
- An earlier motion, closed, so a result and a public bulletin exist.

A motion is found again by its compound and title, and each step runs only if it has not
(open once, links once, ballots once), so a second run writes nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from sync import Replica

from ..voting import data as votes
from ..voting.rules import resolve
from .clock import Timeline
from .store import write_changed


@dataclass(frozen=True)
class DemoMotion:
    title: str
    body: str
    matter: str
    rule_set: str
    opens: dt.datetime
    hours: int
    choices: dict[str, int]  # online ballots cast, by choice
    close: bool  # closed by the committee an hour after its closing time

    @property
    def closes(self) -> dt.datetime:
        return self.opens + dt.timedelta(hours=self.hours)


def motions(tl: Timeline) -> list[DemoMotion]:
    # On the hour, two days ago: it closes one to two hours from now.
    reward_opens = (tl.now - dt.timedelta(hours=48)).replace(minute=0, second=0)
    parcel_opens = dt.datetime.combine(tl.day(12), dt.time(9), tl.tz)
    return [
        DemoMotion(
            "动用公共收益1万元奖励物业人员 Reward the property staff with 10,000 yuan",
            "疫情期间物业人员坚守岗位、每日两次楼道消杀。业委会提议从小区公共收益中"
            "支出10,000元，奖励全体物业人员。\n"
            "During the lockdown the property staff kept the compound running and "
            "disinfected the corridors twice a day. The committee proposes to take "
            "10,000 yuan of the compound's common revenue as a reward for them.",
            "other_major",
            "property-law-2007",
            reward_opens,
            50,
            {"for": 100, "against": 2},
            close=False,
        ),
        DemoMotion(
            "南门设临时快递存放架 A parcel shelf at the south gate",
            "封闭期间快递不得入内。提议在南门内侧公共区域设临时快递存放架，由志愿者分送。\n"
            "Couriers may not enter while the compound is closed. Proposed: a temporary "
            "parcel shelf in the common area inside the south gate; volunteers carry "
            "parcels up.",
            "common_parts_use",
            "property-law-2007",
            parcel_opens,
            48,
            {"for": 231, "against": 12, "abstain": 6},
            close=True,
        ),
    ]


def _find(db: Database, compound_id: str, title: str) -> str | None:
    row = db.execute(
        "SELECT id FROM motions WHERE compound_id = ? AND title = ? ORDER BY created_at LIMIT 1",
        [compound_id, title],
    ).fetchone()
    return row[0] if row else None


def _ensure(
    db: Database, compound_id: str, m: DemoMotion, user_id: int | None, tl: Timeline
) -> tuple[str, int]:
    """Create, open, issue links, cast and (maybe) close, each step once; returns the
    motion's id and the ballots cast."""
    motion_id = _find(db, compound_id, m.title)
    if motion_id is None:
        values = {
            "compound_id": compound_id,
            "title": m.title,
            "body": m.body,
            "matter": m.matter,
            "rule_set": m.rule_set,
            "opens_at": votes.iso(m.opens),
            "closes_at": votes.iso(m.closes),
            "late_after_hours": 24,
            "show_running": 0,
            "open_ballot": 0,
        }
        motion_id = votes.create_motion(db, values, user_id, m.opens - dt.timedelta(days=1))
    motion = votes.get_motion(db, motion_id)
    assert motion is not None
    if motion["status"] == "draft":
        votes.open_motion(db, motion_id, m.opens)
        motion = votes.get_motion(db, motion_id)
        assert motion is not None
    issued_at = m.opens + dt.timedelta(minutes=10)
    tokens: dict[str, str] = {}
    if votes.links_summary(db, motion_id)["owners_with_link"] == 0:
        tokens = {i["owner_key"]: i["token"] for i in votes.issue_links(db, motion_id, issued_at)}
    cast = 0
    has_ballots = db.execute(
        "SELECT 1 FROM online_ballots WHERE motion_id = ? LIMIT 1", [motion_id]
    ).fetchone()
    if not has_ballots and motion["status"] == "open":
        owners = sorted(votes.electorate_of(motion).by_key)
        choices = [c for c, n in m.choices.items() for _ in range(n)]
        voters = random.Random(m.title).sample(owners, min(len(choices), len(owners)))
        if any(k not in tokens for k in voters):  # links issued before, tokens gone: reissue
            reissued = votes.issue_links(db, motion_id, issued_at, voters)
            tokens.update({i["owner_key"]: i["token"] for i in reissued})
        first = issued_at + dt.timedelta(minutes=5)
        last = min(m.closes, tl.now) - dt.timedelta(minutes=5)
        step = (last - first) / max(1, len(voters))
        random.Random(m.title + "/order").shuffle(choices)
        for i, (key, choice) in enumerate(zip(voters, choices, strict=False)):
            when = (first + step * i).replace(microsecond=0)
            votes.cast_online(db, tokens[key], choice, when)
            cast += 1
    closed_at = votes.parse_time(motion["closes_at"]) + dt.timedelta(hours=1)
    if m.close and motion["status"] == "open" and tl.now >= closed_at:
        votes.close_motion(db, motion_id, closed_at)
    return motion_id, cast


def seed_votes(
    db: Database, replica: Replica, tl: Timeline, compound_id: str, user_id: int | None
) -> dict[str, int]:
    """The motions, their ballots, and the notices the field agents get (synced rows)."""
    done = [_ensure(db, compound_id, m, user_id, tl) for m in motions(tl)]
    notices: dict[str, dict[str, Any]] = {}
    for motion_id, _cast in done:
        motion = votes.get_motion(db, motion_id)
        assert motion is not None
        rules = resolve(motion["rule_set"], votes.parse_time(motion["opens_at"]))
        notices[motion_id] = votes.notice_row(motion, rules)
    cast = sum(n for _id, n in done)
    return {
        "online_ballots": cast,
        "motion_notices": write_changed(replica, "motion_notices", notices),
    }
