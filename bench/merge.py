"""Merge benchmark (issue 2): how close does `Replica.apply` come to plain SQLite inserts?

    .venv/bin/python bench/merge.py                  # 100,000 rows, 1,000,000 cells streamed
    .venv/bin/python bench/merge.py --rows 10000 --rounds 1 --mem-cells 100000   # quick

(a)  raw executemany INSERT of N temperature-check rows into a plain SQLite table (its
     primary key, no other index), one transaction, WAL: the physical limit.
(a') the same into a table with the two domain indexes the schema declares
     (household_id, measured_at), which the replica's table has too.
(b)  replica.apply of the same rows, as another replica's changes_since produced them,
     into an empty replica.
(c)  apply of N concurrent edits of existing deliveries (status and volunteer; the
     receiver had edited volunteer too, so each row also logs a conflict).
(c') the same edits into a receiver that had not touched them (no conflicts).
(d)  changes_since(0) of everything on that receiver (N checks + N deliveries).
Each is timed in wall-clock and CPU seconds, best of --rounds. Then, in a fresh
subprocess (run first, while this one is small), the peak memory (VmHWM) of applying
--mem-cells cells streamed from another replica in batches of about --batch cells.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sync import Replica, new_id, store  # noqa: E402  (after the path fix above)

T = TypeVar("T")

CHECK_COLS = [
    "compound_id",
    "household_id",
    "resident_id",
    "temperature_c",
    "measured_at",
    "recorded_by",
    "note",
]


def checks(n: int, start: int = 0) -> dict[str, dict[str, object]]:
    return {
        new_id(): {
            "compound_id": f"compound-{i % 3}",
            "household_id": f"household-{i % 5000}",
            "resident_id": f"resident-{i}",
            "temperature_c": 36.0 + (i % 20) / 10,
            "measured_at": f"2020-03-{1 + i % 28:02d}T08:{i % 60:02d}:00+08:00",
            "recorded_by": f"volunteer-{i % 40}",
            "note": "复测" if i % 50 == 0 else None,
        }
        for i in range(start, start + n)
    }


@dataclass
class Timing:
    """The best wall-clock and CPU seconds over the rounds (the machine may be shared)."""

    wall: float = float("inf")
    cpu: float = float("inf")

    def run(self, fn: Callable[[], T]) -> T:
        wall, cpu = time.perf_counter(), time.process_time()
        out = fn()
        self.wall = min(self.wall, time.perf_counter() - wall)
        self.cpu = min(self.cpu, time.process_time() - cpu)
        return out


def raw_insert(path: Path, rows: list[tuple[object, ...]], indexes: bool, timing: Timing) -> None:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute(f"PRAGMA cache_size=-{store.CACHE_KIB}")  # as the replica: a fair comparison
    cols = ", ".join(CHECK_COLS)
    db.execute(f"CREATE TABLE t (id TEXT PRIMARY KEY, {cols})")
    if indexes:
        db.execute("CREATE INDEX t_household ON t (household_id)")
        db.execute("CREATE INDEX t_measured ON t (measured_at)")
    sql = f"INSERT INTO t (id, {cols}) VALUES ({', '.join('?' * (len(CHECK_COLS) + 1))})"

    def run() -> None:
        db.execute("BEGIN")
        db.executemany(sql, rows)
        db.execute("COMMIT")

    timing.run(run)
    assert db.execute("SELECT count(*) FROM t").fetchone()[0] == len(rows)
    db.close()


def line(label: str, t: Timing, rows: int, cells: int, base: Timing) -> None:
    print(
        f"{label:<46} {t.wall:6.3f} s {t.cpu:6.3f} s {rows / t.wall:>9,.0f} "
        f"{cells / t.wall:>10,.0f}   {base.wall / t.wall:5.2f} {base.cpu / t.cpu:5.2f}"
    )


def delivery_rows(ids: list[str], start: int) -> dict[str, dict[str, object]]:
    return {
        rid: {
            "compound_id": f"compound-{i % 3}",
            "household_id": f"household-{i % 5000}",
            "kind": "vegetables",
            "items": "白菜 2, 土豆 3",
            "quantity": 1,
            "status": "planned",
            "round_id": "round-7",
        }
        for i, rid in enumerate(ids, start)
    }


def main_bench(n: int, rounds: int, tmp: Path) -> None:
    step = 20_000
    src = Replica(tmp / "src.db", synchronous="OFF")
    for start in range(0, n, step):
        src.write_many("temperature_checks", checks(min(step, n - start), start))
    batch = src.changes_since(0)
    chunk = batch.tables["temperature_checks"]
    assert chunk.columns == CHECK_COLS
    assert batch.rows == n
    raw_rows = [(row[0], *row[5]) for row in chunk.rows]
    cells = batch.cells

    # (c) and (d) start from a replica holding the checks and N deliveries, whose
    # volunteer it has just edited; the sender moved the same deliveries on meanwhile.
    sender = Replica(tmp / "sender.db", synchronous="OFF")
    base = Replica(tmp / "base.db", synchronous="OFF")
    ids = [new_id() for _ in range(n)]
    for start in range(0, n, step):
        sender.write_many("deliveries", delivery_rows(ids[start : start + step], start))
    base.apply(batch)
    base.apply(sender.changes_since(0))
    base.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copy(tmp / "base.db", tmp / "base_untouched.db")  # for (c'): no local edits
    mark = sender.counter
    for start in range(0, n, step):
        part = ids[start : start + step]
        base.write_many("deliveries", {rid: {"volunteer": "李强"} for rid in part})
        sender.write_many(
            "deliveries", {rid: {"status": "out", "volunteer": "王芳"} for rid in part}
        )
    edits = sender.changes_since(mark)
    base.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    base.close()

    a, a2, b, c, c2, d = Timing(), Timing(), Timing(), Timing(), Timing(), Timing()
    everything = batch
    for i in range(rounds):
        raw_insert(tmp / f"raw{i}.db", raw_rows, False, a)
        raw_insert(tmp / f"raw_idx{i}.db", raw_rows, True, a2)
        with Replica(tmp / f"b{i}.db") as dst:
            result = b.run(lambda dst=dst: dst.apply(batch))
        assert not result.rejected, result.rejected[:3]
        assert result.accepted == cells
        shutil.copy(tmp / "base.db", tmp / f"c{i}.db")
        with Replica(tmp / f"c{i}.db") as dst:
            result = c.run(lambda dst=dst: dst.apply(edits))
            assert not result.rejected
            assert result.accepted == edits.cells == 2 * n
            assert result.conflicts == n  # each receiver's volunteer was overwritten
            everything = d.run(lambda dst=dst: dst.changes_since(0))
        assert everything.rows >= 2 * n
        shutil.copy(tmp / "base_untouched.db", tmp / f"c2_{i}.db")
        with Replica(tmp / f"c2_{i}.db") as dst:
            result = c2.run(lambda dst=dst: dst.apply(edits))
            assert result.accepted == 2 * n
            assert result.conflicts == 0  # edits made on top of what this replica holds
        for name in (f"raw{i}.db", f"raw_idx{i}.db", f"b{i}.db", f"c{i}.db", f"c2_{i}.db"):
            for suffix in ("", "-wal", "-shm"):
                (tmp / (name + suffix)).unlink(missing_ok=True)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"{n:,} rows, best of {rounds} rounds; {os.cpu_count()} CPUs, load average {load:.1f}\n"
        f"{'':<46} {'wall':>8} {'CPU':>8} {'rows/s':>9} {'cells/s':>10}   ratio to (a): "
        "wall   CPU"
    )
    line("(a)  raw executemany INSERT, plain table", a, n, cells, a)
    line("(a') raw INSERT, with the domain indexes", a2, n, cells, a)
    line("(b)  apply of new temperature checks", b, n, cells, a)
    line("(c)  apply of concurrent delivery edits", c, n, edits.cells, a)
    line("(c') the same edits, no conflict to log", c2, n, edits.cells, a)
    line("(d)  changes_since(0), everything", d, everything.rows, everything.cells, a)
    print(
        f"(b) vs (a'): wall {a2.wall / b.wall:.2f}, CPU {a2.cpu / b.cpu:.2f}   "
        f"(c) vs (a'): wall {a2.wall / c.wall:.2f}, CPU {a2.cpu / c.cpu:.2f}\n"
        "targets vs (a): (b) >= 0.5, (c) >= 0.25"
    )


def memory_child(cells: int, batch_rows: int, tmp: Path) -> None:
    """Apply `cells` cells streamed from another replica; print peak RSS in MB."""
    per_row = len(CHECK_COLS)
    n = -(-cells // per_row)
    src = Replica(tmp / "mem_src.db", synchronous="OFF")
    for start in range(0, n, 10_000):
        src.write_many("temperature_checks", checks(min(10_000, n - start), start))
    before = peak_kb()
    dst = Replica(tmp / "mem_dst.db")
    cursor, applied = 0, 0
    while True:
        batch = src.changes_since(cursor, limit=batch_rows)
        applied += dst.apply(batch).accepted
        cursor = batch.next
        if not batch.more:
            break
    assert applied >= cells, applied
    peak = peak_kb()
    print(f"{applied} {before / 1024:.1f} {peak / 1024:.1f}")


def peak_kb() -> int:
    """Peak resident memory of this process in KiB (VmHWM on Linux, else ru_maxrss)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3, help="best of this many runs")
    parser.add_argument("--mem-cells", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5_000, help="cells per streamed batch")
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--dir", help="where to put the databases (default: a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as name:
        if args.memory_child:
            memory_child(args.mem_cells, args.batch, Path(name))
            return
        # First, while this process is small: the child's peak is its own.
        cmd = [sys.executable, __file__, "--memory-child", f"--mem-cells={args.mem_cells}"]
        cmd += [f"--batch={args.batch}", f"--dir={name}"]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.split()
        main_bench(args.rows, args.rounds, Path(name))
    applied, before, peak = int(out[0]), float(out[1]), float(out[2])
    verdict = "OK" if peak < 300 else "OVER"
    print(
        f"memory: applied {applied:,} cells streamed in batches of {args.batch:,} cells; "
        f"peak RSS {peak:.0f} MB (after building the source: {before:.0f} MB); "
        f"limit 300 MB: {verdict}"
    )


if __name__ == "__main__":
    main()
