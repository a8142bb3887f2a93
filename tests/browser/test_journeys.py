"""Five journeys in a real browser, as the people of DOMAIN.md would take them."""

from __future__ import annotations

import datetime as dt
import re
import time

import pytest

from field_agent import close_app
from field_agent import create_app as create_agent
from field_agent import settings as agent_settings
from server import create_app
from server.auth import data as auth_data
from server.db import get_db, get_replica
from server.voting import data as voting_data
from tests.browser.conftest import PHONE
from tests.live import LiveApp
from tests.security.world import jpeg

pytestmark = pytest.mark.slow

CN = dt.timezone(dt.timedelta(hours=8))
PASSWORD = "pw-browser-123"


class Clock:
    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at


@pytest.fixture
def server(tmp_path):
    """A community server with compound 临江雅居 (c1), building 1栋, and a secretary."""
    app = create_app({"DATA_DIR": str(tmp_path / "server")})
    with app.app_context():
        rep = get_replica()
        rep.write("compounds", "c1", {"compound_id": "c1", "name": "临江雅居"})
        rep.write("buildings", "c1-b1", {"compound_id": "c1", "name": "1栋"})
        auth_data.create_user(get_db(), "secretary", PASSWORD, "community_admin", ["*"],
                              "社区书记")  # fmt: skip
    live = LiveApp(app)
    yield app, live
    live.stop()
    app.extensions["replica"].close()


def sign_in(p, url: str, username: str = "secretary") -> None:
    p.page.goto(url + "/auth/login")
    p.page.fill("input[name=username]", username)
    p.page.fill("input[name=password]", PASSWORD)
    with p.page.expect_navigation():
        p.page.click("form.card button[type=submit]")


def households_of(app) -> dict[str, dict]:
    with app.app_context():
        return {r["unit"]: r for r in get_replica().rows("households")}


# -- 1. a secretary signs in and imports households ----------------------------------------


def test_secretary_signs_in_and_imports_households(server, new_page, tmp_path):
    app, live = server
    csv = tmp_path / "households.csv"
    csv.write_text("楼栋,门牌号,面积,户主\n1栋,101,89.37,王芳\n1栋,102,45.5,李强\n", "utf-8")
    p = new_page()
    sign_in(p, live.url)
    assert p.page.locator("html").get_attribute("lang") == "zh-CN"
    p.page.goto(live.url + "/import")
    assert "导入住户或居民" in p.page.inner_text("h1")
    p.page.select_option("select[name=compound]", "c1")
    p.page.set_input_files("input[name=file]", str(csv))
    with p.page.expect_navigation():
        p.page.click("button:has-text('预览')")
    assert "王芳" in p.page.inner_text("table")
    assert households_of(app) == {}  # nothing written before the confirmation
    with p.page.expect_navigation():
        p.page.click("button:has-text('确认导入')")
    got = households_of(app)
    assert sorted(got) == ["101", "102"]
    assert got["101"]["owner_name"] == "王芳"
    assert got["101"]["area_m2"] == 89.37
    assert "王芳" in p.page.content()
    # The same page in English after the language switch.
    with p.page.expect_navigation():
        p.page.click("button:has-text('English')")
    assert p.page.locator("html").get_attribute("lang") == "en"
    assert "Sign out" in p.page.inner_text("header")
    assert p.csp_violations() == []
    p.shot("1-secretary-import")


# -- 2. a building head enters a building's temperatures with the keyboard only ---------


@pytest.fixture
def agent(tmp_path):
    """A field agent (not enrolled) with building 1栋: 3 households, 4 residents."""
    app = create_agent({"DATA_DIR": str(tmp_path / "agent")})
    rep = app.extensions["replica"]
    rep.write("compounds", "c1", {"compound_id": "c1", "name": "临江雅居"})
    rep.write("buildings", "c1-b1", {"compound_id": "c1", "name": "1栋"})
    for unit, people in (("101", 2), ("102", 1), ("201", 1)):
        hid = f"h{unit}"
        rep.write("households", hid, {"compound_id": "c1", "building": "1栋", "unit": unit})
        for i in range(people):
            rep.write(
                "residents",
                f"{hid}-{i}",
                {"compound_id": "c1", "household_id": hid, "name": f"居民{unit}-{i}"},
            )
    live = LiveApp(app)
    yield app, live
    live.stop()
    close_app(app)


