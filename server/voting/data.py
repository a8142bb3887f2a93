"""Storage of owners' votes: motions, frozen electorates, ballot links, online ballots.

SQL only; every function takes `db` first and the time `now` where time matters (the
views pass the server clock, tests a fixed one). Paper ballots are the synced `ballots`
table (sync/tables/voting.py); `ballot_arrivals` records when each reached this server,
because a paper ballot's lateness is judged by the server's receive time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from sqlite_utils import Database, Migrations

from sync import new_id

from . import counting
from .commits import GroupCommit
from .counting import Ballot, Window
from .electorate import Electorate, changes, freeze
from .rules import MATTER_BY_ID, RULE_SET_IDS, evaluate

migrations = Migrations("lastmeter.voting")

UTC = dt.UTC
MAX_LINKS_PER_CALL = 20_000


class VoteError(ValueError):
    """A refused action: `code` for the API, `message` for people, `status` for HTTP."""

    def __init__(self, code: str, message: str, status: int = 409) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


@migrations()
def m001_votes(db: Database) -> None:
    db["motions"].create(
        {
            "id": str,
            "compound_id": str,
            "title": str,
            "body": str,
            "matter": str,
            "rule_set": str,
            "opens_at": str,  # ISO-8601 UTC
            "closes_at": str,
            "late_after_hours": int,
            "show_running": int,  # running tallies before the close (default: turnout only)
            "open_ballot": int,  # the compound's rules make votes open: committee sees how
            "status": str,  # draft, open, closed
            "created_by": int,
            "created_at": str,
            "opened_at": str,
            "electorate": str,  # JSON, frozen at opening
            "electorate_fingerprint": str,
            "frozen_at": str,
            "tally": str,  # JSON, frozen at the close
            "result": str,
            "bulletin": str,
            "audit": str,
        },
        pk="id",
        not_null={"compound_id", "title", "matter", "rule_set", "opens_at", "closes_at"},
        defaults={"status": "draft", "late_after_hours": 24, "show_running": 0, "open_ballot": 0},
    )
    db["motions"].create_index(["compound_id"])
    db["ballot_links"].create(
        {
            "id": int,
            "motion_id": str,
            "owner_key": str,
            "token_hash": str,
            "issued_at": str,
            "revoked_at": str,
        },
        pk="id",
        not_null={"motion_id", "owner_key", "token_hash"},
    )
    db["ballot_links"].create_index(["token_hash"], unique=True)
    db["ballot_links"].create_index(["motion_id", "owner_key"])
    db["online_ballots"].create(
        {
            "id": str,
            "motion_id": str,
            "owner_key": str,
            "choice": str,
            "received_at": str,
            "receipt": str,
            "link_id": int,
        },
        pk="id",
        not_null={"motion_id", "owner_key", "choice", "received_at", "receipt"},
    )
    db["online_ballots"].create_index(["motion_id"])
    db["online_ballots"].create_index(["receipt"], unique=True)
    db["ballot_arrivals"].create({"ballot_id": str, "received_at": str}, pk="ballot_id")


# -- time -------------------------------------------------------------------------------


def iso(t: dt.datetime) -> str:
    if t.tzinfo is None:
        raise ValueError("times need a zone")
    return t.astimezone(UTC).isoformat(timespec="microseconds")


def parse_time(text: str) -> dt.datetime:
    t = dt.datetime.fromisoformat(text)
    if t.tzinfo is None:
        raise ValueError(f"time without a zone: {text!r}")
    return t


@contextmanager
def _immediate(db: Database) -> Iterator[None]:
    """A write transaction taken at once, so two closes cannot interleave."""
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")


# -- motions ----------------------------------------------------------------------------

JSON_FIELDS = ("electorate", "tally", "result", "bulletin", "audit")


def _decode(row: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    motion = dict(row)
    for name in JSON_FIELDS:
        motion[name] = json.loads(motion[name]) if motion.get(name) else None
    motion["show_running"] = bool(motion["show_running"])
    motion["open_ballot"] = bool(motion["open_ballot"])
    return motion


def check_motion(form: Mapping[str, Any], default_zone: dt.tzinfo) -> tuple[dict, dict]:
    """Parse a motion from a form or JSON; returns (values, errors by field)."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name, limit in (("title", 200), ("compound_id", 100), ("body", 5000)):
        text = str(form.get(name) or "").strip()
        if name != "body" and not text:
            errors[name] = "required"
        elif len(text) > limit:
            errors[name] = f"at most {limit} characters"
        values[name] = text
    values["matter"] = str(form.get("matter") or "")
    if values["matter"] not in MATTER_BY_ID:
        errors["matter"] = "choose a matter from the list"
    values["rule_set"] = str(form.get("rule_set") or "auto")
    if values["rule_set"] not in RULE_SET_IDS:
        errors["rule_set"] = "choose a rule set from the list"
    for name in ("opens_at", "closes_at"):
        raw = str(form.get(name) or "").strip()
        try:
            t = dt.datetime.fromisoformat(raw)
        except ValueError:
            errors[name] = "a date and time like 2020-03-10T09:00"
            continue
        values[name] = t if t.tzinfo else t.replace(tzinfo=default_zone)
    if "opens_at" in values and "closes_at" in values:
        if values["closes_at"] <= values["opens_at"]:
            errors["closes_at"] = "must be after the opening"
        values["opens_at"], values["closes_at"] = iso(values["opens_at"]), iso(values["closes_at"])
    try:
        hours = int(form.get("late_after_hours") or 24)
        if not 0 <= hours <= 24 * 30:
            raise ValueError
        values["late_after_hours"] = hours
    except (TypeError, ValueError):
        errors["late_after_hours"] = "whole hours between 0 and 720"
    for name in ("show_running", "open_ballot"):
        values[name] = int(str(form.get(name, "")).lower() in ("1", "true", "on", "yes"))
    return values, errors


