"""Distribution rounds on the server: plan, show, confirm into synced deliveries."""

import csv
import io
import json
import re

import openpyxl

from server.supply import data

ROUND = {"compound_ids": "c1", "item": "cabbage", "unit": "head", "quantity": "5", "seed": "42"}


def create_round(admin, **over):
    resp = admin.post("/supply/rounds/new", {**ROUND, **over})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    return resp.headers["Location"].rsplit("/", 1)[-1]


def confirm(admin, round_id):
    page = admin.get(f"/supply/rounds/{round_id}").get_data(as_text=True)
    stamp = re.search(r'name="fingerprint" value="([0-9a-f]+)"', page).group(1)
    return admin.post(f"/supply/rounds/{round_id}/confirm", {"fingerprint": stamp})


def deliveries(db, round_id):
    return list(db.query("SELECT * FROM deliveries WHERE round_id = ? AND deleted = 0", [round_id]))


def test_a_round_is_shown_with_reasons_then_confirmed_into_deliveries(admin, db, server_app):
    round_id = create_round(admin)
    page = admin.get(f"/supply/rounds/{round_id}").get_data(as_text=True)
    assert "Medical-worker family" in page
    assert "not served: the quantity ran out" in page  # who does not get, and why
    assert "<code>42</code>" in page  # the seed is shown for audit
    assert deliveries(db, round_id) == []  # nothing happens before confirmation

    assert confirm(admin, round_id).status_code == 303
    made = deliveries(db, round_id)
    assert len(made) == 5
    assert {d["status"] for d in made} == {"planned"}
    assert {d["kind"] for d in made} == {"round"}
    served = {d["household_id"] for d in made}
    # the medical-worker family and the three hardship households come first
    assert {"c1-b1-0", "c1-b1-1", "c1-b2-1", "c1-b3-1"} <= served
    # the deliveries are synced rows: they go out to the agents
    outgoing = server_app.extensions["replica"].changes_since(0).tables["deliveries"]
    assert len(outgoing.rows) >= 5

    packing = admin.get(f"/supply/rounds/{round_id}/packing").get_data(as_text=True)
    assert packing.count('class="card packing"') == len({h.split("-")[1] for h in served})
    assert "Owner c110" in packing


def test_the_same_seed_gives_the_same_plan_on_the_server(admin, db):
    first, second = create_round(admin), create_round(admin)
    one, two = data.get_round(db, first), data.get_round(db, second)
    assert data.plan_round(db, one)[0].allocations == data.plan_round(db, two)[0].allocations


def test_confirming_again_after_a_crash_makes_no_second_delivery(admin, db, server_app):
    round_id = create_round(admin)
    assert confirm(admin, round_id).status_code == 303
    # as if the process died after the deliveries were written but before the status was
    db.execute("UPDATE supply_rounds SET status = 'draft' WHERE id = ?", [round_id])
    assert confirm(admin, round_id).status_code == 303
    assert len(deliveries(db, round_id)) == 5
    again = admin.post(f"/supply/rounds/{round_id}/confirm", {"fingerprint": "x"})
    assert again.status_code == 422  # a confirmed round is not confirmed twice
    assert len(deliveries(db, round_id)) == 5


def test_a_plan_that_changed_since_it_was_shown_is_not_confirmed(admin, db, server_app):
    round_id = create_round(admin)
    page = admin.get(f"/supply/rounds/{round_id}").get_data(as_text=True)
    stamp = re.search(r'name="fingerprint" value="([0-9a-f]+)"', page).group(1)
    server_app.extensions["replica"].write(
        "households",
        "c1-new",
        {"compound_id": "c1", "building": "9", "unit": "901", "medical_worker": True},
    )
    resp = admin.post(f"/supply/rounds/{round_id}/confirm", {"fingerprint": stamp})
    assert resp.status_code == 409
    assert "changed since this plan was shown" in resp.get_data(as_text=True)
    assert deliveries(db, round_id) == []


def test_the_next_round_serves_those_who_received_least(admin, db, server_app):
    admin.post("/supply/policies/c1", {})  # no priority: everyone in one tier
    first = create_round(admin, quantity="6")
    confirm(admin, first)
    got_first = {d["household_id"] for d in deliveries(db, first)}
    second = create_round(admin, quantity="6", seed="7")
    confirm(admin, second)
    got_second = {d["household_id"] for d in deliveries(db, second)}
    assert got_first.isdisjoint(got_second)
    assert len(got_first | got_second) == 12


