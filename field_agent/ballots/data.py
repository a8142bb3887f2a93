"""Paper ballots: the motions a volunteer may record for, the ballot row, this laptop's list.

A paper ballot is one immutable synced `ballots` row (sync/tables/voting.py). The server
never sends ballots down, so the only ballots in this laptop's table are those recorded
here; whether each has reached the server is read from the push cursor. `db` first.
"""

from __future__ import annotations

import datetime as dt
import secrets
import sqlite3
import unicodedata
from typing import Any

from sqlite_utils import Database

from sync import Replica, new_id

CHOICES = ("for", "against", "abstain")
# The server's alphabet (server/voting/counting.py RECEIPT_ALPHABET; the synced column's
# pattern is sync.tables.voting.RECEIPT): no 0/O, 1/I/L, so it can be read aloud.
RECEIPT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def clean(text: str | None) -> str:
    return " ".join(unicodedata.normalize("NFKC", text or "").split())


def new_receipt() -> str:
    """A receipt code like 'K7QX-M2PD-9ARB', made as the server makes its own."""
    chars = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(12))
    return "-".join(chars[i : i + 4] for i in range(0, 12, 4))


def _time(text: str | None, zone: dt.tzinfo) -> dt.datetime | None:
    if not text:
        return None
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=zone)


def state(notice: dict[str, Any], now: dt.datetime) -> str:
    """'open', 'not_open' or 'closed' by the laptop's clock (and the server's status)."""
    opens, closes = _time(notice["opens_at"], now.tzinfo), _time(notice["closes_at"], now.tzinfo)
    if notice.get("status") == "closed" or (closes is not None and now >= closes):
        return "closed"
    if notice.get("status") not in (None, "open") or opens is None or now < opens:
        return "not_open"
    return "open"


def notices(db: Database, compound_id: str, now: dt.datetime) -> list[dict[str, Any]]:
    """The compound's motion notices, each with its state now; open ones first."""
    rows = list(
        db.query(
            "SELECT id, compound_id, title, body, matter, rule_set, binding, opens_at, "
            "closes_at, status FROM motion_notices WHERE compound_id = ? AND deleted = 0",
            [compound_id],
        )
    )
    order = {"open": 0, "not_open": 1, "closed": 2}
    for row in rows:
        row["state"] = state(row, now)
    rows.sort(key=lambda r: (order[r["state"]], r["closes_at"] or "", r["id"]))
    return rows


def notice(db: Database, motion_id: str) -> dict[str, Any] | None:
    rows = list(
        db.query(
            "SELECT id, compound_id, title, body, matter, rule_set, binding, opens_at, "
            "closes_at, status FROM motion_notices WHERE id = ? AND deleted = 0",
            [motion_id],
        )
    )
    return rows[0] if rows else None


def record(
    replica: Replica,
    *,
    ballot_id: str | None = None,
    compound_id: str,
    motion_id: str,
    household_id: str,
    choice: str,
    voter_name: str,
    volunteer: str,
    recorded_at: str,
    photo_sha256: str | None,
    note: str | None = None,
) -> tuple[str, str]:
    """Write the immutable ballot row; returns (ballot id, receipt code)."""
    ballot_id = ballot_id or new_id()
    receipt = new_receipt()
    values = {
        "compound_id": compound_id,
        "motion_id": motion_id,
        "household_id": household_id,
        "choice": choice,
        "recorded_at": recorded_at,
        "voter_name": voter_name,
        "volunteer": volunteer,
        "photo_sha256": photo_sha256,
        "receipt": receipt,
        "note": note or None,
    }
    replica.write("ballots", ballot_id, {k: v for k, v in values.items() if v is not None})
    return ballot_id, receipt


def _sent_cursor(db: Database, server_site: str | None) -> int:
    if not server_site:
        return 0
    row = db.execute("SELECT sent FROM _lm_peers WHERE peer = ?", [server_site]).fetchone()
    return int(row[0]) if row else 0


def _rejections(db: Database) -> dict[str, tuple[str, str]]:
    """Ballot ids the server refused: (outbox status, message), an open refusal first."""
    try:
        found = db.execute(
            "SELECT row_id, status, message FROM _lm_outbox WHERE tbl = 'ballots' "
            "ORDER BY status <> 'open', id DESC"
        ).fetchall()
    except sqlite3.OperationalError:  # no outbox table before the first sync
        return {}
    out: dict[str, tuple[str, str]] = {}
    for row_id, status, message in found:
        out.setdefault(row_id, (status, message))
    return out


def recorded_here(
    db: Database, compound_id: str, site_no: int, server_site: str | None
) -> list[dict[str, Any]]:
    """Ballots recorded on this laptop, newest first: 'sent', 'waiting' or 'rejected...'.

    An immutable row is written once at local counter `_ctr`: it has reached the server
    when the push cursor has passed it. A cell the server refused stays in the outbox.
    """
    sent = _sent_cursor(db, server_site)
    refused = _rejections(db)
    rows = list(
        db.query(
            "SELECT b.id, b.motion_id, b.household_id, b.recorded_at, b.voter_name, "
            "b.volunteer, b.photo_sha256, b._ctr AS ctr, n.title, h.building, h.unit, "
            "h.owner_name FROM ballots b "
            "LEFT JOIN motion_notices n ON n.id = b.motion_id "
            "LEFT JOIN households h ON h.id = b.household_id "
            "WHERE b.compound_id = ? AND b._site = ?",
            [compound_id, site_no],
        )
    )
    for row in rows:
        if row["id"] in refused:
            status, row["problem"] = refused[row["id"]]
            # open: still in the outbox; resent: copied as a new ballot; discarded
            row["sent"] = "rejected" if status == "open" else f"rejected_{status}"
        else:
            row["sent"], row["problem"] = ("sent" if row["ctr"] <= sent else "waiting"), None
    rows.sort(key=lambda r: (r["recorded_at"] or "", r["id"]), reverse=True)
    return rows


def count_for(db: Database, motion_id: str, household_id: str, site_no: int) -> int:
    """Ballots for this household on this motion recorded on this laptop (a changed mind)."""
    return db.execute(
        "SELECT count(*) FROM ballots WHERE motion_id = ? AND household_id = ? AND _site = ?",
        [motion_id, household_id, site_no],
    ).fetchone()[0]


def get(db: Database, ballot_id: str, site_no: int) -> dict[str, Any] | None:
    rows = list(
        db.query(
            "SELECT b.*, n.title, h.building, h.unit, h.owner_name FROM ballots b "
            "LEFT JOIN motion_notices n ON n.id = b.motion_id "
            "LEFT JOIN households h ON h.id = b.household_id WHERE b.id = ? AND b._site = ?",
            [ballot_id, site_no],
        )
    )
    return rows[0] if rows else None
