"""Certification tables (migrations) and the SQL that loads a compound's facts. `db` first.

Server-only tables: closures, work groups, attestations (what no synced record shows),
stored checks (each names its rule version and keeps its explanation), applications
and decisions, revocations, and the published dated lists (immutable snapshots); their
SQL is in records.py. Synced tables are read here with plain SQL.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlite_utils import Database, Migrations

from .days import LocalDays
from .facts import (
    Attestation,
    Building,
    Closure,
    CompoundFacts,
    Delivery,
    DisinfectionLog,
    HealthCase,
    Household,
    MedicineRequest,
    Resident,
    TemperatureCheck,
    WorkGroup,
)
from .rules import RuleVersion

migrations = Migrations("lastmeter.certification")


@migrations()
def m001_certification(db: Database) -> None:
    db["cert_closures"].create(
        {
            "id": int,
            "compound_id": str,
            "closed_on": str,
            "open_entrances": str,  # one entrance per line
            "note": str,
            "recorded_by": str,
            "recorded_at": int,
        },
        pk="id",
        not_null={"compound_id", "closed_on"},
    )
    db["cert_closures"].create_index(["compound_id", "closed_on"])
    db["cert_work_groups"].create(
        {"compound_id": str, "kind": str, "members": str, "updated_by": str, "updated_at": int},
        pk=("compound_id", "kind"),
    )
    db["cert_attestations"].create(
        {
            "id": int,
            "compound_id": str,
            "item": str,
            "note": str,
            "by": str,
            "on_date": str,
            "photo_sha256": str,
            "created_at": int,
        },
        pk="id",
        not_null={"compound_id", "item", "note", "by", "on_date"},
    )
    db["cert_attestations"].create_index(["compound_id", "item"])
    db["cert_checks"].create(
        {
            "id": int,
            "compound_id": str,
            "on_date": str,
            "rule_version": str,
            "timezone": str,
            "passed": int,
            "explanation": str,  # Explanation.to_dict() as JSON
            "checked_by": str,
            "checked_at": int,
        },
        pk="id",
        not_null={"compound_id", "on_date", "rule_version", "passed", "explanation"},
    )
    db["cert_checks"].create_index(["compound_id", "on_date"])
    db["cert_applications"].create(
        {
            "id": int,
            "compound_id": str,
            "on_date": str,
            "check_id": int,
            "status": str,  # pending, approved, rejected
            "applied_by": str,
            "applied_at": int,
            "decided_by": str,
            "decided_at": int,
            "decision_note": str,
        },
        pk="id",
        not_null={"compound_id", "on_date", "check_id", "status", "applied_by"},
        foreign_keys=[("check_id", "cert_checks", "id")],
    )
    db["cert_applications"].create_index(["compound_id", "status", "on_date"])
    db["cert_revocations"].create(
        {"id": int, "compound_id": str, "on_date": str, "reason": str, "by": str, "at": int},
        pk="id",
        not_null={"compound_id", "on_date", "reason", "by"},
    )
    db["cert_lists"].create(
        {
            "id": int,
            "scope_id": str,
            "scope_name": str,
            "on_date": str,
            "entries": str,  # JSON: certified compounds, and changes since the last list
            "published_by": str,
            "published_at": int,
        },
        pk="id",
        not_null={"scope_id", "on_date", "entries", "published_by"},
    )
    db["cert_lists"].create_index(["scope_id", "on_date"], unique=True)


@migrations()
def m002_check_indexes(db: Database) -> None:
    """The check reads a compound's last days of checks and its rare fever readings: both
    range scans with these, instead of every check the compound ever had."""
    db.execute(
        "CREATE INDEX IF NOT EXISTS cert_checks_compound_time "
        "ON temperature_checks (compound_id, measured_at)"
    )
    db.execute(
        "CREATE INDEX IF NOT EXISTS cert_checks_compound_fever "
        "ON temperature_checks (compound_id, temperature_c, measured_at)"
    )


@migrations()
def m003_change_counter(db: Database) -> None:
    """One number bumped by every change to the certification tables (triggers, so no
    code path can forget): with the replica's counter it keys the cache of checks."""
    db.execute("CREATE TABLE cert_meta (key TEXT PRIMARY KEY, n INTEGER NOT NULL)")
    db.execute("INSERT INTO cert_meta (key, n) VALUES ('changes', 0)")
    bump = "UPDATE cert_meta SET n = n + 1 WHERE key = 'changes'"
    for table in (
        "cert_closures",
        "cert_work_groups",
        "cert_attestations",
        "cert_applications",
        "cert_revocations",
    ):
        for event in ("INSERT", "UPDATE", "DELETE"):
            db.execute(
                f"CREATE TRIGGER {table}_{event.lower()}_bump AFTER {event} ON {table} "
                f"BEGIN {bump}; END"
            )


