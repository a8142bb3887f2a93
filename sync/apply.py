"""Merging another replica's batch: check every cell, then keep the winner of each cell.

Called by `Replica.apply` inside one write transaction. Every cell of a well-formed row
ends up either counted in `result.accepted` (it won, lost, or was already known) or listed
in `result.rejected` with a reason code; nothing is dropped silently.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from . import store
from .clock import millis
from .protocol import ApplyResult, Batch, BatchError, Rejection, bad_row, bad_sites
from .schema import Problem, Table
from .store import q

if TYPE_CHECKING:
    from .replica import Policy, Replica

PART = 2000  # rows merged at a time: bounds memory whatever the batch size
_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

# A checked row: (row_id, hlc, site no, prev hlc, prev site no, columns, values).
Entry = tuple[str, int, int, "int | None", "int | None", tuple[str, ...], list[Any]]

CLOCK_AHEAD = "stamped too far ahead of this clock; check the device's date and time"


def apply_batch(replica: Replica, batch: Batch, policy: Policy | None) -> ApplyResult:
    problem = bad_sites(batch.sites)
    if problem:
        raise BatchError(f"malformed batch: {problem}")
    result = ApplyResult()
    limit_ms = replica.clock.now_ms() + replica.max_drift_ms
    site_nos: list[int | None] = [None] * len(batch.sites)

    def site_no(index: int) -> int:
        no = site_nos[index]
        if no is None:
            no = site_nos[index] = replica.sites.no(batch.sites[index])
        return no

    for name, chunk in batch.tables.items():
        t = replica.schema.tables.get(name)
        for part in store.chunks(chunk.rows, PART):
            if t is None:
                _reject_table(name, chunk.columns, part, len(batch.sites), result)
                continue
            entries = _parse(t, chunk.columns, part, batch.sites, site_no, limit_ms, result)
            if t.immutable:
                _merge_immutable(replica, t, entries, policy, result)
            else:
                _merge_mutable(replica, t, entries, policy, result)
    return result


def _reject_table(
    name: str, columns: list[str], rows: Sequence[Any], nsites: int, result: ApplyResult
) -> None:
    msg = f"no table {name!r} here"
    for raw in rows:
        if bad_row(raw, len(columns), nsites):
            result.rejected.append(_malformed(name, raw, "malformed row"))
            continue
        for col, value in _cells(columns, raw[4], raw[5]):
            result.rejected.append(Rejection(name, raw[0], col, "unknown_table", msg, value))


def _cells(columns: Sequence[str], mask: int, values: list[Any]) -> list[tuple[str, Any]]:
    cols = [columns[i] for i in range(mask.bit_length()) if mask >> i & 1]
    return list(zip(cols, values, strict=True))


def _malformed(table: str, raw: Any, problem: str) -> Rejection:
    rid = raw[0] if type(raw) is list and raw and type(raw[0]) is str and raw[0] else None
    reason = "malformed" if rid is not None else "missing_id"
    return Rejection(table, rid, None, reason, f"{table}: {problem}")


def _parse(
    t: Table,
    columns: list[str],
    rows: Sequence[Any],
    sites: list[str],
    site_no: Callable[[int], int],
    limit_ms: int,
    result: ApplyResult,
) -> list[Entry]:
    """Check each row's shape and stamp and each cell's value; return the good entries.

    Rows are grouped by mask so that each column of a group is checked in one call
    (`Column.bulk_checker`); only a column that fails it is checked cell by cell.
    """
    rejected = result.rejected
    ncols, nsites = len(columns), len(sites)
    groups: dict[int, list[list[Any]]] = {}
    for raw in rows:
        problem = bad_row(raw, ncols, nsites)
        if problem:
            rejected.append(_malformed(t.name, raw, problem))
        elif millis(raw[1]) > limit_ms:
            site = sites[raw[2]]
            for col, value in _cells(columns, raw[4], raw[5]):
                rejected.append(
                    Rejection(t.name, raw[0], col, "clock_ahead", CLOCK_AHEAD, value, raw[1], site)
                )
        else:
            groups.setdefault(raw[4], []).append(raw)
    entries: list[Entry] = []
    for mask, group in groups.items():
        cols = tuple(columns[i] for i in range(mask.bit_length()) if mask >> i & 1)
        bad: dict[int, list[tuple[str, Any, Problem]]] = {}
        for j, col in enumerate(cols):
            values = [raw[5][j] for raw in group]
            if col == "deleted" and not t.immutable:
                bulk, check = _deleted_bulk, _deleted_check
            elif col in t.by_name:
                bulk, check = t.bulk_checks[col], t.checks[col]
            else:
                problem = ("unknown_column", f"{t.name} has no column {col!r}")
                for k, value in enumerate(values):
                    bad.setdefault(k, []).append((col, value, problem))
                continue
            if not bulk(values):
                for k, value in enumerate(values):
                    found = check(value)
                    if found:
                        bad.setdefault(k, []).append((col, value, found))
        missing = [c for c in t.required if c not in cols] if t.immutable else []
        for k, raw in enumerate(group):
            row_id, hlc, si, prev, _mask, values = raw
            problems = bad.get(k)
            if t.immutable and (problems or missing):
                _reject_row(t, raw, cols, problems or [], missing, sites[si], rejected)
                continue
            if problems:
                site = sites[si]
                skip = set()
                for col, value, (reason, msg) in problems:
                    rejected.append(Rejection(t.name, row_id, col, reason, msg, value, hlc, site))
                    skip.add(col)
                kept = [(c, v) for c, v in zip(cols, values, strict=True) if c not in skip]
                if not kept:
                    continue
                row_cols, values = tuple(c for c, _ in kept), [v for _, v in kept]
            else:
                row_cols = cols
            if prev is None:
                entries.append((row_id, hlc, site_no(si), None, None, row_cols, values))
            else:
                entries.append(
                    (row_id, hlc, site_no(si), prev[0], site_no(prev[1]), row_cols, values)
                )
    return entries


def _reject_row(
    t: Table,
    raw: list[Any],
    cols: tuple[str, ...],
    problems: list[tuple[str, Any, Problem]],
    missing: list[str],
    site: str,
    rejected: list[Rejection],
) -> None:
    """An immutable row is all or nothing: reject every cell, each with a reason."""
    row_id, hlc = raw[0], raw[1]
    own = {col: problem for col, _value, problem in problems}
    if missing:
        first: Problem = ("required", f"{t.name} row lacks {', '.join(missing)}")
    else:
        col, _value, (reason, msg) = problems[0]
        first = ("row_rejected", f"rejected with its row: {msg}")
    for col, value in zip(cols, raw[5], strict=True):
        reason, msg = own.get(col, first)
        rejected.append(Rejection(t.name, row_id, col, reason, msg, value, hlc, site))


def _deleted_check(value: Any) -> Problem | None:
    if value is True or value is False:
        return None
    return ("bad_type", "deleted must be true or false")


def _deleted_bulk(values: Sequence[Any]) -> bool:
    return set(map(type, values)) == {bool}


class _PolicyCache:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.cache: dict[tuple[str, str | None], Problem | None] = {}

    def __call__(self, table: str, compound: str | None) -> Problem | None:
        key = (table, compound)
        if key not in self.cache:
            self.cache[key] = self.policy(table, compound)
        return self.cache[key]


def _reject_entry(
    t: Table, replica: Replica, entry: Entry, problem: Problem, result: ApplyResult
) -> None:
    row_id, hlc, sno, _ph, _ps, cols, values = entry
    site = replica.sites.site(sno)
    result.rejected += [
        Rejection(t.name, row_id, c, *problem, v, hlc, site)
        for c, v in zip(cols, values, strict=True)
    ]


# -- mutable tables -----------------------------------------------------------------------


def _merge_mutable(
    replica: Replica, t: Table, entries: list[Entry], policy: Policy | None, result: ApplyResult
) -> None:
    if not entries:
        return
    order = {c: i for i, c in enumerate(t.wire_columns)}
    cols = sorted({c for e in entries for c in e[5]}, key=order.__getitem__)
    pos = store.positions(cols)
    ids = list(dict.fromkeys(e[0] for e in entries))
    state = store.load_state(replica.db, t, ids, cols)
    width = 2 + 3 * len(cols)
    allowed = _PolicyCache(policy) if policy is not None else None
    site_name = replica.sites.site
    ranks_of = t.ranks
    changes: dict[str, dict[str, tuple[int | None, int | None]]] = {}
    conflicts: list[tuple[Any, ...]] = []
    accepted = changed = max_hlc = 0
    now_ms = replica.clock.now_ms()
    for entry in entries:
        row_id, hlc, sno, phlc, psno, ecols, evals = entry
        st = state.get(row_id)
        stored = st[0] if st is not None else None
        new = evals[ecols.index("compound_id")] if "compound_id" in ecols else None
        if stored is not None and new is not None and new != stored:
            msg = "a row cannot move to another compound"
            _reject_entry(t, replica, entry, ("compound_change", msg), result)
            continue
        if allowed is not None:
            compound = stored if stored is not None else new
            refused = (
                ("unknown_row", "this row is not known here; send its compound_id with it")
                if compound is None
                else allowed(t.name, str(compound))
            )
            if refused:
                _reject_entry(t, replica, entry, refused, result)
                continue
        if st is None:
            st = state[row_id] = [None] * width
        row_changes = changes.get(row_id)
        for col, value in zip(ecols, evals, strict=True):
            accepted += 1
            p = pos[col]
            cur_hlc = st[p + 1]
            if cur_hlc is not None:
                cur_site = st[p + 2]
                if cur_hlc == hlc and cur_site == sno:
                    continue  # already known
                current = st[p]
                ranks = ranks_of.get(col)
                if ranks is not None:
                    new_rank = ranks.get(value, -1)
                    cur_rank = ranks.get(current, -1)  # type: ignore[arg-type]
                    if new_rank != cur_rank:
                        if new_rank < cur_rank:
                            continue  # a lower state never wins
                    elif not _later(hlc, sno, cur_hlc, cur_site, site_name):  # type: ignore[arg-type]
                        continue
                    advanced = new_rank > cur_rank
                elif not _later(hlc, sno, cur_hlc, cur_site, site_name):  # type: ignore[arg-type]
                    continue  # loses; the other side logs it if it must
                else:
                    advanced = False
                if current != value and not advanced and (phlc != cur_hlc or psno != cur_site):
                    conflicts.append(
                        (
                            t.name,
                            row_id,
                            col,
                            _dumps(current),
                            cur_hlc,
                            site_name(cur_site),
                            _dumps(value),
                            hlc,
                            site_name(sno),
                            now_ms,
                        )  # type: ignore[arg-type]
                    )
            st[p] = value
            st[p + 1] = hlc
            st[p + 2] = sno
            if row_changes is None:
                row_changes = changes[row_id] = {}
            row_changes[col] = (phlc, psno)
            changed += 1
            if hlc > max_hlc:
                max_hlc = hlc
            if col == "compound_id":
                st[0] = value
    result.accepted += accepted
    result.changed += changed
    if conflicts:
        replica.db.executemany(
            "INSERT INTO _lm_conflicts (tbl, row_id, col, lost_value, lost_hlc, lost_site, "
            "won_value, won_hlc, won_site, logged_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            conflicts,
        )
        result.conflicts += len(conflicts)
    save_changes(replica, t, state, pos, changes)
    replica.clock.observe(max_hlc)


def _later(hlc: int, sno: int, cur_hlc: int, cur_sno: int, site_name: Callable[[int], str]) -> bool:
    """(hlc, site) > (cur_hlc, cur_site), comparing the sites' ids, not our local numbers."""
    if hlc != cur_hlc:
        return hlc > cur_hlc
    return site_name(sno) > site_name(cur_sno)


