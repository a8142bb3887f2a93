"""Donations ledger rules (server/supply/ledger.py)."""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.supply.ledger import (
    GOODS_IN,
    GOODS_OUT,
    KINDS,
    MONEY_IN,
    MONEY_OUT,
    Balance,
    LedgerError,
    append,
    check_new,
    correction,
    entry_from_row,
    entry_to_row,
    goods_balances,
    goods_value,
    make_entry,
    money_balances,
    overdrawn,
)

DAY = dt.date(2020, 2, 10)
PURPOSES = ["fund for the Wangs", "vegetables", "公共收益"]
ITEMS = [("pork", "jin"), ("cabbage", "head"), ("口罩", "box")]


def money(id_, kind=MONEY_IN, amount="100", purpose="fund for the Wangs", **over):
    return make_entry(id=id_, kind=kind, purpose=purpose, date=DAY, amount_yuan=amount, **over)


def goods(id_, kind=GOODS_IN, quantity="10", item="pork", unit="jin", **over):
    return make_entry(
        id=id_, kind=kind, purpose="vegetables", date=DAY, item=item, unit=unit,
        quantity=quantity, **over,
    )  # fmt: skip


# One step of a random history: a new entry, or a correction of an earlier one.
new_entries = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(KINDS),
        "purpose": st.sampled_from(PURPOSES),
        "amount": st.decimals(min_value="0.01", max_value="99999", places=2),
        "quantity": st.decimals(min_value="0.001", max_value="50000", places=3),
        "goods": st.sampled_from(ITEMS),
        "value": st.none() | st.decimals(min_value="0.01", max_value="9999", places=2),
    }
)
steps = st.lists(st.tuples(st.booleans(), new_entries, st.integers(0, 10**6)), max_size=60)


def build(step_list):
    entries = []
    for i, (correct, raw, pick) in enumerate(step_list):
        candidates = [
            e for e in entries if not e.corrects and e.id not in {x.corrects for x in entries}
        ]
        if correct and candidates:
            original = candidates[pick % len(candidates)]
            entries = append(entries, correction(original, id=f"e{i}", date=DAY))
            continue
        kind = raw["kind"]
        if kind in (MONEY_IN, MONEY_OUT):
            entry = money(f"e{i}", kind, raw["amount"], raw["purpose"])
        else:
            item, unit = raw["goods"]
            entry = make_entry(
                id=f"e{i}", kind=kind, purpose=raw["purpose"], date=DAY,
                item=item, unit=unit, quantity=raw["quantity"], amount_yuan=raw["value"],
            )  # fmt: skip
        entries = append(entries, entry)
    return entries


@given(steps)
def test_balances_equal_the_sum_of_entries_after_entries_and_corrections(step_list):
    entries = build(step_list)
    money_sum: dict[str, Decimal] = {}
    goods_sum: dict[tuple, Decimal] = {}
    for e in entries:
        sign = 1 if e.kind in (MONEY_IN, GOODS_IN) else -1
        if e.kind in (MONEY_IN, MONEY_OUT):
            money_sum[e.purpose] = money_sum.get(e.purpose, 0) + sign * e.amount_yuan
        else:
            key = (e.purpose, e.item, e.unit)
            goods_sum[key] = goods_sum.get(key, 0) + sign * e.quantity
    assert {p: b.held for p, b in money_balances(entries).items()} == money_sum
    assert {k: b.held for k, b in goods_balances(entries).items()} == goods_sum


@given(steps)
def test_a_corrected_entry_counts_for_nothing(step_list):
    entries = build(step_list)
    corrected = {e.corrects for e in entries if e.corrects}
    standing = [e for e in entries if not e.corrects and e.id not in corrected]
    assert money_balances(entries).keys() >= money_balances(standing).keys()
    for purpose, balance in money_balances(entries).items():
        expected = money_balances(standing).get(purpose, Balance())
        assert balance.held == expected.held
    for key, balance in goods_balances(entries).items():
        assert balance.held == goods_balances(standing).get(key, Balance()).held
    assert {p: v for p, v in goods_value(entries).items() if v} == {
        p: v for p, v in goods_value(standing).items() if v
    }


@given(steps)
def test_entries_survive_a_round_trip_through_stored_rows(step_list):
    entries = build(step_list)
    assert [entry_from_row(entry_to_row(e)) for e in entries] == entries