@migrations()
def m004_presence_index(db: Database) -> None:
    """Screening asks which households were checked on which days: with household_id in
    the index that is answered from the index alone, not one table row per check (about
    3x faster over a community's 300,000 checks, docs/benchmarks.md). It replaces the
    (compound_id, measured_at) index, a prefix of this one."""
    db.execute(
        "CREATE INDEX IF NOT EXISTS cert_checks_presence "
        "ON temperature_checks (compound_id, measured_at, household_id)"
    )
    db.execute("DROP INDEX IF EXISTS cert_checks_compound_time")


def data_version(db: Database) -> tuple[int, int]:
    """(the replica's change counter, the certification tables' change counter)."""
    row = db.execute("SELECT value FROM _lm_meta WHERE key = 'counter'").fetchone()
    mine = db.execute("SELECT n FROM cert_meta WHERE key = 'changes'").fetchone()
    return int(row[0] or 0) if row else 0, int(mine[0]) if mine else 0


# The synced tables a check reads, besides `compounds` (whose row the caller compares).
# Rows of the append-only ones are only ever added, each with a new _ctr (its rowid), so
# a compound's highest _ctr moves with every new row. Rows of the others change in place,
# each change taking a new _ctr, and can move to another compound (compound_id edited):
# the count per compound shows that a row left.
APPEND_ONLY = ("temperature_checks", "disinfection_logs")
EDITABLE = (
    "buildings",
    "households",
    "residents",
    "deliveries",
    "medicine_requests",
    "health_cases",
)


def compound_versions(db: Database, compound_ids: Sequence[str]) -> dict[str, tuple]:
    """For each compound, a value that changes whenever a synced row its check reads is
    added to it, changed in it or moved out of it: a cached check of the compound holds
    while the value is the same. Index lookups and small scans only (~2 ms for 20
    compounds of 250 households), against ~10 ms to load one compound's facts."""
    ids = list(compound_ids)
    if not ids:
        return {}
    con = db.conn
    out: dict[str, list] = {cid: [] for cid in ids}
    newest = ", ".join(
        f"(SELECT max(_ctr) FROM {t} WHERE compound_id = c.value)" for t in APPEND_ONLY
    )
    for row in con.execute(f"SELECT c.value, {newest} FROM json_each(?) c", [json.dumps(ids)]):
        out[row[0]].extend(row[1:])
    inn = f"compound_id IN ({_marks(ids)})"
    for t in EDITABLE:
        sql = f"SELECT compound_id, count(*), max(_ctr) FROM {t} WHERE {inn} GROUP BY compound_id"
        found = {r[0]: (r[1], r[2]) for r in con.execute(sql, ids)}
        for cid in ids:
            out[cid].append(found.get(cid))
    return {cid: tuple(v) for cid, v in out.items()}


def _marks(values: Sequence[Any]) -> str:
    return ",".join("?" * len(values))


def has_table(db: Database, name: str) -> bool:
    sql = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
    return db.execute(sql, [name]).fetchone() is not None


# -- compounds and the units above them ---------------------------------------------------


def compounds(
    db: Database, ids: Sequence[str] | None = None, community_id: str | None = None
) -> list[dict]:
    sql = "SELECT id, name, community_id FROM compounds WHERE deleted = 0"
    params: list[Any] = []
    if ids is not None:
        if not ids:
            return []
        sql += f" AND id IN ({_marks(ids)})"
        params += list(ids)
    if community_id is not None:
        sql += " AND community_id = ?"
        params.append(community_id)
    return list(db.query(sql + " ORDER BY name, id", params))