def save_changes(
    replica: Replica,
    t: Table,
    state: dict[str, list[Any]],
    pos: dict[str, int],
    changes: dict[str, dict[str, tuple[int | None, int | None]]],
) -> None:
    """Write the changed cells of each row, with one new local counter per row."""
    groups: dict[tuple[str, ...], list[list[Any]]] = {}
    for row_id, cells in changes.items():
        ctr = replica.next_ctr()
        key = tuple(sorted(cells, key=pos.__getitem__))
        params: list[Any] = [row_id]
        st = state[row_id]
        for col in key:
            p = pos[col]
            phlc, psno = cells[col]
            params += (st[p], st[p + 1], st[p + 2], ctr, phlc, psno)
        params.append(ctr)
        groups.setdefault(key, []).append(params)
    for key, rows in groups.items():
        replica.db.executemany(replica.sql(("upsert", t.name, key)), rows)


# -- immutable tables ---------------------------------------------------------------------


def _merge_immutable(
    replica: Replica, t: Table, entries: list[Entry], policy: Policy | None, result: ApplyResult
) -> None:
    if policy is not None:
        allowed = _PolicyCache(policy)
        kept = []
        for entry in entries:
            compound = entry[6][entry[5].index("compound_id")]
            refused = allowed(t.name, compound)
            if refused:
                _reject_entry(t, replica, entry, refused, result)
            else:
                kept.append(entry)
        entries = kept
    if not entries:
        return
    names = tuple(t.column_names)
    rows = []
    for row_id, hlc, sno, _ph, _ps, cols, values in entries:
        if cols != names:
            found = dict(zip(cols, values, strict=True))
            values = [found.get(c) for c in names]
        rows.append((row_id, hlc, sno, values, len(cols)))
    db = replica.db
    start = replica.counter_now()
    db.execute("SAVEPOINT lm_new_rows")
    try:
        # The common case: all rows are new. A known id makes the insert fail; then
        # every row is looked at one by one.
        db.executemany(
            replica.sql(("insert", t.name)),
            [(rid, *values, hlc, sno, replica.next_ctr()) for rid, hlc, sno, values, _ in rows],
        )
    except sqlite3.IntegrityError:
        db.execute("ROLLBACK TO lm_new_rows")
        db.execute("RELEASE lm_new_rows")
        replica.reset_ctr(start)
        _merge_known_immutable(replica, t, rows, result)
    else:
        db.execute("RELEASE lm_new_rows")
        cells = sum(r[4] for r in rows)
        result.accepted += cells
        result.changed += cells
    replica.clock.observe(max(r[1] for r in rows))


