"""Paper ballots on the agent: open motions by the laptop's clock, one immutable ballot row
with a receipt in the server's format and a photo of the signed paper, refusals at the
fields, this laptop's list (who, not how) with whether each ballot reached the server."""

from __future__ import annotations

import datetime as dt
import hashlib
import html as html_lib
import io
import re
from pathlib import Path

import pytest

from field_agent import settings
from field_agent.ballots import data as ballots
from server.voting.counting import RECEIPT_ALPHABET
from sync.tables.voting import RECEIPT
from tests.field_agent.helpers import jpeg_bytes

H1 = "c1-1栋-101"
H2 = "c1-1栋-102"
NOW = dt.datetime.now(dt.UTC)


def notice(replica, motion_id="M1", opens=-1, closes=+1, status="open", compound="c1", **extra):
    """A motion notice as the server writes it; opens/closes in hours from now."""
    replica.write(
        "motion_notices",
        motion_id,
        {
            "compound_id": compound,
            "title": f"动用公共收益奖励物业 {motion_id}",
            "body": "从小区公共收益中支出一万元奖励物业人员。",
            "matter": "other_important",
            "rule_set": "property-law-2007",
            "binding": True,
            "opens_at": (NOW + dt.timedelta(hours=opens)).isoformat(),
            "closes_at": (NOW + dt.timedelta(hours=closes)).isoformat(),
            "status": status,
            **extra,
        },
    )


def cast(volunteer, motion="M1", household=H1, choice="for", voter="张三", photo=b"jpeg",
         note=None, lang="en"):  # fmt: skip
    form = {"household_id": household, "choice": choice, "voter_name": voter}
    if note is not None:
        form["note"] = note
    if photo == b"jpeg":
        photo = jpeg_bytes(1200, 900)
    if photo is not None:
        form["photo"] = (io.BytesIO(photo), "ballot.jpg")
    return volunteer.post(
        f"/ballots/{motion}/record?lang={lang}", form, content_type="multipart/form-data"
    )


def page(client, path="/ballots/?lang=en") -> str:
    resp = client.get(path)
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def field_error(html: str, name: str) -> str:
    """The message shown inside the label (or, for radio buttons, the fieldset) of `name`."""
    for block in re.findall(r"<fieldset>.*?</fieldset>|<label>.*?</label>", html, re.S):
        if f'name="{name}"' in block:
            found = re.search(r'<span class="field-error">([^<]+)', block)
            assert found, f"no message at {name}"
            return html_lib.unescape(found.group(1))
    raise AssertionError(f"no field {name}")


def test_receipt_codes_have_the_servers_format():
    codes = {ballots.new_receipt() for _ in range(200)}
    assert len(codes) == 200
    assert all(re.fullmatch(RECEIPT, c) for c in codes)
    assert ballots.RECEIPT_ALPHABET == RECEIPT_ALPHABET
    assert not set("".join(codes)) & set("01OIL")


def test_motions_are_listed_with_their_state_by_the_laptops_clock(volunteer, replica, client):
    notice(replica, "OPEN")
    notice(replica, "SOON", opens=+2, closes=+50)
    notice(replica, "ENDED", opens=-50, closes=-1)
    notice(replica, "SHUT", status="closed")  # closed early by the server, clock says open
    notice(replica, "ELSEWHERE", compound="c2")
    html = page(client)
    rows = dict(re.findall(r'<tr id="m-(\w+)">(.*?)</tr>', html, re.S))
    assert set(rows) == {"OPEN", "SOON", "ENDED", "SHUT"}
    assert "open now" in rows["OPEN"]
    assert "not open yet" in rows["SOON"]
    assert "closed" in rows["ENDED"]
    assert "closed" in rows["SHUT"]
    links = {m for m, row in rows.items() if "/record" in row}
    assert links == {"OPEN"}
    assert next(iter(rows)) == "OPEN"  # open votes first