def unit(db: Database, unit_id: str) -> dict:
    """A community or village: its places row when the register has one, else a bare unit
    named by the id the compounds carry."""
    if has_table(db, "places"):
        rows = list(
            db.query("SELECT id, level, name, parent_id FROM places WHERE id = ?", [unit_id])
        )
        if rows:
            return rows[0]
    return {"id": unit_id, "level": "community", "name": unit_id, "parent_id": None}


def units(db: Database) -> list[dict]:
    """Every community or village that holds a compound on this server."""
    ids = [
        r[0]
        for r in db.execute(
            "SELECT DISTINCT community_id FROM compounds WHERE deleted = 0 AND "
            "community_id IS NOT NULL"
        )
    ]
    return sorted((unit(db, i) for i in ids), key=lambda u: (u["name"], u["id"]))


def place_path(db: Database, unit_id: str | None) -> dict[str, dict]:
    """The unit's ancestors by level (street, district, city) when the register has them."""
    out: dict[str, dict] = {}
    if not unit_id or not has_table(db, "places"):
        return out
    seen: set[str] = set()
    place_id: str | None = unit_id
    while place_id and place_id not in seen:
        seen.add(place_id)
        rows = list(
            db.query("SELECT id, level, name, parent_id FROM places WHERE id = ?", [place_id])
        )
        if not rows:
            break
        out.setdefault(rows[0]["level"], rows[0])
        place_id = rows[0]["parent_id"]
    return out


# -- facts -----------------------------------------------------------------------------------


def _by_compound(rows: Iterable[tuple], make) -> dict[str, list]:
    out: dict[str, list] = {}
    for row in rows:
        out.setdefault(row[0], []).append(make(row))
    return out


def _text_day(day: dt.date) -> str:
    return day.isoformat()


