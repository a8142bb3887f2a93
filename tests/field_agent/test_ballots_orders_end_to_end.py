"""End to end with a live `lastmeter server run`: a paper ballot and a group-buying order
recorded on the agent, synced, then counted by the server's own functions."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path

import pytest
from sqlite_utils import Database

from field_agent import close_app, create_app
from field_agent.orders import data as agent_orders
from server.supply import orders as supply
from server.voting import data as voting
from server.voting.rules import resolve
from sync import Replica
from sync.blobstore import BlobStore
from tests.field_agent.helpers import AgentActions, LiveServer, jpeg_bytes, run

pytestmark = pytest.mark.slow

B1, B2 = "1栋", "2栋"
HOUSEHOLDS = {"h01": B1, "h02": B1, "h03": B2, "h04": B2}


@pytest.fixture
def server_dir(tmp_path):
    """A community server with one compound of four households (80 m² each)."""
    path = tmp_path / "server"
    run("server", "init", "--data", str(path))
    with Replica(path / "lastmeter.db") as server:
        server.write("compounds", "c1", {"compound_id": "c1", "name": "华氏儒商花园"})
        for b, name in enumerate((B1, B2)):
            server.write("buildings", f"c1-b{b}", {"compound_id": "c1", "name": name})
        server.write_many(
            "households",
            {
                hid: {"compound_id": "c1", "building": building, "unit": f"{101 + i}",
                      "owner_name": f"业主{i}", "area_m2": 80.0}
                for i, (hid, building) in enumerate(HOUSEHOLDS.items())
            },
        )  # fmt: skip
    return path


def enrol(tmp_path: Path, server_dir: Path, url: str):
    token = run(
        "server", "add-device", "--data", str(server_dir), "--user", "vol1",
        "--role", "volunteer", "--compound", "c1",
    ).stdout.strip().splitlines()[-1]  # fmt: skip
    data = tmp_path / "agent"
    run("agent", "init", "--data", str(data), "--server", url, "--token", token)
    return create_app({"DATA_DIR": str(data)})


def sync_column(client) -> list[str]:
    html = client.get("/ballots/?lang=en").get_data(as_text=True)
    rows = re.findall(r'<tr id="b-[^"]+" class="sent-(\w+)">', html)
    return rows


def test_a_paper_ballot_recorded_offline_is_counted_by_the_server(tmp_path, server_dir):
    now = dt.datetime.now(dt.UTC)
    db = Database(server_dir / "lastmeter.db")
    try:
        values = {
            "compound_id": "c1", "title": "动用公共收益一万元奖励物业人员", "body": "",
            "matter": "other_major", "rule_set": "auto",
            "opens_at": voting.iso(now - dt.timedelta(hours=1)),
            "closes_at": voting.iso(now + dt.timedelta(hours=50)),
            "late_after_hours": 24, "show_running": 0, "open_ballot": 1,
        }  # fmt: skip
        motion_id = voting.create_motion(db, values, None, now)
        voting.open_motion(db, motion_id, now)
        motion = voting.get_motion(db, motion_id)
    finally:
        db.close()
    with Replica(server_dir / "lastmeter.db") as server:  # what the server's open page does
        rules = resolve(motion["rule_set"], voting.parse_time(motion["opens_at"]))
        server.write("motion_notices", motion_id, voting.notice_row(motion, rules))

    live = LiveServer(server_dir).start()
    app = enrol(tmp_path, server_dir, live.url)
    job = app.extensions["agent_sync"]
    try:
        assert job.run_once()  # the register and the notice come down
        live.stop()  # offline from here: the volunteer goes door to door
        client = app.test_client()
        volunteer = AgentActions(client)
        assert volunteer.setup("王芳", "2468").status_code == 303
        assert f'href="/ballots/{motion_id}/record"' in client.get("/ballots/").get_data(
            as_text=True
        )
        receipts = {}
        for key, household, choice in (
            ("h01-first", "h01", "against"),
            ("h01-changed", "h01", "for"),  # changed their mind: a new ballot
            ("h03", "h03", "abstain"),
        ):
            form = {
                "household_id": household,
                "choice": choice,
                "voter_name": f"签名{household}",
                "photo": (io.BytesIO(jpeg_bytes(1600, 1200)), "ballot.jpg"),
            }
            resp = volunteer.post(
                f"/ballots/{motion_id}/record", form, content_type="multipart/form-data"
            )
            assert resp.status_code == 303
            shown = client.get(resp.headers["Location"]).get_data(as_text=True)
            receipts[key] = re.search(r'id="receipt">([^<]+)<', shown).group(1)
        assert sync_column(client) == ["waiting"] * 3

        live.start()  # the same port: back in range of the server
        assert job.run_once()
        assert sync_column(client) == ["sent"] * 3
        live.stop()

        local = app.extensions["replica"]
        photos = {r["photo_sha256"] for r in local.rows("ballots")}
        db = Database(server_dir / "lastmeter.db")
        try:
            assert {r["receipt"] for r in db.query("SELECT receipt FROM ballots")} == set(
                receipts.values()
            )
            # the push stamped each paper ballot's arrival with the server's clock
            assert db.execute("SELECT count(*) FROM ballot_arrivals").fetchone()[0] == 3
            closes = voting.parse_time(motion["closes_at"])
            closed = voting.close_motion(db, motion_id, closes + dt.timedelta(seconds=1))
            motion = voting.get_motion(db, motion_id)
            audit = {a["receipt"]: a for a in voting.audit_list(
                db, motion, closes + dt.timedelta(seconds=2), show_choice=True)}  # fmt: skip
        finally:
            db.close()
        assert closed["tally"]["owners"] == {
            "for": 1,
            "against": 0,
            "abstain": 1,
            "not_voting": 2,
        }
        first, changed, other = (audit[receipts[k]] for k in ("h01-first", "h01-changed", "h03"))
        assert (first["status"], first["reason"]) == ("superseded", "superseded")
        assert (changed["status"], changed["choice"]) == ("counted", "for")
        assert (other["status"], other["choice"]) == ("counted", "abstain")
        assert {a["channel"] for a in audit.values()} == {"paper"}
        assert {a["volunteer"] for a in audit.values()} == {"王芳"}
        assert {a["photo_sha256"] for a in audit.values()} == photos
        server_blobs = BlobStore(server_dir / "blobs")
        assert all(server_blobs.exists(sha) for sha in photos)
        # the bulletin (public) lists every receipt with its choice
        board = {e["receipt"]: e["choice"] for e in motion["bulletin"]["entries"]}
        assert board[receipts["h01-changed"]] == "for"
        assert set(receipts.values()) <= set(board)
    finally:
        close_app(app)
        live.stop()


def test_an_order_taken_on_the_agent_appears_in_the_offers_totals(tmp_path, server_dir):
    deadline = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    db = Database(server_dir / "lastmeter.db")
    try:
        with Replica(server_dir / "lastmeter.db") as server:
            offer_id = supply.create_offer(
                db, server, compound_id="c1", item="平价猪肉", unit="斤",
                unit_price_yuan="10", deadline=deadline.isoformat(), max_per_household="5",
            )  # fmt: skip
    finally:
        db.close()

    live = LiveServer(server_dir).start()
    app = enrol(tmp_path, server_dir, live.url)
    job = app.extensions["agent_sync"]
    try:
        assert job.run_once()
        client = app.test_client()
        volunteer = AgentActions(client)
        assert volunteer.setup("王芳", "2468").status_code == 303
        for household, quantity in (("h01", "2.5"), ("h02", "3"), ("h03", "1"), ("h03", "1.5")):
            form = {"household_id": household, "quantity": quantity}
            assert volunteer.post(f"/orders/{offer_id}/new", form).status_code == 303
        refused = volunteer.post(
            f"/orders/{offer_id}/new", {"household_id": "h04", "quantity": "6"}
        )
        assert refused.status_code == 422
        assert job.run_once()
        live.stop()

        local = app.extensions["replica"]
        agent_db = Database(local.path)
        try:
            mine = agent_orders.taken_here(agent_db, "c1", local.local_no)
        finally:
            agent_db.close()
        db = Database(server_dir / "lastmeter.db")
        try:
            offer = supply.get_offer(db, offer_id)
            rows = supply.orders(db, offer)
            totals = supply.totals_by_building(rows)
        finally:
            db.close()
        assert {r["household_id"]: r["quantity"] for r in rows} == {
            "h01": Decimal("2.5"),
            "h02": Decimal("3"),
            "h03": Decimal("1.5"),
        }
        assert {r["taken_by"] for r in rows} == {"王芳"}
        assert {r["payment"] for r in rows} == {"unpaid"}
        assert [
            (t["building"], t["households"], t["quantity"], t["amount_yuan"]) for t in totals
        ] == [
            (B1, 2, Decimal("5.5"), Decimal("55.00")),
            (B2, 1, Decimal("1.5"), Decimal("15.00")),
        ]
        # the laptop's own totals add up to the server's
        [group] = mine
        assert group["quantity"] == sum(t["quantity"] for t in totals)
        assert group["amount_yuan"] == sum(t["amount_yuan"] for t in totals)
        assert group["households"] == 3
    finally:
        close_app(app)
        live.stop()
