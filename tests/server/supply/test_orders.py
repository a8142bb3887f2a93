"""Group-buying offers and orders on the server (synced tables)."""

import csv
import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest

from server.auth import data as auth_data
from server.supply import orders
from sync import Replica

OFFER = {"compound_id": "c1", "item": "pork", "unit": "jin", "unit_price_yuan": "10"}


def open_offer(admin, **over):
    resp = admin.post("/supply/offers/new", {**OFFER, **over})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    return resp.headers["Location"].rsplit("/", 1)[-1]


def order(pages, offer_id, household_id, quantity):
    return pages.post(
        f"/supply/offers/{offer_id}/orders", {"household_id": household_id, "quantity": quantity}
    )


def test_orders_add_up_per_building_in_exact_yuan(admin, db):
    offer_id = open_offer(admin, unit_price_yuan="10.50")
    for household, qty in [("c1-b1-0", "2.5"), ("c1-b1-1", "3"), ("c1-b2-0", "0.1")]:
        assert order(admin, offer_id, household, qty).status_code == 303
    offer = orders.get_offer(db, offer_id)
    totals = orders.totals_by_building(orders.orders(db, offer))
    assert [(t["building"], t["households"], t["quantity"], t["amount_yuan"]) for t in totals] == [
        ("1", 2, Decimal("5.5"), Decimal("57.75")),
        ("2", 1, Decimal("0.1"), Decimal("1.05")),
    ]
    page = admin.get(f"/supply/offers/{offer_id}").get_data(as_text=True)
    assert "58.80" in page  # the grand total adds up from the orders


def test_a_second_order_of_a_household_replaces_the_first(admin, db):
    offer_id = open_offer(admin)
    order(admin, offer_id, "c1-b1-0", "2")
    order(admin, offer_id, "c1-b1-0", "4")
    rows = orders.orders(db, orders.get_offer(db, offer_id))
    assert [(r["household_id"], r["quantity"]) for r in rows] == [("c1-b1-0", Decimal(4))]


@pytest.mark.parametrize(
    ("household", "quantity", "message"),
    [
        ("nobody", "1", "unknown household nobody"),
        ("c2-b1-0", "1", "not in the offer&#39;s compound"),
        ("c1-b1-0", "-2", "quantity cannot be negative"),
        ("c1-b1-0", "0", "quantity must be more than zero"),
        ("c1-b1-0", "abc", "quantity must be a number"),
        ("c1-b1-0", "6", "at most 5 jin per household"),
    ],
)
def test_bad_orders_are_rejected_with_a_message(admin, db, household, quantity, message):
    offer_id = open_offer(admin, max_per_household="5")
    resp = order(admin, offer_id, household, quantity)
    assert resp.status_code == 422
    assert message in resp.get_data(as_text=True)
    assert db.execute("SELECT COUNT(*) FROM group_orders").fetchone()[0] == 0


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("unit_price_yuan", "-10", "unit_price_yuan cannot be negative"),
        ("unit_price_yuan", "10.005", "more than 2 decimals"),
        ("item", "", "item is required"),
        ("deadline", "tomorrow", "deadline must be a date and time"),
    ],
)
def test_bad_offers_are_rejected_with_a_message(admin, db, field, value, message):
    resp = admin.post("/supply/offers/new", {**OFFER, field: value})
    assert resp.status_code == 422
    assert message in resp.get_data(as_text=True)
    assert db.execute("SELECT COUNT(*) FROM group_offers").fetchone()[0] == 0


def test_orders_after_the_deadline_are_refused(admin, db, server_app):
    offer_id = open_offer(admin, deadline="2020-02-10T18:00")
    offer = orders.get_offer(db, offer_id)
    assert offer["deadline"] == "2020-02-10T18:00+08:00"
    late = dt.datetime(2020, 2, 10, 10, 1, tzinfo=dt.UTC)  # 18:01 in Wuhan
    with pytest.raises(orders.OrderError, match="deadline"):
        orders.place_order(
            db, server_app.extensions["replica"], offer, household_id="c1-b1-0", quantity="1",
            now=late,
        )  # fmt: skip
    early = dt.datetime(2020, 2, 10, 9, 59, tzinfo=dt.UTC)
    orders.place_order(
        db, server_app.extensions["replica"], offer, household_id="c1-b1-0", quantity="1",
        now=early,
    )  # fmt: skip


