"""Errors the supply data layers raise reach the pages in the reader's language: each is
an English msgid with named parameters (never an f-string), translated in the catalog."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from babel.messages.pofile import read_po

import server.supply as supply

AREA = Path(supply.__file__).parent
CATALOG = AREA / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
ERRORS = {"PlanError", "LedgerError", "OrderError", "StockError"}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdr]")
ROUND = {"compound_ids": "c1", "item": "cabbage", "unit": "head", "quantity": "5", "seed": "42"}


def raised_messages() -> list[tuple[str, object]]:
    """(where, message node) for every error of the data layers built in server/supply."""
    found = []
    for path in sorted(AREA.glob("*.py")):
        if path.name == "views.py":  # the views raise already translated text
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or len(node.args) < 2:
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in ERRORS:
                found.append((f"{path.name}:{node.lineno}", node.args[1]))
    return found


def test_every_raised_message_is_a_literal_with_a_chinese_translation():
    with CATALOG.open("rb") as fh:
        zh = {m.id: m.string for m in read_po(fh) if m.id and not m.context}
    found = raised_messages()
    assert len(found) > 40
    problems = []
    for where, node in found:
        if not isinstance(node, ast.Constant):
            problems.append(f"{where}: not a literal msgid (an f-string?)")
        elif not zh.get(node.value):
            problems.append(f"{where}: {node.value!r} has no translation")
        elif not set(PLACEHOLDER.findall(zh[node.value])) <= set(PLACEHOLDER.findall(node.value)):
            problems.append(f"{where}: the translation of {node.value!r} names other parameters")
    assert not problems, "\n".join(problems)


def test_a_bad_round_reads_in_chinese_by_default_and_english_on_request(pages):
    pages.sign_in("sec-zh", "community_admin", english=False)
    resp = pages.post("/supply/rounds/new", {**ROUND, "quantity": "-3"})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    assert "数量不能为负数（-3）。" in html
    assert "cannot be negative" not in html
    resp = pages.post("/supply/rounds/new?lang=en", {**ROUND, "quantity": "-3"})
    assert "quantity cannot be negative (-3)" in resp.get_data(as_text=True)


def test_a_ledger_error_names_the_kind_by_its_label(pages):
    pages.sign_in("sec-zh", "community_admin", english=False)
    entry = {"kind": "goods_in", "purpose": "蔬菜", "date": "2020-02-11", "quantity": "10"}
    resp = pages.post("/supply/ledger", entry)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    alerts = re.findall(r'<span class="field-error" role="alert">([^<]*)</span>', html)
    assert "“物资收入”须填写物品（如白菜）。" in alerts
    en = pages.post("/supply/ledger?lang=en", entry).get_data(as_text=True)
    assert "item is required for Goods in (e.g. cabbage)" in en


def test_an_error_keeps_its_english_text_outside_a_page():
    from server.supply.allocate import PlanError

    exc = PlanError("quantity", "quantity cannot be negative (%(total)s)", total=-3)
    assert str(exc) == exc.message == "quantity cannot be negative (-3)"
    assert exc.field == "quantity"
    assert exc.params == {"total": -3}