def test_building_head_enters_temperatures_with_the_keyboard_only(agent, new_page):
    app, live = agent
    p = new_page()
    kb = p.page.keyboard
    p.page.goto(live.url + "/")  # first start: who uses this laptop
    p.page.focus("input[name=name]")
    kb.type("张楼长")
    kb.press("Tab")
    kb.type("2468")
    kb.press("Tab")
    kb.type("2468")
    with p.page.expect_navigation():
        kb.press("Enter")
    p.page.goto(live.url + "/temperatures/grid?building=1栋")
    # The first reading has the focus; Enter moves down, Ctrl+Enter saves.
    assert p.page.evaluate("document.activeElement.classList.contains('grid-cell')")
    for reading in ("36.5", "37.8", "36.6", "36.4"):
        kb.type(reading)
        kb.press("Enter")
    assert p.page.evaluate("document.activeElement.classList.contains('grid-save')")
    kb.press("Shift+Tab")
    kb.press("Control+Enter")
    p.page.wait_for_selector(".fever-mark")
    checks = app.extensions["replica"].rows("temperature_checks")
    assert sorted(c["temperature_c"] for c in checks) == [36.4, 36.5, 36.6, 37.8]
    assert {c["recorded_by"] for c in checks} == {"张楼长"}
    assert p.page.locator("tr.fever").count() == 1
    assert "4" in p.page.inner_text(".progress-line")
    assert "保存本楼" in p.page.inner_text("button.grid-save")
    assert p.csp_violations() == []
    p.shot("2-building-head-temperatures")


# -- 3. a volunteer records a medicine request with a photo while the server is down ----


def test_volunteer_records_medicine_with_photo_offline_then_syncs(server, new_page, tmp_path):
    app, live = server
    with app.app_context():
        rep = get_replica()
        rep.write("households", "h101", {"compound_id": "c1", "building": "1栋", "unit": "101",
                                         "owner_name": "王芳"})  # fmt: skip
        user = auth_data.create_user(get_db(), "vol", PASSWORD, "volunteer", ["c1"])
        _, token = auth_data.issue_device(get_db(), user.id, "laptop 1")
    data = tmp_path / "agent"
    agent_settings.init_data_dir(data)
    agent_settings.save(data, server_url=live.url, token=token)
    agent = create_agent({"DATA_DIR": str(data), "RETRY_INTERVAL_SECONDS": 0.2})
    agent_live = LiveApp(agent)
    try:
        p = new_page()
        page = p.page
        page.goto(agent_live.url + "/")
        page.fill("input[name=name]", "李志愿")
        page.fill("input[name=pin]", "1357")
        page.fill("input[name=pin2]", "1357")
        with page.expect_navigation():
            page.click("form.card button")
        sync_now(page, agent_live.url)  # the register arrives while the server is up
        wait_for(lambda: agent.extensions["replica"].rows("households"))
        live.stop()  # the server goes down
        photo = tmp_path / "box.jpg"
        photo.write_bytes(jpeg())
        page.goto(agent_live.url + "/medicine/new")
        page.select_option("select[name=household_id]", "h101")
        page.fill("input[name=drug_name]", "连花清瘟胶囊")
        page.fill("input[name=quantity]", "2")
        page.set_input_files("input[name=photo]", str(photo))
        with page.expect_navigation():
            page.click("button:has-text('登记代买')")
        assert "连花清瘟胶囊" in page.content()
        sync_now(page, agent_live.url)
        # The sync fails and says so; nothing is lost, the request waits on the laptop.
        wait_for(lambda: page.goto(agent_live.url + "/sync/") and page.locator(".error").count())
        assert medicine_on(app) == []
        live.start()  # the server is back, on the same address
        sync_now(page, agent_live.url)
        wait_for(lambda: medicine_on(app) and photo_arrived(app), timeout=30)
        got = medicine_on(app)[0]
        assert got["drug_name"] == "连花清瘟胶囊"
        assert got["quantity"] == 2
        assert got["recorded_by"] == "李志愿"
        page.goto(agent_live.url + "/sync/")
        assert "立即同步" in page.content()
        assert p.csp_violations() == []
        p.shot("3-volunteer-medicine-offline-sync")
    finally:
        agent_live.stop()
        close_app(agent)


def sync_now(page, url: str) -> None:
    page.goto(url + "/sync/")
    page.wait_for_selector("form[action$='/sync/now'] button", timeout=30_000)
    page.click("form[action$='/sync/now'] button")
    page.wait_for_load_state()


