"""Every endpoint of the server and of the field agent, tried as anonymous and as every role
against the hand-written matrix (tests/security/matrix.py). The endpoint list comes from
the apps' url_map: an endpoint added without a matrix entry fails here."""

from __future__ import annotations

import pytest

from field_agent import close_app
from field_agent import create_app as create_agent
from tests.security import matrix
from tests.security.conftest import login, make_app
from tests.security.world import RAW_MARKERS, ROLES

METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")

# Tags of c1's own data (tests/security/world.py): a user scoped to c2 must never see one.
C1_ONLY = (
    "xss_compound",
    "xss_address",
    "xss_owner",
    "xss_resident",
    "xss_check_note",
    "xss_case_note",
    "xss_items",
    "xss_delivery_refused",
    "xss_drug",
    "xss_medicine_refused",
    "xss_area",
    "xss_disinfection_note",
    "xss_offer_item",
    "xss_organiser",
    "xss_offer_note",
    "xss_order_note",
    "xss_round_item",
    "xss_round_note",
    "xss_entrance",
    "xss_closure_note",
    "xss_member",
    "xss_attest",
    "xss_motion_title",
    "xss_motion_body",
)


def params(world) -> dict[str, object]:
    ids = world.ids
    return {
        "compound_id": "c1",
        "household_id": ids["household"],
        "resident_id": ids["resident"],
        "building_id": ids["building"],
        "motion_id": ids["motion"],
        "token": world.secrets["ballot"],
        "code": world.secrets["receipt"],
        "offer_id": ids["offer"],
        "round_id": ids["round"],
        "request_id": ids["request"],
        "entry_id": ids["entry"],
        "order_id": ids["order"],
        "device_id": int(ids["device"]),
        "user_id": int(ids["user"]),
        "app_id": 1,
        "list_id": 1,
        "fmt": "csv",
        "kind": "households",
        "community_id": ids["community"],
        "sha": ids["sha"],
        "filename": "style.css",
        "case_id": "hc1",
        "delivery_id": "d1",
        "ballot_id": "b1",
        "item_id": 1,
        "conflict_id": 1,
        "code_lang": "en",
    }


OVERRIDES = {
    # The bulletin is published at the close: use the closed motion.
    "voting.bulletin": {"motion_id": "closed_motion"},
    "voting.api_bulletin": {"motion_id": "closed_motion"},
    "auth.set_language": {"code": "en"},
    "volunteers.set_language": {"code": "en"},
    "agent_static.static": {"filename": "agent.css"},
}
QUERY = {"sync_api.pull": "?cursor=0&site=security-test-site", "blobs.upload": "?offset=0&total=9"}


def requests_of(app, world):
    """(endpoint, method, url) for every rule of the app, in a stable order."""
    values = params(world)
    out = []
    with app.test_request_context():
        for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
            args = {name: values[name] for name in rule.arguments if name in values}
            for name, key in OVERRIDES.get(rule.endpoint, {}).items():
                args[name] = world.ids.get(key, key)
            missing = set(rule.arguments) - set(args)
            assert not missing, f"no test value for {missing} in {rule.rule}"
            url = rule.build(args, append_unknown=False)[1] + QUERY.get(rule.endpoint, "")
            for method in METHODS:
                if method in rule.methods:
                    out.append((rule.endpoint, method, url))
    # Reads first, deletes late (later calls would see an unknown id), sign-out last (it
    # ends the session the rest of the loop runs in).
    return sorted(
        out,
        key=lambda r: (
            r[0] == "auth.logout",
            r[1] != "GET",
            "delete" in r[0],
            r[0] == "register.delete_household",
        ),
    )


def report(wrong: list) -> None:
    assert not wrong, f"{len(wrong)} wrong:\n" + "\n".join(map(str, wrong))


def call(client, method, url, **kw):
    return client.open(url, method=method, **kw)


def to_login(resp) -> bool:
    return resp.status_code in (302, 303) and "/auth/login" in resp.headers.get("Location", "")


def allowed(resp) -> bool:
    return resp.status_code not in (401, 403, 429) and not to_login(resp)


@pytest.fixture
def open_app(world):
    """The server with CSRF off: this suite is about who, CSRF has its own tests."""
    a = make_app(world, WTF_CSRF_ENABLED=False)
    yield a
    a.extensions["replica"].close()


def test_every_server_endpoint_has_a_rule(open_app):
    endpoints = {rule.endpoint for rule in open_app.url_map.iter_rules()}
    assert sorted(endpoints - set(matrix.SERVER)) == [], "add these endpoints to matrix.SERVER"
    assert sorted(set(matrix.SERVER) - endpoints) == [], "stale entries in matrix.SERVER"


def test_anonymous_gets_only_public_and_link_endpoints(open_app, world):
    client = open_app.test_client()
    wrong = []
    for endpoint, method, url in requests_of(open_app, world):
        kind, _ = matrix.SERVER[endpoint]
        resp = call(client, method, url)
        if resp.status_code >= 500:
            wrong.append((method, url, resp.status_code, "server error"))
        elif kind in (matrix.PUBLIC, matrix.LINK):
            # Wrong credentials on sign-in are a 401; signing out sends you to sign in.
            expected = {"auth.login": 401, "auth.logout": 303}.get(endpoint)
            if not allowed(resp) and resp.status_code != expected:
                wrong.append((method, url, resp.status_code, "should be open"))
        elif kind in (matrix.DEVICE, matrix.READER) or url.startswith("/api/"):
            if resp.status_code != 401:
                wrong.append((method, url, resp.status_code, "expected 401"))
        elif not to_login(resp):
            wrong.append((method, url, resp.status_code, "expected a redirect to sign in"))
    report(wrong)


