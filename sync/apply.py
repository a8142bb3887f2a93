"""Merging another replica's batch: check every cell, then keep the winner of each cell.

Called by `Replica.apply` inside one write transaction. Every cell of a well-formed row
ends up either counted in `result.accepted` (it won, lost, or was already known) or listed
in `result.rejected` with a reason code; nothing is dropped silently.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from itertools import count, repeat
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from . import store
from .clock import millis
from .protocol import (
    ApplyResult,
    Batch,
    BatchError,
    Rejection,
    bad_row,
    bad_sites,
    rows_well_formed,
)
from .schema import BulkCheck, Check, Problem, Table
from .store import q

if TYPE_CHECKING:
    from .replica import Policy, Replica

PART = 2000  # rows merged at a time: bounds memory whatever the batch size

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
        if t is None:
            for part in store.chunks(chunk.rows, PART):
                _reject_table(name, chunk.columns, part, len(batch.sites), result)
            continue
        indexes = store.drop_indexes_for_bulk(replica.db, t, len(chunk.rows))
        for part in store.chunks(chunk.rows, PART):
            entries = _parse(t, chunk.columns, part, batch.sites, site_no, limit_ms, result)
            if t.immutable:
                _merge_immutable(replica, t, entries, policy, result)
            else:
                _merge_mutable(replica, t, entries, policy, result)
        store.restore_indexes(replica.db, indexes)
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

    The hot path works a column at a time: row shapes with `rows_well_formed`, values
    with `Column.bulk_checker`, rows grouped by mask. Only what fails a bulk check is
    looked at row by row or cell by cell, to say which and why.
    """
    rejected = result.rejected
    ncols, nsites = len(columns), len(sites)
    good = list(rows)
    if not rows_well_formed(good, ncols, nsites) or max(map(itemgetter(1), good)) >> 16 > limit_ms:
        good = []
        for raw in rows:
            problem = bad_row(raw, ncols, nsites)
            if problem:
                rejected.append(_malformed(t.name, raw, problem))
            elif millis(raw[1]) > limit_ms:
                site = sites[raw[2]]
                rejected += [
                    Rejection(t.name, raw[0], col, "clock_ahead", CLOCK_AHEAD, v, raw[1], site)
                    for col, v in _cells(columns, raw[4], raw[5])
                ]
            else:
                good.append(raw)
    if not good:
        return []
    masks = {raw[4] for raw in good}
    if len(masks) == 1:
        groups = {masks.pop(): good}
    else:
        groups = {}
        for raw in good:
            groups.setdefault(raw[4], []).append(raw)
    entries: list[Entry] = []
    for mask, group in groups.items():
        cols = tuple(columns[i] for i in range(mask.bit_length()) if mask >> i & 1)
        bad = _check_columns(t, cols, group)
        missing = [c for c in t.required if c not in cols] if t.immutable else []
        if not bad and not missing:
            ids, hlcs, sis, prevs, _masks, cells = zip(*group, strict=True)
            nos = {si: site_no(si) for si in set(sis)}
            snos = list(map(nos.__getitem__, sis))
            if set(map(type, prevs)) == {type(None)}:
                entries += zip(ids, hlcs, snos, prevs, prevs, repeat(cols), cells)
            else:
                phlcs = [p and p[0] for p in prevs]
                psnos = [p and site_no(p[1]) for p in prevs]
                entries += zip(ids, hlcs, snos, phlcs, psnos, repeat(cols), cells)
            continue
        for k, raw in enumerate(group):
            row_id, hlc, si, prev, _mask, values = raw
            problems = bad.get(k)
            if t.immutable and (problems or missing):
                _reject_row(t, raw, cols, problems or [], missing, sites[si], rejected)
                continue
            row_cols = cols
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
            if prev is None:
                entries.append((row_id, hlc, site_no(si), None, None, row_cols, values))
            else:
                entries.append(
                    (row_id, hlc, site_no(si), prev[0], site_no(prev[1]), row_cols, values)
                )
    return entries


def _check_columns(
    t: Table, cols: tuple[str, ...], group: list[list[Any]]
) -> dict[int, list[tuple[str, Any, Problem]]]:
    """The bad cells of rows sharing one mask: {row position: [(column, value, problem)]}."""
    bad: dict[int, list[tuple[str, Any, Problem]]] = {}
    by_column = list(zip(*map(itemgetter(5), group), strict=True))
    bulk: BulkCheck
    check: Check
    for col, values in zip(cols, by_column, strict=True):
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
    return bad


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
    known = set(state)
    width = 3 + 3 * len(cols)
    compound_p = pos.get("compound_id", -1)
    allowed = _PolicyCache(policy) if policy is not None else None
    site_name = replica.sites.site
    ranks_of = t.ranks
    changes: dict[str, dict[int, tuple[int | None, int | None]]] = {}
    conflicts: list[tuple[Any, ...]] = []
    accepted = changed = max_hlc = 0
    now_ms = replica.clock.now_ms()
    last_cols: tuple[str, ...] = ()
    plan: list[tuple[str, int, dict[str, int] | None]] = []
    compound_at = -1
    for entry in entries:
        row_id, hlc, sno, phlc, psno, ecols, evals = entry
        if ecols is not last_cols:  # entries of one mask share their columns tuple
            last_cols = ecols
            plan = [(col, pos[col], ranks_of.get(col)) for col in ecols]
            compound_at = ecols.index("compound_id") if "compound_id" in ecols else -1
        st = state.get(row_id)
        stored = st[1] if st is not None else None
        new = evals[compound_at] if compound_at >= 0 else None
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
            st = state[row_id] = [row_id] + [None] * (width - 1)
        row_changes = changes.get(row_id)
        accepted += len(evals)
        for (col, p, ranks), value in zip(plan, evals, strict=True):
            cur_hlc = st[p + 1]
            if cur_hlc is not None:
                cur_site = st[p + 2]
                if cur_hlc == hlc and cur_site == sno:
                    continue  # already known
                current = st[p]
                advanced = False
                if ranks is not None and (new_rank := ranks.get(value, -1)) != (
                    cur_rank := ranks.get(current, -1)
                ):
                    if new_rank < cur_rank:
                        continue  # a lower state never wins
                    advanced = True
                elif hlc < cur_hlc or (hlc == cur_hlc and site_name(sno) < site_name(cur_site)):
                    continue  # loses to (hlc, site); the other side logs it if it must
                if current != value and not advanced and (phlc != cur_hlc or psno != cur_site):
                    conflicts.append(
                        (t.name, row_id, col, current, cur_hlc, site_name(cur_site),
                         value, hlc, site_name(sno), now_ms)
                    )  # fmt: skip
            st[p] = value
            st[p + 1] = hlc
            st[p + 2] = sno
            if row_changes is None:
                row_changes = changes[row_id] = {}
            row_changes[p] = (phlc, psno)
            changed += 1
            if hlc > max_hlc:
                max_hlc = hlc
            if p == compound_p:
                st[1] = value
    result.accepted += accepted
    result.changed += changed
    if conflicts:
        replica.db.executemany(
            "INSERT INTO _lm_conflicts (tbl, row_id, col, lost_value, lost_hlc, lost_site, "
            "won_value, won_hlc, won_site, logged_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            conflicts,
        )
        result.conflicts += len(conflicts)
    save_changes(replica, t, state, pos, changes, known)
    replica.clock.observe(max_hlc)


