"""Paper ballots recorded on a field agent's replica, pushed through the real sync API."""

import datetime as dt
import json

import pytest

from server.voting.counting import new_receipt, recount
from sync import Replica, new_id
from tests.server.conftest import make_device
from tests.server.voting.conftest import CLOSES, OPENS

H = dt.timedelta(hours=1)


@pytest.fixture
def agent(tmp_path):
    """A volunteer's laptop replica."""
    replica = Replica(tmp_path / "agent.db")
    yield replica
    replica.close()


@pytest.fixture
def device(server_app):
    return make_device(server_app, "vol", role="volunteer", compounds=("c1",))


def record(agent, motion_id, household, choice, recorded_at):
    """What the field agent does: one immutable `ballots` row, with a receipt for the owner."""
    ballot_id, receipt = new_id(), new_receipt()
    agent.write(
        "ballots",
        ballot_id,
        {
            "compound_id": "c1",
            "motion_id": motion_id,
            "household_id": household,
            "choice": choice,
            "recorded_at": recorded_at.isoformat(),
            "voter_name": "李强",
            "volunteer": "vol",
            "receipt": receipt,
        },
    )
    return receipt


def push(client, agent, token, cursor=0):
    batch = agent.changes_since(cursor)
    resp = client.post(
        "/api/sync/push",
        data=json.dumps(batch.to_dict()),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json()["rejected"] == []
    return batch.next


def audit(committee, motion_id):
    ballots = committee.get(f"/api/motions/{motion_id}/audit").get_json()["ballots"]
    return {b["receipt"]: (b["status"], b["reason"]) for b in ballots}


def test_online_then_paper_the_later_paper_ballot_counts(
    client, committee, open_motion, clock, agent, device
):
    motion_id, tokens = open_motion
    online = client.post(f"/api/ballots/{tokens['o:li']}", json={"choice": "against"})
    paper = record(agent, motion_id, "h3", "for", OPENS + 2 * H)
    clock.at = OPENS + 30 * H
    push(client, agent, device)
    got = audit(committee, motion_id)
    assert got[online.get_json()["receipt"]] == ("superseded", "superseded")
    assert got[paper] == ("counted", "counted")


def test_paper_then_online_the_later_online_ballot_counts(
    client, committee, open_motion, clock, agent, device
):
    motion_id, tokens = open_motion
    paper = record(agent, motion_id, "h1", "for", OPENS)  # wang's first flat
    clock.at = OPENS + H
    push(client, agent, device)
    clock.at = OPENS + 2 * H
    online = client.post(f"/api/ballots/{tokens['o:wang']}", json={"choice": "abstain"})
    got = audit(committee, motion_id)
    assert got[paper] == ("superseded", "superseded")
    assert got[online.get_json()["receipt"]] == ("counted", "counted")


def test_a_paper_ballot_synced_more_than_a_day_after_the_close_is_late(
    client, committee, open_motion, clock, agent, device
):
    motion_id, _ = open_motion
    in_time = record(agent, motion_id, "h3", "for", CLOSES - H)
    clock.at = CLOSES + 23 * H
    cursor = push(client, agent, device)
    late = record(agent, motion_id, "h7", "for", CLOSES - H)
    clock.at = CLOSES + 25 * H
    push(client, agent, device, cursor)
    clock.at = CLOSES + 30 * H
    closed = committee.post(f"/api/motions/{motion_id}/close", json={}).get_json()
    got = audit(committee, motion_id)
    assert got[in_time] == ("counted", "counted")
    assert got[late] == ("late", "late")
    assert closed["tally"]["owners"]["for"] == 1
    board = client.get(f"/api/motions/{motion_id}/bulletin").get_json()
    assert {e["receipt"]: e["status"] for e in board["entries"]} == {
        in_time: "counted",
        late: "late",
    }
    assert recount(board).to_dict() == closed["tally"]


def test_a_paper_ballot_arriving_after_the_freeze_is_listed_not_counted(
    client, committee, open_motion, clock, agent, device
):
    motion_id, _ = open_motion
    clock.at = CLOSES
    committee.post(f"/api/motions/{motion_id}/close", json={})
    after = record(agent, motion_id, "h3", "for", CLOSES - H)
    clock.at = CLOSES + H
    push(client, agent, device)
    assert audit(committee, motion_id)[after] == ("late", "late")
    result = client.get(f"/api/motions/{motion_id}/result").get_json()
    assert result["tally"]["owners"]["for"] == 0


def test_a_paper_ballot_for_a_household_outside_the_electorate_is_refused(
    client, committee, open_motion, clock, agent, device
):
    motion_id, _ = open_motion
    stranger = record(agent, motion_id, "h99", "for", OPENS + H)
    cast_late = record(agent, motion_id, "h3", "for", CLOSES + H)
    clock.at = CLOSES + 2 * H
    push(client, agent, device)
    got = audit(committee, motion_id)
    assert got[stranger] == ("refused", "not_in_electorate")
    assert got[cast_late] == ("refused", "after_close")


def test_a_property_role_may_not_push_ballots(server_app, client, open_motion, agent):
    motion_id, _ = open_motion
    token = make_device(server_app, "wu", role="property", compounds=("c1",))
    record(agent, motion_id, "h3", "for", OPENS + H)
    batch = agent.changes_since(0)
    resp = client.post(
        "/api/sync/push",
        data=json.dumps(batch.to_dict()),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert {r["reason"] for r in resp.get_json()["rejected"]} == {"role"}


def pull(client, agent, token):
    resp = client.get(
        f"/api/sync/pull?cursor=0&site={agent.site_id}",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    body = resp.get_json()
    for extra in ("server_time_ms", "scope"):  # what the sync client reads off the batch
        body.pop(extra, None)
    agent.apply(body)


def test_agents_receive_the_notice_of_an_open_motion_and_its_close(
    client, committee, open_motion, clock, agent, device
):
    motion_id, _ = open_motion
    pull(client, agent, device)
    notice = agent.get("motion_notices", motion_id)
    assert notice["status"] == "open"
    assert notice["rule_set"] == "civil-code-2021"
    clock.at = CLOSES
    committee.post(f"/api/motions/{motion_id}/close", json={})
    pull(client, agent, device)
    assert agent.get("motion_notices", motion_id)["status"] == "closed"


def test_no_agent_may_push_a_motion_notice(client, open_motion, agent, device):
    agent.write(
        "motion_notices",
        "fake",
        {"compound_id": "c1", "title": "x", "opens_at": OPENS.isoformat(),
         "closes_at": CLOSES.isoformat(), "status": "open"},
    )  # fmt: skip
    batch = agent.changes_since(0)
    resp = client.post(
        "/api/sync/push",
        data=json.dumps(batch.to_dict()),
        headers={"Authorization": f"Bearer {device}", "Content-Type": "application/json"},
    )
    assert {r["reason"] for r in resp.get_json()["rejected"]} == {"role"}
