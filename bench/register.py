"""Bench: the household list page and household search at 5,000 households, 15,000 residents.

Run: .venv/bin/python bench/register.py. Target (issue #4): p95 under 50 ms and within 3x
of the bare SQL query (the floor: the same count + page query, no Flask, no template).
Each figure is the median and p95 over 200 requests through Flask's test client, signed
in as the community secretary (every compound) and as a volunteer of one compound.
"""

from __future__ import annotations

import random
import re
import statistics
import tempfile
import time
from pathlib import Path

from server import create_app
from server.auth import data as auth_data
from server.db import get_db
from server.places.data import stable_id
from server.register import data

COMPOUNDS, BUILDINGS, HOUSEHOLDS, PER_HOUSEHOLD, REQUESTS = 10, 10, 5_000, 3, 200
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平"


def seed(app, rng: random.Random) -> tuple[list[str], list[str]]:
    replica = app.extensions["replica"]
    compounds = [stable_id("bench", str(c)) for c in range(COMPOUNDS)]
    replica.write_many(
        "compounds",
        {c: {"compound_id": c, "name": f"小区{i + 1}"} for i, c in enumerate(compounds)},
    )
    buildings, homes, people, names = {}, {}, {}, []
    per = HOUSEHOLDS // (COMPOUNDS * BUILDINGS)
    for c in compounds:
        for b in range(1, BUILDINGS + 1):
            bname = f"{b}栋"
            buildings[stable_id(c, "building", bname)] = {"compound_id": c, "name": bname}
            for u in range(per):
                unit = f"{u // 4 + 1}{u % 4 + 1:02d}"
                hid = stable_id(c, bname, unit)
                owner = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
                homes[hid] = {
                    "compound_id": c,
                    "building": bname,
                    "unit": unit,
                    "area_m2": round(rng.uniform(45, 140), 2),
                    "owner_name": owner,
                    "phone": f"13{rng.randrange(10**9):09d}",
                    "members": PER_HOUSEHOLD,
                    "medical_worker": rng.random() < 0.03,
                    "hardship": rng.random() < 0.06,
                    "elderly_alone": rng.random() < 0.08,
                }
                for k in range(PER_HOUSEHOLD):
                    name = owner if k == 0 else owner[0] + rng.choice(GIVEN) + rng.choice(GIVEN)
                    rid = stable_id(hid, name, str(k))
                    people[rid] = {"compound_id": c, "household_id": hid, "name": name}
                    names.append(name)
    replica.write_many("buildings", buildings)
    replica.write_many("households", homes)
    replica.write_many("residents", people)
    return compounds, names


def sign_in(app, username: str, role: str, compounds: list[str]):
    with app.app_context():
        auth_data.create_user(get_db(), username, "bench-password", role, compounds)
    client = app.test_client()
    html = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    resp = client.post(
        "/auth/login",
        data={"username": username, "password": "bench-password", "csrf_token": token},
    )
    assert resp.status_code == 303
    return client


def stats(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def timed_pair(page_fn, bare_fn, args_list):
    """Page and bare query alternate, so both see the same machine load."""
    pages, bare = [], []
    for args in args_list:
        start = time.perf_counter()
        page_fn(args)
        middle = time.perf_counter()
        bare_fn(args)
        pages.append((middle - start) * 1000)
        bare.append((time.perf_counter() - middle) * 1000)
    return stats(pages), stats(bare)


def main() -> None:
    rng = random.Random(4)
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"DATA_DIR": str(Path(tmp) / "server")})
        compounds, names = seed(app, rng)
        admin = sign_in(app, "secretary", "community_admin", ["*"])
        volunteer = sign_in(app, "volunteer", "volunteer", [compounds[0]])
        with app.app_context():
            db = get_db()
            households = db.execute("SELECT count(*) FROM households").fetchone()[0]
            residents = db.execute("SELECT count(*) FROM residents").fetchone()[0]
            pages = -(-households // data.PER_PAGE)
            page_args = [1 + (i * 7) % pages for i in range(REQUESTS)]
            terms = [rng.choice(names)[:2] for _ in range(REQUESTS // 2)]
            terms += [f"{rng.randrange(1, 8)}0{rng.randrange(1, 5)}" for _ in range(REQUESTS // 2)]
            scope_one = [compounds[0]]

            def bare_page(page, scope=None):
                data.household_page(db, scope, page=page)

            def bare_search(q, scope=None):
                data.household_page(db, scope, q=q)

            cases = [
                (
                    "list page (secretary)",
                    lambda p: admin.get(f"/households?page={p}"),
                    lambda p: bare_page(p),
                    page_args,
                ),
                (
                    "search (secretary)",
                    lambda q: admin.get(f"/households?q={q}"),
                    lambda q: bare_search(q),
                    terms,
                ),
                (
                    "search, htmx fragment",
                    lambda q: admin.get(f"/households?q={q}", headers={"HX-Request": "true"}),
                    lambda q: bare_search(q),
                    terms,
                ),
                (
                    "list page (volunteer, 1 of 10)",
                    lambda p: volunteer.get(f"/households?page={1 + p % 10}"),
                    lambda p: bare_page(1 + p % 10, scope_one),
                    page_args,
                ),
                (
                    "search (volunteer)",
                    lambda q: volunteer.get(f"/households?q={q}"),
                    lambda q: bare_search(q, scope_one),
                    terms,
                ),
            ]
            # Warm up: templates compiled, SQLite pages cached.
            for _, page_fn, bare_fn, args in cases:
                for a in args[:10]:
                    page_fn(a)
                    bare_fn(a)
            print(f"{households:,} households, {residents:,} residents, {REQUESTS} requests each")
            print(
                f"{'':32} {'page med':>9} {'page p95':>9} {'SQL med':>8} {'SQL p95':>8} "
                f"{'med ratio':>9} {'p95 ratio':>9}"
            )
            for label, page_fn, bare_fn, args in cases:
                assert page_fn(args[0]).status_code == 200
                (pm, pp), (sm, sp) = timed_pair(page_fn, bare_fn, args)
                print(
                    f"{label:32} {pm:7.1f}ms {pp:7.1f}ms {sm:6.1f}ms {sp:6.1f}ms "
                    f"{pm / sm:8.1f}x {pp / sp:8.1f}x"
                )
        print("target: page p95 < 50 ms and within 3x of the bare query")
        app.extensions["replica"].close()


if __name__ == "__main__":
    main()
