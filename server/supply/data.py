"""Supply storage: server-only tables and the SQL of distribution rounds. `db` comes first.

Rounds, their confirmed lines, the standing policies, the donations ledger and medicine
stock moves live only on the server. What volunteers must do reaches the agents as
`deliveries` rows, written through the replica so they sync.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlite_utils import Database, Migrations

from sync import Replica, new_id

from .allocate import DEFAULT_POLICY, Plan, PlanError, Policy, Received, plan, to_decimal

migrations = Migrations("lastmeter.supply")

# Deliveries made by a confirmed round or an offer get ids derived from it, so confirming
# twice (a retry after a crash between two writes) never makes a second delivery.
DELIVERY_NS = uuid.UUID("6f1c2b1e-8f5d-4c57-9a61-3d1f0e2a7b44")


@migrations()
def m001_supply(db: Database) -> None:
    db["supply_policies"].create(
        {"compound_id": str, "criteria": str, "updated_at": str, "updated_by": str},
        pk="compound_id",
    )
    db["supply_rounds"].create(
        {
            "id": str,
            "compound_ids": str,  # JSON list
            "item": str,
            "unit": str,
            "quantity": str,  # exact decimal text
            "per_household": str,
            "divisible": int,
            "policy": str,  # JSON list of criteria
            "seed": int,
            "status": str,  # draft, confirmed, cancelled
            "note": str,
            "created_at": str,
            "created_by": str,
            "confirmed_at": str,
            "confirmed_by": str,
        },
        pk="id",
        not_null={"item", "unit", "quantity", "per_household", "policy", "seed", "status"},
    )
    db["supply_rounds"].create_index(["item", "unit", "status"])
    db["supply_round_lines"].create(
        {
            "round_id": str,
            "household_id": str,
            "rank": int,
            "tier_name": str,
            "received_before": str,
            "last_received": str,
            "draw": int,
            "quantity": str,
            "outcome": str,
            "building": str,
            "unit": str,
            "owner_name": str,
            "delivery_id": str,
        },
        pk=("round_id", "household_id"),
    )
    db["ledger_entries"].create(
        {
            "id": str,
            "kind": str,
            "purpose": str,
            "date": str,
            "amount_yuan": str,
            "item": str,
            "unit": str,
            "quantity": str,
            "counterparty": str,
            "note": str,
            "corrects": str,
            "created_at": str,
            "created_by": str,
        },
        pk="id",
        not_null={"kind", "purpose", "date"},
    )
    db["medicine_moves"].create(
        {
            "id": str,
            "request_id": str,  # the refused request whose medicine moves
            "action": str,  # reassigned or returned
            "to_request_id": str,
            "value_yuan": str,
            "note": str,
            "at": str,
            "by": str,
        },
        pk="id",
        not_null={"request_id", "action"},
    )
    db["medicine_moves"].create_index(["request_id"], unique=True)
    # Immutable by construction: the database itself refuses edits and deletions.
    for table in ("ledger_entries", "medicine_moves"):
        for op in ("UPDATE", "DELETE"):
            db.execute(
                f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} are immutable; add a correction'); END"
            )


@migrations()
def m002_history_index(db: Database) -> None:
    # Covers the history query: rows of one compound's round deliveries come in household
    # order straight from the index, never from the wide synced rows (bench/supplies.py).
    db.execute(
        "CREATE INDEX IF NOT EXISTS supply_deliveries_history ON deliveries "
        "(compound_id, kind, household_id, round_id, quantity, status, delivered_at, deleted)"
    )


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


# -- the register ---------------------------------------------------------------------------


def compound_names(db: Database) -> dict[str, str]:
    rows = db.execute("SELECT id, name FROM compounds WHERE deleted = 0 ORDER BY name, id")
    return {r[0]: r[1] for r in rows}


def households(db: Database, compound_ids: Sequence[str]) -> list[dict[str, Any]]:
    marks = ",".join("?" * len(compound_ids))
    sql = (
        "SELECT id, compound_id, building, unit, owner_name, medical_worker, hardship, "
        f"elderly_alone FROM households WHERE deleted = 0 AND compound_id IN ({marks}) "
        "ORDER BY building, unit, id"
    )
    return list(db.query(sql, list(compound_ids)))


def history(db: Database, item: str, unit: str, compound_ids: Sequence[str]) -> dict[str, Received]:
    """What each household received of this item in confirmed rounds (refusals excluded).

    The bare SQL of a round's plan: one grouped scan of that item's deliveries.
    """
    marks = ",".join("?" * len(compound_ids))
    sql = (
        "SELECT d.household_id, SUM(d.quantity), "
        "MAX(substr(COALESCE(d.delivered_at, r.confirmed_at), 1, 10)) "
        "FROM supply_rounds r JOIN deliveries d ON d.round_id = r.id "
        "WHERE r.item = ? AND r.unit = ? AND r.status = 'confirmed' AND d.deleted = 0 "
        f"AND d.kind = 'round' AND d.status IS NOT 'refused' AND d.compound_id IN ({marks}) "
        "GROUP BY d.household_id"
    )
    out = {}
    for household_id, items, last in db.execute(sql, [item, unit, *compound_ids]):
        out[household_id] = Received(Decimal(str(items or 0)).normalize(), last)
    return out


# -- policies -------------------------------------------------------------------------------


def get_policy(db: Database, compound_id: str) -> Policy:
    row = db.execute(
        "SELECT criteria FROM supply_policies WHERE compound_id = ?", [compound_id]
    ).fetchone()
    return Policy.from_data(json.loads(row[0])) if row else DEFAULT_POLICY


def set_policy(db: Database, compound_id: str, criteria: Sequence[str], user: str) -> Policy:
    policy = Policy(tuple(criteria))
    db["supply_policies"].upsert(
        {
            "compound_id": compound_id,
            "criteria": json.dumps(policy.to_data()),
            "updated_at": now_iso(),
            "updated_by": user,
        },
        pk="compound_id",
    )
    return policy


# -- rounds ---------------------------------------------------------------------------------


def _text(value: Any, field: str, limit: int) -> str:
    value = (value or "").strip() if isinstance(value, str | type(None)) else ""
    if not value:
        raise PlanError(field, "%(field)s is required", field=field)
    if len(value) > limit:
        raise PlanError(
            field, "%(field)s is longer than %(limit)s characters", field=field, limit=limit
        )
    return value


def create_round(
    db: Database,
    *,
    compound_ids: Sequence[str],
    item: Any,
    unit: Any,
    quantity: Any,
    per_household: Any = 1,
    divisible: bool = False,
    policy: Policy | None = None,
    seed: int | None = None,
    note: str = "",
    user: str = "",
) -> str:
    """Record a draft round after checking its inputs (PlanError names the bad field)."""
    known = compound_names(db)
    if not compound_ids:
        raise PlanError("compound_ids", "choose at least one compound")
    for compound_id in compound_ids:
        if compound_id not in known:
            raise PlanError("compound_ids", "unknown compound %(id)s", id=compound_id)
    item, unit = _text(item, "item", 200), _text(unit, "unit", 40)
    policy = policy or get_policy(db, compound_ids[0])
    # A dry run checks quantities and seed with the plan's own rules.
    trial = plan([], {}, quantity, policy, seed, per_household, divisible)
    round_id = new_id()
    db["supply_rounds"].insert(
        {
            "id": round_id,
            "compound_ids": json.dumps(list(compound_ids)),
            "item": item,
            "unit": unit,
            "quantity": str(trial.quantity),
            "per_household": str(trial.per_household),
            "divisible": int(divisible),
            "policy": json.dumps(policy.to_data()),
            "seed": trial.seed,
            "status": "draft",
            "note": (note or "").strip()[:1000],
            "created_at": now_iso(),
            "created_by": user,
        }
    )
    return round_id


def get_round(db: Database, round_id: str) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM supply_rounds WHERE id = ?", [round_id]))
    if not rows:
        return None
    row = rows[0]
    row["compound_ids"] = json.loads(row["compound_ids"])
    row["policy"] = Policy.from_data(json.loads(row["policy"]))
    return row


def list_rounds(db: Database, compound_ids: Sequence[str]) -> list[dict[str, Any]]:
    seen = set(compound_ids)
    out = []
    for row in db.query("SELECT * FROM supply_rounds ORDER BY created_at DESC, id DESC"):
        ids = json.loads(row["compound_ids"])
        if seen.issuperset(ids):
            row["compound_ids"] = ids
            out.append(row)
    return out


def plan_round(db: Database, rnd: dict[str, Any]) -> tuple[Plan, dict[str, dict[str, Any]]]:
    """The round's plan from today's register and history, with the households by id."""
    homes = households(db, rnd["compound_ids"])
    past = history(db, rnd["item"], rnd["unit"], rnd["compound_ids"])
    result = plan(
        homes,
        past,
        rnd["quantity"],
        rnd["policy"],
        rnd["seed"],
        rnd["per_household"],
        bool(rnd["divisible"]),
    )
    return result, {h["id"]: h for h in homes}


def fingerprint(p: Plan) -> str:
    """Short digest of who gets what: confirming checks the plan is the one that was shown."""
    text = ";".join(f"{a.household_id}={a.quantity}" for a in p.allocations)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class StalePlan(Exception):
    """The register or history changed between showing the plan and confirming it."""


def delivery_id(source_id: str, household_id: str) -> str:
    return str(uuid.uuid5(DELIVERY_NS, f"{source_id}/{household_id}"))


def confirm_round(db: Database, replica: Replica, round_id: str, shown: str, user: str) -> Plan:
    """Turn the plan into deliveries (synced) and freeze its lines; idempotent on retry."""
    rnd = get_round(db, round_id)
    if rnd is None or rnd["status"] != "draft":
        raise PlanError("round", "only a draft round can be confirmed")
    result, homes = plan_round(db, rnd)
    if fingerprint(result) != shown:
        raise StalePlan("the register or past deliveries changed since the plan was shown")
    label = f"{rnd['item']} ({rnd['unit']})"
    wanted = {
        delivery_id(round_id, a.household_id): {
            "compound_id": homes[a.household_id]["compound_id"],
            "household_id": a.household_id,
            "kind": "round",
            "items": label[:500],
            "quantity": float(a.quantity),
            "status": "planned",
            "round_id": round_id,
        }
        for a in result.served
    }
    present = {r[0] for r in db.execute("SELECT id FROM deliveries WHERE round_id = ?", [round_id])}
    missing = {k: v for k, v in wanted.items() if k not in present}
    if missing:
        replica.write_many("deliveries", missing)
    lines = []
    for a in result.allocations:
        home = homes[a.household_id]
        lines.append(
            {
                "round_id": round_id,
                "household_id": a.household_id,
                "rank": a.rank,
                "tier_name": a.tier_name,
                "received_before": str(a.received_before),
                "last_received": None if a.last_received is None else str(a.last_received),
                "draw": a.draw,
                "quantity": str(a.quantity),
                "outcome": a.outcome,
                "building": home["building"],
                "unit": home["unit"],
                "owner_name": home["owner_name"],
                "delivery_id": delivery_id(round_id, a.household_id) if a.quantity else None,
            }
        )
    with db.atomic():
        db["supply_round_lines"].upsert_all(lines, pk=("round_id", "household_id"))
        db.execute(
            "UPDATE supply_rounds SET status = 'confirmed', confirmed_at = ?, confirmed_by = ? "
            "WHERE id = ?",
            [now_iso(), user, round_id],
        )
    return result


def cancel_round(db: Database, round_id: str) -> bool:
    cur = db.execute(
        "UPDATE supply_rounds SET status = 'cancelled' WHERE id = ? AND status = 'draft'",
        [round_id],
    )
    return cur.rowcount == 1


def round_lines(db: Database, round_id: str) -> list[dict[str, Any]]:
    return list(
        db.query("SELECT * FROM supply_round_lines WHERE round_id = ? ORDER BY rank", [round_id])
    )


def packing_lists(db: Database, round_id: str) -> list[tuple[str, list[dict[str, Any]], Decimal]]:
    """(building, lines, total) for a confirmed round, buildings and units in order."""
    rows = db.query(
        "SELECT * FROM supply_round_lines WHERE round_id = ? AND delivery_id IS NOT NULL "
        "ORDER BY building, unit, household_id",
        [round_id],
    )
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(row["building"] or "", []).append(row)
    return [
        (building, lines, sum((to_decimal(r["quantity"], "quantity") for r in lines), Decimal(0)))
        for building, lines in groups.items()
    ]
