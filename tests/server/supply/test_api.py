"""The supply JSON API: exact figures as strings, scope and roles as on the pages."""


def test_a_rounds_plan_is_served_as_json_and_matches_after_confirmation(admin):
    resp = admin.post(
        "/supply/rounds/new",
        {"compound_ids": "c1", "item": "pork", "unit": "jin", "quantity": "7.5",
         "per_household": "2.5", "divisible": "1", "seed": "9"},
    )  # fmt: skip
    round_id = resp.headers["Location"].rsplit("/", 1)[-1]
    draft = admin.get(f"/api/supply/rounds/{round_id}").get_json()
    assert draft["tiers"] == ["medical_worker", "hardship", "elderly_alone", "everyone_else"]
    assert draft["seed"] == 9
    served = [a for a in draft["allocations"] if a["quantity"] != "0"]
    assert [a["quantity"] for a in served] == ["2.5", "2.5", "2.5"]
    assert served[0]["household_id"] == "c1-b1-0"  # the medical-worker family
    page = admin.get(f"/supply/rounds/{round_id}").get_data(as_text=True)
    stamp = page.split('name="fingerprint" value="')[1].split('"')[0]
    admin.post(f"/supply/rounds/{round_id}/confirm", {"fingerprint": stamp})
    frozen = admin.get(f"/api/supply/rounds/{round_id}").get_json()
    assert frozen["status"] == "confirmed"
    assert [a["household_id"] for a in frozen["allocations"]] == [
        a["household_id"] for a in draft["allocations"]
    ]
    assert admin.get("/api/supply/rounds/nope").status_code == 404


def test_ledger_balances_are_exact_strings(admin):
    fund = {"kind": "money_in", "purpose": "fund", "date": "2020-02-10"}
    admin.post("/supply/ledger", {**fund, "amount_yuan": "0.10"})
    admin.post("/supply/ledger", {**fund, "amount_yuan": "0.20"})
    body = admin.get("/api/supply/ledger/balances").get_json()
    assert body["money"] == {"fund": {"in": "0.30", "out": "0.00", "held": "0.30"}}
    assert body["entries"] == 2


def test_the_api_asks_for_a_sign_in_and_a_role(pages, client):
    assert client.get("/api/supply/ledger/balances").status_code == 401
    volunteer = pages.sign_in("vol", "volunteer", ["c1"])
    assert volunteer.get("/api/supply/ledger/balances").status_code == 403
    stock = volunteer.get("/api/supply/medicine/stock").get_json()
    assert stock == {"total_yuan": "0", "items": []}


def test_the_supply_api_is_in_the_openapi_document(admin):
    paths = admin.get("/api/openapi.json").get_json()["paths"]
    assert "/api/supply/rounds/{round_id}" in paths
    assert "/api/supply/ledger/balances" in paths
