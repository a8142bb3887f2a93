"""The donations ledger page and its storage: insert-only, balances from entries."""

import csv
import io
import re
import sqlite3
from decimal import Decimal

import pytest

from server.supply import ledger, ledger_data

FUND = {"kind": "money_in", "purpose": "fund for the Wangs", "date": "2020-02-10"}


def test_a_fundraiser_adds_up_on_the_page(admin, db):
    for amount, who in [("5000", "round 1"), ("3000", "round 2")]:
        resp = admin.post("/supply/ledger", {**FUND, "amount_yuan": amount, "counterparty": who})
        assert resp.status_code == 303
    admin.post(
        "/supply/ledger",
        {**FUND, "kind": "money_out", "amount_yuan": "6500.50", "counterparty": "the Wangs"},
    )
    admin.post(
        "/supply/ledger",
        {"kind": "goods_in", "purpose": "vegetables", "date": "2020-02-11", "item": "produce",
         "unit": "jin", "quantity": "32000", "counterparty": "a company"},
    )  # fmt: skip
    page = admin.get("/supply/ledger").get_data(as_text=True)
    money = re.search(r'<table id="money">.*?</table>', page, re.S).group(0)
    assert "8000" in money
    assert "6500.50" in money
    assert "1499.50" in money
    assert "32000 jin" in page
    balances = ledger.money_balances(ledger_data.entries(db))
    assert balances["fund for the Wangs"].held == Decimal("1499.50")


def test_a_reversed_entry_leaves_the_original_and_nets_to_zero(admin, db):
    admin.post("/supply/ledger", {**FUND, "amount_yuan": "500"})
    (entry,) = ledger_data.entries(db)
    resp = admin.post(f"/supply/ledger/{entry.id}/correct", {"date": "2020-02-12"})
    assert resp.status_code == 303
    entries = ledger_data.entries(db)
    assert [e.amount_yuan for e in entries] == [Decimal(500), Decimal(-500)]
    assert entries[1].corrects == entry.id
    assert ledger.money_balances(entries)["fund for the Wangs"].held == 0
    again = admin.post(f"/supply/ledger/{entry.id}/correct", {"date": "2020-02-12"})
    assert again.status_code == 422
    assert "already been corrected" in again.get_data(as_text=True)


def test_the_database_refuses_to_change_or_delete_entries(admin, db):
    admin.post("/supply/ledger", {**FUND, "amount_yuan": "500"})
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        db.execute("UPDATE ledger_entries SET amount_yuan = '5'")
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        db.execute("DELETE FROM ledger_entries")
    assert [e.amount_yuan for e in ledger_data.entries(db)] == [Decimal(500)]


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"amount_yuan": "-5"}, "amount_yuan cannot be negative"),
        ({"amount_yuan": "5", "purpose": ""}, "purpose is required"),
        ({"amount_yuan": "5", "kind": "gift"}, "unknown kind"),
        ({"amount_yuan": "abc"}, "amount_yuan must be a number"),
        ({"amount_yuan": "5", "date": "someday"}, "date must be a date"),
        ({"kind": "goods_in", "quantity": "-3", "item": "rice", "unit": "bag"}, "negative"),
    ],
)
def test_bad_entries_are_rejected_next_to_the_field(admin, db, over, message):
    resp = admin.post("/supply/ledger", {**FUND, **over})
    assert resp.status_code == 422
    assert message in resp.get_data(as_text=True)
    assert ledger_data.entries(db) == []


def test_only_the_community_and_the_committee_keep_the_ledger(pages):
    volunteer = pages.sign_in("vol", "volunteer", ["c1"])
    assert volunteer.get("/supply/ledger").status_code == 403
    committee = pages.sign_in("owners", "committee", ["c1"])
    assert committee.get("/supply/ledger").status_code == 200


def test_the_ledger_exports_and_its_figures_sum_to_the_balances(admin, db):
    for amount in ("100.10", "200.20"):
        admin.post("/supply/ledger", {**FUND, "amount_yuan": amount})
    admin.post("/supply/ledger", {**FUND, "kind": "money_out", "amount_yuan": "50"})
    text = admin.get("/supply/ledger.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    total = sum(Decimal(r["amount_yuan"]) * (1 if r["kind"] == "money_in" else -1) for r in rows)
    assert total == Decimal("250.30")
    assert admin.get("/supply/ledger.xlsx").status_code == 200
