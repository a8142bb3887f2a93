"""Nightly aggregation: idempotent rows, late records folded in, and a chain of two
community servers into a city server over real HTTP with no personal column upstream."""

from __future__ import annotations

import datetime as dt
import sqlite3

import pytest
from click.testing import CliRunner

from server import create_app
from server.auth import data as auth_data
from server.certification import daily, records, totals
from server.certification.days import LocalDays
from server.certification.evaluate import evaluate
from server.certification.rules import WUHAN_2020_03
from server.cli import main
from server.config import init_data_dir
from server.db import open_db
from sync import Replica, upstream_schema
from tests.server.sync_api.helpers import LiveServer

V = WUHAN_2020_03
CAL = LocalDays()
D = "2020-03-08"


def test_rows_hold_counts_and_status_only(b, store, tmp_path):
    cid = store.seed()
    store.replica.write(
        "temperature_checks",
        "hot",
        {
            "compound_id": cid,
            "household_id": f"{cid}-h2",
            "temperature_c": 38.0,
            "measured_at": b.stamp(0, "21:00"),
        },
    )
    rows = daily.day_rows(store.db, [cid], b.D, V, CAL)
    row = rows[f"{cid}/2020-03-08"]
    assert (row["households"], row["residents"], row["checked"], row["fevers"]) == (4, 4, 4, 1)
    assert row["status"] == "fails"
    assert row["failing_rules"] == "zero_three_kinds"
    assert row["community_id"] == "jjd"
    assert row["deliveries"] == 0
    assert rows_yesterday(store, cid, b)["deliveries"] == 1


def rows_yesterday(store, cid, b):
    return daily.day_rows(store.db, [cid], b.day(-1), V, CAL)[f"{cid}/2020-03-07"]


def test_aggregate_twice_changes_nothing_and_late_records_are_folded_in(b, store, tmp_path):
    cid = store.seed()
    up = Replica(tmp_path / "upstream.db", upstream_schema())
    try:
        first = daily.aggregate(store.db, up, b.D, V, CAL, back=3)
        assert first == {"days": 3, "rows": 3, "changed": 3}
        counter = up.counter
        assert daily.aggregate(store.db, up, b.D, V, CAL, back=3)["changed"] == 0
        assert up.counter == counter  # not one cell restamped
        # A laptop offline for two days syncs a fever reading of 03-06.
        store.replica.write(
            "temperature_checks",
            "late",
            {
                "compound_id": cid,
                "household_id": f"{cid}-h1",
                "temperature_c": 38.4,
                "measured_at": b.stamp(-2),
            },
        )
        again = daily.aggregate(store.db, up, b.D, V, CAL, back=3)
        assert again["changed"] == 3  # 03-06 gains a fever; all three days now fail
        assert up.get("compound_days", f"{cid}/2020-03-06")["fevers"] == 1
        assert up.get("compound_days", f"{cid}/2020-03-08")["status"] == "fails"
    finally:
        up.close()


def test_certified_status_is_in_the_row(b, store, tmp_path):
    cid = store.seed()
    app_id = records.apply(store.db, evaluate(_facts(store, cid, b.D), b.D, V, CAL), "sec")
    records.decide(store.db, app_id, True, "street")
    assert (
        daily.day_rows(store.db, [cid], b.D, V, CAL)[f"{cid}/2020-03-08"]["status"] == "certified"
    )
    assert (
        daily.day_rows(store.db, [cid], b.day(-1), V, CAL)[f"{cid}/2020-03-07"]["status"]
        == "passes"
    )


def _facts(store, cid, on):
    from server.certification import data

    return data.load_facts(store.db, [cid], on, V)[cid]


# -- the chain: two community servers -> a city server, over HTTP ---------------------------

# Columns of the synced field and register tables that say who someone is.
PERSONAL = {
    "name",
    "owner_name",
    "phone",
    "birth_year",
    "resident_id",
    "household_id",
    "note",
    "drug_name",
    "source_check_id",
    "recorded_by",
}


