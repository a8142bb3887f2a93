"""A laptop whose clock is years off: ahead, its cells are refused (clock_ahead) and shown
on the laptop with the reason, nothing wins on the server; behind, it still syncs."""

from __future__ import annotations

import datetime as dt

import pytest

from field_agent import close_app, settings
from field_agent import create_app as create_agent
from field_agent.syncer import run_sync
from sync import Replica, new_id
from sync.http_client import outbox

pytestmark = pytest.mark.slow


def at(year: int):
    ms = int(dt.datetime(year, 3, 10, 8, 0, tzinfo=dt.UTC).timestamp() * 1000)
    return lambda: ms


def enrolled(tmp_path, server, name: str):
    data = tmp_path / name
    settings.init_data_dir(data)
    settings.save(data, server_url=server.url, token=server.token(name, name=f"{name} laptop"))
    return data


def checks(n: int) -> dict[str, dict]:
    return {
        new_id(): {
            "compound_id": "c1",
            "household_id": "h1",
            "temperature_c": 36.5 + i / 10,
            "measured_at": "2020-03-10T08:00:00+08:00",
        }
        for i in range(n)
    }


def test_a_clock_years_ahead_is_refused_and_shown_on_the_laptop(tmp_path, server):
    data = enrolled(tmp_path, server, "ahead")
    with Replica(settings.db_path(data), now_ms=at(2099)) as laptop:
        laptop.write_many("temperature_checks", checks(3))
        report = run_sync(data, replica=laptop)
    assert report.rejected > 0
    refused = outbox(str(settings.db_path(data)))
    assert refused
    assert {item["reason"] for item in refused} == {"clock_ahead"}
    assert server.rows("temperature_checks") == []  # nothing from 2099 wins on the server
    # The offset is the server's clock minus the laptop's: decades behind the laptop.
    assert settings.load(data)["clock_offset_ms"] < -365 * 24 * 3600 * 1000
    # The volunteer sees it: the rejected cells with the reason, and the clock offset.
    app = create_agent({"DATA_DIR": str(data), "TESTING": True, "WTF_CSRF_ENABLED": False})
    try:
        client = app.test_client()
        client.post("/setup", data={"name": "王芳", "pin": "1234", "pin2": "1234"})
        page = client.get("/sync/outbox").get_data(as_text=True)
        assert "clock_ahead: stamped too far ahead of this clock" in page
        assert "temperature_checks" in page or "体温" in page
        bar = client.get("/sync/status").get_data(as_text=True)
        assert 'class="fail"' in bar
    finally:
        close_app(app)


def test_a_clock_years_behind_still_syncs(tmp_path, server):
    data = enrolled(tmp_path, server, "behind")
    rows = checks(5)
    with Replica(settings.db_path(data), now_ms=at(2015)) as laptop:
        laptop.write_many("temperature_checks", rows)
        report = run_sync(data, replica=laptop)
        assert report.rejected == 0
        # The server's register came down too, and stays on the laptop.
        assert [r["id"] for r in laptop.rows("compounds")] == ["c1"]
    got = {r["id"]: r["temperature_c"] for r in server.rows("temperature_checks")}
    assert got == {k: v["temperature_c"] for k, v in rows.items()}
    assert settings.load(data)["clock_offset_ms"] > 365 * 24 * 3600 * 1000
