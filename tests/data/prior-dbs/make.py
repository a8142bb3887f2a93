"""Make the databases of a released Last Meter, for the upgrade tests.

Run it with the code of that release, not the code of this checkout:

    git worktree add /tmp/v010 ec46c66
    .venv/bin/python tests/data/prior-dbs/make.py --code /tmp/v010 --out tests/data/prior-dbs/v0.1.0

It writes OUT/server/ (a community server's data directory: lastmeter.db, blobs/,
config.toml) and OUT/agent/ (a laptop's: lastmeter.db, blobs/, config.toml) and
OUT/README.txt saying what is in them. The server ran on 127.0.0.1 during the run; the
agent's config.toml still names that address, tests point it at their own server.

What is in them (MANIFEST below, also written to OUT/manifest.json for the tests):
- compounds c1 (4 households in two buildings) and c2 (1 household);
- users: secretary (community_admin, all compounds, password "prior-secretary-1") and
  wang (building_head, c1) with one device, whose token is in the agent's config;
- on the agent: volunteer 王志愿 (PIN 2020); temperature checks and a delivery synced;
  a medicine request with a photo (row and bytes on both sides);
- a conflict on the agent: the delivery's items edited on both sides, the server's later;
- a rejected cell in the agent's outbox: a temperature check for c2, outside its scope;
- records NOT yet synced: two temperature checks and an edited household phone.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import sys
import threading
import time
from pathlib import Path

COMPOUNDS = {"c1": "临江雅居", "c2": "钻石公寓"}
HOUSEHOLDS = {
    "h-c1-1-101": ("c1", "1栋", "101"),
    "h-c1-1-102": ("c1", "1栋", "102"),
    "h-c1-2-101": ("c1", "2栋", "101"),
    "h-c1-2-102": ("c1", "2栋", "102"),
    "h-c2-1-101": ("c2", "1栋", "101"),
}
MANIFEST = {
    "release": "0.1.0",
    "commit": "ec46c66",
    "protocol_version": 1,
    "server_users": {"secretary": "prior-secretary-1", "wang": "prior-wang-123"},
    "agent_volunteer": {"name": "王志愿", "pin": "2020"},
    "households": sorted(HOUSEHOLDS),
    "synced_checks": ["t-synced-1", "t-synced-2", "t-synced-3"],
    "unsynced_checks": ["t-unsent-1", "t-unsent-2"],
    "unsynced_phone": {"household": "h-c1-1-101", "phone": "13800000001"},
    "rejected_check": "t-outside-c2",
    "conflict": {"table": "deliveries", "row": "d-1", "column": "items"},
    "medicine": "m-1",
}


def _jpeg() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (48, 32), (180, 40, 40)).save(buf, "JPEG", quality=70)
    return buf.getvalue()


def check(household: str, temp: float, day: int) -> dict:
    compound = HOUSEHOLDS[household][0] if household in HOUSEHOLDS else "c2"
    return {
        "compound_id": compound,
        "household_id": household,
        "temperature_c": temp,
        "measured_at": f"2020-03-{day:02d}T08:00:00+08:00",
        "recorded_by": "王志愿",
    }


def make(out: Path) -> None:
    import waitress

    from field_agent import close_app, settings
    from field_agent import create_app as agent_app
    from field_agent.db import open_db as agent_db
    from field_agent.photos import store_photo
    from field_agent.syncer import run_sync
    from field_agent.volunteers import data as volunteers
    from server import create_app
    from server.auth import data as auth_data
    from server.db import open_db
    from sync.blobstore import BlobStore

    server_dir, agent_dir = out / "server", out / "agent"
    for d in (server_dir, agent_dir):
        if d.exists():
            shutil.rmtree(d)

    # The server: places, the secretary, wang with one device.
    app = create_app({"DATA_DIR": str(server_dir)})
    srv = app.extensions["replica"]
    for cid, name in COMPOUNDS.items():
        srv.write("compounds", cid, {"compound_id": cid, "name": name})
    for hid, (cid, building, unit) in HOUSEHOLDS.items():
        srv.write(
            "households",
            hid,
            {"compound_id": cid, "building": building, "unit": unit, "owner_name": f"户{unit}"},
        )
    srv.write(
        "deliveries",
        "d-1",
        {
            "compound_id": "c1",
            "household_id": "h-c1-1-101",
            "kind": "vegetables",
            "items": "蔬菜包",
            "status": "planned",
            "round_id": "R1",
        },
    )
    db = open_db(server_dir / "lastmeter.db")
    users = MANIFEST["server_users"]
    auth_data.create_user(db, "secretary", users["secretary"], "community_admin", ["*"])
    wang = auth_data.create_user(db, "wang", users["wang"], "building_head", ["c1"])
    _, token = auth_data.issue_device(db, wang.id, "wang-laptop")
    db.close()

    httpd = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    serving = threading.Thread(target=httpd.run, daemon=True)
    serving.start()
    url = f"http://127.0.0.1:{httpd.effective_port}"

    # The agent: enrolled as `lastmeter agent init` did, one volunteer.
    settings.save(agent_dir, server_url=url, token=token)
    agent = agent_app({"DATA_DIR": str(agent_dir)})
    adb = agent_db(agent.config["DATABASE"])
    volunteers.create(adb, MANIFEST["agent_volunteer"]["name"], MANIFEST["agent_volunteer"]["pin"])
    adb.close()
    rep = agent.extensions["replica"]
    run_sync(agent_dir, replica=rep)  # pulls c1's places and the delivery

    # Synced: three checks, a medicine request with its photo.
    for n, hid in enumerate(["h-c1-1-101", "h-c1-1-102", "h-c1-2-101"], 1):
        rep.write("temperature_checks", f"t-synced-{n}", check(hid, 36.5 + n / 10, 8))
    sha = store_photo(
        rep,
        BlobStore(settings.blob_dir(agent_dir)),
        "c1",
        _jpeg(),
        ref_table="medicine_requests",
        ref_id="m-1",
        who="王志愿",
        taken_at="2020-03-08T09:00:00+08:00",
    )
    rep.write(
        "medicine_requests",
        "m-1",
        {
            "compound_id": "c1",
            "household_id": "h-c1-2-102",
            "drug_name": "硝苯地平",
            "quantity": 2,
            "photo_sha256": sha,
            "status": "requested",
            "created_at": "2020-03-08T09:00:00+08:00",
            "recorded_by": "王志愿",
        },
    )
    # The conflict: the agent edits the delivery, then the server edits it later.
    rep.write("deliveries", "d-1", {"items": "蔬菜包（少葱）", "recorded_by": "王志愿"})
    time.sleep(0.01)
    srv.write("deliveries", "d-1", {"items": "蔬菜包 + 鸡蛋"})
    # The rejected cell: a check for c2, outside wang's scope.
    rep.write("temperature_checks", "t-outside-c2", check("h-c2-1-101", 36.6, 8))
    report = run_sync(agent_dir, replica=rep)
    assert report.rejected >= 1, report
    assert rep.conflicts(), "no conflict on the agent"

    # Not synced: recorded after the last sync.
    rep.write("temperature_checks", "t-unsent-1", check("h-c1-2-102", 37.6, 9))
    rep.write("temperature_checks", "t-unsent-2", check("h-c1-1-101", 36.4, 9))
    phone = MANIFEST["unsynced_phone"]
    rep.write("households", phone["household"], {"phone": phone["phone"]})

    httpd.close()
    serving.join(5)
    close_app(agent)
    srv.close()
    (out / "manifest.json").write_text(
        json.dumps(MANIFEST, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )


def _compact(path: Path) -> None:
    """One file, no WAL beside it (the release's WAL mode kept), no free pages: small in git."""
    import sqlite3

    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    # Mostly empty tables and indexes: 1 KB pages make the file a quarter of the size.
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.execute("PRAGMA page_size=1024")
    conn.execute("VACUUM")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    for extra in ("-wal", "-shm"):
        Path(str(path) + extra).unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--code", required=True, type=Path, help="a checkout of the release")
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()
    sys.path.insert(0, str(args.code.resolve()))
    import server

    here = Path(server.__file__).resolve()
    if args.code.resolve() not in here.parents:
        sys.exit(f"server imported from {here}, not from {args.code}")
    make(args.out)
    import gc

    gc.collect()  # the sync client's `with sqlite3.connect()` leaves connections to the GC
    for d in ("server", "agent"):
        _compact(args.out / d / "lastmeter.db")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
