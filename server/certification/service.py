"""What the pages, the API and the exports share: the rule version and zone of this
server, the date asked for, checking a set of compounds, and hiding names from roles
that may see counts only (street officials: only aggregates leave the community)."""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from flask import abort, current_app, g, request
from sqlite_utils import Database

from . import data, records
from .days import LocalDays
from .evaluate import calendar, evaluate
from .explanation import Explanation, jsonable
from .facts import CompoundFacts
from .rules import DEFAULT_TIMEZONE, RuleVersion, get_version

NAME_READERS = ("volunteer", "building_head", "property", "committee", "community_admin")


def version() -> RuleVersion:
    return get_version(current_app.config.get("CERTIFICATION_RULES") or None)


def cal() -> LocalDays:
    return calendar(current_app.config.get("TIMEZONE") or DEFAULT_TIMEZONE)


def today() -> dt.date:
    return dt.datetime.now(cal().tz).date()


def date_arg(name: str = "date") -> dt.date:
    value = (request.values.get(name) or "").strip()
    if not value:
        return today()
    try:
        return dt.date.fromisoformat(value) if len(value) == 10 else _bad_date()
    except ValueError:
        return _bad_date()


def _bad_date() -> dt.date:
    abort(400, description="the date must look like 2020-03-08")


def as_of(on: dt.date) -> dt.datetime | None:
    """Ages (medicine requests) are measured now when the date is today."""
    return dt.datetime.now(cal().tz) if on == today() else None


@dataclass
class Checked:
    compound: dict
    explanation: Explanation
    status: dict[str, Any]

    @property
    def state(self) -> str:
        """certified / lost / revoked, else passes / fails (would pass if applied)."""
        if self.status["state"] in ("certified", "lost", "revoked"):
            return self.status["state"]
        return "passes" if self.explanation.passed else "fails"


CACHE_SIZE = 64  # lists of compounds (pages) with nothing changed since
COMPOUND_CACHE_SIZE = 256  # one compound on one date (~10-200 kB each)


@dataclass(frozen=True)
class _Entry:
    """One compound's check on one date, and what it was made from."""

    version: tuple  # data.compound_versions' value and the certification tables' counter
    compound: dict
    minute: dt.datetime | None
    checked: Checked
    facts: CompoundFacts | None  # kept for today only: re-judged as the clock moves


@dataclass
class _Cache:
    lists: OrderedDict = field(default_factory=OrderedDict)
    compounds: OrderedDict = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock)  # waitress has threads

    def remember(self, store: OrderedDict, key: tuple, value: Any, size: int) -> None:
        with self.lock:
            store[key] = value
            store.move_to_end(key)
            while len(store) > size:
                store.popitem(last=False)


def check_compounds(db: Database, compounds: list[dict], on: dt.date) -> list[Checked]:
    """Check the compounds on `on`. Results are cached per process at two levels: a page
    viewed again with nothing changed since (the data's change counters) costs no check;
    otherwise only the compounds whose rows changed (data.compound_versions) are loaded
    and checked again. For today ages move with the clock (medicine requests): each
    minute the compounds are judged again from their cached facts, without SQL."""
    moment = as_of(on)
    minute = moment.replace(second=0, microsecond=0) if moment else None
    v, days = version(), cal()
    counters = data.data_version(db)
    cache = current_app.extensions.setdefault("certification_cache", _Cache())
    page_key = (tuple(c["id"] for c in compounds), on, minute, counters, v.id, days.name)
    hit = cache.lists.get(page_key)
    if hit is not None:
        return hit
    versions = data.compound_versions(db, [c["id"] for c in compounds])
    done: dict[str, Checked] = {}
    stale = []
    for c in compounds:
        key = (c["id"], on, v.id, days.name)
        entry = cache.compounds.get(key)
        now = (versions.get(c["id"]), counters[1])
        if entry is None or entry.version != now or entry.compound != c:
            stale.append(c)
            continue
        if entry.minute != minute and entry.facts is not None:
            expl = evaluate(entry.facts, on, v, days, moment)
            entry = _Entry(now, c, minute, Checked(c, expl, entry.checked.status), entry.facts)
        cache.remember(cache.compounds, key, entry, COMPOUND_CACHE_SIZE)
        done[c["id"]] = entry.checked
    if stale:
        with data.gc_paused():  # many small objects, no cycles (data.gc_paused)
            facts = data.load_facts(db, [c["id"] for c in stale], on, v, days)
            for c in stale:
                f = facts.get(c["id"])
                if f is None:
                    continue
                expl = evaluate(f, on, v, days, moment)
                status = records.certification(db, c["id"], on, v, days, f)
                done[c["id"]] = item = Checked(c, expl, status)
                # The version was read before the facts were loaded: a row written in
                # between makes the next view load again, never keeps an older check.
                version_now = (versions.get(c["id"]), counters[1])
                entry = _Entry(version_now, c, minute, item, f if moment else None)
                key = (c["id"], on, v.id, days.name)
                cache.remember(cache.compounds, key, entry, COMPOUND_CACHE_SIZE)
    out = [done[c["id"]] for c in compounds if c["id"] in done]
    cache.remember(cache.lists, page_key, out, CACHE_SIZE)
    return out


def visible(db: Database, community_id: str | None = None) -> list[dict]:
    return [c for c in data.compounds(db, community_id=community_id) if g.user.sees(c["id"])]


def sees_names() -> bool:
    return g.user is not None and g.user.role in NAME_READERS


def redact(doc: Any) -> Any:
    """Drop residents' names and ids from an explanation for who may see counts only."""
    if sees_names():
        return doc
    if isinstance(doc, dict):
        if "params" in doc and isinstance(doc["params"], dict):
            name = doc["params"].get("resident_name")
            rid = doc["params"].get("resident_id")
            text = doc.get("text", "")
            for value in (name, rid):
                if value:
                    text = re.sub(rf"resident {re.escape(str(value))}\b", "a resident", text)
            params = {
                k: v for k, v in doc["params"].items() if k not in ("resident_name", "resident_id")
            }
            doc = {**doc, "text": text, "params": params}
        return {k: redact(v) for k, v in doc.items()}
    if isinstance(doc, list):
        return [redact(v) for v in doc]
    return doc


def status_json(status: dict[str, Any]) -> dict[str, Any]:
    return jsonable(status)


def summary(item: Checked) -> dict[str, Any]:
    """The figures of one compound on its date, for the dashboard and the exports."""
    e = item.explanation
    by_rule = {r.rule: r for r in e.results}
    screening = by_rule["screening"].details if by_rule["screening"].counted else {}
    last_day = (screening.get("by_day") or [{}])[-1]
    zero = by_rule["zero_three_kinds"].details
    supply = by_rule["supply"].details if by_rule["supply"].counted else {}
    return {
        "date": e.on.isoformat(),
        "community": item.compound.get("community_id"),
        "compound_id": e.compound_id,
        "compound": e.name,
        "status": item.state,
        "status_since": jsonable(item.status.get("since")),
        "reason": item.status.get("reason"),
        "check": "pass" if e.passed else "fail",
        "failing": e.failing,
        "failing_rules": ",".join(r.rule for r in e.failing),
        "earliest_pass": jsonable(e.earliest_pass),
        "households": screening.get("households"),
        "coverage_percent": last_day.get("percent"),
        "fevers_today": zero.get("fever_readings_on_day", 0),
        "open_three_kinds": zero.get("open", 0),
        "deliveries_7_days": supply.get("deliveries"),
        "open_medicine_requests": supply.get("open_medicine_requests"),
        "rule_version": e.rule_version,
    }
