"""Stored XSS: every text field holds a payload (tests/security/world.py); every page of
both apps that shows it must show it escaped, in Chinese and in English."""

from __future__ import annotations

import datetime as dt

import pytest

from field_agent import close_app
from field_agent import create_app as create_agent
from tests.security.conftest import login
from tests.security.test_authz_matrix import open_app, requests_of  # noqa: F401 (fixture)
from tests.security.world import RAW_MARKERS, payload

# Fields the server stores but shows on no page (field records shown on the laptops; the
# agent test covers them there). Checked both ways: one that starts being shown must leave
# this list, so the list stays true.
NOT_SHOWN_ON_SERVER = [
    "deliveries.items",
    "deliveries.refused_reason",
    "disinfection_logs.area",
    "disinfection_logs.note",
    "group_offers.organiser",
    "group_orders.note",
    "health_cases.note",
    "temperature_checks.note",
]


def crawl(client, app, world, headers=None):
    """Every GET page of the app: {url: html} for text/html answers."""
    pages = {}
    for _endpoint, method, url in requests_of(app, world):
        if method != "GET":
            continue
        resp = client.get(url, headers=headers or {})
        assert resp.status_code < 500, (url, resp.status_code)
        if resp.mimetype == "text/html":
            pages[url] = resp.get_data(as_text=True)
    return pages


def unescaped(pages: dict[str, str]) -> list[tuple[str, str]]:
    return [(url, m) for url, body in pages.items() for m in RAW_MARKERS if m in body]


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_every_stored_text_is_escaped_on_every_server_page(open_app, world, lang):  # noqa: F811
    pages: dict[str, str] = {}
    for role in ("community_admin", "street_official", "committee", "volunteer"):
        client = login(open_app.test_client(), role)
        client.post(f"/auth/lang/{lang}", data={"next": "/"})
        for url, body in crawl(client, open_app, world).items():
            pages[f"{role} {url}"] = body
        # Fragments too: htmx asks for them with HX-Request.
        for url, body in crawl(client, open_app, world, {"HX-Request": "true"}).items():
            pages[f"{role} htmx {url}"] = body
    assert len(pages) > 50
    assert unescaped(pages) == []
    everything = "\n".join(pages.values())
    shown = {tag for tag in world.tags if tag in everything}
    # The fields the brief names must be shown somewhere (else this test proves nothing).
    for must in ("xss_owner", "xss_resident", "xss_drug", "xss_motion_title", "xss_donor"):
        assert must in shown, f"{world.tags[must]} is shown on no page"
    not_shown = sorted(world.tags[t] for t in set(world.tags) - shown)
    assert not_shown == NOT_SHOWN_ON_SERVER, "|".join(not_shown)


def test_ballot_pages_escape_the_motion(open_app, world):  # noqa: F811
    client = open_app.test_client()
    token = world.secrets["ballot"]
    for url in (f"/b/{token}", f"/b/{token}/receipt/{world.secrets['receipt']}"):
        body = client.get(url).get_data(as_text=True)
        assert "xss_motion_title" in body
        assert unescaped({url: body}) == []


# -- the field agent ------------------------------------------------------------------------

AGENT_FIELDS = {
    ("compounds", "c1"): {"compound_id": "c1", "name": "xss_a_compound"},
    ("buildings", "b1"): {"compound_id": "c1", "name": "xss_a_building"},
    ("households", "h1"): {
        "compound_id": "c1",
        "building": "xss_a_building",
        "unit": "xss_a_unit",
        "owner_name": "xss_a_owner",
    },
    ("residents", "r1"): {"compound_id": "c1", "household_id": "h1", "name": "xss_a_resident"},
    ("deliveries", "d1"): {
        "compound_id": "c1",
        "household_id": "h1",
        "kind": "vegetables",
        "items": "xss_a_items",
        "status": "planned",
    },
    ("medicine_requests", "m1"): {
        "compound_id": "c1",
        "household_id": "h1",
        "drug_name": "xss_a_drug",
        "quantity": 1,
        "status": "requested",
    },
    ("medicine_requests", "m2"): {
        "compound_id": "c1",
        "household_id": "h1",
        "drug_name": "xss_a_drug2",
        "quantity": 1,
        "status": "refused",
        "price_yuan": 12.5,  # bought, then refused: in stock
        "refused_reason": "xss_a_refused",
    },
    ("disinfection_logs", "ds1"): {
        "compound_id": "c1",
        "area": "xss_a_area",
        "done_at": "TODAY",  # the page lists today's logs
        "note": "xss_a_disinfection_note",
    },
    ("health_cases", "hc1"): {
        "compound_id": "c1",
        "resident_id": "r1",
        "household_id": "h1",
        "category": "fever",
        "start_date": "2020-03-10",
        "note": "xss_a_case_note",
    },
}


@pytest.fixture
def agent(tmp_path):
    app = create_agent(
        {"DATA_DIR": str(tmp_path / "agent"), "TESTING": True, "WTF_CSRF_ENABLED": False}
    )
    replica = app.extensions["replica"]
    tags = {}
    for (table, row_id), values in AGENT_FIELDS.items():
        row = {}
        for col, value in values.items():
            if isinstance(value, str) and value.startswith("xss_a_"):
                tags[value] = f"{table}.{col}"
                value = payload(value, len(tags))
            row[col] = dt.datetime.now(dt.UTC).isoformat() if value == "TODAY" else value
        replica.write(table, row_id, row)
    app.extra_tags = tags
    yield app
    close_app(app)


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_every_stored_text_is_escaped_on_every_agent_page(agent, world, lang):
    client = agent.test_client()
    name = payload("xss_a_vol", 1)
    resp = client.post("/setup", data={"name": name, "pin": "1234", "pin2": "1234"})
    assert resp.status_code == 303
    client.post(f"/lang/{lang}", data={"next": "/"})
    client.post("/compound", data={"compound_id": "c1"})
    pages = crawl(client, agent, world)
    for url in (
        "/temperatures/grid?building=xss_a_building",
        "/deliveries/new",
        "/medicine/new",
        "/medicine/?status=refused",
    ):
        pages[url] = client.get(url).get_data(as_text=True)
    assert unescaped(pages) == []
    everything = "\n".join(pages.values())
    tags = {**agent.extra_tags, "xss_a_vol": "volunteers.name"}
    shown = {t for t in tags if t in everything}
    for must in (
        "xss_a_owner",
        "xss_a_resident",
        "xss_a_drug",
        "xss_a_refused",
        "xss_a_area",
        "xss_a_items",
        "xss_a_case_note",
        "xss_a_vol",
    ):
        assert must in shown, f"{tags[must]} is shown on no agent page"
    print("agent fields not shown:", sorted(tags[t] for t in set(tags) - shown))