def community_server(path, b, store_cls, compounds, community, street, district, certify=()):
    """A community server data directory with its register, places and compounds."""
    init_data_dir(path, level="community", name=community)
    app = create_app({"DATA_DIR": str(path)})
    s = store_cls(app.config["DATABASE"], app.extensions["replica"])
    try:
        s.db["places"].insert_all(
            [
                {"id": f"d-{district}", "level": "district", "parent_id": None, "name": district},
                {
                    "id": f"s-{street}",
                    "level": "street",
                    "parent_id": f"d-{district}",
                    "name": street,
                },
                {
                    "id": community,
                    "level": "community",
                    "parent_id": f"s-{street}",
                    "name": community,
                },
            ]
        )
        for cid in compounds:
            s.seed(compound=cid, community=community, days=5)
        for cid in certify:
            facts = _facts(s, cid, b.D)
            app_id = records.apply(s.db, evaluate(facts, b.D, V, CAL), "sec")
            records.decide(s.db, app_id, True, "street")
    finally:
        s.close()
        app.extensions["replica"].close()


def city_token(path, username):
    db = open_db(path / "lastmeter.db")
    try:
        user = auth_data.create_user(db, username, f"pw-{username}-123", "community_admin", ["*"])
        return auth_data.issue_device(db, user.id, f"{username}-server")[1]
    finally:
        db.close()


def run_aggregate(path, url, token, days=3):
    result = CliRunner().invoke(
        main,
        [
            "server",
            "aggregate",
            "--data",
            str(path),
            "--date",
            D,
            "--days",
            str(days),
            "--upstream",
            url,
            "--token",
            token,
        ],
    )
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.slow
def test_two_communities_aggregate_into_a_city_server_without_personal_data(tmp_path, b):
    from tests.server.certification.conftest import Store

    city = tmp_path / "city"
    init_data_dir(city, level="city", name="武汉市")
    create_app({"DATA_DIR": str(city)}).extensions["replica"].close()
    token_a, token_b = city_token(city, "jjd-server"), city_token(city, "xq-server")
    a, c = tmp_path / "a", tmp_path / "b"
    community_server(
        a, b, Store, ["cpA1", "cpA2"], "蒋家墩社区", "青山街", "青山区", certify=["cpA1", "cpA2"]
    )
    community_server(c, b, Store, ["cpB1"], "西桥社区", "唐家墩街", "江汉区")
    server = LiveServer(city).start()
    try:
        out = run_aggregate(a, server.url, token_a)
        assert "6 compound-day rows, 6 changed" in out
        run_aggregate(c, server.url, token_b)
        again = run_aggregate(a, server.url, token_a)
        assert "0 changed" in again
        assert "sent 0 cells" in again
        # A late fever reading at community B, then the nightly run again.
        app = create_app({"DATA_DIR": str(c)})
        try:
            app.extensions["replica"].write(
                "temperature_checks",
                "late",
                {
                    "compound_id": "cpB1",
                    "household_id": "cpB1-h1",
                    "temperature_c": 38.4,
                    "measured_at": b.stamp(-1),
                },
            )
        finally:
            app.extensions["replica"].close()
        assert "sent 0 cells" not in run_aggregate(c, server.url, token_b)
    finally:
        server.stop()

    con = sqlite3.connect(city / "lastmeter.db")
    try:
        rows = con.execute(
            "SELECT compound_id, day, status, fevers FROM compound_days ORDER BY 1, 2"
        ).fetchall()
        assert len(rows) == 9  # 3 compounds x 3 days
        assert ("cpA1", D, "certified", 0) in rows
        assert ("cpB1", "2020-03-07", "fails", 1) in rows
        for table in (
            "households",
            "residents",
            "temperature_checks",
            "health_cases",
            "compounds",
            "deliveries",
        ):
            assert con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
        columns = [r[1] for r in con.execute("PRAGMA table_info(compound_days)")]
        assert not set(columns) & PERSONAL
        declared = {c.name for c in upstream_schema()["compound_days"].columns}
        assert {c for c in columns if not c.startswith("_")} - {"id", "deleted"} == declared
        assert "compound_name" in columns
    finally:
        con.close()
    raw = b"".join(p.read_bytes() for p in city.glob("lastmeter.db*"))
    assert "居民".encode() not in raw  # no resident's name, in any page of the file

    app = create_app({"DATA_DIR": str(city)})
    try:
        with app.app_context():
            from server.db import get_db

            day = totals.by_unit(get_db(), dt.date(2020, 3, 8))
        t = day["totals"]
        assert (t["compounds"], t["compounds_free"], t["compounds_share"]) == (3, 2, "66.6")
        assert (t["community_units"], t["community_free"], t["community_share"]) == (2, 1, "50.0")
        assert [d["name"] for d in day["districts"]] == ["江汉区", "青山区"]
        assert day["districts"][1]["streets"][0]["totals"]["compounds_free"] == 2
    finally:
        app.extensions["replica"].close()