def load_facts(
    db: Database,
    compound_ids: Sequence[str],
    on: dt.date,
    version: RuleVersion,
    days: LocalDays | None = None,
) -> dict[str, CompoundFacts]:
    """Each compound's facts for a check on `on`: only the rows the rules can look at.

    Stamps are filtered by their text date one day wider than needed (a stamp's text date
    is within a day of its local date); the check itself decides by local date."""
    with gc_paused():
        return _load_facts(db, compound_ids, on, version, days)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Tens of thousands of rows and small objects, none in a cycle: the cyclic GC would
    walk them, and the whole heap, again and again while they are made (a fifth to a
    quarter of a load, docs/benchmarks.md). Paused as Replica.apply does; whoever paused
    it from on turns it back on, so it always ends on, whatever the threads do."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def _load_facts(
    db: Database,
    compound_ids: Sequence[str],
    on: dt.date,
    version: RuleVersion,
    days: LocalDays | None,
) -> dict[str, CompoundFacts]:
    if not compound_ids:
        return {}
    ids = list(compound_ids)
    inn = f"compound_id IN ({_marks(ids)})"
    con = db.conn
    day = dt.timedelta(days=1)
    scr_lo = _text_day(on - dt.timedelta(days=version.screening_days) - day)
    win_lo = _text_day(on - dt.timedelta(days=version.window_days) - day)
    hi = _text_day(on + day) + "~"
    on_hi = _text_day(on) + "~"
    dis_lo = _text_day(on - dt.timedelta(days=version.disinfection_days) - day)
    sup_lo = _text_day(on - dt.timedelta(days=version.supply_days) - day)
    threshold = float(version.fever_threshold_c)

    names = {r["id"]: r for r in compounds(db, ids)}
    buildings = _by_compound(
        con.execute(
            f"SELECT compound_id, id, name FROM buildings WHERE deleted = 0 AND {inn} "
            "ORDER BY name",
            ids,
        ),
        lambda r: Building(r[1], r[2]),
    )
    households = _by_compound(
        con.execute(
            f"SELECT compound_id, id, building, unit, owner_name FROM households "
            f"WHERE deleted = 0 AND {inn} ORDER BY building, unit",
            ids,
        ),
        lambda r: Household(r[1], r[2], r[3], r[4]),
    )
    residents = _by_compound(
        con.execute(
            "SELECT compound_id, id, household_id, name FROM residents WHERE deleted "
            f"= 0 AND {inn}",
            ids,
        ),
        lambda r: Resident(r[1], r[2], r[3]),
    )
    # Screening needs to know which households were checked on which of the last days;
    # the window needs the fever readings. Rows come back as plain tuples in
    # TemperatureCheck's field order, one query per compound, no Python object per row.
    # When the zone keeps one offset all through, the checks written with that offset
    # (their text date is their local date) come one row per household and day of the
    # screening days exactly, with no id and a temperature of -1 (presence only); other
    # checks come as they are, from one day wider.
    cols = "id, household_id, resident_id, temperature_c, measured_at"
    fever_sql = (
        f"SELECT {cols} FROM temperature_checks INDEXED BY cert_checks_compound_fever "
        "WHERE compound_id = ? AND temperature_c >= ? AND measured_at >= ? AND measured_at <= ?"
    )
    offset = (
        days.single_offset(on - dt.timedelta(days=version.screening_days + 1), on + day)
        if days
        else None
    )
    if offset is not None:
        presence_sql = (
            "SELECT NULL, household_id, NULL, -1.0, min(measured_at) FROM temperature_checks "
            "WHERE compound_id = ? AND measured_at >= ? AND measured_at <= ? "
            "AND substr(measured_at, -6) = ? GROUP BY household_id, substr(measured_at, 1, 10) "
            "UNION ALL SELECT NULL, household_id, NULL, -1.0, measured_at FROM temperature_checks "
            "WHERE compound_id = ? AND measured_at >= ? AND measured_at <= ? "
            "AND substr(measured_at, -6) != ?"
        )
        own = [_text_day(on - dt.timedelta(days=version.screening_days - 1)), on_hi, offset]
        args = [scr_lo, hi, offset]
        checks = {
            cid: con.execute(presence_sql, [cid, *own, cid, *args]).fetchall()
            + con.execute(fever_sql, [cid, threshold, win_lo, hi]).fetchall()
            for cid in ids
        }
    else:
        check_sql = (
            f"SELECT {cols} FROM temperature_checks WHERE compound_id = ? "
            "AND measured_at >= ? AND measured_at <= ? AND temperature_c < ? UNION ALL " + fever_sql
        )
        checks = {
            cid: con.execute(
                check_sql, [cid, scr_lo, hi, threshold, cid, threshold, win_lo, hi]
            ).fetchall()
            for cid in ids
        }
    logs = _by_compound(
        con.execute(
            "SELECT compound_id, id, area, done_at, building FROM disinfection_logs "
            f"WHERE {inn} AND done_at >= ? AND done_at <= ?",
            [*ids, dis_lo, hi],
        ),
        lambda r: DisinfectionLog(r[1], r[2], r[3], r[4]),
    )
    deliveries = _by_compound(
        con.execute(
            "SELECT compound_id, id, household_id, status, delivered_at, kind FROM deliveries "
            f"WHERE deleted = 0 AND {inn} AND status IN ('delivered', 'refused') "
            "AND delivered_at >= ? AND delivered_at <= ?",
            [*ids, sup_lo, hi],
        ),
        lambda r: Delivery(r[1], r[2], r[3], r[4], r[5]),
    )
    medicine = _by_compound(
        con.execute(
            "SELECT compound_id, id, household_id, drug_name, status, created_at FROM "
            "medicine_requests "
            f"WHERE deleted = 0 AND {inn} AND status IN ('requested', 'bought')",
            ids,
        ),
        lambda r: MedicineRequest(r[1], r[2], r[3], r[4], r[5] or created_from_id(r[1])),
    )
    cases = _by_compound(
        con.execute(
            "SELECT compound_id, id, category, start_date, released_on, resident_id, household_id, "
            f"source_check_id FROM health_cases WHERE deleted = 0 AND {inn} AND start_date <= ?",
            [*ids, on.isoformat()],
        ),
        lambda r: HealthCase(
            r[1],
            r[2],
            dt.date.fromisoformat(r[3]),
            dt.date.fromisoformat(r[4]) if r[4] else None,
            r[5],
            r[6],
            r[7],
        ),
    )
    closures = _by_compound(
        con.execute(
            f"SELECT compound_id, closed_on, open_entrances, note FROM cert_closures WHERE {inn} "
            "AND closed_on <= ? ORDER BY closed_on",
            [*ids, on.isoformat()],
        ),
        lambda r: Closure.from_row({"closed_on": r[1], "open_entrances": r[2], "note": r[3]}),
    )
    groups = _by_compound(
        con.execute(f"SELECT compound_id, kind, members FROM cert_work_groups WHERE {inn}", ids),
        lambda r: WorkGroup(r[1], tuple(json.loads(r[2] or "[]"))),
    )
    attestations = _by_compound(
        con.execute(
            "SELECT compound_id, item, note, by, on_date, photo_sha256 FROM "
            f"cert_attestations WHERE {inn} "
            "AND on_date <= ?",
            [*ids, on.isoformat()],
        ),
        lambda r: Attestation(r[1], r[2], r[3], dt.date.fromisoformat(r[4]), r[5]),
    )
    out = {}
    for cid in ids:
        row = names.get(cid)
        if row is None:
            continue
        out[cid] = CompoundFacts(
            cid,
            row["name"],
            row["community_id"],
            buildings.get(cid, []),
            households.get(cid, []),
            residents.get(cid, []),
            checks.get(cid, []),
            logs.get(cid, []),
            deliveries.get(cid, []),
            medicine.get(cid, []),
            cases.get(cid, []),
            closures.get(cid, []),
            groups.get(cid, []),
            attestations.get(cid, []),
        )
    return out