def test_payment_only_moves_forward(admin, db):
    offer_id = open_offer(admin)
    order(admin, offer_id, "c1-b1-0", "2")
    (row,) = orders.orders(db, orders.get_offer(db, offer_id))
    assert row["payment"] == "unpaid"
    assert admin.post(f"/supply/orders/{row['id']}/payment", {"payment": "paid"}).status_code == 303
    back = admin.post(f"/supply/orders/{row['id']}/payment", {"payment": "unpaid"})
    assert back.status_code == 422
    assert "cannot go back" in back.get_data(as_text=True)
    (row,) = orders.orders(db, orders.get_offer(db, offer_id))
    assert row["payment"] == "paid"
    totals = orders.totals_by_building([row])
    assert totals[0]["paid_yuan"] == Decimal("20.00")
    admin.post(f"/supply/orders/{row['id']}/payment", {"payment": "refunded"})
    (row,) = orders.orders(db, orders.get_offer(db, offer_id))
    assert row["payment"] == "refunded"
    assert orders.totals_by_building([row]) == []  # nothing to buy for a refunded order


def test_closing_an_offer_makes_one_delivery_per_household_once(admin, db):
    offer_id = open_offer(admin)
    order(admin, offer_id, "c1-b1-0", "2")
    order(admin, offer_id, "c1-b2-3", "1.5")
    assert admin.post(f"/supply/offers/{offer_id}/dispatch").status_code == 422  # still open
    admin.post(f"/supply/offers/{offer_id}/close")
    assert order(admin, offer_id, "c1-b3-0", "1").status_code == 422  # closed to orders
    assert admin.post(f"/supply/offers/{offer_id}/dispatch").status_code == 303
    assert admin.post(f"/supply/offers/{offer_id}/dispatch").status_code == 303
    made = list(db.query("SELECT * FROM deliveries WHERE round_id = ?", [offer_id]))
    assert sorted((d["household_id"], d["quantity"], d["kind"]) for d in made) == [
        ("c1-b1-0", 2.0, "group_buy"),
        ("c1-b2-3", 1.5, "group_buy"),
    ]
    assert orders.get_offer(db, offer_id)["status"] == "dispatched"


def test_volunteers_take_orders_but_do_not_open_offers(pages, db):
    admin = pages.sign_in("sec", "community_admin")
    offer_id = open_offer(admin)
    volunteer = pages.sign_in("vol", "volunteer", ["c1"])
    assert volunteer.post("/supply/offers/new", OFFER).status_code == 403
    assert order(volunteer, offer_id, "c1-b1-0", "1").status_code == 303
    (row,) = orders.orders(db, orders.get_offer(db, offer_id))
    assert row["taken_by"] == "vol"
    outsider = pages.sign_in("vol2", "volunteer", ["c2"])
    assert order(outsider, offer_id, "c1-b1-0", "1").status_code == 403


def test_orders_export_to_csv_and_xlsx(admin, db):
    offer_id = open_offer(admin)
    order(admin, offer_id, "c1-b1-0", "2")
    order(admin, offer_id, "c1-b3-2", "=1+1")  # rejected: not a number
    text = admin.get(f"/supply/offers/{offer_id}/orders.csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][0] == "building"
    assert [r[3] for r in rows[1:]] == ["c1-b1-0"]
    assert rows[1][8] == "20.00"
    book = admin.get(f"/supply/offers/{offer_id}/orders.xlsx")
    values = list(openpyxl.load_workbook(io.BytesIO(book.data)).active.values)
    assert values[1][8] == 20


def test_an_order_taken_on_a_volunteers_laptop_syncs_into_the_totals(
    admin, db, server_app, tmp_path
):
    offer_id = open_offer(admin, unit_price_yuan="10")
    user = auth_data.create_user(db, "vol", "pw-vol-12345", "volunteer", ["c1"])
    _, token = auth_data.issue_device(db, user.id, "vol-laptop")
    laptop = Replica(tmp_path / "laptop.db")
    laptop.write(
        "group_orders",
        "o-laptop",
        {"compound_id": "c1", "offer_id": offer_id, "household_id": "c1-b2-0",
         "quantity": "3.5", "payment": "paid", "taken_by": "vol"},
    )  # fmt: skip
    batch = laptop.changes_since(0).to_dict()
    laptop.close()
    resp = admin.client.post(
        "/api/sync/push", json=batch, headers={"Authorization": f"Bearer {token}"}
    )
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json()["rejected"] == []
    totals = orders.totals_by_building(orders.orders(db, orders.get_offer(db, offer_id)))
    assert [(t["building"], t["amount_yuan"], t["paid_yuan"]) for t in totals] == [
        ("2", Decimal("35.00"), Decimal("35.00"))
    ]
    # the offer itself goes out to the laptops of its compound
    pulled = server_app.extensions["replica"].changes_since(0, scope=["c1"])
    assert offer_id in {row[0] for row in pulled.tables["group_offers"].rows}
