"""Local sign-in: first start, PINs (hashed), quick switching, idle lock, CSRF, language."""

from __future__ import annotations

import time

import pytest

from field_agent.db import open_db


def test_first_start_asks_for_the_first_volunteer(client):
    resp = client.get("/")
    assert resp.status_code == 302
    assert resp.headers["Location"].endswith("/setup")


@pytest.mark.parametrize(
    ("name", "pin", "pin2", "field", "message"),
    [
        ("", "1234", "1234", "name", "Enter a name."),
        ("x" * 41, "1234", "1234", "name", "at most 40 characters"),
        ("王芳", "12", "12", "pin", "4 to 8 digits"),
        ("王芳", "12a4", "12a4", "pin", "4 to 8 digits"),
        ("王芳", "123456789", "123456789", "pin", "4 to 8 digits"),
        ("王芳", "1234", "4321", "pin2", "The two PINs differ."),
    ],
)
def test_setup_refuses_bad_names_and_pins(client, actions, name, pin, pin2, field, message):
    token = actions.csrf("/setup")
    resp = client.post(
        "/setup?lang=en", data={"name": name, "pin": pin, "pin2": pin2, "csrf_token": token}
    )
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert f'id="err-{field}"' in html
    assert message in html


def test_pin_is_stored_hashed(volunteer, agent_app):
    db = open_db(agent_app.config["DATABASE"])
    try:
        row = next(db.query("SELECT name, pin_hash FROM volunteers"))
    finally:
        db.close()
    assert row["name"] == "王芳"
    assert "1234" not in row["pin_hash"]
    assert row["pin_hash"].startswith(("scrypt:", "pbkdf2:"))


def test_setup_is_closed_once_a_volunteer_exists(volunteer, client):
    resp = client.get("/setup")
    assert resp.status_code == 302
    assert "/signin" in resp.headers["Location"]


def test_posts_without_csrf_token_are_refused(volunteer, client):
    resp = client.post("/volunteers", data={"name": "李强", "pin": "5555", "pin2": "5555"})
    assert resp.status_code == 400


def test_second_volunteer_and_quick_switching(volunteer, client):
    resp = volunteer.post("/volunteers", {"name": "李强", "pin": "5555", "pin2": "5555"})
    assert resp.status_code == 303
    resp = volunteer.post("/volunteers", {"name": "李强", "pin": "6666", "pin2": "6666"})
    assert resp.status_code == 422  # names are unique on a laptop
    assert volunteer.post("/switch").status_code == 303
    assert client.get("/").status_code == 302  # nobody signed in
    resp = volunteer.signin("李强", "5555")
    assert resp.status_code == 303
    assert "李强" in client.get("/").get_data(as_text=True)


def test_wrong_pin_is_refused_and_five_pause_the_volunteer(volunteer, client):
    volunteer.post("/switch")
    for _ in range(4):
        assert volunteer.signin("王芳", "9999").status_code == 401
    assert volunteer.signin("王芳", "9999").status_code == 429
    # Even the right PIN waits for the pause to end.
    assert volunteer.signin("王芳", "1234").status_code == 429


def test_signin_without_choosing_a_person(volunteer, client):
    volunteer.post("/switch")
    token = volunteer.csrf("/signin")
    resp = client.post("/signin", data={"pin": "1234", "csrf_token": token})
    assert resp.status_code == 422


def test_idle_lock_after_configured_minutes(volunteer, client, agent_app):
    agent_app.config["IDLE_LOCK_MINUTES"] = 1
    assert client.get("/").status_code == 200
    with client.session_transaction() as sess:
        sess["seen"] = time.time() - 61
    resp = client.get("/temperatures/")
    assert resp.status_code == 302
    assert "/signin" in resp.headers["Location"]
    html = client.get("/signin?lang=en").get_data(as_text=True)
    assert "Locked" in html
    assert volunteer.signin("王芳", "1234").status_code == 303
    assert client.get("/temperatures/").status_code == 200


def test_status_polling_does_not_keep_the_laptop_unlocked(volunteer, client, agent_app):
    agent_app.config["IDLE_LOCK_MINUTES"] = 1
    with client.session_transaction() as sess:
        sess["seen"] = time.time() - 50
    assert client.get("/sync/status").status_code == 200
    with client.session_transaction() as sess:
        assert time.time() - sess["seen"] >= 50


def test_htmx_requests_after_the_lock_redirect_the_whole_page(volunteer, client, agent_app):
    agent_app.config["IDLE_LOCK_MINUTES"] = 1
    with client.session_transaction() as sess:
        sess["seen"] = time.time() - 120
    resp = client.get("/deliveries/", headers={"HX-Request": "true"})
    assert resp.status_code == 204
    assert "/signin" in resp.headers["HX-Redirect"]


def test_lock_button_keeps_the_name_for_unlocking(volunteer, client):
    assert volunteer.post("/lock").status_code == 303
    assert client.get("/").status_code == 302
    with client.session_transaction() as sess:
        assert sess["locked_vid"]


def test_chinese_by_default_english_on_request(volunteer, client):
    assert "体温" in client.get("/").get_data(as_text=True)
    resp = volunteer.post("/lang/en", {"next": "/"})
    assert resp.status_code == 303
    assert "Temperatures" in client.get("/").get_data(as_text=True)
    assert volunteer.post("/lang/xx").status_code == 404


def test_pages_send_security_headers(volunteer, client):
    resp = client.get("/")
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["Cache-Control"] == "no-store"


def test_typing_reported_by_the_poll_keeps_the_laptop_unlocked(volunteer, client, agent_app):
    agent_app.config["IDLE_LOCK_MINUTES"] = 1
    with client.session_transaction() as sess:
        sess["seen"] = time.time() - 50
    resp = client.get("/sync/status", headers={"HX-Request": "true", "X-Volunteer-Active": "1"})
    assert resp.status_code == 200
    with client.session_transaction() as sess:
        assert time.time() - sess["seen"] < 5
