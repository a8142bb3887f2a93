"""Facts render in the page's language from their codes and parameters: in English the
sentence is exactly the check's own text, in Chinese no English word is left."""

from __future__ import annotations

import ast
import re
from dataclasses import replace
from pathlib import Path

import pytest

from server.certification import evaluate as evaluate_mod
from server.certification import items as items_mod
from server.certification.evaluate import evaluate
from server.certification.facts import (
    Attestation,
    Closure,
    HealthCase,
    MedicineRequest,
    TemperatureCheck,
    WorkGroup,
)
from server.certification.sentences import SENTENCES, fact_sentence
from server.certification.service import redact

D = "2020-03-08"
ENGLISH = re.compile(
    r"\b(case|since|released|household|building|unit|disinfect\w*|checked|deliveries|"
    r"group|attested|closed|entrances|medicine|record\w*|resident|person|none|fever)\b"
)


def _codes_in_source() -> set[str]:
    codes = set()
    for module in (evaluate_mod, items_mod):
        for node in ast.walk(ast.parse(Path(module.__file__).read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Fact":
                first = node.args[0]
                options = [first.body, first.orelse] if isinstance(first, ast.IfExp) else [first]
                assert all(isinstance(o, ast.Constant) for o in options), "codes are literals"
                codes.update(o.value for o in options)
    return codes


def scenarios(b) -> list:
    """Compounds that between them give every kind of fact."""
    good = b.good()
    day, stamp = b.day, b.stamp
    cases = [
        HealthCase("k1", "confirmed", day(-3), resident_id="r1", household_id="h1"),
        HealthCase("k2", "suspected", day(-5), day(-2), resident_id="r2"),
        HealthCase("k3", "fever", day(-4), day(2), household_id="h3"),
        HealthCase("k4", "close_contact", day(-1), resident_id="r4"),
    ]
    hot = [  # 王五 (r3) has no case of their own: a fever reading on two days
        TemperatureCheck("hot1", "h3", "r3", 38.1, stamp(-3, "09:00")),
        TemperatureCheck("hot2", "h3", "r3", 38.4, stamp(-1, "09:00")),
    ]
    sparse_checks = [c for c in good.checks if not (c.household_id == "h1" and "-07T" in c[4])]
    gappy_logs = [
        log
        for log in good.disinfections
        if "03-05" not in log.done_at and not (log.building == "2" and "03-06T19" in log.done_at)
    ]
    overdue = [MedicineRequest("m9", "h3", "布洛芬", "requested", stamp(-4, "09:00"))]
    screening_attested = Attestation("screening", "we asked every door", "secretary", day(-1))
    return [
        good,
        replace(good, health_cases=cases, checks=[*good.checks, *hot]),
        replace(good, closures=[Closure(day(-40), ("north gate", "east gate"))]),
        replace(good, closures=[Closure(day(-40), ())]),
        replace(
            good,
            closures=[],
            checks=sparse_checks,
            attestations=[*good.attestations, screening_attested],
        ),
        replace(good, households=[], checks=[]),
        replace(good, checks=[], disinfections=[]),
        replace(good, disinfections=gappy_logs),
        replace(good, deliveries=[], medicine_requests=overdue),
        replace(good, deliveries=[], medicine_requests=[]),
        replace(good, work_groups=[WorkGroup("group_buying", ("周一",))], attestations=[]),
        replace(good, work_groups=[]),
    ]


def _facts(docs):
    for doc in docs:
        for rule in doc["rules"]:
            for fact in rule["facts"]:
                yield doc, rule, fact


@pytest.fixture
def docs(b):
    return [evaluate(f, b.D).to_dict() for f in scenarios(b)]


def test_every_fact_code_of_the_check_has_a_sentence():
    assert _codes_in_source() == set(SENTENCES)


def test_the_scenarios_give_every_kind_of_fact(docs):
    assert {fact["code"] for _, _, fact in _facts(docs)} == set(SENTENCES)


def test_english_sentences_are_the_checks_own_text(server_app, docs):
    with server_app.test_request_context("/?lang=en"):
        for doc, rule, fact in _facts(docs):
            assert fact_sentence(fact, rule, doc["date"]) == fact["text"], fact["code"]


def test_chinese_sentences_leave_no_english_word(server_app, docs):
    with server_app.test_request_context("/"):
        seen = {}
        for doc, rule, fact in _facts(docs):
            zh = fact_sentence(fact, rule, doc["date"])
            assert not ENGLISH.search(zh), (fact["code"], zh)
            seen.setdefault(fact["code"], zh)
    assert seen["coverage"] == "03-06 至 03-08 每天都测了体温的住户：4 / 4 户（100.0%）"
    assert seen["case_open"] == "2栋 101 居民张三：确诊病例，03-05 起"
    assert seen["fever_reading_open"] == (
        "03-05 2栋 301 居民王五 体温 38.4 °C（最近一次 03-07），未登记病例，未解除"
    )
    assert seen["work_group_missing"] == "购菜组未指定人员"


def test_a_redacted_fact_names_no_one_in_either_language(server_app, b):
    facts = replace(b.good(), health_cases=[HealthCase("k", "fever", b.day(-2), resident_id="r1")])
    doc = evaluate(facts, b.D).to_dict()
    with server_app.test_request_context("/"):
        from flask import g

        g.user = None  # a count-only reader
        clean = redact(doc)
        rule = next(r for r in clean["rules"] if r["rule"] == "zero_three_kinds")
        zh = fact_sentence(rule["facts"][0], rule, clean["date"])
    assert "张三" not in zh
    assert zh == "2栋 101 的一名居民：发热病例，03-06 起，未解除"


def test_an_unknown_code_shows_its_own_text(server_app):
    fact = {"code": "from_a_later_version", "text": "something new", "params": {}}
    with server_app.test_request_context("/"):
        assert fact_sentence(fact, {"rule": "x", "details": {}}, D) == "something new"


def test_compound_page_is_chinese_by_default_and_english_on_request(client, app_store, login_as):
    app_store.seed()
    app_store.replica.write(
        "health_cases",
        "case-1",
        {
            "compound_id": "cp1",
            "resident_id": "cp1-h1-r",
            "household_id": "cp1-h1",
            "category": "fever",
            "start_date": "2020-03-06",
        },
    )
    login_as("sec")
    zh = client.get(f"/certification/compounds/cp1?date={D}").get_data(as_text=True)
    assert "2栋 101 居民居民1：发热病例，03-06 起，未解除" in zh
    assert "02-24 至 03-08 期间无确诊病例" in zh
    assert "not released" not in zh
    en = client.get(f"/certification/compounds/cp1?date={D}&lang=en").get_data(as_text=True)
    assert "fever case of resident 居民1 in building 2, unit 101 since 03-06, not released" in en
    assert "未解除" not in en


def test_a_lost_status_says_why_in_either_language(server_app):
    from server.certification.sentences import loss_reason

    fever = {
        "reason": "fever reading 38.2 °C on 03-10, no case recorded",
        "reason_code": "fever_reading",
        "reason_params": {"first_day": "2020-03-10", "temperature_c": 38.2},
    }
    revoked = {"reason": "补报：3月9日有发热病例", "reason_code": None}
    with server_app.test_request_context("/"):
        assert loss_reason(fever) == "03-10 测得体温 38.2 °C，未登记病例"
        assert loss_reason(revoked) == "补报：3月9日有发热病例"  # a person's words stay
    with server_app.test_request_context("/?lang=en"):
        assert loss_reason(fever) == fever["reason"]