def test_a_paper_ballot_is_one_immutable_row_with_receipt_photo_and_volunteer(
    volunteer, replica, client, agent_app
):
    notice(replica)
    original = jpeg_bytes(3000, 2000)
    before = dt.datetime.now(dt.UTC)
    resp = cast(volunteer, photo=original, note="本人签字")
    assert resp.status_code == 303
    [row] = replica.rows("ballots")
    assert resp.headers["Location"] == f"/ballots/receipt/{row['id']}"
    assert row["motion_id"] == "M1"
    assert row["household_id"] == H1
    assert row["compound_id"] == "c1"
    assert row["choice"] == "for"
    assert row["voter_name"] == "张三"
    assert row["volunteer"] == "王芳"
    assert row["note"] == "本人签字"
    assert re.fullmatch(RECEIPT, row["receipt"])
    recorded = dt.datetime.fromisoformat(row["recorded_at"])
    assert recorded.utcoffset() == dt.timedelta(hours=8)  # the community's clock, with zone
    assert before - dt.timedelta(seconds=1) <= recorded <= dt.datetime.now(dt.UTC)
    assert replica.schema.tables["ballots"].immutable
    sha = row["photo_sha256"]
    photo = replica.get("photos", sha)
    assert (photo["ref_table"], photo["ref_id"]) == ("ballots", row["id"])
    assert photo["recorded_by"] == "王芳"
    stored = Path(agent_app.config["BLOB_DIR"], sha[:2], sha).read_bytes()
    assert hashlib.sha256(stored).hexdigest() == sha
    assert len(stored) < len(original)

    receipt = page(client, resp.headers["Location"] + "?lang=en")
    assert f'id="receipt">{row["receipt"]}<' in receipt
    assert "<strong>In favour</strong>" in receipt
    assert "Ballot recorded" in receipt


def test_the_receipt_is_shown_once_to_the_volunteer_who_recorded_it(volunteer, replica, client):
    notice(replica)
    where = cast(volunteer).headers["Location"]
    assert client.get(where).status_code == 200
    [row] = replica.rows("ballots")
    assert volunteer.post(where + "/done").status_code == 303
    gone = client.get(where + "?lang=en")
    assert gone.status_code == 404
    assert row["receipt"] not in gone.get_data(as_text=True)
    # another volunteer at the same laptop never sees someone else's receipt
    where = cast(volunteer, household=H2).headers["Location"]
    added = volunteer.post("/volunteers", {"name": "李强", "pin": "5678", "pin2": "5678"})
    assert added.status_code == 303
    assert volunteer.post("/switch").status_code == 303
    assert volunteer.signin("李强", "5678").status_code == 303
    assert client.get(where).status_code == 404


def test_the_list_shows_who_voted_here_never_how_and_whether_it_was_sent(
    volunteer, replica, client, agent_app
):
    notice(replica)
    cast(volunteer, choice="against")
    [row] = replica.rows("ballots")
    html = page(client)
    line = re.search(rf'<tr id="b-{row["id"]}".*?</tr>', html, re.S).group(0)
    assert "张三" in line
    assert "1栋 101" in line
    assert "王芳" in line
    assert "waiting to be sent" in line
    assert row["receipt"] not in html
    assert "Against" not in html
    assert "against" not in line
    assert row["photo_sha256"] not in html  # the paper shows the mark: not on the list

    # the push cursor passes the row: sent
    settings.save(Path(agent_app.config["DATA_DIR"]), server_site="server-site")
    replica.set_cursor("server-site", sent=replica.counter)
    assert "sent to the server" in page(client)
    # a rejection the server answered stays visible
    with replica.lock:
        replica.db.execute(
            "INSERT INTO _lm_outbox (tbl, row_id, col, reason, message, at) "
            "VALUES ('ballots', ?, NULL, 'forbidden', 'role may not write ballots', 0)",
            (row["id"],),
        )
    html = page(client)
    assert "rejected by the server" in html
    assert "role may not write ballots" in html
    with replica.lock:
        replica.db.execute("UPDATE _lm_outbox SET status = 'discarded'")
    assert "rejected by the server; discarded" in page(client)


