"""Merge benchmark (issue 2): how close does `Replica.apply` come to plain SQLite inserts?

    .venv/bin/python bench/merge.py              # 100,000 rows, 1,000,000 cells for memory
    .venv/bin/python bench/merge.py --rows 10000 --mem-cells 100000   # a quick run

(a)  raw executemany INSERT of N temperature-check rows into a plain SQLite table (no
     indexes but its primary key), one transaction, WAL: the physical limit.
(a') the same into a plain table with the domain indexes the schema declares
     (household_id, measured_at): what any app storing these rows would pay.
(b)  replica.apply of the same rows, as another replica's changes_since produced them,
     into an empty replica.
(c)  apply of N concurrent edits of existing deliveries (status and volunteer; the
     receiver edited volunteer too, so every row logs a conflict).
(d)  changes_since(0) of everything on the receiver.
Then, in a fresh subprocess, the peak memory (ru_maxrss) of applying M cells streamed in
batches of `--batch` rows.
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sync import Replica, new_id  # noqa: E402  (after the path fix above)

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


def timed(fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def raw_insert(path: Path, rows: list[tuple[object, ...]], indexes: bool) -> float:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
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

    seconds, _ = timed(run)
    assert db.execute("SELECT count(*) FROM t").fetchone()[0] == len(rows)
    db.close()
    return seconds


def line(label: str, seconds: float, rows: int, cells: int, base: float | None) -> None:
    ratio = f"{base / seconds:5.2f}" if base else "    -"
    print(
        f"{label:<44} {seconds:7.3f} s {rows / seconds:>11,.0f} rows/s "
        f"{cells / seconds:>12,.0f} cells/s  ratio to (a) {ratio}"
    )


def main_bench(n: int, tmp: Path) -> None:
    src = Replica(tmp / "src.db")
    for start in range(0, n, 20_000):
        src.write_many("temperature_checks", checks(min(20_000, n - start), start))
    batch = src.changes_since(0)
    chunk = batch.tables["temperature_checks"]
    assert chunk.columns == CHECK_COLS
    assert batch.rows == n
    raw_rows = [(row[0], *row[5]) for row in chunk.rows]
    cells = batch.cells

    t_a = raw_insert(tmp / "raw.db", raw_rows, indexes=False)
    t_a2 = raw_insert(tmp / "raw_idx.db", raw_rows, indexes=True)
    dst = Replica(tmp / "dst.db")
    t_b, result = timed(lambda: dst.apply(batch))
    assert not result.rejected, result.rejected[:3]
    assert result.accepted == cells

    # (c) N deliveries known to both sides, then edited on both while apart.
    sender = Replica(tmp / "sender.db")
    ids = [new_id() for _ in range(n)]
    for start in range(0, n, 20_000):
        sender.write_many(
            "deliveries",
            {
                rid: {
                    "compound_id": f"compound-{i % 3}",
                    "household_id": f"household-{i % 5000}",
                    "kind": "vegetables",
                    "items": "白菜 2, 土豆 3",
                    "quantity": 1,
                    "status": "planned",
                    "round_id": "round-7",
                }
                for i, rid in enumerate(ids[start : start + 20_000], start)
            },
        )
    dst.apply(sender.changes_since(0))
    mark = sender.counter
    for start in range(0, n, 20_000):
        part = ids[start : start + 20_000]
        dst.write_many("deliveries", {rid: {"volunteer": "李强"} for rid in part})
        sender.write_many(
            "deliveries", {rid: {"status": "out", "volunteer": "王芳"} for rid in part}
        )
    edits = sender.changes_since(mark)
    t_c, result = timed(lambda: dst.apply(edits))
    assert result.accepted == edits.cells == 2 * n
    assert not result.rejected
    assert result.conflicts == n, result.conflicts

    t_d, everything = timed(lambda: dst.changes_since(0))
    assert everything.rows >= 2 * n

    print(f"{n:,} rows; (a) plain table, (a') with the domain indexes")
    line("(a)  raw executemany INSERT", t_a, n, cells, t_a)
    line("(a') raw INSERT, table with domain indexes", t_a2, n, cells, t_a)
    line("(b)  apply of new immutable rows", t_b, n, cells, t_a)
    line("(c)  apply of concurrent edits (2 cells/row)", t_c, n, edits.cells, t_a)
    line("(d)  changes_since(0), everything", t_d, everything.rows, everything.cells, t_a)
    print(
        f"ratios to (a'): (b) {t_a2 / t_b:.2f}  (c) {t_a2 / t_c:.2f}  (d) {t_a2 / t_d:.2f}  "
        f"(targets vs (a): (b) >= 0.5, (c) >= 0.25)"
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
    parser.add_argument("--mem-cells", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5_000, help="rows per streamed batch")
    parser.add_argument("--memory-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--dir", help="where to put the databases (default: a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as name:
        tmp = Path(name)
        if args.memory_child:
            memory_child(args.mem_cells, args.batch, tmp)
            return
        main_bench(args.rows, tmp)
    cmd = [sys.executable, __file__, "--memory-child", f"--mem-cells={args.mem_cells}"]
    cmd += [f"--batch={args.batch}"] + ([f"--dir={args.dir}"] if args.dir else [])
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.split()
    applied, before, peak = int(out[0]), float(out[1]), float(out[2])
    verdict = "OK" if peak < 300 else "OVER"
    print(
        f"memory: applied {applied:,} cells in batches of {args.batch:,} rows; peak RSS "
        f"{peak:.0f} MB (while building the source: {before:.0f} MB), limit 300 MB: {verdict}"
    )


if __name__ == "__main__":
    main()