def _merge_known_immutable(
    replica: Replica,
    t: Table,
    rows: list[tuple[str, int, int, list[Any], int]],
    result: ApplyResult,
) -> None:
    """Rows of which some exist: the same stamp is known; of two versions of one row
    (devices naming a photo by its hash), the first written, least (hlc, site), wins."""
    db, names, site = replica.db, t.column_names, replica.sites.site
    select = ", ".join(["id", "_hlc", "_site", *(q(c) for c in names)])
    known: dict[str, tuple[int, int, list[Any]]] = {}
    for part in store.chunks(list({r[0] for r in rows}), 2000):
        sql = f"SELECT {select} FROM {q(t.name)} WHERE id IN ({','.join('?' * len(part))})"
        for row in db.execute(sql, part):
            known[row[0]] = (row[1], row[2], list(row[3:]))
    now_ms = replica.clock.now_ms()
    for row_id, hlc, sno, values, ncells in rows:
        old = known.get(row_id)
        if old is not None and (old[0], old[1]) == (hlc, sno):
            result.accepted += ncells
            continue
        if old is not None and (hlc, site(sno)) > (old[0], site(old[1])):
            msg = f"{t.name} rows cannot be changed once written; record a correction as a new row"
            result.rejected += [
                Rejection(t.name, row_id, c, "immutable", msg, v, hlc, site(sno))
                for c, v in zip(names, values, strict=True)
            ]
            continue
        ctr = replica.next_ctr()
        if old is None:
            db.execute(replica.sql(("insert", t.name)), (row_id, *values, hlc, sno, ctr))
        else:  # an earlier version of a row we hold: it wins, ours is logged as lost
            sets = ", ".join(f"{q(c)} = ?" for c in names)
            db.execute(
                f"UPDATE {q(t.name)} SET {sets}, _hlc = ?, _site = ?, _ctr = ? WHERE id = ?",
                (*values, hlc, sno, ctr, row_id),
            )
            db.executemany(
                "INSERT INTO _lm_conflicts (tbl, row_id, col, lost_value, lost_hlc, lost_site, "
                "won_value, won_hlc, won_site, logged_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        t.name,
                        row_id,
                        c,
                        _dumps(was),
                        old[0],
                        site(old[1]),
                        _dumps(now),
                        hlc,
                        site(sno),
                        now_ms,
                    )
                    for c, was, now in zip(names, old[2], values, strict=True)
                    if was != now
                ],
            )
            result.conflicts += sum(
                1 for was, now in zip(old[2], values, strict=True) if was != now
            )
        known[row_id] = (hlc, sno, values)
        result.accepted += ncells
        result.changed += ncells