@pytest.mark.parametrize("role", ROLES)
def test_signed_in_role_gets_exactly_its_endpoints(open_app, world, role):
    client = login(open_app.test_client(), role)
    wrong = []
    for endpoint, method, url in requests_of(open_app, world):
        kind, roles = matrix.SERVER[endpoint]
        if kind in (matrix.PUBLIC, matrix.LINK):
            continue
        resp = call(client, method, url)
        if resp.status_code >= 500:
            wrong.append((method, url, resp.status_code, "server error"))
        elif kind == matrix.DEVICE:
            if resp.status_code != 401:  # a page session never replaces a device token
                wrong.append((method, url, resp.status_code, "expected 401 without a token"))
        elif role in roles:
            if not allowed(resp):
                wrong.append((method, url, resp.status_code, "should be allowed"))
        elif resp.status_code != 403:
            wrong.append((method, url, resp.status_code, "expected 403"))
    report(wrong)


@pytest.mark.parametrize("role", ROLES)
def test_device_token_of_role_gets_exactly_its_endpoints(open_app, world, role):
    client = open_app.test_client()
    headers = {"Authorization": f"Bearer {world.tokens[role]}"}
    wrong = []
    for endpoint, method, url in requests_of(open_app, world):
        kind, roles = matrix.SERVER[endpoint]
        if kind not in (matrix.DEVICE, matrix.READER):
            continue
        resp = call(client, method, url, headers=headers)
        if resp.status_code >= 500:
            wrong.append((method, url, resp.status_code, "server error"))
        elif role in roles:
            if not allowed(resp):
                wrong.append((method, url, resp.status_code, "should be allowed"))
        elif resp.status_code != 403:
            wrong.append((method, url, resp.status_code, "expected 403"))
    report(wrong)


@pytest.mark.parametrize("role", ["volunteer", "building_head", "committee", "community_admin"])
def test_user_of_another_compound_never_sees_this_compounds_data(open_app, world, role):
    """A curious user scoped to c2 walks every GET URL pointing at c1's data."""
    client = login(open_app.test_client(), f"curious_{role}")
    token = {"Authorization": f"Bearer {world.tokens[f'curious_{role}']}"}
    leaks = []
    for endpoint, method, url in requests_of(open_app, world):
        if method != "GET":
            continue
        kind, _ = matrix.SERVER[endpoint]
        if kind in (matrix.PUBLIC, matrix.LINK) and endpoint.startswith("voting."):
            continue  # a result and bulletin are public; a ballot link shows its motion
        headers = token if kind == matrix.DEVICE else {}
        resp = call(client, method, url, headers=headers)
        body = resp.get_data().decode("utf-8", "replace")
        seen = [tag for tag in C1_ONLY if tag in body]
        if seen or resp.status_code >= 500:
            leaks.append((url, resp.status_code, seen))
    report(leaks)


def test_raw_payloads_never_in_json_of_html_type(open_app, world):
    """JSON answers carry stored text as data, never as text/html a browser would run."""
    client = login(open_app.test_client(), "community_admin")
    for _endpoint, method, url in requests_of(open_app, world):
        if method != "GET" or not url.startswith("/api/"):
            continue
        resp = call(client, method, url)
        body = resp.get_data().decode("utf-8", "replace")
        if any(m in body for m in RAW_MARKERS):
            assert resp.mimetype == "application/json", url


# -- the field agent ----------------------------------------------------------------------


@pytest.fixture
def agent(tmp_path):
    app = create_agent(
        {"DATA_DIR": str(tmp_path / "agent"), "TESTING": True, "WTF_CSRF_ENABLED": False}
    )
    yield app
    close_app(app)


def test_every_agent_endpoint_has_a_rule(agent):
    endpoints = {rule.endpoint for rule in agent.url_map.iter_rules()}
    assert sorted(endpoints - set(matrix.AGENT)) == [], "add these endpoints to matrix.AGENT"
    assert sorted(set(matrix.AGENT) - endpoints) == [], "stale entries in matrix.AGENT"


def test_agent_pages_need_a_signed_in_volunteer(agent, world):
    client = agent.test_client()
    setup = client.post("/setup", data={"name": "王芳", "pin": "1234", "pin2": "1234"})
    assert setup.status_code == 303
    client.post("/lock")
    wrong = []
    for endpoint, method, url in requests_of(agent, world):
        resp = call(client, method, url)
        location = resp.headers.get("Location", "")
        if resp.status_code >= 500:
            wrong.append((method, url, resp.status_code, "server error"))
        elif matrix.AGENT[endpoint] == matrix.VOLUNTEER:
            if not (resp.status_code in (302, 303) and "/signin" in location):
                wrong.append((method, url, resp.status_code, "expected a redirect to sign in"))
        elif (
            resp.status_code in (401, 403)
            or "/signin" in location
            and endpoint != "volunteers.setup"
        ):
            wrong.append((method, url, resp.status_code, "should be open"))
    report(wrong)
