"""Owners' vote under load: 5,000 owners, 4,000 ballots cast online over HTTP, then the tally.

A real server (`lastmeter server run`, waitress, a real SQLite file) on 127.0.0.1; a
bounded pool of concurrent clients posts the ballot form each owner's phone would post.
Then every ballot is checked to be stored exactly once, and the close (classify, tally,
result, bulletin, recount check, freeze) is timed.
Targets (issue #7): >= 200 ballots/s with no error and no lost ballot; tally under 1 s.

Run: .venv/bin/python bench/votes.py [--owners 5000] [--ballots 4000] [--clients 16]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from server import create_app  # noqa: E402
from server.db import get_db, get_replica  # noqa: E402
from server.voting import data  # noqa: E402


def setup(data_dir: Path, owners: int, rng: random.Random) -> tuple[str, list[str]]:
    """The register, a motion open from a minute ago, and a link for every owner."""
    app = create_app({"DATA_DIR": str(data_dir)})
    now = dt.datetime.now(dt.UTC)
    with app.app_context():
        rows = {
            f"h{i:05d}": {
                "compound_id": "c1",
                "building": str(i // 100),
                "unit": str(i % 100),
                "owner_key": f"p{i:05d}",
                "area_m2": rng.randint(4000, 16000) / 100,
            }
            for i in range(owners)
        }
        get_replica().write_many("households", rows)
        db = get_db()
        values, errors = data.check_motion(
            {
                "compound_id": "c1",
                "title": "bench",
                "matter": "other_major",
                "rule_set": "civil-code-2021",
                "opens_at": (now - dt.timedelta(minutes=1)).isoformat(),
                "closes_at": (now + dt.timedelta(hours=50)).isoformat(),
            },
            dt.UTC,
        )
        assert not errors, errors
        motion_id = data.create_motion(db, values, None, now)
        data.open_motion(db, motion_id, now)
        tokens = [link["token"] for link in data.issue_links(db, motion_id, now)]
    app.extensions["replica"].close()
    return motion_id, tokens


def serve(data_dir: Path, threads: int, log) -> tuple[subprocess.Popen, str]:
    # `lastmeter server run`, from this checkout (not whatever is installed)
    code = "import sys; from server.cli import main; sys.argv[0] = 'lastmeter'; main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "server", "run", "--data", str(data_dir), "--port", "0",
         "--threads", str(threads)],
        stdout=subprocess.PIPE,
        stderr=log,  # waitress reports its queue depth under load: keep it out of the way
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    line = proc.stdout.readline()
    base = line.split(" on ", 1)[1].split("/ ", 1)[0]
    return proc, base


def cast_all(base: str, jobs: list[tuple[str, str]], clients: int) -> tuple[float, list, int]:
    local = threading.local()
    errors: list[str] = []
    ok = 0
    lock = threading.Lock()

    def one(job: tuple[str, str]) -> None:
        nonlocal ok
        session = getattr(local, "session", None)
        if session is None:
            session = local.session = requests.Session()
        token, choice = job
        resp = session.post(f"{base}/b/{token}", data={"choice": choice}, allow_redirects=False,
                            timeout=30)  # fmt: skip
        with lock:
            if resp.status_code == 303 and "/receipt/" in resp.headers.get("Location", ""):
                ok += 1
            else:
                errors.append(f"{resp.status_code} {resp.text[:200]}")

    start = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(one, jobs))
    return time.perf_counter() - start, errors, ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--owners", type=int, default=5000)
    parser.add_argument("--ballots", type=int, default=4000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--threads", type=int, default=8, help="waitress threads")
    args = parser.parse_args()
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "server"
        t0 = time.perf_counter()
        motion_id, tokens = setup(data_dir, args.owners, rng)
        print(f"setup: {args.owners} owners, links issued in {time.perf_counter() - t0:.2f} s")
        voters = rng.sample(tokens, args.ballots)
        jobs = [(t, rng.choice(("for", "for", "against", "abstain"))) for t in voters]
        log = (Path(tmp) / "server.log").open("w")
        proc, base = serve(data_dir, args.threads, log)
        try:
            elapsed, errors, ok = cast_all(base, jobs, args.clients)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            log.close()
        rate = ok / elapsed
        print(
            f"cast: {ok} ballots in {elapsed:.2f} s = {rate:.0f} ballots/s ({args.clients} "
            f"clients, {args.threads} server threads); errors: {len(errors)}"
        )
        for e in errors[:5]:
            print("  error:", e)

        app = create_app({"DATA_DIR": str(data_dir)})
        with app.app_context():
            db = get_db()
            stored = db.execute(
                "SELECT count(*), count(DISTINCT owner_key), count(DISTINCT receipt) "
                "FROM online_ballots WHERE motion_id = ?",
                [motion_id],
            ).fetchone()
            motion = data.get_motion(db, motion_id)
            after = data.parse_time(motion["closes_at"]) + dt.timedelta(seconds=1)
            t0 = time.perf_counter()
            closed = data.close_motion(db, motion_id, after)
            tally_s = time.perf_counter() - t0
        app.extensions["replica"].close()
        lost = args.ballots - stored[0]
        print(
            f"stored: {stored[0]} ballots, {stored[1]} owners, {stored[2]} receipts; lost: {lost}"
        )
        owners = closed["tally"]["owners"]
        print(f"tally: {owners} outcome={closed['result']['outcome']}")
        print(f"close (classify + tally + result + bulletin + recount + freeze): {tally_s:.3f} s")
        good = not errors and lost == 0 and stored[1] == args.ballots and rate >= 200
        print("targets met" if good and tally_s < 1 else "TARGETS NOT MET")
        return 0 if good and tally_s < 1 else 1


if __name__ == "__main__":
    sys.exit(main())
