"""Medicine stock: refused medicine, its value, reassigned or returned."""

import re
from decimal import Decimal

import pytest

from server.supply import medicine


@pytest.fixture
def requests_(server_app, register):
    """Two refused boxes (58.5 and 150 yuan), one open request for the same drug."""
    replica = server_app.extensions["replica"]

    def req(status, household, drug, price):
        return {"compound_id": "c1", "household_id": household, "drug_name": drug,
                "quantity": 1, "price_yuan": price, "status": status}  # fmt: skip

    replica.write_many(
        "medicine_requests",
        {
            "m1": {**req("refused", "c1-b1-0", "Lianhua Qingwen", 58.5), "refused_reason": "price"},
            "m2": req("refused", "c1-b2-0", "Amlodipine", 150),
            "m3": req("requested", "c1-b3-0", "lianhua qingwen ", None),
            "m4": req("delivered", "c1-b3-1", "Amlodipine", 150),
        },
    )
    return replica


def total_on_page(pages):
    html = pages.get("/supply/medicine").get_data(as_text=True)
    return Decimal(re.search(r'<strong id="total">([^<]+)</strong>', html).group(1))


def test_refused_medicine_is_held_with_its_value(admin, db, requests_):
    rows, total = medicine.stock(db, ["c1"])
    assert [r["id"] for r in rows] == ["m2", "m1"]
    assert total == Decimal("208.50")
    assert total_on_page(admin) == Decimal("208.50")


def test_reassigning_moves_the_medicine_to_an_open_request(admin, db, requests_):
    resp = admin.post("/supply/medicine/m1/reassign", {"to_request_id": "m3"})
    assert resp.status_code == 303
    target = requests_.get("medicine_requests", "m3")
    assert target["status"] == "bought"
    assert target["price_yuan"] == 58.5
    assert total_on_page(admin) == Decimal("150.00")
    (move,) = medicine.moves(db)
    assert (move["action"], move["to_request_id"], move["value_yuan"]) == (
        "reassigned",
        "m3",
        "58.50",
    )
    again = admin.post("/supply/medicine/m1/reassign", {"to_request_id": "m3"})
    assert again.status_code == 422
    assert "already left the stock" in again.get_data(as_text=True)


def test_medicine_cannot_go_to_a_request_for_another_drug(admin, db, requests_):
    resp = admin.post("/supply/medicine/m2/reassign", {"to_request_id": "m3"})
    assert resp.status_code == 422
    assert "no open request for Amlodipine" in resp.get_data(as_text=True)
    assert total_on_page(admin) == Decimal("208.50")


def test_returned_medicine_leaves_the_stock_and_the_record_stays(admin, db, requests_):
    assert admin.post("/supply/medicine/m2/return", {"note": "pharmacy took it"}).status_code == 303
    assert total_on_page(admin) == Decimal("58.50")
    (move,) = medicine.moves(db)
    assert (move["action"], move["note"]) == ("returned", "pharmacy took it")
    assert admin.post("/supply/medicine/m4/return").status_code == 422  # delivered, not stock