def save_changes(
    replica: Replica,
    t: Table,
    state: dict[str, list[Any]],
    pos: dict[str, int],
    changes: dict[str, dict[int, tuple[int | None, int | None]]],
    known: set[str],
) -> None:
    """Write the changed cells of each row, with one new local counter per row.

    `changes` maps each row to {position of a changed cell in its state: the stamp of the
    value it replaced}. Rows are grouped by the cells they change (a batch usually has
    one group), so each group is one executemany: an UPDATE of the rows `known` before,
    an INSERT of the rest.
    """
    groups: dict[tuple[bool, tuple[int, ...]], list[list[Any]]] = {}
    ctr = replica.counter_now()
    for row_id, cells in changes.items():
        ctr += 1
        st = state[row_id]
        params: list[Any] = []
        for p, (phlc, psno) in cells.items():
            params += (st[p], st[p + 1], st[p + 2], ctr, phlc, psno)
        params += (ctr, row_id)
        key = (row_id in known, tuple(cells))
        group = groups.get(key)
        if group is None:
            groups[key] = [params]
        else:
            group.append(params)
    replica.reset_ctr(ctr)
    col_at = {p: col for col, p in pos.items()}
    for (update, positions), rows in groups.items():
        cols = tuple(col_at[p] for p in positions)
        replica.db.executemany(replica.sql(("update" if update else "insert", t.name, cols)), rows)


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
    counts = list(map(len, map(itemgetter(5), entries)))  # cells each row brought
    if {e[5] for e in entries} != {names}:  # not every column in our order: reorder
        entries = [_in_order(entry, names) for entry in entries]
    db = replica.db
    start = replica.counter_now()
    db.execute("SAVEPOINT lm_new_rows")
    try:
        # The common case: all rows are new. A known id makes the insert fail; then
        # every row is looked at one by one.
        db.executemany(
            replica.sql(("insert_row", t.name)),
            [(e[0], *e[6], e[1], e[2], ctr) for e, ctr in zip(entries, count(start + 1))],
        )
        replica.reset_ctr(start + len(entries))
    except sqlite3.IntegrityError:
        db.execute("ROLLBACK TO lm_new_rows")
        db.execute("RELEASE lm_new_rows")
        replica.reset_ctr(start)
        _merge_known_immutable(replica, t, entries, counts, result)
    else:
        db.execute("RELEASE lm_new_rows")
        cells = sum(counts)
        result.accepted += cells
        result.changed += cells
    replica.clock.observe(max(map(itemgetter(1), entries)))


def _in_order(entry: Entry, names: tuple[str, ...]) -> Entry:
    """An immutable row's values in our column order, None for what it did not bring."""
    row_id, hlc, sno, _ph, _ps, cols, values = entry
    found = dict(zip(cols, values, strict=True))
    return (row_id, hlc, sno, None, None, names, [found.get(c) for c in names])


def _merge_known_immutable(
    replica: Replica, t: Table, entries: list[Entry], counts: list[int], result: ApplyResult
) -> None:
    """Rows of which some exist: the same stamp is known; of two versions of one row
    (devices naming a photo by its hash), the first written, least (hlc, site), wins."""
    db, names, site = replica.db, t.column_names, replica.sites.site
    select = ", ".join(["id", "_hlc", "_site", *(q(c) for c in names)])
    known: dict[str, tuple[int, int, list[Any]]] = {}
    for part in store.chunks(list({e[0] for e in entries}), 2000):
        sql = f"SELECT {select} FROM {q(t.name)} WHERE id IN ({','.join('?' * len(part))})"
        for row in db.execute(sql, part):
            known[row[0]] = (row[1], row[2], list(row[3:]))
    now_ms = replica.clock.now_ms()
    for (row_id, hlc, sno, _ph, _ps, _cols, values), ncells in zip(entries, counts, strict=True):
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
            db.execute(replica.sql(("insert_row", t.name)), (row_id, *values, hlc, sno, ctr))
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
                        was,
                        old[0],
                        site(old[1]),
                        now,
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
