"""The server's header links to every area's main page for exactly the roles that may use it."""

from __future__ import annotations

import re

import pytest
from flask import url_for

from server.permissions import ROLES
from tests.server.conftest import AuthActions, make_user

# Each area's main page (community level), by endpoint.
MAIN_PAGES = {
    "votes": "voting.index",
    "supply": "supply.index",
    "certification": "certification.dashboard",
    "register": "register.households",
    "users": "accounts.users",
    "devices": "accounts.devices",
}


def _links(html: str) -> set[str]:
    nav = re.search(r"<nav>(.*?)</nav>", html, re.S).group(1)
    return set(re.findall(r'href="([^"?]+)', nav))


@pytest.mark.parametrize("role", ROLES)
def test_nav_links_every_main_page_the_role_may_open_and_no_other(server_app, role):
    client = server_app.test_client()
    user, password = make_user(server_app, f"u-{role}", role)
    assert AuthActions(client).login(user.username, password).status_code in (302, 303)
    home = client.get("/")
    assert home.status_code == 200
    links = _links(home.get_data(as_text=True))
    with server_app.test_request_context():
        paths = {area: url_for(endpoint) for area, endpoint in MAIN_PAGES.items()}
    for area, path in paths.items():
        status = client.get(path).status_code
        assert status in (200, 403), (area, path, status)
        assert (path in links) == (status == 200), f"{role}: {area} ({path}) answers {status}"
