"""Error pages speak the page's language; the API keeps JSON errors."""

from __future__ import annotations

from tests.server.conftest import make_user


def test_not_found_page_is_in_chinese_by_default_and_english_on_request(client):
    zh = client.get("/no-such-page")
    assert zh.status_code == 404
    assert "没有这个页面。" in zh.get_data(as_text=True)
    en = client.get("/no-such-page?lang=en")
    assert "There is no such page." in en.get_data(as_text=True)
    assert "requested URL was not found" not in en.get_data(as_text=True)


def test_api_errors_stay_json(client):
    resp = client.get("/api/no-such-thing")
    assert resp.status_code == 404
    assert "error" in resp.get_json()


def test_header_shows_the_role_in_words(client, server_app, auth):
    _, password = make_user(server_app, "sec", "community_admin")
    auth.login("sec", password)
    html = client.get("/?lang=en").get_data(as_text=True)
    assert "Community staff (admin)" in html
    assert "(community_admin)" not in html


def test_local_time_shows_iso_times_on_the_server_calendar():
    from server.web import local_time

    assert local_time("2020-03-08T00:30:00+00:00") == "2020-03-08 08:30"
    assert local_time("2020-03-08T08:30:00") == "2020-03-08 08:30"
    assert local_time("") == ""
    assert local_time("not a time") == "not a time"