def test_a_changed_mind_is_a_new_ballot(volunteer, replica, client):
    notice(replica)
    assert cast(volunteer, choice="against").status_code == 303
    html = page(client, f"/ballots/M1/record?household={H1}&lang=en")
    assert "already has 1 ballot(s) recorded on this laptop" in html
    assert cast(volunteer, choice="for").status_code == 303
    rows = sorted(replica.rows("ballots"), key=lambda r: r["recorded_at"])
    assert [r["choice"] for r in rows] == ["against", "for"]
    assert rows[0]["receipt"] != rows[1]["receipt"]
    assert rows[0]["recorded_at"] < rows[1]["recorded_at"]  # ms: the later one sorts last


@pytest.mark.parametrize(
    ("opens", "closes", "status", "message"),
    [
        (-50, -1, "open", "This vote has closed"),
        (-1, +1, "closed", "This vote has closed"),
        (+2, +50, "open", "This vote has not opened yet"),
    ],
)
def test_recording_is_refused_outside_the_window(
    volunteer, replica, client, agent_app, opens, closes, status, message
):
    notice(replica, opens=opens, closes=closes, status=status)
    shown = page(client, "/ballots/M1/record?lang=en")
    assert message in shown
    assert 'name="choice"' not in shown
    resp = cast(volunteer)
    assert resp.status_code == 422
    assert message in resp.get_data(as_text=True)
    assert replica.rows("ballots") == []
    assert replica.rows("photos") == []
    assert not any(Path(agent_app.config["BLOB_DIR"]).rglob("*"))


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"household": ""}, "household_id", "Choose the owner's household."),
        ({"household": "nobody"}, "household_id", "Choose the owner's household."),
        ({"household": "c2-1栋-101"}, "household_id", "Choose the owner's household."),
        ({"choice": ""}, "choice", "Choose for, against or abstain"),
        ({"choice": "maybe"}, "choice", "Choose for, against or abstain"),
        ({"voter": "  "}, "voter_name", "Enter the name of the owner who signed"),
        ({"voter": "张" * 201}, "voter_name", "At most 200 characters."),
        ({"photo": None}, "photo", "Take a photo of the signed paper ballot."),
        ({"photo": b"%PDF-1.4 not a photo"}, "photo", "Not a photo we can use"),
        ({"note": "x" * 501}, "note", "At most 500 characters."),
    ],
)
def test_bad_input_gets_a_message_at_the_field_and_writes_nothing(
    volunteer, replica, agent_app, changes, field, message
):
    from tests.field_agent.helpers import seed_register

    seed_register(replica, "c2", buildings=1)
    notice(replica)
    resp = cast(volunteer, **changes)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert message in field_error(html, field)
    assert replica.rows("ballots") == []
    assert replica.rows("photos") == []
    assert not any(Path(agent_app.config["BLOB_DIR"]).rglob("*"))


def test_unknown_or_foreign_motion_is_not_found(volunteer, replica, client):
    notice(replica, "THERE", compound="c2")
    assert client.get("/ballots/NOPE/record").status_code == 404
    assert client.get("/ballots/THERE/record").status_code == 404
    assert cast(volunteer, motion="THERE").status_code == 404
    assert replica.rows("ballots") == []


def test_ballot_pages_speak_chinese_first(volunteer, replica, client):
    notice(replica)
    html = page(client, "/ballots/")
    assert "纸质选票" in html
    assert "登记纸质选票" in html
    resp = cast(volunteer, household="", lang="zh_CN")
    assert "请选择业主所在的户" in resp.get_data(as_text=True)


def test_stored_text_is_escaped_on_ballot_pages(volunteer, replica, client):
    evil = '<script>alert("x")</script>'
    notice(replica, title=evil, body=evil)
    replica.write("households", H1, {"owner_name": evil})
    assert cast(volunteer, voter=evil).status_code == 303
    for path in ("/ballots/", "/ballots/M1/record"):
        html = page(client, path)
        assert evil not in html
        assert "&lt;script&gt;" in html
