"""The voting JSON API through the real app and SQLite file: motions, links, ballots,
close, result, bulletin, audit."""

import datetime as dt
from fractions import Fraction

from server.voting.counting import recount
from tests.server.conftest import make_user
from tests.server.voting.conftest import CLOSES, MOTION, OPENS


def cast(client, token, choice):
    return client.post(f"/api/ballots/{token}", json={"choice": choice})


def test_a_motion_needs_valid_fields(committee, compound, clock):
    resp = committee.post("/api/motions", json={**MOTION, "matter": "x", "closes_at": "soon"})
    assert resp.status_code == 422
    assert set(resp.get_json()["errors"]) == {"matter", "closes_at"}
    resp = committee.post("/api/motions", json={**MOTION, "compound_id": "c9"})
    assert resp.status_code == 422
    assert resp.get_json()["errors"] == {"compound_id": "outside your scope"}


def test_committee_api_needs_sign_in_and_the_right_role(server_app, client, compound, clock):
    assert client.post("/api/motions", json=MOTION).status_code == 401
    _, pw = make_user(server_app, "vol", role="volunteer", compounds=("c1",))
    client.post("/auth/login", data={"username": "vol", "password": pw})  # CSRF-less: refused
    assert client.get("/api/motions").status_code == 401


def test_posts_must_be_json(committee, compound, clock):
    resp = committee.post("/api/motions", data=MOTION)
    assert resp.status_code == 415


def test_opening_freezes_the_electorate_as_the_court_counts_owners(committee, compound, clock):
    motion_id = committee.post("/api/motions", json=MOTION).get_json()["id"]
    opened = committee.post(f"/api/motions/{motion_id}/open", json={}).get_json()
    assert opened["N"] == 5  # wang (2 units), li, developer (2 units), zhang, zhao
    assert Fraction(opened["A"]) == Fraction("519.87")
    e = committee.get(f"/api/motions/{motion_id}/electorate").get_json()
    wang = next(o for o in e["owners"] if o["key"] == "o:wang")
    assert wang["households"] == ["h1", "h2"]
    assert wang["area"] == "134.87"
    zhang = next(o for o in e["owners"] if o["key"] == "o:zhang")
    assert zhang["voter"] == "刘娜"
    again = committee.post(f"/api/motions/{motion_id}/open", json={})
    assert again.status_code == 409


def test_register_changes_after_opening_are_shown_not_applied(server_app, committee, open_motion):
    from tests.server.voting.conftest import add_households

    motion_id, _ = open_motion
    add_households(server_app, "c1", {"h8": {"owner_key": "qian", "area_m2": 50.0}})
    e = committee.get(f"/api/motions/{motion_id}/electorate").get_json()
    assert e["N"] == 5
    assert e["register_changes"] == [{"owner": "o:qian", "change": "added", "households": ["h8"]}]


def test_an_owner_votes_changes_their_mind_and_the_last_counts(
    committee, client, open_motion, clock
):
    motion_id, tokens = open_motion
    first = cast(client, tokens["o:li"], "against")
    assert first.status_code == 200
    clock.advance(hours=1)
    second = cast(client, tokens["o:li"], "for")
    assert second.get_json()["receipt"] != first.get_json()["receipt"]
    audit = committee.get(f"/api/motions/{motion_id}/audit").get_json()["ballots"]
    assert [(b["status"], b["choice"]) for b in audit] == [("superseded", None), ("counted", None)]


def test_a_token_reused_after_revocation_is_refused(committee, client, open_motion):
    motion_id, tokens = open_motion
    assert cast(client, tokens["o:li"], "for").status_code == 200
    resp = committee.post(f"/api/motions/{motion_id}/links/revoke", json={"owner_key": "o:li"})
    assert resp.get_json() == {"revoked": 1}
    again = cast(client, tokens["o:li"], "against")
    assert again.status_code == 410
    assert again.get_json()["code"] == "revoked_link"
    # a new link works, and reissuing replaces the old one too
    new = committee.post(f"/api/motions/{motion_id}/links", json={"owner_keys": ["o:li"]})
    token = new.get_json()["links"][0]["token"]
    assert cast(client, token, "against").status_code == 200
    committee.post(f"/api/motions/{motion_id}/links", json={"owner_keys": ["o:li"]})
    assert cast(client, token, "for").status_code == 410


def test_unknown_tokens_and_bad_choices_are_refused(client, open_motion):
    _, tokens = open_motion
    assert cast(client, "x" * 43, "for").status_code == 404
    resp = cast(client, tokens["o:li"], "maybe")
    assert resp.status_code == 422


