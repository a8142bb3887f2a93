"""Load: N field agents syncing a day's checks at once, plus M owners voting online.

One server (`lastmeter server run`, waitress, its own process) on 127.0.0.1. Each agent is
a thread with its own laptop database (a real replica file, its own site id and device
token, one compound each) holding R temperature checks written before the clock starts;
it runs one full sync (hello, push in batches, pull). Each owner is a thread posting a
ballot with their secret link. Everything starts together (a barrier). Then the server's
database is checked row by row against every agent and ballot by ballot against every
owner: errors must be zero and the final state exact.

    .venv/bin/python bench/load.py [--agents 200] [--records 300] [--owners 200]
                                   [--threads 8] [--kill-every 0]

`--kill-every S` SIGKILLs the server every S seconds and restarts it on the same port
(the fault suite uses it); clients retry until done, and the state must still be exact.
Reported: wall time, records/s and ballots/s, p50/p95/p99 latency of one agent's sync
and of one ballot. Target (issue #9): 200 agents x 300 records within 60 s, zero errors.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from werkzeug.security import generate_password_hash  # noqa: E402

from server import create_app  # noqa: E402
from server.auth import data as auth_data  # noqa: E402
from server.db import get_db, get_replica  # noqa: E402
from server.voting import data as voting  # noqa: E402
from sync import Replica, new_id  # noqa: E402
from sync.http_client import SyncClient, SyncError, make_session  # noqa: E402

VOTE_COMPOUND = "vote-c"
CHOICES = ("for", "for", "for", "against", "abstain")


@dataclass
class Plan:
    server_dir: Path
    agent_dbs: list[Path]
    tokens: list[str]
    compounds: list[str]
    motion_id: str
    links: list[tuple[str, str, str]]  # (owner key, token, choice)


@dataclass
class Result:
    agents: int
    records: int
    owners: int
    wall_s: float
    sync_latency_s: list[float] = field(default_factory=list)
    ballot_latency_s: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    retries: int = 0
    kills: int = 0
    problems: list[str] = field(default_factory=list)  # final state not exact

    def summary(self) -> dict:
        return {
            "agents": self.agents,
            "records_per_agent": self.records,
            "owners": self.owners,
            "wall_s": round(self.wall_s, 2),
            "records_per_s": round(self.agents * self.records / self.wall_s),
            "ballots_per_s": round(self.owners / self.wall_s) if self.owners else 0,
            "sync_p50_s": pct(self.sync_latency_s, 50),
            "sync_p95_s": pct(self.sync_latency_s, 95),
            "sync_p99_s": pct(self.sync_latency_s, 99),
            "ballot_p50_ms": round(pct(self.ballot_latency_s, 50) * 1000, 1),
            "ballot_p95_ms": round(pct(self.ballot_latency_s, 95) * 1000, 1),
            "ballot_p99_ms": round(pct(self.ballot_latency_s, 99) * 1000, 1),
            "errors": len(self.errors),
            "retries": self.retries,
            "kills": self.kills,
            "exact": not self.problems,
        }


def pct(values: list[float], p: int) -> float:
    if not values:
        return 0.0
    s = sorted(values)
    return round(s[min(len(s) - 1, max(0, round(p / 100 * len(s)) - 1))], 3)


# -- setup ---------------------------------------------------------------------------------


def setup(work: Path, agents: int, records: int, owners: int, seed: int = 9) -> Plan:
    """The server's register and devices, the motion and links, and every agent's laptop."""
    rng = random.Random(seed)
    server_dir = work / "server"
    app = create_app({"DATA_DIR": str(server_dir)})
    now = dt.datetime.now(dt.UTC)
    compounds = [f"load-c{i:03d}" for i in range(agents)]
    tokens: list[str] = []
    with app.app_context():
        rep = get_replica()
        rep.write_many("compounds", {c: {"compound_id": c, "name": f"小区 {c}"} for c in compounds})
        rep.write_many(
            "households",
            {f"{c}-h{u}": {"compound_id": c, "building": "1", "unit": str(u)}
             for c in compounds for u in range(1, 3)},
        )  # fmt: skip
        db = get_db()
        # One building head per compound (one password hash for all: setup speed only).
        pw = generate_password_hash("load-test-password")
        with db.atomic():
            for i, c in enumerate(compounds):
                uid = db["users"].insert({
                    "username": f"head{i:03d}", "display_name": f"head {i}",
                    "password_hash": pw, "role": "building_head", "active": 1,
                    "created_at": int(time.time()),
                }).last_pk  # fmt: skip
                auth_data.set_compounds(db, uid, [c])
                tokens.append(auth_data.issue_device(db, uid, f"laptop {i}")[1])
        motion_id, links = "", []
        if owners:
            rep.write("compounds", VOTE_COMPOUND, {"compound_id": VOTE_COMPOUND, "name": "表决"})
            rep.write_many(
                "households",
                {f"v-h{i:04d}": {"compound_id": VOTE_COMPOUND, "building": str(i // 50),
                                 "unit": str(i % 50), "owner_key": f"owner{i:04d}",
                                 "area_m2": rng.randint(4000, 16000) / 100}
                 for i in range(owners)},
            )  # fmt: skip
            values, errors = voting.check_motion(
                {"compound_id": VOTE_COMPOUND, "title": "load", "matter": "other_major",
                 "rule_set": "civil-code-2021",
                 "opens_at": (now - dt.timedelta(minutes=1)).isoformat(),
                 "closes_at": (now + dt.timedelta(hours=50)).isoformat()},
                dt.UTC,
            )  # fmt: skip
            assert not errors, errors
            motion_id = voting.create_motion(db, values, None, now)
            voting.open_motion(db, motion_id, now)
            links = [
                (x["owner_key"], x["token"], rng.choice(CHOICES))
                for x in voting.issue_links(db, motion_id, now)
            ]
    app.extensions["replica"].close()
    agent_dbs = []
    day = dt.datetime(2020, 3, 10, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    for i, c in enumerate(compounds):
        path = work / "agents" / f"a{i:03d}.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        with Replica(path) as laptop:
            laptop.write_many(
                "temperature_checks",
                {new_id(): {"compound_id": c, "household_id": f"{c}-h{1 + r % 2}",
                            "temperature_c": round(36 + rng.random() * 2, 1),
                            "measured_at": (day + dt.timedelta(seconds=r)).isoformat(),
                            "recorded_by": f"head {i}"}
                 for r in range(records)},
            )  # fmt: skip
        agent_dbs.append(path)
    return Plan(server_dir, agent_dbs, tokens, compounds, motion_id, links)


# -- the server process ----------------------------------------------------------------------


class ServerProcess:
    """`lastmeter server run` from this checkout; kill() is SIGKILL, start() reuses the port."""

    def __init__(self, data_dir: Path, threads: int, log_path: Path) -> None:
        self.data_dir = data_dir
        self.threads = threads
        self.port = 0
        self.log = log_path.open("a")
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def start(self) -> ServerProcess:
        code = "import sys; from server.cli import main; sys.argv[0] = 'lastmeter'; main()"
        for _ in range(50):  # the old socket may linger a moment after a kill
            self.proc = subprocess.Popen(
                [sys.executable, "-c", code, "server", "run", "--data", str(self.data_dir),
                 "--port", str(self.port), "--threads", str(self.threads)],
                stdout=subprocess.PIPE, stderr=self.log, text=True, cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )  # fmt: skip
            line = self.proc.stdout.readline()
            if " on http://" in line:
                self.url = line.split(" on ", 1)[1].split("/ ", 1)[0].rstrip("/")
                self.port = int(self.url.rsplit(":", 1)[1])
                return self
            self.proc.wait(10)
            time.sleep(0.1)
        raise RuntimeError("the server did not start")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()
        self.log.close()


# -- the load ---------------------------------------------------------------------------------


def run(plan: Plan, *, threads: int = 8, kill_every: float = 0, deadline_s: float = 600) -> Result:
    server = ServerProcess(plan.server_dir, threads, plan.server_dir.parent / "server.log")
    server.start()
    result = Result(len(plan.agent_dbs), 0, len(plan.links), 0.0)
    lock = threading.Lock()
    receipts: dict[str, str] = {}  # owner key -> receipt the owner was shown
    start_gate = threading.Barrier(len(plan.agent_dbs) + len(plan.links) + 1)
    done = threading.Event()
    give_up = time.monotonic() + deadline_s

    def note_error(msg: str) -> None:
        with lock:
            result.errors.append(msg)

    def agent(i: int) -> None:
        replica = Replica(plan.agent_dbs[i])
        try:
            start_gate.wait()
            while time.monotonic() < give_up:
                t0 = time.perf_counter()
                try:
                    session = make_session(retries=0)
                    client = SyncClient(replica, server.url, plan.tokens[i], session=session,
                                        timeout=(5, 120))  # fmt: skip
                    client.sync()
                except SyncError as exc:
                    if not kill_every or exc.kind not in ("unreachable", "refused", "protocol"):
                        note_error(f"agent {i}: {exc.kind}: {exc}")
                        return
                    with lock:
                        result.retries += 1
                    time.sleep(0.2)
                    continue
                with lock:
                    result.sync_latency_s.append(time.perf_counter() - t0)
                return
            note_error(f"agent {i}: gave up at the deadline")
        finally:
            replica.close()

    def owner(key: str, token: str, choice: str) -> None:
        session = requests.Session()
        start_gate.wait()
        while time.monotonic() < give_up:
            t0 = time.perf_counter()
            try:
                resp = session.post(f"{server.url}/api/ballots/{token}", json={"choice": choice},
                                    timeout=60)  # fmt: skip
            except requests.RequestException as exc:
                if not kill_every:
                    note_error(f"owner {key}: {exc}")
                    return
                with lock:
                    result.retries += 1
                time.sleep(0.2)
                continue
            if resp.status_code != 200:
                if kill_every and resp.status_code >= 500:
                    time.sleep(0.2)
                    continue
                note_error(f"owner {key}: {resp.status_code} {resp.text[:200]}")
                return
            with lock:
                result.ballot_latency_s.append(time.perf_counter() - t0)
                receipts[key] = resp.json()["receipt"]
            return
        note_error(f"owner {key}: gave up at the deadline")

    def chaos() -> None:
        while not done.wait(kill_every):
            server.kill()
            result.kills += 1
            server.start()

    workers = [threading.Thread(target=agent, args=(i,)) for i in range(len(plan.agent_dbs))]
    workers += [threading.Thread(target=owner, args=link) for link in plan.links]
    for w in workers:
        w.start()
    start_gate.wait()
    t0 = time.perf_counter()
    killer = threading.Thread(target=chaos, daemon=True) if kill_every else None
    if killer:
        killer.start()
    try:
        for w in workers:
            w.join()
        result.wall_s = time.perf_counter() - t0
    finally:
        done.set()
        if killer:
            killer.join(30)
        server.stop()
    with Replica(plan.agent_dbs[0]) as first:
        result.records = len(first.rows("temperature_checks"))
    result.problems = verify(plan, receipts, exactly_once=not kill_every)
    return result


def verify(plan: Plan, receipts: dict[str, str], exactly_once: bool = True) -> list[str]:
    """The server's state, row by row and ballot by ballot; [] when exact."""
    problems = []
    db = sqlite3.connect(plan.server_dir / "lastmeter.db")
    try:
        check = db.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            problems.append(f"integrity_check: {check}")
        cols = "id, compound_id, household_id, temperature_c, measured_at, recorded_by"
        for path, compound in zip(plan.agent_dbs, plan.compounds, strict=True):
            laptop = sqlite3.connect(path)
            try:
                mine = set(laptop.execute(f"SELECT {cols} FROM temperature_checks"))
            finally:
                laptop.close()
            there = set(db.execute(
                f"SELECT {cols} FROM temperature_checks WHERE compound_id = ?", [compound]
            ))  # fmt: skip
            if mine != there:
                problems.append(f"{compound}: {len(mine - there)} missing, "
                                f"{len(there - mine)} unexpected")  # fmt: skip
        if plan.links:
            rows = list(db.execute(
                "SELECT owner_key, choice, receipt FROM online_ballots WHERE motion_id = ? "
                "ORDER BY received_at, rowid", [plan.motion_id]
            ))  # fmt: skip
            last = {}
            for key, choice, receipt in rows:
                last[key] = (choice, receipt)
            if exactly_once and len(rows) != len(plan.links):
                problems.append(f"{len(rows)} ballots stored for {len(plan.links)} owners")
            stored = {r[2] for r in rows}
            for key, _token, choice in plan.links:
                if key not in last or last[key][0] != choice:
                    problems.append(f"owner {key}: counted {last.get(key)} but chose {choice}")
                if key in receipts and receipts[key] not in stored:
                    problems.append(f"owner {key}: receipt {receipts[key]} shown but not stored")
    finally:
        db.close()
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=200)
    parser.add_argument("--records", type=int, default=300)
    parser.add_argument("--owners", type=int, default=200)
    parser.add_argument("--threads", type=int, default=8, help="waitress threads")
    parser.add_argument("--kill-every", type=float, default=0, help="SIGKILL period (s)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        plan = setup(Path(tmp), args.agents, args.records, args.owners)
        print(f"setup: {args.agents} laptops x {args.records} checks, {args.owners} owners "
              f"in {time.perf_counter() - t0:.1f} s")  # fmt: skip
        result = run(plan, threads=args.threads, kill_every=args.kill_every)
    print(json.dumps(result.summary(), indent=2))
    for line in (result.errors + result.problems)[:20]:
        print("  ", line)
    return 0 if not result.errors and not result.problems else 1


if __name__ == "__main__":
    sys.exit(main())
