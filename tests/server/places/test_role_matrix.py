"""Role x endpoint: every endpoint of the app, against every role, allowed or refused.

The table below names every endpoint of `app.url_map`. A new endpoint without an entry
fails `test_every_endpoint_has_an_entry`: add it with the roles that may use it.
Each role signs in with every compound in scope, so this test is about roles; scope
(one compound's volunteer against another compound) is tested in test_scope.py.
"""

from __future__ import annotations

import pytest

from server.auth import data as auth_data
from server.db import get_db
from server.permissions import ROLES

from .conftest import csrf_token, seed_register, sign_in

PUBLIC = "public"  # anyone, signed in or not
DEVICE = "device"  # a device token (Bearer) only: a session gets 401
SIGNED_IN = "signed_in"  # every role; nobody signed out
PHOTO = "photo"  # a device token or a signed-in user (scope checked per photo)

ADMIN = ("community_admin",)
READERS = ("volunteer", "building_head", "property", "committee", "community_admin")
EDITORS = ("building_head", "community_admin")
VOTES = ("committee", "community_admin")
LEDGER = ("community_admin", "committee")
FIELD = ("volunteer", "building_head", "community_admin")
STREET = ("street_official",)

# endpoint -> (who may use it, path template). {a} compound A, {hh} a household of A,
# {spare} a household of A that may be deleted, {res}/{spare_res} residents, {bld} a
# building, {user} another user, {device} that user's device. Other areas use "x" ids:
# the role check runs before the lookup, so a refused role gets 403 and an allowed one
# gets anything else (404 for an unknown id).
TABLE: dict[str, tuple[object, str]] = {
    # server
    "home": (SIGNED_IN, "/"),
    "static.static": (PUBLIC, "/static/style.css"),
    "openapi.document": (PUBLIC, "/api/openapi.json"),
    # auth
    "auth.login": (PUBLIC, "/auth/login"),
    "auth.logout": (PUBLIC, "/auth/logout"),
    "auth.set_language": (PUBLIC, "/auth/lang/en"),
    # sync API and blobs
    "sync_api.hello": (DEVICE, "/api/sync/hello"),
    "sync_api.pull": (DEVICE, "/api/sync/pull"),
    "sync_api.push": (DEVICE, "/api/sync/push"),
    "blobs.upload": (DEVICE, "/api/blobs/" + "0" * 64),
    "blobs.status": (DEVICE, "/api/blobs/" + "0" * 64 + "/status"),
    "blobs.photo": (PHOTO, "/api/blobs/" + "0" * 64),
    "blobs.thumb": (PHOTO, "/api/blobs/" + "0" * 64 + "/thumb"),
    "blobs.pending": (PHOTO, "/api/blobs/pending"),
    # places
    "places.places": (SIGNED_IN, "/places"),
    "places.add_place": (ADMIN, "/places"),
    "places.compounds": (SIGNED_IN, "/compounds"),
    "places.compound": (SIGNED_IN, "/compounds/{a}"),
    "places.new_compound": (ADMIN, "/compounds/new"),
    "places.edit_compound": (ADMIN, "/compounds/{a}/edit"),
    "places.add_building": (ADMIN, "/compounds/{a}/buildings"),
    "places.edit_building": (ADMIN, "/buildings/{bld}/edit"),
    # register
    "register.households": (READERS, "/households"),
    "register.household": (READERS, "/households/{hh}"),
    "register.new_household": (EDITORS, "/households/new?compound={a}"),
    "register.edit_household": (EDITORS, "/households/{hh}/edit"),
    "register.delete_household": (EDITORS, "/households/{spare}/delete"),
    "register.add_resident": (EDITORS, "/households/{hh}/residents"),
    "register.edit_resident": (EDITORS, "/residents/{res}/edit"),
    "register.delete_resident": (EDITORS, "/residents/{spare_res}/delete"),
    "register.import_form": (ADMIN, "/import"),
    "register.import_upload": (ADMIN, "/import"),
    "register.import_confirm": (ADMIN, "/import/no-such-token"),
    "register.export_list": (ADMIN, "/export/households.csv"),
    "register.api_households": (READERS, "/api/households"),
    # accounts
    "accounts.users": (ADMIN, "/users"),
    "accounts.create_user": (ADMIN, "/users"),
    "accounts.user": (ADMIN, "/users/{user}"),
    "accounts.update_user": (ADMIN, "/users/{user}"),
    "accounts.issue_device": (ADMIN, "/users/{user}/devices"),
    "accounts.devices": (ADMIN, "/devices"),
    "accounts.revoke_device": (ADMIN, "/devices/{device}/revoke"),
    # supply
    "supply.index": (SIGNED_IN, "/supply/"),
    "supply.ledger_page": (LEDGER, "/supply/ledger"),
    "supply.add_entry": (LEDGER, "/supply/ledger"),
    "supply.export_ledger": (LEDGER, "/supply/ledger.csv"),
    "supply.correct_entry": (LEDGER, "/supply/ledger/x/correct"),
    "supply.medicine_page": (FIELD, "/supply/medicine"),
    "supply.reassign": (FIELD, "/supply/medicine/x/reassign"),
    "supply.return_medicine": (FIELD, "/supply/medicine/x/return"),
    "supply.show_offer": (SIGNED_IN, "/supply/offers/x"),
    "supply.close_offer": (ADMIN, "/supply/offers/x/close"),
    "supply.dispatch": (ADMIN, "/supply/offers/x/dispatch"),
    "supply.place_order": (FIELD, "/supply/offers/x/orders"),
    "supply.export_orders": (SIGNED_IN, "/supply/offers/x/orders.csv"),
    "supply.new_offer": (ADMIN, "/supply/offers/new"),
    "supply.set_payment": (FIELD, "/supply/orders/x/payment"),
    "supply.policy": (ADMIN, "/supply/policies/{a}"),
    "supply.show_round": (SIGNED_IN, "/supply/rounds/x"),
    "supply.cancel_round": (ADMIN, "/supply/rounds/x/cancel"),
    "supply.confirm_round": (ADMIN, "/supply/rounds/x/confirm"),
    "supply.packing": (SIGNED_IN, "/supply/rounds/x/packing"),
    "supply.export_packing": (SIGNED_IN, "/supply/rounds/x/packing.csv"),
    "supply.export_plan": (SIGNED_IN, "/supply/rounds/x/plan.csv"),
    "supply.new_round": (ADMIN, "/supply/rounds/new"),
    "supply_api.round_plan": (SIGNED_IN, "/api/supply/rounds/x"),
    "supply_api.offer_totals": (SIGNED_IN, "/api/supply/offers/x/totals"),
    "supply_api.ledger_balances": (LEDGER, "/api/supply/ledger/balances"),
    "supply_api.medicine_stock": (FIELD, "/api/supply/medicine/stock"),
    # certification (decisions and published lists are the street's)
    "certification.dashboard": (SIGNED_IN, "/certification"),
    "certification.compound": (SIGNED_IN, "/certification/compounds/{a}"),
    "certification.apply": (ADMIN, "/certification/compounds/{a}/apply"),
    "certification.add_attestation": (ADMIN, "/certification/compounds/{a}/attestations"),
    "certification.add_closure": (ADMIN, "/certification/compounds/{a}/closures"),
    "certification.set_work_group": (ADMIN, "/certification/compounds/{a}/work-groups"),
    "certification.revoke": (STREET, "/certification/compounds/{a}/revoke"),
    "certification.decide": (STREET, "/certification/applications/1/decide"),
    "certification.lists": (SIGNED_IN, "/certification/lists"),
    "certification.publish": (STREET, "/certification/lists"),
    "certification.published": (SIGNED_IN, "/certification/lists/1"),
    "certification.report": (SIGNED_IN, "/certification/report.csv"),
    "certification.totals": (SIGNED_IN, "/certification/totals"),
    "certification.api_compound": (SIGNED_IN, "/api/compounds/{a}/certification"),
    "certification.api_community": (SIGNED_IN, "/api/communities/{community}/certification"),
    # voting (ballot links and published results are public by design)
    "voting.index": (VOTES, "/votes/"),
    "voting.new": (VOTES, "/votes/new"),
    "voting.detail": (VOTES, "/votes/x"),
    "voting.audit": (VOTES, "/votes/x/audit"),
    "voting.electorate": (VOTES, "/votes/x/electorate"),
    "voting.open_": (VOTES, "/votes/x/open"),
    "voting.close": (VOTES, "/votes/x/close"),
    "voting.links": (VOTES, "/votes/x/links"),
    "voting.revoke": (VOTES, "/votes/x/links/revoke"),
    "voting.bulletin": (PUBLIC, "/votes/x/bulletin"),
    "voting.result": (PUBLIC, "/votes/x/result"),
    "voting.ballot": (PUBLIC, "/b/x"),
    "voting.cast": (PUBLIC, "/b/x"),
    "voting.receipt": (PUBLIC, "/b/x/receipt/x"),
    "voting.api_list": (VOTES, "/api/motions"),
    "voting.api_create": (VOTES, "/api/motions"),
    "voting.api_get": (VOTES, "/api/motions/x"),
    "voting.api_audit": (VOTES, "/api/motions/x/audit"),
    "voting.api_electorate": (VOTES, "/api/motions/x/electorate"),
    "voting.api_open": (VOTES, "/api/motions/x/open"),
    "voting.api_close": (VOTES, "/api/motions/x/close"),
    "voting.api_links": (VOTES, "/api/motions/x/links"),
    "voting.api_revoke": (VOTES, "/api/motions/x/links/revoke"),
    "voting.api_bulletin": (PUBLIC, "/api/motions/x/bulletin"),
    "voting.api_result": (PUBLIC, "/api/motions/x/result"),
    "voting.api_cast": (PUBLIC, "/api/ballots/x"),
}

