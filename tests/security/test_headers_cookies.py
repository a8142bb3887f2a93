"""Session cookies (HttpOnly, SameSite, Secure when configured) and security headers (a
CSP that allows only our own static files) on every answer of both apps."""

from __future__ import annotations

import re

import pytest

from field_agent import close_app
from field_agent import create_app as create_agent
from tests.security.conftest import login, make_app
from tests.security.test_authz_matrix import requests_of

HEADERS = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"}


def csp_ok(csp: str) -> bool:
    rules = dict((part.strip().split(" ", 1) + [""])[:2] for part in csp.split(";") if part.strip())
    return (
        rules.get("default-src") == "'self'"
        and rules.get("script-src") == "'self'"
        and rules.get("style-src") == "'self'"
        and rules.get("object-src") == "'none'"
        and rules.get("frame-ancestors") == "'none'"
        and "unsafe-inline" not in csp
        and "unsafe-eval" not in csp
        and "http:" not in csp
        and "https:" not in csp
        and "*" not in csp
    )


def cookie(resp, name: str) -> str:
    for value in resp.headers.getlist("Set-Cookie"):
        if value.startswith(name + "="):
            return value
    raise AssertionError(f"no {name} cookie set")


def test_server_session_cookie_is_httponly_and_samesite(app):
    client = app.test_client()
    from tests.security.conftest import csrf_token

    resp = client.post(
        "/auth/login",
        data={
            "username": "volunteer",
            "password": "pw-security-123",
            "csrf_token": csrf_token(client),
        },
    )
    set_cookie = cookie(resp, "session")
    assert "HttpOnly" in set_cookie
    assert "SameSite=Lax" in set_cookie
    assert "Secure" not in set_cookie  # plain HTTP on a LAN by default (config)


def test_server_session_cookie_is_secure_when_configured(world):
    app = make_app(world, SESSION_COOKIE_SECURE=True)
    try:
        client = app.test_client()
        page = client.get("/auth/login", base_url="https://localhost").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        resp = client.post(
            "/auth/login",
            base_url="https://localhost",
            headers={"Referer": "https://localhost/auth/login"},
            data={"username": "volunteer", "password": "pw-security-123", "csrf_token": token},
        )
        assert resp.status_code == 303
        set_cookie = cookie(resp, "session")
        assert "Secure" in set_cookie
        assert "HttpOnly" in set_cookie
    finally:
        app.extensions["replica"].close()


def test_config_key_session_cookie_secure_reaches_flask(tmp_path):
    from server import create_app
    from server.config import init_data_dir

    init_data_dir(tmp_path / "s", session_cookie_secure=True)
    app = create_app({"DATA_DIR": str(tmp_path / "s"), "TESTING": True})
    try:
        assert app.config["SESSION_COOKIE_SECURE"] is True
    finally:
        app.extensions["replica"].close()


def test_every_server_answer_carries_the_security_headers(app, world):
    client = login(app.test_client(), "community_admin")
    wrong = []
    for _endpoint, method, url in requests_of(app, world):
        if method != "GET":
            continue
        resp = client.get(url)
        for name, value in HEADERS.items():
            if resp.headers.get(name) != value:
                wrong.append((url, name, resp.headers.get(name)))
        if not csp_ok(resp.headers.get("Content-Security-Policy", "")):
            wrong.append((url, "csp", resp.headers.get("Content-Security-Policy")))
        private = resp.mimetype.startswith("image/")  # photos: private, cached an hour
        if private and "private" not in resp.headers.get("Cache-Control", ""):
            wrong.append((url, "cache", resp.headers.get("Cache-Control")))
        if (
            not private
            and url.startswith(("/api/", "/auth"))
            and "no-store" not in resp.headers.get("Cache-Control", "")
        ):
            wrong.append((url, "cache", resp.headers.get("Cache-Control")))
    assert wrong == []


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<[^>]+\sstyle=", re.I)
INLINE_HANDLER = re.compile(r"<[^>]+\son[a-z]+=", re.I)


def inline_code(body: str) -> list[str]:
    # Attribute values first emptied: an escaped payload inside value="..." is text.
    body = re.sub(r'"[^"]*"', '""', body)
    return INLINE_SCRIPT.findall(body) + INLINE_STYLE.findall(body) + INLINE_HANDLER.findall(body)


def test_server_pages_need_no_inline_code_the_csp_would_block(app, world):
    client = login(app.test_client(), "community_admin")
    found = []
    for _endpoint, method, url in requests_of(app, world):
        if method == "GET":
            resp = client.get(url)
            if resp.mimetype == "text/html":
                found += [(url, bit[:60]) for bit in inline_code(resp.get_data(as_text=True))]
    assert found == []


@pytest.fixture
def agent(tmp_path):
    app = create_agent(
        {"DATA_DIR": str(tmp_path / "agent"), "TESTING": True, "WTF_CSRF_ENABLED": False}
    )
    yield app
    close_app(app)


def test_agent_cookie_and_headers(agent, world):
    client = agent.test_client()
    resp = client.post("/setup", data={"name": "王芳", "pin": "1234", "pin2": "1234"})
    set_cookie = cookie(resp, "lastmeter_agent")
    assert "HttpOnly" in set_cookie
    assert "SameSite=Strict" in set_cookie
    wrong, found = [], []
    for _endpoint, method, url in requests_of(agent, world):
        if method != "GET":
            continue
        resp = client.get(url)
        for name, value in HEADERS.items():
            if resp.headers.get(name) != value:
                wrong.append((url, name))
        if not csp_ok(resp.headers.get("Content-Security-Policy", "")):
            wrong.append((url, "csp"))
        if resp.mimetype == "text/html":
            found += [(url, bit[:60]) for bit in inline_code(resp.get_data(as_text=True))]
    assert wrong == []
    assert found == []