def test_a_fundraiser_adds_up():
    entries = [
        money("a", amount="5000", counterparty="residents, round 1"),
        money("b", amount="3000", counterparty="residents, round 2"),
        money("c", MONEY_OUT, amount="6500.50", counterparty="the Wangs"),
    ]
    assert money_balances(entries) == {
        "fund for the Wangs": Balance(Decimal(8000), Decimal("6500.50"))
    }
    assert money_balances(entries)["fund for the Wangs"].held == Decimal("1499.50")


def test_a_correction_reverses_the_entry_and_the_right_figure_is_entered_again():
    entries = [money("a", amount="500")]
    entries = append(entries, correction(entries[0], id="b", date=DAY, note="typo"))
    entries = append(entries, money("c", amount="50"))
    assert entries[1].amount_yuan == Decimal("-500")
    assert entries[1].corrects == "a"
    assert money_balances(entries)["fund for the Wangs"].held == 50
    assert entries[0].amount_yuan == 500  # the original stays as it was


def test_goods_are_counted_by_item_and_unit():
    entries = [
        goods("a", quantity="600"),
        goods("b", GOODS_OUT, quantity="12.5"),
        goods("c", quantity="70", item="cabbage", unit="head"),
        goods("d", quantity="3", item="pork", unit="box"),
    ]
    assert {k: b.held for k, b in goods_balances(entries).items()} == {
        ("vegetables", "cabbage", "head"): 70,
        ("vegetables", "pork", "box"): 3,
        ("vegetables", "pork", "jin"): Decimal("587.5"),
    }
    assert money_balances(entries) == {}


def test_overdrawn_purposes_are_listed():
    entries = [money("a", amount="10"), money("b", MONEY_OUT, amount="15"), goods("c")]
    entries.append(goods("d", GOODS_OUT, quantity="11"))
    assert overdrawn(entries) == ["fund for the Wangs: -5.00 yuan", "vegetables: -1 jin of pork"]


@pytest.mark.parametrize(
    ("build_it", "field", "words"),
    [
        (lambda: money("a", amount="-5"), "amount_yuan", "cannot be negative"),
        (lambda: money("a", amount="0"), "amount_yuan", "must not be zero"),
        (lambda: money("a", amount="1.005"), "amount_yuan", "more than two decimals"),
        (lambda: money("a", amount=1.5), "amount_yuan", "exactly"),
        (lambda: money("a", amount="lots"), "amount_yuan", "must be a number"),
        (lambda: money("a", amount="Infinity"), "amount_yuan", "finite"),
        (lambda: money("a", amount=None), "amount_yuan", "required"),
        (lambda: money("a", purpose=""), "purpose", "purpose is required"),
        (lambda: money("a", purpose=None), "purpose", "purpose is required"),
        (lambda: money("a", kind="gift"), "kind", "unknown kind 'gift'"),
        (lambda: money("a", item="pork"), "item", "has no item"),
        (lambda: goods("a", quantity="-1"), "quantity", "cannot be negative"),
        (lambda: goods("a", amount_yuan="-3"), "amount_yuan", "cannot be negative"),
        (lambda: goods("a", item=" "), "item", "item is required"),
        (lambda: goods("a", unit=None), "unit", "unit is required"),
        (lambda: goods("a", quantity=None), "quantity", "required"),
        (lambda: money("a", counterparty="x" * 300), "counterparty", "longer than"),
        (
            lambda: make_entry(id="a", kind=MONEY_IN, purpose="p", date="soon", amount_yuan=1),
            "date",
            "date like",
        ),  # fmt: skip
        (lambda: money("a", amount="5", corrects="z"), "amount_yuan", "must be negative"),
    ],
)
def test_bad_entries_are_rejected_with_a_message(build_it, field, words):
    with pytest.raises(LedgerError, match=words) as caught:
        build_it()
    assert caught.value.field == field


def test_bad_corrections_are_rejected_with_a_message():
    entries = [money("a", amount="100"), goods("g")]
    with pytest.raises(LedgerError, match="does not exist"):
        check_new(entries, money("b", amount="-100", corrects="nope"))
    with pytest.raises(LedgerError, match="opposite amounts"):
        check_new(entries, money("b", amount="-90", corrects="a"))
    with pytest.raises(LedgerError, match="opposite amounts"):
        check_new(entries, money("b", amount="-100", purpose="other", corrects="a"))
    with pytest.raises(LedgerError, match="already exists"):
        check_new(entries, money("a", amount="1"))
    entries = append(entries, correction(entries[0], id="b", date=DAY))
    with pytest.raises(LedgerError, match="already been corrected"):
        check_new(entries, correction(entries[0], id="c", date=DAY))
    with pytest.raises(LedgerError, match="cannot itself be corrected"):
        correction(entries[2], id="d", date=DAY)
    assert len(entries) == 3