def created_from_id(row_id: str) -> str:
    """A UUIDv7 id holds its creation time (ms); other ids count as made long ago, so an
    open request of unknown age is treated as overdue rather than silently fresh."""
    hexdigits = row_id.replace("-", "")
    try:
        ms = int(hexdigits[:12], 16) if len(hexdigits) == 32 and hexdigits[12] == "7" else 0
    except ValueError:
        ms = 0
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat()


def fever_checks_since(
    db: Database, compound_id: str, since: dt.date, until: dt.date, version: RuleVersion
) -> list[TemperatureCheck]:
    rows = db.execute(
        "SELECT id, household_id, resident_id, temperature_c, measured_at FROM temperature_checks "
        "WHERE compound_id = ? AND temperature_c >= ? AND measured_at >= ? AND measured_at <= ?",
        [
            compound_id,
            float(version.fever_threshold_c),
            (since - dt.timedelta(days=1)).isoformat(),
            (until + dt.timedelta(days=1)).isoformat() + "~",
        ],
    )
    return [TemperatureCheck(*r) for r in rows]


def cases_facts(db: Database, compound_id: str, on: dt.date) -> CompoundFacts:
    """Names and every case of a compound, for the loss check over a long period."""
    con = db.conn
    cases = [
        HealthCase(
            r[0],
            r[1],
            dt.date.fromisoformat(r[2]),
            dt.date.fromisoformat(r[3]) if r[3] else None,
            r[4],
            r[5],
            r[6],
        )
        for r in con.execute(
            "SELECT id, category, start_date, released_on, resident_id, household_id, "
            "source_check_id "
            "FROM health_cases WHERE deleted = 0 AND compound_id = ? AND start_date <= ?",
            [compound_id, on.isoformat()],
        )
    ]
    households = [
        Household(*r)
        for r in con.execute(
            "SELECT id, building, unit, owner_name FROM households WHERE deleted = 0 "
            "AND compound_id = ?",
            [compound_id],
        )
    ]
    residents = [
        Resident(*r)
        for r in con.execute(
            "SELECT id, household_id, name FROM residents WHERE deleted = 0 AND compound_id = ?",
            [compound_id],
        )
    ]
    return CompoundFacts(
        compound_id, households=households, residents=residents, health_cases=cases
    )