def test_a_refused_delivery_does_not_count_as_received(admin, db, server_app):
    first = create_round(admin, quantity="1")
    confirm(admin, first)
    (delivery,) = deliveries(db, first)
    server_app.extensions["replica"].write("deliveries", delivery["id"], {"status": "refused"})
    history = data.history(db, "cabbage", "head", ["c1"])
    assert delivery["household_id"] not in history
    other = data.history(db, "pork", "jin", ["c1"])
    assert other == {}


def test_divisible_goods_are_shared_in_fractions(admin, db):
    round_id = create_round(
        admin, item="pork", unit="jin", quantity="30", per_household="2.5", divisible="1"
    )
    confirm(admin, round_id)
    quantities = sorted(d["quantity"] for d in deliveries(db, round_id))
    assert quantities == [2.5] * 12


def test_bad_round_input_is_rejected_next_to_the_field(admin, db):
    resp = admin.post("/supply/rounds/new", {**ROUND, "quantity": "-3"})
    assert resp.status_code == 422
    assert "quantity cannot be negative" in resp.get_data(as_text=True)
    resp = admin.post("/supply/rounds/new", {**ROUND, "quantity": "2.5"})
    assert "whole number of units" in resp.get_data(as_text=True)
    resp = admin.post("/supply/rounds/new", {**ROUND, "item": " "})
    assert "item is required" in resp.get_data(as_text=True)
    resp = admin.post("/supply/rounds/new", {**ROUND, "compound_ids": []})
    assert "choose at least one compound" in resp.get_data(as_text=True)
    assert db.execute("SELECT COUNT(*) FROM supply_rounds").fetchone()[0] == 0


def test_only_admins_plan_rounds_and_only_in_their_compounds(pages, db):
    volunteer = pages.sign_in("vol", "volunteer", ["c1"])
    assert volunteer.post("/supply/rounds/new", ROUND).status_code == 403
    admin = pages.sign_in("sec2", "community_admin", ["c2"])
    assert admin.post("/supply/rounds/new", ROUND).status_code == 403
    round_id = create_round(admin, compound_ids="c2")
    assert admin.get(f"/supply/rounds/{round_id}").status_code == 200
    pages.sign_in("sec1", "community_admin", ["c1"])
    assert pages.get(f"/supply/rounds/{round_id}").status_code == 403


def test_the_standing_policy_is_data_edited_per_compound(admin, db):
    resp = admin.post("/supply/policies/c2", {"tier0": "elderly_alone", "tier1": "hardship"})
    assert resp.status_code == 303
    assert data.get_policy(db, "c2").criteria == ("elderly_alone", "hardship")
    assert data.get_policy(db, "c1").criteria == ("medical_worker", "hardship", "elderly_alone")
    stored = db.execute("SELECT criteria FROM supply_policies").fetchone()[0]
    assert json.loads(stored) == ["elderly_alone", "hardship"]
    bad = admin.post("/supply/policies/c2", {"tier0": "hardship", "tier1": "hardship"})
    assert bad.status_code == 422
    assert "listed twice" in bad.get_data(as_text=True)


def test_plans_and_packing_lists_export_to_csv_and_xlsx(admin, db):
    round_id = create_round(admin)
    draft = admin.get(f"/supply/rounds/{round_id}/plan.csv")
    rows = list(csv.reader(io.StringIO(draft.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:3] == ["rank", "household_id", "building"]
    assert len(rows) == 13  # all 12 households of c1, served or not
    confirm(admin, round_id)
    book = admin.get(f"/supply/rounds/{round_id}/packing.xlsx")
    assert book.headers["Content-Disposition"].endswith('.xlsx"')
    sheet = openpyxl.load_workbook(io.BytesIO(book.data)).active
    values = list(sheet.values)
    assert values[0][0] == "building"
    assert sum(row[5] for row in values[1:]) == 5
    assert admin.get(f"/supply/rounds/{round_id}/plan.pdf").status_code == 404


def test_the_pages_speak_chinese_first(pages):
    chinese = pages.sign_in("sec", "community_admin", english=False)
    round_id = create_round(chinese)
    page = chinese.get(f"/supply/rounds/{round_id}").get_data(as_text=True)
    assert "医护人员家庭" in page
    assert "未分到：数量不足" in page
    assert "物资保障" in chinese.get("/supply/").get_data(as_text=True)
