"""Schemathesis against /api/openapi.json of a live server: for generated requests to
every operation, no 5xx, and every answer (status, content type, body) matches the
document. 20 examples per operation by default; LASTMETER_FUZZ_EXAMPLES=500 for the
nightly run (`make fuzz-nightly`)."""

from __future__ import annotations

import os
import re

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance

from tests.live import LiveApp
from tests.security.conftest import make_app
from tests.security.world import PASSWORD, build

# Checked: no 5xx, every status, content type and body as documented. Not checked:
# "a schema-valid request is accepted" - business rules refuse some well-formed requests
# (an unknown ballot link 404, a photo whose bytes do not hash to its name 422, a motion
# with an empty title 422), which a schema cannot express.
EXAMPLES = int(os.environ.get("LASTMETER_FUZZ_EXAMPLES", "20"))

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The seeded world served by waitress on 127.0.0.1, with a signed-in secretary."""
    world = build(tmp_path_factory.mktemp("fuzz") / "server")
    app = make_app(world, DEVICE_TOKEN_FAILURES_PER_15_MIN=1_000_000)
    server = LiveApp(app)
    s = requests.Session()
    page = s.get(server.url + "/auth/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    resp = s.post(
        server.url + "/auth/login",
        allow_redirects=False,
        data={"username": "community_admin", "password": PASSWORD, "csrf_token": token},
    )
    assert resp.status_code == 303
    headers = {
        "Authorization": f"Bearer {world.tokens['community_admin']}",
        "Cookie": "; ".join(f"{k}={v}" for k, v in s.cookies.items()),
    }
    yield server, headers
    server.stop()
    app.extensions["replica"].close()


def _document() -> dict:
    """The OpenAPI document of a throwaway app: the operations to test, at collection."""
    import tempfile
    from pathlib import Path

    from server import create_app

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"DATA_DIR": str(Path(tmp) / "s"), "TESTING": True})
        try:
            return app.test_client().get("/api/openapi.json").get_json()
        finally:
            app.extensions["replica"].close()


SCHEMA = schemathesis.openapi.from_dict(_document())
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.label for op in OPERATIONS])
def test_api_answers_match_the_document_and_never_fail(operation, live):
    server, headers = live

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=not os.environ.get("LASTMETER_FUZZ_EXAMPLES"),
        database=None,
    )
    def run(case):
        case.call_and_validate(
            base_url=server.url, headers=headers, excluded_checks=[positive_data_acceptance]
        )

    run()
