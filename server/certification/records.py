"""Certification records: closures, work groups and attestations; stored checks,
applications and decisions, revocations, the status on a date; published lists.

SQL only, `db` first. The tables are made by data.migrations.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Sequence
from typing import Any

from sqlite_utils import Database

from .data import cases_facts, fever_checks_since
from .days import LocalDays
from .explanation import Explanation
from .facts import CompoundFacts
from .rules import ITEMS, WORK_GROUP_KINDS, RuleVersion
from .status import first_loss


class CertError(ValueError):
    """A record that cannot be kept; `field` names the input at fault. `message` is an
    English msgid with named parameters: pages translate it (views.py), str() is English."""

    def __init__(self, field: str, message: str, /, **params: Any) -> None:
        self.field, self.template, self.params = field, message, params
        super().__init__(message % params if params else message)


def _now() -> int:
    return int(time.time())


def _marks(values: Sequence[Any]) -> str:
    return ",".join("?" * len(values))


# -- closures, work groups, attestations ---------------------------------------------------


def add_closure(
    db: Database,
    compound_id: str,
    closed_on: dt.date,
    open_entrances: Sequence[str],
    note: str,
    by: str,
) -> int:
    entrances = [e.strip() for e in open_entrances if e and e.strip()]
    if any(len(e) > 100 for e in entrances) or len(entrances) > 50:
        raise CertError("open_entrances", "at most 50 entrances of up to 100 characters each")
    if len(note) > 1000:
        raise CertError("note", "the note is longer than 1000 characters")
    return (
        db["cert_closures"]
        .insert(
            {
                "compound_id": compound_id,
                "closed_on": closed_on.isoformat(),
                "open_entrances": "\n".join(entrances),
                "note": note.strip(),
                "recorded_by": by,
                "recorded_at": _now(),
            }
        )
        .last_pk
    )


def set_work_group(
    db: Database, compound_id: str, kind: str, members: Sequence[str], by: str
) -> None:
    if kind not in WORK_GROUP_KINDS:
        raise CertError(
            "kind", "unknown work group; one of %(choices)s", choices=", ".join(WORK_GROUP_KINDS)
        )
    names = list(dict.fromkeys(m.strip() for m in members if m and m.strip()))
    if any(len(m) > 100 for m in names) or len(names) > 100:
        raise CertError("members", "at most 100 people of up to 100 characters each")
    db["cert_work_groups"].upsert(
        {
            "compound_id": compound_id,
            "kind": kind,
            "members": json.dumps(names, ensure_ascii=False),
            "updated_by": by,
            "updated_at": _now(),
        },
        pk=("compound_id", "kind"),
    )


def add_attestation(
    db: Database,
    compound_id: str,
    item: str,
    note: str,
    by: str,
    on: dt.date,
    photo_sha256: str | None = None,
) -> int:
    if item not in ITEMS:
        raise CertError("item", "unknown item; one of %(choices)s", choices=", ".join(ITEMS))
    note = note.strip()
    if not note:
        raise CertError("note", "an attestation needs a note saying what is in place")
    if len(note) > 2000:
        raise CertError("note", "the note is longer than 2000 characters")
    if photo_sha256 and (
        len(photo_sha256) != 64 or any(c not in "0123456789abcdef" for c in photo_sha256)
    ):
        raise CertError("photo_sha256", "a photo is named by its SHA-256 (64 hex digits)")
    return (
        db["cert_attestations"]
        .insert(
            {
                "compound_id": compound_id,
                "item": item,
                "note": note,
                "by": by,
                "on_date": on.isoformat(),
                "photo_sha256": photo_sha256 or None,
                "created_at": _now(),
            }
        )
        .last_pk
    )


def records(db: Database, compound_id: str) -> dict[str, list[dict]]:
    """The compound's closures, work groups and attestations, newest first."""
    return {
        "closures": list(
            db.query(
                "SELECT * FROM cert_closures WHERE compound_id = ? ORDER BY closed_on "
                "DESC, id DESC",
                [compound_id],
            )
        ),
        "work_groups": [
            {**r, "members": json.loads(r["members"] or "[]")}
            for r in db.query(
                "SELECT * FROM cert_work_groups WHERE compound_id = ? ORDER BY kind", [compound_id]
            )
        ],
        "attestations": list(
            db.query(
                "SELECT * FROM cert_attestations WHERE compound_id = ? ORDER BY "
                "on_date DESC, id DESC",
                [compound_id],
            )
        ),
    }