def test_votes_before_the_opening_and_after_the_close_are_refused(client, open_motion, clock):
    _, tokens = open_motion
    clock.at = OPENS - dt.timedelta(seconds=1)
    assert cast(client, tokens["o:li"], "for").get_json()["code"] == "not_open"
    clock.at = CLOSES
    resp = cast(client, tokens["o:li"], "for")
    assert resp.status_code == 409
    assert resp.get_json()["code"] == "closed"


def test_closing_freezes_the_result_and_the_bulletin_recounts_to_it(
    committee, client, open_motion, clock
):
    motion_id, tokens = open_motion
    for key, choice in [("o:li", "for"), ("o:wang", "for"), ("o:zhao", "against"),
                        ("developer", "for")]:  # fmt: skip
        assert cast(client, tokens[key], choice).status_code == 200
    early = committee.post(f"/api/motions/{motion_id}/close", json={})
    assert early.get_json()["code"] == "too_early"
    clock.at = CLOSES
    closed = committee.post(f"/api/motions/{motion_id}/close", json={}).get_json()
    result = closed["result"]
    # 4 of 5 owners took part (>= 2/3), 3 of 4 for; 459.87 of 519.87 m² took part
    assert result["outcome"] == "passed"
    assert result["totals"]["N_p"] == 4
    assert result["totals"]["A_y"] == "384.87"  # li 100 + wang 134.87 + developer 150
    public = client.get(f"/api/motions/{motion_id}/result").get_json()
    assert public["result"] == result
    board = client.get(f"/api/motions/{motion_id}/bulletin").get_json()
    assert len(board["entries"]) == 4
    assert recount(board).to_dict() == closed["tally"]
    assert "o:li" not in str(board)
    again = committee.post(f"/api/motions/{motion_id}/close", json={})
    assert again.status_code == 409


def test_before_the_close_only_turnout_is_public(client, open_motion):
    motion_id, tokens = open_motion
    cast(client, tokens["o:li"], "for")
    body = client.get(f"/api/motions/{motion_id}/result").get_json()
    assert body == {"status": "open", "turnout": {"owners_voted": 1, "N": 5, "ballots": 1}}
    assert client.get(f"/api/motions/{motion_id}/bulletin").status_code == 409


def test_running_tallies_when_the_motion_shows_them(committee, client, compound, clock):
    motion_id = committee.post("/api/motions", json={**MOTION, "show_running": True}).get_json()[
        "id"
    ]
    committee.post(f"/api/motions/{motion_id}/open", json={})
    token = committee.post(f"/api/motions/{motion_id}/links", json={}).get_json()["links"][0][
        "token"
    ]
    clock.at = OPENS
    cast(client, token, "for")
    body = client.get(f"/api/motions/{motion_id}/result").get_json()
    assert body["provisional"] is True
    assert body["tally"]["owners"]["for"] == 1


def test_open_ballots_let_the_committee_see_how_but_not_an_admin(
    server_app, committee, client, compound, clock
):
    motion_id = committee.post("/api/motions", json={**MOTION, "open_ballot": True}).get_json()[
        "id"
    ]
    committee.post(f"/api/motions/{motion_id}/open", json={})
    links = committee.post(f"/api/motions/{motion_id}/links", json={}).get_json()["links"]
    clock.at = OPENS
    cast(server_app.test_client(), links[0]["token"], "against")
    audit = committee.get(f"/api/motions/{motion_id}/audit").get_json()["ballots"]
    assert audit[0]["choice"] == "against"
    admin = server_app.test_client()
    _, pw = make_user(server_app, "sec", role="community_admin", compounds=("c1",))
    from tests.server.conftest import AuthActions

    AuthActions(admin).login("sec", pw)
    audit = admin.get(f"/api/motions/{motion_id}/audit").get_json()["ballots"]
    assert audit[0]["choice"] is None
    assert audit[0]["owner_key"] == links[0]["owner_key"]


def test_a_committee_member_of_another_compound_cannot_touch_the_motion(server_app, open_motion):
    motion_id, _ = open_motion
    other = server_app.test_client()
    _, pw = make_user(server_app, "zhou", role="committee", compounds=("c2",))
    from tests.server.conftest import AuthActions

    AuthActions(other).login("zhou", pw)
    assert other.get(f"/api/motions/{motion_id}/audit").status_code == 403
    assert other.post(f"/api/motions/{motion_id}/close", json={}).status_code == 403


def test_the_api_is_in_the_openapi_document(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    for path in [
        "/api/motions",
        "/api/motions/{motion_id}/open",
        "/api/motions/{motion_id}/electorate",
        "/api/motions/{motion_id}/links",
        "/api/motions/{motion_id}/close",
        "/api/motions/{motion_id}/result",
        "/api/motions/{motion_id}/bulletin",
        "/api/ballots/{token}",
    ]:
        assert path in paths, path
