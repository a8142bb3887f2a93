"""`lastmeter demo` seeds a fortnight of field work that tells a story on the dashboard:
临江雅居 and 钻石公寓 pass, 华氏儒商花园 fails (a fever not released, a building
unchecked yesterday); owners' votes, supplies and the field agent's volunteer too."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from click.testing import CliRunner

from server import create_app
from server.cli import main
from server.demo import agent as demo_agent
from server.demo import seed
from server.demo.seed import compound_id

SHANGHAI = ZoneInfo("Asia/Shanghai")

# Server-only tables the seed fills through the areas' own functions.
SERVER_TABLES = (
    "motions", "online_ballots", "ballot_links", "supply_rounds", "supply_round_lines",
    "ledger_entries", "cert_closures", "cert_work_groups", "cert_attestations",
    "cert_applications", "cert_checks",
)  # fmt: skip


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """A demo seeded once by `lastmeter demo --no-serve`; (data dir, the seed's today)."""
    data = tmp_path_factory.mktemp("story")
    result = CliRunner().invoke(main, ["demo", "--data", str(data), "--no-serve"])
    assert result.exit_code == 0, result.output
    today = re.search(r"Field records to (\d{4}-\d\d-\d\d)", result.output).group(1)
    return data, dt.date.fromisoformat(today)


@pytest.fixture
def app(demo):
    app = create_app({"DATA_DIR": str(demo[0] / "server"), "TESTING": True})
    yield app
    app.extensions["replica"].close()


def login(app, username: str, password: str):
    """A test client signed in through the real login page with a demo password."""
    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    resp = client.post(
        "/auth/login", data={"username": username, "password": password, "csrf_token": token}
    )
    assert resp.status_code == 303
    return client


def check(client, key: str, on: dt.date) -> dict:
    resp = client.get(f"/api/compounds/{compound_id(key)}/certification?date={on}")
    assert resp.status_code == 200
    return resp.get_json()


def failing_facts(doc: dict, rule: str) -> list[dict]:
    found = next(r for r in doc["rules"] if r["rule"] == rule)
    return [f for f in found["facts"] if not f["ok"]]


def counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        out = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in SERVER_TABLES}
        out["counter"] = int(
            conn.execute("SELECT value FROM _lm_meta WHERE key = 'counter'").fetchone()[0]
        )
    conn.close()
    return out


def test_linjiang_and_diamond_pass_certification_on_the_seed_day(app, demo):
    secretary = login(app, "secretary", "demo-secretary")
    for key in ("linjiang", "diamond"):
        doc = check(secretary, key, demo[1])
        assert doc["passed"] is True, (key, doc["failing_rules"])
        assert all(r["passed"] for r in doc["rules"] if r["counted"])
    screening = next(r for r in check(secretary, "linjiang", demo[1])["rules"]
                     if r["rule"] == "screening")  # fmt: skip
    assert screening["details"]["percent"] == "100.0"


def test_huashi_fails_for_the_unreleased_fever_and_the_building_unchecked_yesterday(app, demo):
    on = demo[1]
    doc = check(login(app, "secretary", "demo-secretary"), "huashi", on)
    assert doc["passed"] is False
    assert set(doc["failing_rules"]) == {"zero_three_kinds", "screening"}
    (fever,) = failing_facts(doc, "zero_three_kinds")
    assert "fever" in fever["text"]
    assert "3栋, unit 1201" in fever["text"]
    assert (on - dt.timedelta(days=3)).strftime("%m-%d") in fever["text"]
    unchecked = [f for f in failing_facts(doc, "screening") if f["code"] == "household_unchecked"]
    assert len(unchecked) == 46  # the whole of 8栋, 23 floors of 2
    assert {f["params"]["building"] for f in unchecked} == {"8栋"}
    assert {tuple(f["params"]["days"]) for f in unchecked} == {
        ((on - dt.timedelta(days=1)).isoformat(),)
    }


