"""Sync over HTTP, side by side with PouchDB, in one run over loopback.

    .venv/bin/python bench/sync_http.py [--records 100000] [--households 5000] [--no-peer]

The server runs as `lastmeter server run` (waitress) in its own process; the agent syncs
through a counting TCP proxy (tests/faultproxy.py, in a third process), so "bytes" are
what crossed the wire, headers included. Phases:
  1. the agent pushes N temperature checks (the peer harness's records) to an empty server;
  2. a sync with nothing new;
  3. 10% of N deliveries edited (the harness's update file), then synced;
  4. a fresh agent's first pull of a community of H households and 3H residents.
Then the PouchDB peer (../shared/peer-bench/peer_pouchdb.sh N) on the same records.
"""

from __future__ import annotations

import argparse
import gzip
import importlib.util
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from field_agent import settings as agent_settings  # noqa: E402
from field_agent.syncer import run_sync  # noqa: E402
from sync import Replica, new_id  # noqa: E402
from sync.http_client import SyncClient  # noqa: E402

PEER_BENCH = Path(os.environ.get("PEER_BENCH", ROOT.parent / "shared" / "peer-bench"))
PEERBENCH_DIR = Path(os.environ.get("PEERBENCH_DIR", "/tmp/peerbench"))
LASTMETER = str(Path(sys.executable).parent / "lastmeter")
COMPOUND = "c-bench"


