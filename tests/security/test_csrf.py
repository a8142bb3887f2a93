"""CSRF: every state-changing request of a cookie session needs the session's token."""

from __future__ import annotations

import pytest

from field_agent import close_app
from field_agent import create_app as create_agent
from tests.security import matrix
from tests.security.conftest import login
from tests.security.test_authz_matrix import requests_of
from tests.security.world import ROLES

# Not protected by a CSRF token, and why.
EXEMPT = {
    # Bearer device tokens, never cookies: a forged cross-site request has no token.
    "sync_api.push": "device token",
    "blobs.upload": "device token",
    # The secret in the URL is the owner's credential; whoever can forge the request
    # holds the link and could vote anyway.
    "voting.cast": "ballot link",
    "voting.api_cast": "ballot link",
}
# Session-cookie JSON API: no token, but only `application/json` bodies, which a
# cross-site form or a "simple" cross-site fetch cannot send (no CORS is ever granted),
# on top of the SameSite=Lax session cookie (server/voting/api.py).
JSON_ONLY = {
    "voting.api_create",
    "voting.api_open",
    "voting.api_close",
    "voting.api_links",
    "voting.api_revoke",
}
WRITES = ("POST", "PUT", "DELETE", "PATCH")


def test_exemptions_are_exactly_the_token_endpoints():
    for endpoint in EXEMPT:
        assert matrix.SERVER[endpoint][0] in (matrix.DEVICE, matrix.LINK)


def test_every_server_form_refuses_a_post_without_the_token(app, world):
    """Signed in as a role allowed to do it, with no token: 400 and nothing done."""
    wrong = []
    clients = {}
    for endpoint, method, url in requests_of(app, world):
        if method not in WRITES or endpoint in EXEMPT or endpoint in JSON_ONLY:
            continue
        kind, roles = matrix.SERVER[endpoint]
        role = next((r for r in ROLES if r in roles), None)
        if role is not None and role not in clients:
            clients[role] = login(app.test_client(), role)
        client = clients[role] if role else app.test_client()
        for extra in ({}, {"json": {"title": "x"}}, {"headers": {"X-CSRFToken": "forged"}}):
            resp = client.open(url, method=method, **extra)
            if resp.status_code != 400 or "CSRF" not in resp.get_data(as_text=True):
                wrong.append((method, url, extra, resp.status_code))
    assert wrong == [], wrong


def test_session_json_api_refuses_what_a_cross_site_page_can_send(app, world):
    committee = login(app.test_client(), "committee")
    motion = world.ids["motion"]
    for endpoint, method, url in requests_of(app, world):
        if endpoint not in JSON_ONLY:
            continue
        for kw in (
            {"data": {"title": "x", "owner_key": "o:owner-1"}},  # an HTML form
            {"data": '{"title": "x"}', "content_type": "text/plain"},  # a no-cors fetch
        ):
            resp = committee.open(url, method=method, **kw)
            assert resp.status_code == 415, (url, kw, resp.status_code)
    # Nothing happened: the open motion is still open with its link.
    got = committee.get(f"/api/motions/{motion}").get_json()
    assert got["status"] == "open"
    assert app.test_client().get(f"/b/{world.secrets['ballot']}").status_code == 200


def test_session_cookie_is_samesite_lax_or_stricter(app):
    assert app.config["SESSION_COOKIE_SAMESITE"] in ("Lax", "Strict")


def test_a_token_from_another_session_is_refused(app, world):
    from tests.security.conftest import csrf_token

    other = app.test_client()
    stolen = csrf_token(other)
    admin = login(app.test_client(), "community_admin")
    resp = admin.post("/places", data={"level": "city", "name": "X", "csrf_token": stolen})
    assert resp.status_code == 400


def test_the_token_lets_the_same_form_through(app, world):
    from tests.security.conftest import csrf_token

    admin = login(app.test_client(), "community_admin")
    token = csrf_token(admin, "/places")
    resp = admin.post("/places", data={"level": "city", "name": "新城", "csrf_token": token})
    assert resp.status_code in (302, 303)


@pytest.fixture
def agent(tmp_path):
    app = create_agent({"DATA_DIR": str(tmp_path / "agent"), "TESTING": True})
    yield app
    close_app(app)


def test_every_agent_form_refuses_a_post_without_the_token(agent, world):
    client = agent.test_client()
    page = client.get("/setup").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    assert (
        client.post(
            "/setup", data={"name": "王芳", "pin": "1234", "pin2": "1234", "csrf_token": token}
        ).status_code
        == 303
    )
    wrong = []
    for _endpoint, method, url in requests_of(agent, world):
        if method not in WRITES:
            continue
        resp = client.open(url, method=method, data={"pin": "1234"})
        if resp.status_code != 400:
            wrong.append((method, url, resp.status_code))
    assert wrong == [], wrong
    assert client.get("/volunteers").status_code == 200  # still signed in: nothing changed