def test_the_fever_case_comes_from_a_37_8_reading_three_days_ago(demo):
    with sqlite3.connect(demo[0] / "server" / "lastmeter.db") as conn:
        rows = conn.execute(
            "SELECT c.start_date, c.released_on, t.temperature_c FROM health_cases c "
            "JOIN temperature_checks t ON t.id = c.source_check_id WHERE c.compound_id = ?",
            [compound_id("huashi")],
        ).fetchall()
    conn.close()
    assert rows == [((demo[1] - dt.timedelta(days=3)).isoformat(), None, 37.8)]


def test_reseeding_changes_nothing(demo, app):
    replica = app.extensions["replica"]
    before, counter = counts(demo[0] / "server" / "lastmeter.db"), replica.counter
    result = CliRunner().invoke(main, ["demo", "--data", str(demo[0]), "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "wrote 0 temperature checks, 0 disinfection logs, 0 deliveries" in result.output
    assert replica.counter == counter
    assert counts(demo[0] / "server" / "lastmeter.db") == before


def test_votes_page_lists_the_reward_motion_with_its_turnout(app):
    committee = login(app, "committee-huashi", "demo-committee")
    html = committee.get("/votes/").get_data(as_text=True)
    assert "动用公共收益1万元奖励物业人员" in html
    motions = committee.get("/api/motions").get_json()
    motions = motions["motions"] if isinstance(motions, dict) else motions
    reward = next(m for m in motions if "奖励物业" in m["title"])
    assert reward["status"] == "open"
    assert reward["rule_set"] == "property-law-2007"
    opens, closes = (dt.datetime.fromisoformat(reward[k]) for k in ("opens_at", "closes_at"))
    assert closes - opens == dt.timedelta(hours=50)
    assert closes > dt.datetime.now(dt.UTC)  # still running
    turnout = committee.get(f"/api/motions/{reward['id']}/result").get_json()["turnout"]
    assert turnout["owners_voted"] == 102
    parcel = next(m for m in motions if "快递" in m["title"])
    result = committee.get(f"/api/motions/{parcel['id']}/result").get_json()
    assert result["status"] == "closed"
    assert result["result"]["outcome"] == "passed"
    assert committee.get(f"/votes/{parcel['id']}/bulletin").status_code == 200


def test_supplies_round_offer_ledger_and_medicine_stock(app):
    secretary = login(app, "secretary", "demo-secretary")
    with app.app_context():
        from server.db import get_db

        db = get_db()
        round_id = db.execute("SELECT id FROM supply_rounds").fetchone()[0]
        offer_id = db.execute("SELECT id FROM group_offers").fetchone()[0]
    rnd = secretary.get(f"/api/supply/rounds/{round_id}").get_json()
    assert (rnd["quantity"], rnd["status"]) == ("70", "confirmed")
    served = [a for a in rnd["allocations"] if a["quantity"] != "0"]
    assert len(served) == 70
    assert served[0]["tier_name"] == "medical_worker"
    pork = secretary.get(f"/api/supply/offers/{offer_id}/totals").get_json()
    assert pork["offer"]["unit_price_yuan"] == "10"
    assert sum(b["households"] for b in pork["buildings"]) == 22
    money = secretary.get("/api/supply/ledger/balances").get_json()["money"]
    (fund,) = [b for p, b in money.items() if "募捐" in p]
    assert fund == {"in": "8000.00", "out": "6000.00", "held": "2000.00"}
    stock = secretary.get("/api/supply/medicine/stock").get_json()
    assert stock["total_yuan"] == "213.60"
    assert stock["items"][0]["refused_reason"]


def test_dashboard_chart_has_the_past_days_and_linjiang_is_certified(app, demo):
    html = (
        login(app, "secretary", "demo-secretary")
        .get(f"/certification?date={demo[1]}")
        .get_data(as_text=True)
    )
    assert "临江雅居" in html
    with sqlite3.connect(demo[0] / "server" / "upstream.db") as conn:
        days = conn.execute("SELECT count(DISTINCT day) FROM compound_days").fetchone()[0]
    conn.close()
    assert days == 13
    doc = check(login(app, "secretary", "demo-secretary"), "linjiang", demo[1])
    assert doc["certification"]["state"] == "certified"


def test_seeded_just_after_midnight_nothing_is_dated_later_and_linjiang_passes(tmp_path):
    now = dt.datetime(2026, 3, 10, 0, 20, tzinfo=SHANGHAI)
    written = seed.seed(tmp_path / "server", now=now)
    assert written["today"] == dt.date(2026, 3, 10)
    with sqlite3.connect(tmp_path / "server" / "lastmeter.db") as conn:
        stamps = [
            r[0]
            for sql in (
                "SELECT max(measured_at) FROM temperature_checks",
                "SELECT max(done_at) FROM disinfection_logs",
                "SELECT max(delivered_at) FROM deliveries",
                "SELECT max(created_at) FROM medicine_requests",
            )
            for r in conn.execute(sql)
        ]
    conn.close()
    assert all(dt.datetime.fromisoformat(s) <= now for s in stamps), stamps
    app = create_app({"DATA_DIR": str(tmp_path / "server"), "TESTING": True})
    try:
        client = login(app, "secretary", "demo-secretary")
        assert check(client, "linjiang", now.date())["passed"] is True
        assert check(client, "huashi", now.date())["passed"] is False
    finally:
        app.extensions["replica"].close()


def test_a_later_day_goes_on_with_the_same_story(tmp_path):
    first = dt.datetime(2026, 3, 10, 15, 0, tzinfo=SHANGHAI)
    seed.seed(tmp_path / "server", now=first)
    later = seed.seed(tmp_path / "server", now=first + dt.timedelta(days=1))
    assert later["online_ballots"] == 0
    assert later["ledger_entries"] == 0
    assert later["temperature_checks"] > 0  # the new day's rounds
    with sqlite3.connect(tmp_path / "server" / "lastmeter.db") as conn:
        fevers = conn.execute(
            "SELECT count(*) FROM health_cases WHERE released_on IS NULL"
        ).fetchone()[0]
    conn.close()
    assert fevers == 1  # the same fever case, not one a day
    app = create_app({"DATA_DIR": str(tmp_path / "server"), "TESTING": True})
    try:
        client = login(app, "secretary", "demo-secretary")
        on = dt.date(2026, 3, 11)
        assert check(client, "linjiang", on)["passed"] is True
        assert set(check(client, "huashi", on)["failing_rules"]) == {
            "zero_three_kinds",
            "screening",  # 8栋's gap on 03-09 is still within the last three days
        }
    finally:
        app.extensions["replica"].close()


def test_the_agent_volunteer_opens_on_sign_in_not_setup(tmp_path):
    from field_agent import close_app
    from field_agent import create_app as agent_app

    assert demo_agent.ensure_volunteer(tmp_path / "agent") is True
    assert demo_agent.ensure_volunteer(tmp_path / "agent") is False  # once
    app = agent_app({"DATA_DIR": str(tmp_path / "agent"), "TESTING": True})
    try:
        resp = app.test_client().get("/")
        assert resp.status_code in (302, 303)
        assert "/signin" in resp.headers["Location"]
    finally:
        close_app(app)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_demo_agent_has_the_households_after_its_first_sync(tmp_path):
    port, agent_port = _free_port(), _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-c", "from server.cli import main; main()", "demo", "--data",
         str(tmp_path / "demo"), "--port", str(port), "--agent-port", str(agent_port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        deadline, page = time.monotonic() + 120, None
        while time.monotonic() < deadline and page is None:
            try:
                page = requests.get(f"http://127.0.0.1:{agent_port}/", timeout=5)
            except (requests.ConnectionError, requests.Timeout):
                assert proc.poll() is None, proc.stdout.read()
                time.sleep(0.3)
        assert page is not None
        assert page.status_code == 200
        assert "/signin" in page.url  # a volunteer exists: sign-in, not first-time setup
        with sqlite3.connect(tmp_path / "demo" / "agent" / "lastmeter.db") as conn:
            homes = conn.execute("SELECT count(*) FROM households").fetchone()[0]
        conn.close()
        assert homes == 48  # 临江雅居, the device's scope
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
        assert f"PIN {demo_agent.PIN}" in out
        assert "first sync: pulled" in out
        assert "stopped" in out
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
