"""Group-buying orders on the agent: open offers, an order per household with the server's
rules (deadline, maximum, exact quantities, the offer's compound), this laptop's orders
with exact totals."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re
from decimal import Decimal

import pytest
from sqlite_utils import Database

from field_agent.orders import data as orders
from server.supply.orders import OrderError, place_order
from tests.field_agent.helpers import seed_register

H1 = "c1-1栋-101"
H2 = "c1-1栋-102"
H3 = "c1-2栋-101"
NOW = dt.datetime.now(dt.UTC)


def offer(replica, offer_id="P1", compound="c1", deadline=+24, status="open", maximum="5",
          price="10.50", unit="斤", item="猪肉"):  # fmt: skip
    """A group-buying offer as the server writes it; deadline in hours from now."""
    values = {
        "compound_id": compound,
        "item": item,
        "unit": unit,
        "unit_price_yuan": price,
        "deadline": None if deadline is None else (NOW + dt.timedelta(hours=deadline)).isoformat(),
        "max_per_household": maximum,
        "status": status,
        "organiser": "团购组",
    }
    replica.write("group_offers", offer_id, {k: v for k, v in values.items() if v is not None})


def order(volunteer, offer_id="P1", household=H1, quantity="2", note=None, lang="en"):
    form = {"household_id": household, "quantity": quantity}
    if note is not None:
        form["note"] = note
    return volunteer.post(f"/orders/{offer_id}/new?lang={lang}", form)


def page(client, path="/orders/?lang=en") -> str:
    resp = client.get(path)
    assert resp.status_code == 200
    return resp.get_data(as_text=True)


def field_error(html: str, name: str) -> str:
    for block in re.findall(r"<label>.*?</label>", html, re.S):
        if f'name="{name}"' in block:
            found = re.search(r'<span class="field-error">([^<]+)', block)
            assert found, f"no message at {name}"
            return html_lib.unescape(found.group(1))
    raise AssertionError(f"no field {name}")


def test_offers_are_listed_with_their_state(volunteer, replica, client):
    offer(replica, "OPEN")
    offer(replica, "LATE", deadline=-1)
    offer(replica, "SHUT", status="closed")
    offer(replica, "SENT", status="dispatched")
    offer(replica, "NODEADLINE", deadline=None, maximum=None)
    offer(replica, "ELSEWHERE", compound="c2")
    rows = dict(re.findall(r'<tr id="o-(\w+)">(.*?)</tr>', page(client), re.S))
    assert set(rows) == {"OPEN", "LATE", "SHUT", "SENT", "NODEADLINE"}
    assert {o for o, row in rows.items() if "Take an order" in row} == {"OPEN", "NODEADLINE"}
    assert "deadline passed" in rows["LATE"]
    assert "closed" in rows["SHUT"]
    assert "closed" in rows["SENT"]
    assert "¥10.50 / 斤" in rows["OPEN"]
    assert "at most 5 斤" in rows["OPEN"]


def test_an_order_is_written_with_exact_quantity_and_listed_with_totals(volunteer, replica, client):
    offer(replica)
    resp = order(volunteer, quantity="2.5", note="要瘦肉")
    assert resp.status_code == 303
    assert order(volunteer, household=H3, quantity="３").status_code == 303  # full-width 3
    rows = {r["household_id"]: r for r in replica.rows("group_orders")}
    assert set(rows) == {H1, H3}
    assert rows[H1]["quantity"] == "2.5"
    assert rows[H3]["quantity"] == "3"
    assert rows[H1]["payment"] == "unpaid"
    assert rows[H1]["taken_by"] == "王芳"
    assert rows[H1]["note"] == "要瘦肉"
    assert rows[H1]["offer_id"] == "P1"
    assert rows[H1]["compound_id"] == "c1"
    assert "Order taken: 2栋 101, 3 斤." in page(client, "/orders/P1/new?lang=en")
    html = page(client)
    table = re.search(r'<table id="orders-P1">.*?</table>', html, re.S).group(0)
    assert "¥26.25" in table
    assert "¥31.50" in table
    assert "2 households" in table
    assert "5.5 斤" in table
    assert "¥57.75" in table
    groups = orders.taken_here(Database(replica.path), "c1", replica.local_no)
    assert groups[0]["amount_yuan"] == Decimal("57.75")
    assert groups[0]["quantity"] == Decimal("5.5")


def test_a_second_order_for_a_household_replaces_the_first(volunteer, replica, client):
    offer(replica)
    assert order(volunteer, quantity="2").status_code == 303
    [first] = replica.rows("group_orders")
    replica.write("group_orders", first["id"], {"payment": "paid"})
    assert order(volunteer, quantity="1").status_code == 303
    [again] = replica.rows("group_orders")
    assert again["id"] == first["id"]
    assert again["quantity"] == "1"
    assert again["payment"] == "paid"  # payment only moves forward; not reset
    assert "now reads 1 斤" in page(client, "/orders/P1/new?lang=en")


def test_refunded_orders_are_left_out_of_the_totals(volunteer, replica, client):
    offer(replica)
    order(volunteer, quantity="2")
    order(volunteer, household=H2, quantity="1")
    refunded = next(r for r in replica.rows("group_orders") if r["household_id"] == H2)
    replica.write("group_orders", refunded["id"], {"payment": "refunded"})
    table = re.search(r'<table id="orders-P1">.*?</table>', page(client), re.S).group(0)
    assert "1 households" in table
    assert "¥21.00" in re.search(r"<tfoot>.*", table, re.S).group(0)
    assert "refunded" in table


def test_orders_taken_on_another_laptop_are_not_this_laptops(
    volunteer, replica, client, make_replica
):
    offer(replica)
    other = make_replica("other-laptop")
    other.write(
        "group_orders",
        "FROM-ELSEWHERE",
        {"compound_id": "c1", "offer_id": "P1", "household_id": H2, "quantity": "4",
         "payment": "unpaid", "taken_by": "李强"},
    )  # fmt: skip
    replica.apply(other.changes_since(0))
    assert order(volunteer, quantity="1").status_code == 303
    html = page(client)
    assert "李强" not in html
    assert "1 households" in html


@pytest.mark.parametrize(
    ("household", "quantity", "note", "field", "message"),
    [
        ("", "1", None, "household_id", "Choose a household."),
        ("nobody", "1", None, "household_id", "not in the register on this laptop"),
        ("c2-1栋-101", "1", None, "household_id", "not in the offer's compound"),
        (H1, "", None, "quantity", "Enter the quantity."),
        (H1, "two", None, "quantity", "Not a number."),
        (H1, "NaN", None, "quantity", "Not a number."),
        (H1, "0", None, "quantity", "more than zero"),
        (H1, "-1", None, "quantity", "more than zero"),
        (H1, "1.2345", None, "quantity", "At most three decimals."),
        (H1, "1e9", None, "quantity", "implausibly large"),
        (H1, "5.001", None, "quantity", "At most 5 斤 per household."),
        (H1, "1", "x" * 501, "note", "At most 500 characters."),
    ],
)
def test_bad_input_gets_a_message_at_the_field_and_writes_nothing(
    volunteer, replica, household, quantity, note, field, message
):
    seed_register(replica, "c2", buildings=1)
    offer(replica)
    resp = order(volunteer, household=household, quantity=quantity, note=note)
    assert resp.status_code == 422
    assert message in field_error(resp.get_data(as_text=True), field)
    assert replica.rows("group_orders") == []


@pytest.mark.parametrize(
    ("deadline", "status", "message"),
    [
        (-1, "open", "The ordering deadline"),
        (+24, "closed", "This offer is closed to new orders."),
        (+24, "dispatched", "This offer is closed to new orders."),
    ],
)
def test_orders_on_a_closed_or_late_offer_are_refused(
    volunteer, replica, client, deadline, status, message
):
    offer(replica, deadline=deadline, status=status)
    shown = page(client, "/orders/P1/new?lang=en")
    assert message in shown
    assert 'name="quantity"' not in shown
    resp = order(volunteer)
    assert resp.status_code == 422
    assert message in resp.get_data(as_text=True)
    assert replica.rows("group_orders") == []


def test_unknown_or_foreign_offer_is_not_found(volunteer, replica, client):
    offer(replica, "THERE", compound="c2")
    assert client.get("/orders/NOPE/new").status_code == 404
    assert order(volunteer, offer_id="THERE").status_code == 404
    assert replica.rows("group_orders") == []


@pytest.mark.parametrize(
    ("household", "quantity", "deadline", "status"),
    [
        (H1, "2.5", +24, "open"),
        (H1, "5", +24, "open"),
        (H1, "5.001", +24, "open"),
        (H1, "0", +24, "open"),
        (H1, "-2", +24, "open"),
        (H1, "0.0001", +24, "open"),
        (H1, "10000000", +24, "open"),
        ("c2-1栋-101", "1", +24, "open"),
        ("nobody", "1", +24, "open"),
        (H1, "1", -1, "open"),
        (H1, "1", +24, "closed"),
    ],
)
def test_the_agent_accepts_exactly_what_the_server_accepts(
    volunteer, replica, household, quantity, deadline, status
):
    """The server's own `place_order` on the same register decides the same way."""
    seed_register(replica, "c2", buildings=1)
    offer(replica, deadline=deadline, status=status)
    agent = order(volunteer, household=household, quantity=quantity).status_code
    db = Database(replica.path)
    try:
        place_order(db, replica, orders.offer(db, "P1"), household_id=household,
                    quantity=quantity)  # fmt: skip
        server_accepts = True
    except OrderError:
        server_accepts = False
    finally:
        db.close()
    assert (agent == 303) == server_accepts
    assert agent in (303, 422)


def test_order_pages_speak_chinese_first(volunteer, replica, client):
    offer(replica)
    assert "团购" in page(client, "/orders/")
    resp = order(volunteer, quantity="0", lang="zh_CN")
    assert "数量必须大于零" in resp.get_data(as_text=True)


def test_stored_text_is_escaped_on_order_pages(volunteer, replica, client):
    evil = "<img src=x onerror=alert(1)>"
    offer(replica, item=evil, unit="斤")
    replica.write("group_offers", "P1", {"note": evil})
    assert order(volunteer, note=evil).status_code == 303
    for path in ("/orders/", "/orders/P1/new"):
        html = page(client, path)
        assert evil not in html
        assert "&lt;img" in html