def load_generator():
    spec = importlib.util.spec_from_file_location("gen_records", PEER_BENCH / "gen_records.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_jsonl(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


class Proc:
    """A child process we started, with its peak memory from /proc."""

    def __init__(self, args: list[str]) -> None:
        self.p = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )

    def line(self) -> str:
        return self.p.stdout.readline().strip()

    def peak_rss_mb(self) -> float:
        with open(f"/proc/{self.p.pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()


class Wire:
    """Byte counters of the proxy process."""

    def __init__(self, proxy: Proc) -> None:
        self.proxy = proxy

    def read(self) -> dict:
        time.sleep(0.05)  # let the relay threads finish counting the last response
        self.proxy.p.stdin.write("stats\n")
        self.proxy.p.stdin.flush()
        return json.loads(self.proxy.line())


def run(cmd: list[str]) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout.strip()


def phase(name: str, wire: Wire, fn, rows: int | None = None) -> dict:
    before = wire.read()
    t0 = time.perf_counter()
    report = fn()
    seconds = time.perf_counter() - t0
    after = wire.read()
    cells = report.pushed_cells + report.pulled_cells
    out = {
        "phase": name,
        "seconds": round(seconds, 3),
        "cells": cells,
        "rows": rows,
        "cells_per_s": round(cells / seconds) if cells else 0,
        "records_per_s": round(rows / seconds) if rows else 0,
        "requests": report.requests,
        "bytes_up": after["up"] - before["up"],
        "bytes_down": after["down"] - before["down"],
        "connections": after["connections"] - before["connections"],
        "rejected": report.rejected,
    }
    print(
        f"{name:<28} {seconds:8.3f} s {out['cells_per_s']:>10,} cells/s "
        f"{out['records_per_s']:>9,} rec/s {out['requests']:>5} req "
        f"{out['bytes_up']:>12,} B up {out['bytes_down']:>11,} B down",
        flush=True,
    )
    return out


def check_row(rec: dict) -> dict:
    return {
        "compound_id": COMPOUND,
        "household_id": rec["household_id"],
        "resident_id": rec["resident_id"],
        "temperature_c": rec["temperature_c"],
        "measured_at": rec["measured_at"],
        "recorded_by": rec["recorded_by"],
        "note": rec["device_id"],
    }


def delivery_row(rec: dict) -> dict:
    return {
        "compound_id": COMPOUND,
        "household_id": rec["household_id"],
        "kind": "vegetables",
        "items": "vegetable package",
        "quantity": rec["temperature_c"],
        "status": "planned",
        "volunteer": rec["recorded_by"],
        "round_id": rec["device_id"],
    }


def write_in_chunks(replica: Replica, table: str, rows: dict[str, dict], size: int = 10_000):
    items = list(rows.items())
    for start in range(0, len(items), size):
        replica.write_many(table, dict(items[start : start + size]))


def seed_community(db_path: Path, households: int) -> None:
    """A community of `households` households and 3 residents each, written on the server."""
    server = Replica(db_path)
    try:
        hh = {}
        residents = {}
        for i in range(households):
            hid = new_id()
            hh[hid] = {
                "compound_id": "c-pull",
                "building": str(i // 100 + 1),
                "unit": f"{i % 100 + 1:03d}",
                "area_m2": 60 + i % 80,
                "owner_name": f"户主{i}",
                "phone": f"138{i:08d}",
                "members": 3,
                "medical_worker": i % 50 == 0,
                "hardship": i % 30 == 0,
                "elderly_alone": False,
            }
            for k in range(3):
                residents[new_id()] = {
                    "compound_id": "c-pull",
                    "household_id": hid,
                    "name": f"居民{i}-{k}",
                    "birth_year": 1940 + (i + k * 17) % 70,
                    "phone": f"139{i:06d}{k:02d}",
                }
        write_in_chunks(server, "households", hh)
        write_in_chunks(server, "residents", residents)
    finally:
        server.close()


def peer_half(n: int) -> dict | None:
    script = PEER_BENCH / "peer_pouchdb.sh"
    missing = [w for w in ("node", "npm") if shutil.which(w) is None]
    if not script.exists() or missing:
        why = f"{script} missing" if not script.exists() else f"{', '.join(missing)} not found"
        print(f"PouchDB peer skipped: {why}", flush=True)
        return None
    print(f"PouchDB peer: {script} {n} (packages in {PEERBENCH_DIR}) ...", flush=True)
    env = {**os.environ, "PEERBENCH_DIR": str(PEERBENCH_DIR)}
    proc = subprocess.run(["bash", str(script), str(n)], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        print(f"PouchDB peer skipped: it failed ({proc.stderr.strip()[-300:]})", flush=True)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--households", type=int, default=5_000)
    ap.add_argument("--no-peer", action="store_true", help="skip the PouchDB half")
    ap.add_argument("--json", help="write all figures to this file")
    args = ap.parse_args()
    n = args.records

    gen = load_generator()
    base_file, updates_file = gen.ensure(n, str(PEERBENCH_DIR / "data"))
    records, updates = read_jsonl(base_file), read_jsonl(updates_file)
    raw = Path(base_file).read_bytes()
    gz_records = len(gzip.compress(raw, 6))
    print(f"{n:,} records, {len(raw):,} bytes of JSON lines, {gz_records:,} gzipped", flush=True)

    tmp = Path(tempfile.mkdtemp(prefix="lm-bench-"))
    server = proxy = None
    results: dict = {"records": n, "record_bytes": len(raw), "records_gzip_bytes": gz_records}
    try:
        data = tmp / "server"
        run([LASTMETER, "server", "init", "--data", str(data)])
        token = run(
            [LASTMETER, "server", "add-device", "--data", str(data), "--user", "bench",
             "--role", "building_head", "--compound", COMPOUND]
        )  # fmt: skip
        pull_token = run(
            [LASTMETER, "server", "add-device", "--data", str(data), "--user", "reader",
             "--role", "volunteer", "--compound", "c-pull"]
        )  # fmt: skip
        server = Proc([LASTMETER, "server", "run", "--data", str(data), "--port", "0"])
        url = server.line().split()[4].rstrip("/")
        proxy = Proc([sys.executable, str(ROOT / "tests" / "faultproxy.py"), url[7:]])
        wire = Wire(proxy)
        via = f"http://127.0.0.1:{proxy.line()}"

        agent = Replica(tmp / "agent.db")
        t0 = time.perf_counter()
        write_in_chunks(agent, "temperature_checks", {r["id"]: check_row(r) for r in records})
        print(f"(setup) agent writes {n:,} checks locally: {time.perf_counter() - t0:.2f} s")

        client = SyncClient(agent, via, token)
        phases = [phase("1 push checks", wire, client.sync, n)]
        site = client.server_site
        phases.append(
            phase("2 nothing new", wire, SyncClient(agent, via, token, server_site=site).sync)
        )
        # The same through the field agent's sync (`lastmeter agent sync`, background sync),
        # which also refreshes the device's role, user and scope.
        agent_dir = tmp / "agent-dir"
        agent_settings.save(agent_dir, server_url=via, token=token, server_site=site)
        agent_noop = phase(
            "2b nothing new, agent", wire, lambda: run_sync(agent_dir, replica=agent)
        )
        results["agent_nothing_new"] = agent_noop

        write_in_chunks(agent, "deliveries", {r["id"]: delivery_row(r) for r in records})
        phases.append(
            phase(
                "(setup) push deliveries",
                wire,
                SyncClient(agent, via, token, server_site=site).sync,
                n,
            )
        )
        t0 = time.perf_counter()
        edits = {
            u["id"]: {
                "quantity": u["temperature_c"],
                "status": "delivered",
                "delivered_at": u["measured_at"],
            }
            for u in updates
        }
        write_in_chunks(agent, "deliveries", edits)
        print(f"(setup) agent edits {len(edits):,} deliveries: {time.perf_counter() - t0:.2f} s")
        phases.append(
            phase(
                "3 10% edited",
                wire,
                SyncClient(agent, via, token, server_site=site).sync,
                len(edits),
            )
        )

        t0 = time.perf_counter()
        seed_community(data / "lastmeter.db", args.households)
        print(f"(setup) server writes {args.households:,} households, {3 * args.households:,} "
              f"residents: {time.perf_counter() - t0:.2f} s")  # fmt: skip
        reader = Replica(tmp / "reader.db")
        phases.append(
            phase(
                "4 first pull", wire, SyncClient(reader, via, pull_token).sync, 4 * args.households
            )
        )

        # Verify: the server holds exactly what the agent wrote; the reader got the community.
        with sqlite3.connect(data / "lastmeter.db") as db:
            got = db.execute("SELECT count(*) FROM temperature_checks").fetchone()[0]
            delivered = db.execute(
                "SELECT count(*) FROM deliveries WHERE status = 'delivered'"
            ).fetchone()[0]
        assert got == n, f"server has {got} checks, expected {n}"
        assert delivered == len(edits), f"server has {delivered} delivered, expected {len(edits)}"
        pulled = reader.db.execute("SELECT count(*) FROM residents").fetchone()[0]
        assert pulled == 3 * args.households, pulled
        reader.close()
        agent.close()
        results["server_peak_rss_mb"] = round(server.peak_rss_mb(), 1)
        results["phases"] = phases
        print(f"server peak RSS: {results['server_peak_rss_mb']} MB; verified: {n:,} checks, "
              f"{len(edits):,} edits, {pulled:,} residents pulled")  # fmt: skip
    finally:
        for p in (proxy, server):
            if p is not None:
                p.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    p1, p2 = phases[0], phases[1]
    wire1 = p1["bytes_up"] + p1["bytes_down"]
    print(f"\nbytes of phase 1 / gzipped records: {wire1 / gz_records:.2f}x (target <= 1.2x)")
    print(f"nothing new: {p2['requests']} request(s), {p2['bytes_up'] + p2['bytes_down']:,} bytes "
          f"(target: one round trip < 2 KB)")  # fmt: skip
    print(f"nothing new, field agent's sync: {agent_noop['requests']} request(s), "
          f"{agent_noop['bytes_up'] + agent_noop['bytes_down']:,} bytes")  # fmt: skip
    print(f"first pull: {phases[4]['seconds']:.2f} s (target < 5 s)")
    print(f"server peak RSS: {results['server_peak_rss_mb']} MB (target < 300 MB)")
    if not args.no_peer:
        peer = peer_half(n)
        results["pouchdb"] = peer
        if peer:
            pi, pn, pu = (peer["phases"][k] for k in ("initial", "noop", "incremental"))
            for name, ph in (("1 push", pi), ("2 nothing new", pn), ("3 10% edited", pu)):
                http = ph["http"]
                print(
                    f"{'PouchDB ' + name:<28} {ph['seconds']:8.3f} s "
                    f"{ph['docs_per_s'] or 0:>10,} docs/s {http['requests']:>5} req "
                    f"{http['bytes_client_to_server']:>12,} B up "
                    f"{http['bytes_server_to_client']:>11,} B down"
                )
            print(f"PouchDB server peak RSS: {peer['peak_rss_mb']['server']} MB")
            ours = n / p1["seconds"]
            theirs = pi["docs_per_s"]
            print(f"\ndocs/s vs PouchDB (phase 1): {ours:,.0f} / {theirs:,} = {ours / theirs:.1f}x "
                  f"(target >= 5x, aim 10x)")  # fmt: skip
            pwire = pi["http"]["bytes_client_to_server"] + pi["http"]["bytes_server_to_client"]
            print(f"bytes vs PouchDB (phase 1): {wire1:,} / {pwire:,} = {wire1 / pwire:.2f}x")
            p3 = phases[3]
            print(f"10% edited vs PouchDB: {p3['seconds']:.2f} s / {pu['seconds']:.2f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