# -- stored checks, applications, decisions, revocations ----------------------------------


def store_check(db: Database, explanation: Explanation, by: str) -> int:
    return (
        db["cert_checks"]
        .insert(
            {
                "compound_id": explanation.compound_id,
                "on_date": explanation.on.isoformat(),
                "rule_version": explanation.rule_version,
                "timezone": explanation.timezone,
                "passed": int(explanation.passed),
                "explanation": json.dumps(explanation.to_dict(), ensure_ascii=False),
                "checked_by": by,
                "checked_at": _now(),
            }
        )
        .last_pk
    )


def get_check(db: Database, check_id: int) -> dict | None:
    rows = list(db.query("SELECT * FROM cert_checks WHERE id = ?", [check_id]))
    if not rows:
        return None
    return {**rows[0], "explanation": json.loads(rows[0]["explanation"])}


def apply(db: Database, explanation: Explanation, by: str) -> int:
    """A community_admin's application: the check is stored with it, pass or fail."""
    with db.atomic():
        check_id = store_check(db, explanation, by)
        return (
            db["cert_applications"]
            .insert(
                {
                    "compound_id": explanation.compound_id,
                    "on_date": explanation.on.isoformat(),
                    "check_id": check_id,
                    "status": "pending",
                    "applied_by": by,
                    "applied_at": _now(),
                }
            )
            .last_pk
        )


def get_application(db: Database, app_id: int) -> dict | None:
    rows = list(
        db.query(
            "SELECT a.*, c.passed, c.rule_version FROM cert_applications a "
            "JOIN cert_checks c ON c.id = a.check_id WHERE a.id = ?",
            [app_id],
        )
    )
    return rows[0] if rows else None


def applications(
    db: Database, compound_ids: Sequence[str] | None = None, status: str | None = None
) -> list[dict]:
    sql = (
        "SELECT a.*, c.passed, c.rule_version, p.name AS compound_name FROM cert_applications a "
        "JOIN cert_checks c ON c.id = a.check_id LEFT JOIN compounds p ON p.id = "
        "a.compound_id WHERE 1"
    )
    params: list[Any] = []
    if compound_ids is not None:
        if not compound_ids:
            return []
        sql += f" AND a.compound_id IN ({_marks(compound_ids)})"
        params += list(compound_ids)
    if status:
        sql += " AND a.status = ?"
        params.append(status)
    return list(db.query(sql + " ORDER BY a.on_date DESC, a.id DESC", params))


def decide(db: Database, app_id: int, approve: bool, by: str, note: str = "") -> None:
    """A street_official approves (only a passing check) or rejects a pending application."""
    app = get_application(db, app_id)
    if app is None:
        raise CertError("application", "no such application")
    if app["status"] != "pending":
        raise CertError(
            "application", "this application is %(status)s already", status=app["status"]
        )
    if approve and not app["passed"]:
        raise CertError("application", "the stored check fails: it cannot be approved")
    if not approve and not note.strip():
        raise CertError("note", "say why the application is rejected")
    cur = db.execute(
        "UPDATE cert_applications SET status = ?, decided_by = ?, decided_at = ?, "
        "decision_note = ? "
        "WHERE id = ? AND status = 'pending'",
        ["approved" if approve else "rejected", by, _now(), note.strip(), app_id],
    )
    if cur.rowcount != 1:
        raise CertError("application", "this application was decided meanwhile")


def revoke(db: Database, compound_id: str, on: dt.date, reason: str, by: str) -> int:
    if not reason.strip():
        raise CertError("reason", "a revocation needs its reason")
    return (
        db["cert_revocations"]
        .insert(
            {
                "compound_id": compound_id,
                "on_date": on.isoformat(),
                "reason": reason.strip(),
                "by": by,
                "at": _now(),
            }
        )
        .last_pk
    )