def create_motion(db: Database, values: Mapping[str, Any], user_id: int | None, now) -> str:
    motion_id = new_id()
    row = {k: values[k] for k in ("compound_id", "title", "body", "matter", "rule_set",
                                  "opens_at", "closes_at", "late_after_hours",
                                  "show_running", "open_ballot")}  # fmt: skip
    row.update(id=motion_id, status="draft", created_by=user_id, created_at=iso(now))
    db["motions"].insert(row)
    return motion_id


# A motion without its large JSON columns: what casting a ballot needs, read per ballot.
LIGHT_MOTION = (
    "SELECT id, compound_id, title, body, matter, rule_set, opens_at, closes_at, "
    "late_after_hours, show_running, open_ballot, status FROM motions WHERE id = ?"
)


def notice_row(motion: Mapping[str, Any], rules) -> dict[str, Any]:
    """The synced `motion_notices` row of a motion: what the field agents need to know."""
    return {
        "compound_id": motion["compound_id"],
        "title": motion["title"],
        "body": motion["body"],
        "matter": motion["matter"],
        "rule_set": rules.id,
        "binding": rules.binding,
        "opens_at": motion["opens_at"],
        "closes_at": motion["closes_at"],
        "status": motion["status"],
    }


def get_motion(db: Database, motion_id: str) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM motions WHERE id = ?", [motion_id]))
    return _decode(rows[0] if rows else None)


def list_motions(db: Database, compounds: list[str] | None) -> list[dict[str, Any]]:
    sql = (
        "SELECT id, compound_id, title, matter, rule_set, opens_at, closes_at, status FROM motions"
    )
    params: list[Any] = []
    if compounds is not None:
        sql += f" WHERE compound_id IN ({', '.join('?' * len(compounds))})"
        params = list(compounds)
    return list(db.query(sql + " ORDER BY opens_at DESC, id", params))


def register_units(db: Database, compound_id: str) -> list[dict[str, Any]]:
    """The households of a compound as the electorate reads them (live register)."""
    have = {c.name for c in db["households"].columns}
    wanted = ["id", "owner_key", "owner_name", "area_m2", "co_owners", "developer_held", "voter"]
    cols = ", ".join(c for c in wanted if c in have)
    return list(
        db.query(
            f"SELECT {cols} FROM households WHERE compound_id = ? AND deleted = 0", [compound_id]
        )
    )