def medicine_on(app) -> list[dict]:
    with app.app_context():
        return get_replica().rows("medicine_requests")


def photo_arrived(app) -> bool:
    with app.app_context():
        return get_db().execute("SELECT count(*) FROM blobs").fetchone()[0] == 1


def wait_for(predicate, timeout: float = 20.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = predicate()
        if got:
            return got
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


# -- 4. an owner votes by link on a phone and checks the receipt on the bulletin --------


def test_owner_votes_on_a_phone_and_finds_the_receipt_on_the_bulletin(server, new_page):
    app, live = server
    opens = dt.datetime(2020, 3, 10, 9, 0, tzinfo=CN)
    clock = Clock(opens + dt.timedelta(hours=1))
    app.extensions["voting_clock"] = clock
    with app.app_context():
        rep = get_replica()
        rep.write_many("households", {
            f"h{u}": {"compound_id": "c1", "building": "1栋", "unit": str(u),
                      "owner_key": f"k{u}", "owner_name": f"业主{u}", "area_m2": 80.0}
            for u in (101, 102, 201)
        })  # fmt: skip
        values = {"compound_id": "c1", "title": "从公共收益中拿出10000元奖励物业人员",
                  "body": "", "matter": next(iter(voting_data.MATTER_BY_ID)),
                  "rule_set": "auto", "opens_at": opens.isoformat(),
                  "closes_at": (opens + dt.timedelta(hours=50)).isoformat(),
                  "late_after_hours": 24, "show_running": 0, "open_ballot": 0}  # fmt: skip
        db = get_db()
        motion = voting_data.create_motion(db, values, None, clock.at)
        voting_data.open_motion(db, motion, clock.at)
        links = {x["owner_key"]: x["token"] for x in voting_data.issue_links(db, motion, clock.at)}
    p = new_page(viewport=PHONE)
    page = p.page
    page.goto(f"{live.url}/b/{links['o:k101']}")
    assert "10000" in page.inner_text("body")
    page.click("button[name=choice][value=for]")
    page.wait_for_url(re.compile(r"/receipt/"))
    receipt = page.url.rsplit("/", 1)[1]
    assert receipt in page.inner_text("body")
    # Nothing overflows sideways on a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    clock.at = opens + dt.timedelta(hours=51)
    with app.app_context():
        voting_data.close_motion(get_db(), motion, clock.at)
    page.goto(f"{live.url}/votes/{motion}/bulletin")
    row = page.locator(f"tr:has-text('{receipt}')")
    assert row.count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert p.csp_violations() == []
    p.shot("4-owner-vote-bulletin-phone")


# -- 5. the dashboard shows a failing compound and why ----------------------------------


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_dashboard_shows_a_failing_compound_and_why(server, new_page, lang):
    app, live = server
    today = dt.date.today()
    with app.app_context():
        rep = get_replica()
        rep.write("compounds", "c2", {"compound_id": "c2", "name": "华氏儒商花园"})
        rep.write("households", "h1", {"compound_id": "c1", "building": "1栋", "unit": "101"})
        rep.write("residents", "r1", {"compound_id": "c1", "household_id": "h1", "name": "王芳"})
        rep.write("health_cases", "hc1", {
            "compound_id": "c1", "resident_id": "r1", "household_id": "h1",
            "category": "fever", "start_date": (today - dt.timedelta(days=3)).isoformat(),
        })  # fmt: skip
    p = new_page(locale=lang)
    sign_in(p, live.url)
    if lang == "en":
        with p.page.expect_navigation():
            p.page.click("button:has-text('English')")
    p.page.goto(live.url + "/certification")
    row = p.page.locator("tr:has-text('临江雅居')")
    status = row.locator("td").nth(1).inner_text()
    assert status.strip() == ("未达标" if lang == "zh-CN" else "fails")
    badges = row.locator(".badge").all_inner_texts()
    assert badges, "the failing rules are named"
    with p.page.expect_navigation():
        row.locator("a").first.click()
    body = p.page.inner_text("main")
    # Why: the unreleased fever case, named, on the compound's page, in its rule's row.
    rule = p.page.locator("tr:has-text('王芳')")
    assert rule.count() == 1
    assert ("fail" if lang == "en" else "未达标") in rule.inner_text()
    assert "王芳" in body
    if lang == "en":
        assert "fever case of resident 王芳" in body
    assert p.csp_violations() == []
    p.shot(f"5-dashboard-failing-{lang}")