def certification(
    db: Database,
    compound_id: str,
    on: dt.date,
    version: RuleVersion,
    days: LocalDays,
    facts: CompoundFacts | None = None,
) -> dict[str, Any]:
    """The compound's status on `on`: certified, lost (automatically), revoked, or none.

    `facts` (from load_facts) saves reloading the names and cases when the caller has them."""
    rows = list(
        db.query(
            "SELECT * FROM cert_applications WHERE compound_id = ? AND status = "
            "'approved' AND on_date <= ? "
            "ORDER BY on_date DESC, id DESC LIMIT 1",
            [compound_id, on.isoformat()],
        )
    )
    if not rows:
        return {
            "state": "none",
            "certified_on": None,
            "since": None,
            "reason": None,
            "application_id": None,
        }
    app = rows[0]
    certified_on = dt.date.fromisoformat(app["on_date"])
    base = {"certified_on": certified_on, "application_id": app["id"]}
    revoked = list(
        db.query(
            "SELECT * FROM cert_revocations WHERE compound_id = ? AND on_date >= ? "
            "AND on_date <= ? "
            "ORDER BY on_date LIMIT 1",
            [compound_id, certified_on.isoformat(), on.isoformat()],
        )
    )
    if facts is None:
        facts = cases_facts(db, compound_id, on)
    checks = fever_checks_since(db, compound_id, certified_on, on, version)
    loss = first_loss(facts, certified_on, on, version, days, checks)
    rev_on = dt.date.fromisoformat(revoked[0]["on_date"]) if revoked else None
    if rev_on is not None and (loss is None or rev_on <= loss.since):
        return {**base, "state": "revoked", "since": rev_on, "reason": revoked[0]["reason"]}
    if loss is not None:
        # What a page needs to word the reason in its language: no name, no address.
        safe = ("category", "start_date", "first_day", "temperature_c")
        return {
            **base,
            "state": "lost",
            "since": loss.since,
            "reason": loss.reason,
            "reason_code": loss.code,
            "reason_params": {k: v for k, v in loss.params.items() if k in safe},
        }
    return {**base, "state": "certified", "since": certified_on, "reason": None}


# -- published lists ------------------------------------------------------------------------


def last_list(db: Database, scope_id: str, before: dt.date) -> dict | None:
    rows = list(
        db.query(
            "SELECT * FROM cert_lists WHERE scope_id = ? AND on_date < ? ORDER BY "
            "on_date DESC LIMIT 1",
            [scope_id, before.isoformat()],
        )
    )
    return {**rows[0], "entries": json.loads(rows[0]["entries"])} if rows else None


def publish_list(
    db: Database, scope_id: str, scope_name: str, on: dt.date, statuses: Sequence[dict], by: str
) -> int:
    """Publish the dated list: certified compounds, and those that lost the status since
    the previous list with the reason. Immutable: a date is published once."""
    if db.execute(
        "SELECT 1 FROM cert_lists WHERE scope_id = ? AND on_date = ?", [scope_id, on.isoformat()]
    ).fetchone():
        raise CertError("on_date", "the list of %(date)s is published already", date=on.isoformat())
    later = db.execute(
        "SELECT on_date FROM cert_lists WHERE scope_id = ? AND on_date > ? LIMIT 1",
        [scope_id, on.isoformat()],
    ).fetchone()
    if later:
        raise CertError("on_date", "a later list (%(date)s) is published already", date=later[0])
    previous = last_list(db, scope_id, on)
    before = {e["compound_id"] for e in previous["entries"]["certified"]} if previous else set()
    certified, changes = [], []
    for s in statuses:
        entry = {
            "compound_id": s["compound_id"],
            "name": s["name"],
            "state": s["state"],
            "certified_on": _iso(s["certified_on"]),
            "since": _iso(s["since"]),
            "reason": s["reason"],
        }
        if s["state"] == "certified":
            certified.append(entry)
        elif s["compound_id"] in before:
            changes.append(entry)
    entries = {
        "certified": certified,
        "changes": changes,
        "previous_list": previous["on_date"] if previous else None,
    }
    return (
        db["cert_lists"]
        .insert(
            {
                "scope_id": scope_id,
                "scope_name": scope_name,
                "on_date": on.isoformat(),
                "entries": json.dumps(entries, ensure_ascii=False),
                "published_by": by,
                "published_at": _now(),
            }
        )
        .last_pk
    )


def lists(db: Database, scope_id: str | None = None) -> list[dict]:
    sql = "SELECT * FROM cert_lists"
    params: list[Any] = []
    if scope_id:
        sql += " WHERE scope_id = ?"
        params.append(scope_id)
    rows = db.query(sql + " ORDER BY on_date DESC, id DESC", params)
    return [{**r, "entries": json.loads(r["entries"])} for r in rows]


def get_list(db: Database, list_id: int) -> dict | None:
    rows = list(db.query("SELECT * FROM cert_lists WHERE id = ?", [list_id]))
    return {**rows[0], "entries": json.loads(rows[0]["entries"])} if rows else None


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value