def electorate_of(motion: Mapping[str, Any]) -> Electorate:
    if not motion.get("electorate"):
        raise VoteError("not_open", "the motion has not been opened: no electorate yet")
    return Electorate.from_dict(motion["electorate"])


def open_motion(db: Database, motion_id: str, now: dt.datetime) -> Electorate:
    """Freeze the electorate from the register and open the motion for ballots."""
    with _immediate(db):
        motion = get_motion(db, motion_id)
        if motion is None:
            raise VoteError("not_found", "no such motion", 404)
        if motion["status"] != "draft":
            raise VoteError("already_open", "the motion is already open or closed")
        if parse_time(motion["closes_at"]) <= now:
            raise VoteError("past", "the closing time has passed; change the dates first")
        electorate = freeze(register_units(db, motion["compound_id"]))
        if electorate.total_owners == 0:
            raise VoteError("empty", "the compound has no households in the register", 422)
        db.execute(
            "UPDATE motions SET status = 'open', opened_at = ?, electorate = ?, "
            "electorate_fingerprint = ? WHERE id = ?",
            [iso(now), json.dumps(electorate.to_dict(), ensure_ascii=False),
             electorate.fingerprint(), motion_id],
        )  # fmt: skip
    return electorate


def register_changes(db: Database, motion: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Changes to the register since the electorate was frozen (shown, never applied)."""
    current = freeze(register_units(db, motion["compound_id"]))
    return changes(electorate_of(motion), current)


# -- ballot links -----------------------------------------------------------------------


def hash_token(token: str) -> str:
    # 256 random bits: a fast hash is enough, there is no dictionary to attack.
    return hashlib.sha256(token.encode()).hexdigest()


def issue_links(
    db: Database, motion_id: str, now: dt.datetime, owner_keys: list[str] | None = None
) -> list[dict[str, str]]:
    """New secret links for the given owners (default: all); earlier links are revoked.
    The tokens are returned once and stored only hashed."""
    motion = get_motion(db, motion_id)
    if motion is None:
        raise VoteError("not_found", "no such motion", 404)
    if motion["status"] != "open":
        raise VoteError("not_open", "open the motion first (that freezes the electorate)")
    electorate = electorate_of(motion)
    keys = list(electorate.by_key) if owner_keys is None else list(dict.fromkeys(owner_keys))
    unknown = [k for k in keys if k not in electorate.by_key]
    if unknown:
        raise VoteError(
            "not_in_electorate", f"not in the electorate: {', '.join(unknown[:5])}", 422
        )
    if len(keys) > MAX_LINKS_PER_CALL:
        raise VoteError("too_many", f"at most {MAX_LINKS_PER_CALL} links at a time", 422)
    out, rows = [], []
    for key in keys:
        token = secrets.token_urlsafe(32)
        rows.append({"motion_id": motion_id, "owner_key": key, "token_hash": hash_token(token),
                     "issued_at": iso(now)})  # fmt: skip
        owner = electorate.by_key[key]
        out.append({"owner_key": key, "name": owner.name, "households": owner.households,
                    "token": token})  # fmt: skip
    with db.atomic():
        db.conn.executemany(
            "UPDATE ballot_links SET revoked_at = ? "
            "WHERE motion_id = ? AND owner_key = ? AND revoked_at IS NULL",
            [(iso(now), motion_id, key) for key in keys],
        )
        db["ballot_links"].insert_all(rows)
    return out


def revoke_links(db: Database, motion_id: str, owner_key: str, now: dt.datetime) -> int:
    cur = db.execute(
        "UPDATE ballot_links SET revoked_at = ? "
        "WHERE motion_id = ? AND owner_key = ? AND revoked_at IS NULL",
        [iso(now), motion_id, owner_key],
    )
    return cur.rowcount


def link_for_token(db: Database, token: str) -> dict[str, Any] | None:
    rows = list(
        db.query(
            "SELECT id, motion_id, owner_key, revoked_at FROM ballot_links WHERE token_hash = ?",
            [hash_token(token)],
        )
    )
    return rows[0] if rows else None


def links_summary(db: Database, motion_id: str) -> dict[str, int]:
    row = db.execute(
        "SELECT count(DISTINCT owner_key), sum(revoked_at IS NOT NULL) FROM ballot_links "
        "WHERE motion_id = ?",
        [motion_id],
    ).fetchone()
    return {"owners_with_link": row[0] or 0, "revoked": row[1] or 0}


# -- casting ----------------------------------------------------------------------------


def ballot_context(db: Database, token: str, now: dt.datetime) -> tuple[dict, dict]:
    """The link and motion behind a token, or VoteError saying why it cannot vote."""
    link = link_for_token(db, token) if token else None
    if link is None:
        raise VoteError("unknown_link", "this ballot link is not valid", 404)
    if link["revoked_at"]:
        raise VoteError("revoked_link", "this ballot link was replaced or revoked", 410)
    rows = list(db.query(LIGHT_MOTION, [link["motion_id"]]))
    motion = _decode(rows[0]) if rows else None
    if motion is None or motion["status"] == "draft":
        raise VoteError("not_open", "this vote has not opened", 409)
    if now < parse_time(motion["opens_at"]):
        raise VoteError("not_open", "this vote has not opened yet", 409)
    if motion["status"] == "closed" or now >= parse_time(motion["closes_at"]):
        raise VoteError("closed", "this vote has closed", 409)
    return link, motion


def cast_online(
    db: Database, token: str, choice: str, now: dt.datetime, writer: GroupCommit | None = None
) -> dict[str, Any]:
    """Record an online ballot; the last one before the close counts. Pass the app's
    `writer` to share commits with concurrent ballots (see commits.py)."""
    if choice not in counting.CHOICES:
        raise VoteError("bad_choice", "choose for, against or abstain", 422)
    link, motion = ballot_context(db, token, now)
    row = [new_id(), motion["id"], link["owner_key"], choice, iso(now),
           counting.new_receipt(), link["id"]]  # fmt: skip
    receipt = (writer or GroupCommit()).insert(db.conn, row, counting.new_receipt)
    return {"receipt": receipt, "choice": choice, "received_at": iso(now), "motion": motion}


def owner_ballots(db: Database, motion_id: str, owner_key: str) -> list[dict[str, Any]]:
    return list(
        db.query(
            "SELECT receipt, choice, received_at FROM online_ballots "
            "WHERE motion_id = ? AND owner_key = ? ORDER BY received_at, id",
            [motion_id, owner_key],
        )
    )


# -- paper ballots and counting ---------------------------------------------------------


def note_arrivals(db: Database, now: dt.datetime) -> int:
    """Stamp synced paper ballots not yet seen with the server's receive time."""
    cur = db.execute(
        "INSERT OR IGNORE INTO ballot_arrivals (ballot_id, received_at) "
        "SELECT b.id, ? FROM ballots b LEFT JOIN ballot_arrivals a ON a.ballot_id = b.id "
        "WHERE a.ballot_id IS NULL",
        [iso(now)],
    )
    return cur.rowcount


def ballots_of(db: Database, motion_id: str) -> list[Ballot]:
    out = [
        Ballot(r["id"], "online", r["choice"], parse_time(r["received_at"]),
               owner_key=r["owner_key"], receipt=r["receipt"])
        for r in db.query(
            "SELECT id, owner_key, choice, received_at, receipt FROM online_ballots "
            "WHERE motion_id = ?", [motion_id])
    ]  # fmt: skip
    for r in db.query(
        "SELECT b.id, b.household_id, b.choice, b.recorded_at, b.receipt, a.received_at "
        "FROM ballots b JOIN ballot_arrivals a ON a.ballot_id = b.id WHERE b.motion_id = ?",
        [motion_id],
    ):
        out.append(
            Ballot(r["id"], "paper", r["choice"], parse_time(r["received_at"]),
                   household_id=r["household_id"], recorded_at=parse_time(r["recorded_at"]),
                   receipt=r["receipt"] or "")
        )  # fmt: skip
    return out


def paper_details(db: Database, motion_id: str) -> dict[str, dict[str, Any]]:
    return {
        r["id"]: r
        for r in db.query(
            "SELECT id, volunteer, voter_name, photo_sha256 FROM ballots WHERE motion_id = ?",
            [motion_id],
        )
    }


def window_of(motion: Mapping[str, Any], frozen_at: dt.datetime | None = None) -> Window:
    closes = parse_time(motion["closes_at"])
    late = dt.timedelta(hours=int(motion["late_after_hours"]))
    if frozen_at is not None:  # what arrives after the freeze can no longer count
        late = max(dt.timedelta(0), min(late, frozen_at - closes))
    return Window(parse_time(motion["opens_at"]), closes, late)


def live_count(db: Database, motion: Mapping[str, Any], now: dt.datetime):
    note_arrivals(db, now)
    frozen = parse_time(motion["frozen_at"]) if motion.get("frozen_at") else None
    return counting.count(ballots_of(db, motion["id"]), electorate_of(motion),
                          window_of(motion, frozen))  # fmt: skip


def turnout(db: Database, motion: Mapping[str, Any], now: dt.datetime) -> dict[str, Any]:
    """Owners who have a counted ballot so far: all that shows before the close by default."""
    classified, t = live_count(db, motion, now)
    took_part = t.owners["for"] + t.owners["against"] + t.owners["abstain"]
    return {"owners_voted": took_part, "N": t.total_owners, "ballots": len(classified)}


def _result(motion: Mapping[str, Any], tally: counting.Tally) -> dict[str, Any]:
    opens = parse_time(motion["opens_at"])
    return evaluate(motion["rule_set"], motion["matter"], tally.totals(), opens).to_dict()


def provisional_result(db: Database, motion: Mapping[str, Any], now: dt.datetime) -> dict:
    _, t = live_count(db, motion, now)
    return {"provisional": True, "tally": t.to_dict(), "result": _result(motion, t)}


def close_motion(db: Database, motion_id: str, now: dt.datetime) -> dict[str, Any]:
    """At or after the closing time: compute and freeze tally, result, bulletin, audit."""
    with _immediate(db):
        motion = get_motion(db, motion_id)
        if motion is None:
            raise VoteError("not_found", "no such motion", 404)
        if motion["status"] != "open":
            raise VoteError("not_open", "only an open motion can be closed")
        if now < parse_time(motion["closes_at"]):
            raise VoteError("too_early", "the vote is still running until its closing time")
        motion["frozen_at"] = iso(now)
        electorate = electorate_of(motion)
        classified, t = live_count(db, motion, now)
        board = counting.bulletin(classified, electorate)
        if counting.recount(board) != t:  # the published list must give the same figures
            raise VoteError("recount_mismatch", "internal error: the bulletin does not recount")
        result = _result(motion, t)
        board_json = json.dumps(board, ensure_ascii=False, sort_keys=True)
        result["bulletin_sha256"] = hashlib.sha256(board_json.encode()).hexdigest()
        result["electorate_fingerprint"] = motion["electorate_fingerprint"]
        audit = [c.to_dict() for c in classified]
        db.execute(
            "UPDATE motions SET status = 'closed', frozen_at = ?, tally = ?, result = ?, "
            "bulletin = ?, audit = ? WHERE id = ?",
            [motion["frozen_at"], json.dumps(t.to_dict()), json.dumps(result, ensure_ascii=False),
             board_json, json.dumps(audit, ensure_ascii=False), motion_id],
        )  # fmt: skip
    return {"tally": t.to_dict(), "result": result}


def audit_list(
    db: Database, motion: Mapping[str, Any], now: dt.datetime, *, show_choice: bool
) -> list[dict[str, Any]]:
    """Every ballot with its status and reason: frozen after the close, live before it.
    Choices are blanked unless the compound's rules make votes open ballots."""
    if motion["status"] == "closed":
        items = [dict(a) for a in motion["audit"]]
        # ballots that reached the server after the freeze: listed, never counted
        known = {a["ballot_id"] for a in items}
        classified, _t = live_count(db, motion, now)
        items += [c.to_dict() for c in classified if c.ballot.id not in known]
    else:
        classified, _t = live_count(db, motion, now)
        items = [c.to_dict() for c in classified]
    paper = paper_details(db, motion["id"])
    for item in items:
        extra = paper.get(item["ballot_id"], {})
        item["volunteer"] = extra.get("volunteer")
        item["photo_sha256"] = extra.get("photo_sha256")
        if not show_choice:
            item["choice"] = None
    return items
