"""The committee's pages and the owner's ballot page, as a browser without JavaScript
uses them."""

import re

from tests.server.voting.conftest import CLOSES, OPENS, csrf_of


def form_motion(committee, **over):
    data = {
        "csrf_token": csrf_of(committee, "/votes/new"),
        "title": "奖励物业人员",
        "body": "从公共收益中提取一万元",
        "compound_id": "c1",
        "matter": "other_major",
        "rule_set": "auto",
        "opens_at": "2020-03-10T09:00",  # local time, Asia/Shanghai
        "closes_at": "2020-03-12T11:00",
        "late_after_hours": "24",
        **over,
    }
    return committee.post("/votes/new", data=data)


def test_creating_a_motion_shows_errors_next_to_the_fields(committee, compound, clock):
    resp = form_motion(committee, title="", closes_at="2020-03-09T09:00")
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert 'name="title" value="" maxlength="200" required aria-invalid="true"' in html
    assert "must be after the opening" in html


def test_the_committee_opens_a_motion_and_prints_links(committee, compound, clock):
    resp = form_motion(committee)
    assert resp.status_code == 303
    detail = resp.headers["Location"]
    motion_id = detail.rsplit("/", 1)[1]
    page = committee.get(detail).get_data(as_text=True)
    assert "奖励物业人员" in page
    token = csrf_of(committee, detail)
    assert committee.post(f"/votes/{motion_id}/open", data={"csrf_token": token}).status_code == 303
    page = committee.get(detail).get_data(as_text=True)
    assert "519.87" in page
    links = committee.post(f"/votes/{motion_id}/links", data={"csrf_token": token})
    html = links.get_data(as_text=True)
    assert links.status_code == 200
    assert html.count('src="data:image/svg+xml') == 5  # one QR code per owner
    assert len(set(re.findall(r"/b/([A-Za-z0-9_-]{43})", html))) == 5


def test_the_detail_page_returns_its_fragment_to_htmx(committee, open_motion):
    motion_id, _ = open_motion
    resp = committee.get(f"/votes/{motion_id}", headers={"HX-Request": "true"})
    assert "HX-Request" in resp.headers["Vary"]
    assert "<html" not in resp.get_data(as_text=True)


def test_an_owner_votes_from_a_phone_without_javascript(server_app, open_motion, clock):
    motion_id, tokens = open_motion
    phone = server_app.test_client()  # no session, no CSRF cookie, no script
    page = phone.get(f"/b/{tokens['o:li']}").get_data(as_text=True)
    assert page.count('name="choice"') == 3
    assert 'method="post"' in page  # plain forms: no script needed
    resp = phone.post(f"/b/{tokens['o:li']}", data={"choice": "for"})
    assert resp.status_code == 303
    receipt = phone.get(resp.headers["Location"]).get_data(as_text=True)
    code = re.search(r"<code>([2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4})</code>", receipt).group(1)
    again = phone.get(f"/b/{tokens['o:li']}").get_data(as_text=True)
    assert code in again  # the owner sees their current ballot and may change it


def test_ballot_pages_say_why_a_link_cannot_vote(server_app, committee, open_motion, clock):
    motion_id, tokens = open_motion
    phone = server_app.test_client()
    assert phone.get("/b/not-a-token").status_code == 404
    committee.post(f"/api/motions/{motion_id}/links/revoke", json={"owner_key": "o:li"})
    resp = phone.post(f"/b/{tokens['o:li']}", data={"choice": "for"})
    assert resp.status_code == 410
    clock.at = CLOSES
    resp = phone.get(f"/b/{tokens['o:zhao']}")
    assert resp.status_code == 409


def test_result_bulletin_audit_and_electorate_pages(server_app, committee, open_motion, clock):
    motion_id, tokens = open_motion
    phone = server_app.test_client()
    for key in ("o:li", "o:wang", "developer", "o:zhao"):
        phone.post(f"/b/{tokens[key]}", data={"choice": "for"})
    clock.at = CLOSES
    token = csrf_of(committee, f"/votes/{motion_id}")
    assert (
        committee.post(f"/votes/{motion_id}/close", data={"csrf_token": token}).status_code == 303
    )
    result = phone.get(f"/votes/{motion_id}/result").get_data(as_text=True)
    assert "通过" in result  # Simplified Chinese by default
    english = phone.get(f"/votes/{motion_id}/result?lang=en").get_data(as_text=True)
    assert "Passed" in english
    assert "passes by" in english
    bulletin = phone.get(f"/votes/{motion_id}/bulletin").get_data(as_text=True)
    assert len(re.findall(r"<code>[2-9A-Z-]{14}</code>", bulletin)) == 4
    assert "李强" not in bulletin
    audit = committee.get(f"/votes/{motion_id}/audit").get_data(as_text=True)
    assert audit.count("o:") >= 3
    electorate = committee.get(f"/votes/{motion_id}/electorate").get_data(as_text=True)
    assert "王芳" in electorate
    assert "h1, h2" in electorate


def test_non_binding_polls_are_marked_on_every_page(server_app, committee, compound, clock):
    resp = form_motion(committee, rule_set="simple-majority")
    motion_id = resp.headers["Location"].rsplit("/", 1)[1]
    token = csrf_of(committee, f"/votes/{motion_id}")
    committee.post(f"/votes/{motion_id}/open", data={"csrf_token": token})
    links = committee.post(f"/votes/{motion_id}/links", data={"csrf_token": token})
    ballot_token = re.search(r"/b/([A-Za-z0-9_-]{43})", links.get_data(as_text=True)).group(1)
    clock.at = OPENS
    phone = server_app.test_client()
    for path in (f"/votes/{motion_id}", f"/b/{ballot_token}", f"/votes/{motion_id}/result"):
        client = committee if path.startswith("/votes/") and "result" not in path else phone
        assert "不具法律效力" in client.get(path).get_data(as_text=True), path


def test_every_voting_string_has_a_chinese_translation():
    from pathlib import Path

    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parents[3] / "server"
    po = root / "voting/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
    with po.open("rb") as fh:
        catalog = read_po(fh)
    sources = [*(root / "templates/voting").glob("*.html"), *(root / "voting").glob("*.py")]
    wanted = {m for p in sources for m in re.findall(r'_\(\s*"((?:[^"\\]|\\.)*)"', p.read_text())}
    wanted |= set(re.findall(r'gettext\("([^"]+)"\)', (root / "voting/common.py").read_text()))
    missing = [m for m in wanted if not (catalog.get(m) and catalog.get(m).string)]
    assert missing == []
    from server.i18n import compiled

    assert po.with_suffix(".mo").read_bytes() == compiled(po)  # the committed .mo is current


def test_the_ballot_page_speaks_chinese_first(server_app, open_motion):
    _, tokens = open_motion
    phone = server_app.test_client()
    page = phone.get(f"/b/{tokens['o:li']}").get_data(as_text=True)
    assert "同意" in page
    assert "弃权" in page
    assert ">For<" in phone.get(f"/b/{tokens['o:li']}?lang=en").get_data(as_text=True)


def test_the_motion_list_names_the_compound(server_app, committee, compound, clock):
    server_app.extensions["replica"].write(
        "compounds", "c1", {"compound_id": "c1", "name": "华氏儒商花园"}
    )
    assert form_motion(committee).status_code == 303
    page = committee.get("/votes/").get_data(as_text=True)
    assert "华氏儒商花园" in page
    assert "<td>c1</td>" not in page
