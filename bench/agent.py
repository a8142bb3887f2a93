"""Bench: the field agent's temperature grid save and deliveries page.

Run: .venv/bin/python bench/agent.py [--runs 50]. Targets (issue #5): grid save under
100 ms at p95, pages under 50 ms at p95.

Builds a real agent data directory (replica file with synchronous=FULL, as the agent
runs) holding a compound of 20 buildings, 1,000 households, 2,000 residents and 2,000
deliveries for today, signs a volunteer in, then times through the Flask test client
(everything but the socket):
- saving one building's grid of 60 residents (all 60 readings, one POST), beside the
  floor: the bare `Replica.write_many` of the same 60 checks;
- rendering the deliveries page with 2,000 deliveries today (the page lists all 2,000
  in order and shows the first 200: pages hold 200 rows), and one building's list,
  beside the floor: the bare SQL of the day's list;
- the first page after a write (the status bar recounts the cells waiting to be sent).
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

from field_agent import close_app, create_app, localtime, settings
from field_agent.db import open_db
from field_agent.deliveries import data as deliveries
from sync import new_id

BUILDINGS, PER_BUILDING, GRID = 20, 50, "b01"


def seed(replica) -> None:
    replica.write("compounds", "c1", {"compound_id": "c1", "name": "Huashi Rushang Garden"})
    homes, people, drops = {}, {}, {}
    for b in range(BUILDINGS):
        name = f"b{b:02d}"
        replica.write("buildings", f"bld-{name}", {"compound_id": "c1", "name": name})
        # The grid building has 30 households of 2 = 60 residents; the others 50 of 2.
        count = 30 if name == GRID else PER_BUILDING
        for u in range(count):
            hid = f"h-{name}-{u:03d}"
            homes[hid] = {"compound_id": "c1", "building": name, "unit": f"{100 + u}"}
            for p in range(2):
                people[f"{hid}-r{p}"] = {
                    "compound_id": "c1",
                    "household_id": hid,
                    "name": f"R{u}-{p}",
                }
    replica.write_many("households", homes)
    replica.write_many("residents", people)
    ids = sorted(homes)
    for i in range(2_000):
        drops[f"d{i:05d}"] = {
            "compound_id": "c1",
            "household_id": ids[i % len(ids)],
            "kind": "vegetables" if i % 3 else "group_buy",
            "items": "vegetable package",
            "quantity": 1,
            "status": ("planned", "packed", "out")[i % 3],
            "round_id": f"R{i % 4}",
        }
    replica.write_many("deliveries", drops)


def timed(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def line(label: str, values: list[float]) -> str:
    return f"{label:<58} median {statistics.median(values):7.1f} ms   p95 {p95(values):7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"DATA_DIR": str(Path(tmp) / "agent")})
        replica = app.extensions["replica"]
        seed(replica)
        client = app.test_client()
        token = re.search(r'value="([^"]+)"', client.get("/setup").get_data(as_text=True))
        setup = {"name": "Wang", "pin": "2468", "pin2": "2468", "csrf_token": token.group(1)}
        assert client.post("/setup", data=setup).status_code == 303
        grid = client.get(f"/temperatures/grid?building={GRID}").get_data(as_text=True)
        keys = re.findall(r'class="grid-cell" name="([^"]+)"', grid)
        assert len(keys) == 60, len(keys)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', grid).group(1)
        form = {k: f"36.{i % 10}" for i, k in enumerate(keys)} | {"csrf_token": csrf}
        form[keys[7]] = "37.9"  # one fever: its case is opened on the first save

        def save():
            resp = client.post(f"/temperatures/grid?building={GRID}", data=form)
            assert resp.status_code == 303, resp.status_code

        with app.test_request_context():
            when = localtime.now_iso()
        rows = [
            {
                "compound_id": "c1",
                "household_id": k[2:].rsplit("-r", 1)[0],
                "resident_id": k[2:],
                "temperature_c": 36.6,
                "measured_at": when,
                "recorded_by": "Wang",
            }
            for k in keys
        ]

        def floor_write():
            replica.write_many("temperature_checks", {new_id(): r for r in rows})

        def page(url: str):
            def get():
                resp = client.get(url)
                assert resp.status_code == 200

            return get

        db = open_db(app.config["DATABASE"])

        def floor_sql():
            with app.test_request_context():
                deliveries.day_list(db, "c1", localtime.today())

        clicked = iter(f"d{i:05d}" for i in range(0, 2_000, 3))  # planned ones

        def page_after_click() -> float:
            replica.write("deliveries", next(clicked), {"status": "packed"})
            t0 = time.perf_counter()
            page("/deliveries/")()
            return (time.perf_counter() - t0) * 1000

        def page_after_write():
            floor_write()
            page("/deliveries/?building=b05")()

        html = client.get("/deliveries/?lang=en").get_data(as_text=True)
        assert "of 2000" in html, "the page must count all 2,000 deliveries"
        # As after a sync: the register and deliveries are acknowledged by the server, so the
        # status bar counts only what the volunteer writes from here on.
        settings.save(Path(app.config["DATA_DIR"]), server_site="bench-server")
        replica.set_cursor("bench-server", sent=replica.counter)
        # Pages first (few unsent cells yet), then the writes, then a page after each write.
        results = [
            ("floor: SQL of the day's deliveries (2,000 rows)", timed(floor_sql, args.runs)),
            (
                "deliveries page, 2,000 today (first 200 shown)",
                timed(page("/deliveries/"), args.runs),
            ),
            (
                "deliveries page after a change (list re-read)",
                [page_after_click() for _ in range(args.runs)],
            ),
            (
                "deliveries page, one building (100 rows)",
                timed(page("/deliveries/?building=b05"), args.runs),
            ),
            (
                "temperature grid page, 60 residents",
                timed(page(f"/temperatures/grid?building={GRID}"), args.runs),
            ),
            ("floor: Replica.write_many of 60 checks", timed(floor_write, args.runs)),
            ("grid save, 60 residents (POST, 60 checks)", timed(save, args.runs)),
            (
                "60 checks written + building page (status recount)",
                timed(page_after_write, args.runs),
            ),
        ]
        db.close()
        n_checks = len(replica.rows("temperature_checks"))
        print(f"agent bench: {args.runs} runs each; replica holds {n_checks:,} checks at the end")
        for label, values in results:
            print(line(label, values))
        close_app(app)


if __name__ == "__main__":
    main()