# Signing out ends the session: try it last.
LAST = ("auth.logout",)


def endpoints(app) -> list[tuple[str, str]]:
    pairs = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    return sorted(pairs, key=lambda p: (p[0] in LAST, p[0], p[1] != "GET"))


def test_every_endpoint_has_an_entry(server_app):
    missing = sorted({e for e, _ in endpoints(server_app)} - set(TABLE))
    assert not missing, f"add these endpoints to TABLE with the roles that may use them: {missing}"
    stale = sorted(set(TABLE) - {e for e, _ in endpoints(server_app)})
    assert not stale, f"TABLE names endpoints the app no longer has: {stale}"


def _targets(app) -> dict[str, str]:
    reg = seed_register(app)
    with app.app_context():
        db = get_db()
        other = auth_data.create_user(db, "other-vol", "pw-other-vol-1", "volunteer", [reg.a])
        device_id, _ = auth_data.issue_device(db, other.id, "other laptop")
    return {
        "a": reg.a,
        "hh": reg.household_a,
        "spare": reg.spare_household_a,
        "res": reg.resident_a,
        "spare_res": reg.spare_resident_a,
        "bld": reg.building_a,
        "user": str(other.id),
        "device": str(device_id),
        "community": reg.community,
    }


def _verdict(access, role: str | None, method: str, resp) -> str | None:
    """None if the response fits the table, else what went wrong."""
    status = resp.status_code
    if status >= 500:
        return f"server error {status}"
    to_login = status in (302, 303) and "/auth/login" in resp.headers.get("Location", "")
    if access == PUBLIC:
        return "refused" if status == 403 else None
    if access == DEVICE:
        return None if status == 401 else f"a session got {status}, not 401"
    if role is None:
        ok = status == 401 or to_login
        return None if ok else f"signed out got {status}, not 401 or the sign-in page"
    if access == PHOTO:
        return None if status != 401 and not to_login else f"signed in got {status}"
    allowed = access == SIGNED_IN or role in access  # type: ignore[operator]
    if allowed:
        return None if status not in (401, 403) and not to_login else f"refused ({status})"
    return None if status == 403 else f"allowed ({status}), expected 403"


@pytest.mark.parametrize("role", [None, *ROLES])
def test_role_may_use_exactly_its_endpoints(server_app, role):
    targets = _targets(server_app)
    if role is None:
        client = server_app.test_client()
        token = csrf_token(client)
    else:
        client = sign_in(server_app, role, ["*"], f"matrix-{role}")
        token = csrf_token(client, "/auth/login")
    wrong = []
    for endpoint, method in endpoints(server_app):
        if endpoint not in TABLE:
            continue  # test_every_endpoint_has_an_entry names it
        access, template = TABLE[endpoint]
        path = template.format(**targets)
        if method == "GET":
            resp = client.get(path)
        else:
            resp = client.open(
                path, method=method, data={"csrf_token": token}, headers={"X-CSRFToken": token}
            )
        problem = _verdict(access, role, method, resp)
        if problem:
            wrong.append(f"{method} {path} ({endpoint}): {problem}")
    assert not wrong, f"role {role}:\n" + "\n".join(wrong)
