"""A check's facts as sentences in the page's language, from their codes and parameters.

The check itself (evaluate, items) stays free of Flask and writes English `text` for the
API and exports; results are cached across requests of either language. Pages render
each fact here, at display time, through gettext with named placeholders. An unknown
code falls back to the English text. Names reach a sentence only through the fact's
parameters, which `service.redact` has already cleaned for count-only roles.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flask_babel import get_locale, pgettext
from flask_babel import gettext as _

Params = Mapping[str, Any]
BUILDING_SUFFIXES = ("栋", "楼", "幢", "座")


def _zh() -> bool:
    return str(get_locale() or "zh_CN").startswith("zh")


def _md(day: Any) -> str:
    """An ISO date (as the API gives it) as 03-02, the way the check writes dates."""
    text = str(day or "")
    return text[5:10] if len(text) >= 10 else text


def _join(items: Sequence[Any]) -> str:
    return pgettext("list separator", ", ").join(str(i) for i in items)


def _days(days: Sequence[Any]) -> str:
    return _join([_md(d) for d in days])


def _building(name: Any) -> str:
    # Chinese pages write 3栋; names are often stored as "3栋" already.
    name = str(name)
    return name + "栋" if _zh() and name and not name.endswith(BUILDING_SUFFIXES) else name


def place(p: Params) -> str:
    if p.get("building") is not None or p.get("unit") is not None:
        return _(
            "building %(building)s, unit %(unit)s",
            building=_building(p.get("building")),
            unit=p.get("unit"),
        )
    if p.get("household_id"):
        return _("household %(id)s", id=p["household_id"])
    return _("unknown household")


def who(p: Params) -> str:
    where = place(p)
    if p.get("resident_name"):
        return _("resident %(name)s in %(where)s", name=p["resident_name"], where=where)
    if p.get("resident_id"):
        return _("resident %(name)s in %(where)s", name=p["resident_id"], where=where)
    return _("a person of %(where)s", where=where)


def case_kind(category: str) -> str:
    return {
        "confirmed": pgettext("case kind", "confirmed"),
        "suspected": pgettext("case kind", "suspected"),
        "fever": pgettext("case kind", "fever"),
        "close_contact": pgettext("case kind", "close-contact"),
    }.get(category, category)


def _span(rule: Params) -> dict[str, str]:
    days = (rule.get("details") or {}).get("days") or []
    return {"first": _md(days[0]), "last": _md(days[-1])} if days else {"first": "", "last": ""}


def _case(f: Params, rule: Params, on: str) -> str:
    p = f.get("params") or {}
    args = {
        "kind": case_kind(p.get("category", "")),
        "who": who(p),
        "start": _md(p.get("start_date")),
    }
    released = p.get("released_on")
    if f.get("code") == "case":
        return _(
            "%(kind)s case of %(who)s since %(start)s, released %(released)s",
            released=_md(released),
            **args,
        )
    if p.get("category") == "confirmed":
        return _("%(kind)s case of %(who)s since %(start)s", **args)
    if released:
        return _(
            "%(kind)s case of %(who)s since %(start)s, not released on %(on)s "
            "(released %(released)s)",
            on=_md(on),
            released=_md(released),
            **args,
        )
    return _("%(kind)s case of %(who)s since %(start)s, not released", **args)


def _no_case(f: Params, rule: Params, on: str) -> str:
    p = f.get("params") or {}
    span = {"first": _md(p.get("first")), "last": _md(p.get("last") or on)}
    if rule.get("rule") == "zero_confirmed":
        return _("no confirmed case with a start date in %(first)s..%(last)s", **span)
    return _("no suspected, fever or close-contact case in %(first)s..%(last)s", **span)


def _fever(f: Params, rule: Params, on: str) -> str:
    p = f.get("params") or {}
    args = {"temp": p.get("temperature_c"), "who": who(p), "first": _md(p.get("first_day"))}
    if p.get("last_day") and p.get("last_day") != p.get("first_day"):
        return _(
            "fever reading %(temp)s °C of %(who)s on %(first)s (last %(last)s), "
            "no case recorded, not released",
            last=_md(p["last_day"]),
            **args,
        )
    return _(
        "fever reading %(temp)s °C of %(who)s on %(first)s, no case recorded, not released", **args
    )


def _closure(f: Params, rule: Params, on: str) -> str:
    p = f.get("params") or {}
    open_ = list(p.get("open_entrances") or [])
    closed = _md(p.get("closed_on"))
    if f.get("code") == "too_many_entrances":
        limit = (rule.get("details") or {}).get("max_open_entrances")
        return _(
            "closed since %(closed)s but %(n)s entrances open (%(names)s); at most %(limit)s",
            closed=closed,
            n=len(open_),
            names=_join(open_),
            limit=limit,
        )
    if not open_:
        return _("closed since %(closed)s, open entrances: none", closed=closed)
    return _(
        "closed since %(closed)s, open entrances: %(names)s", closed=closed, names=_join(open_)
    )


def _corridor(f: Params, rule: Params, on: str) -> str:
    p = f.get("params") or {}
    per_day = (rule.get("details") or {}).get("corridor_per_day")
    when = _join(
        [
            _("%(day)s (%(count)s)", day=_md(d), count=k)
            for d, k in zip(p.get("days") or [], p.get("counts") or [], strict=False)
        ]
    )
    return _(
        "building %(building)s: corridors disinfected fewer than %(k)s times a day on %(when)s",
        building=_building(p.get("building")),
        k=per_day,
        when=when,
    )


def _disinfected(f: Params, rule: Params, on: str) -> str:
    details = rule.get("details") or {}
    return _(
        "disinfection logged on each day %(first)s..%(last)s; "
        "corridors of all %(n)s buildings at least %(k)s times a day",
        n=len(details.get("buildings") or {}),
        k=details.get("corridor_per_day"),
        **_span(rule),
    )


def _medicine(f: Params, rule: Params, on: str) -> str:
    p = f.get("params") or {}
    status = {
        "requested": pgettext("medicine status", "requested"),
        "bought": pgettext("medicine status", "bought"),
    }.get(p.get("status"), p.get("status"))
    return _(
        "medicine request (%(drug)s) for %(where)s %(status)s since %(since)s, "
        "%(hours)s h; at most %(max)s h",
        drug=p.get("drug_name"),
        where=place(p),
        status=status,
        since=p.get("since"),
        hours=p.get("hours"),
        max=p.get("max_hours"),
    )


def group_name(kind: str) -> str:
    return {
        "group_buying": pgettext("work group", "group buying"),
        "vegetable_buying": pgettext("work group", "vegetable buying"),
        "purchasing": pgettext("work group", "purchasing"),
        "distribution": pgettext("work group", "distribution"),
    }.get(kind, kind.replace("_", " "))


def _work_group(f: Params, rule: Params, on: str) -> str:
    p = f.get("params") or {}
    group = group_name(p.get("kind", ""))
    if f.get("code") == "work_group_missing":
        return _("no one is assigned to the %(group)s group", group=group)
    return _("%(group)s group: %(members)s", group=group, members=_join(p.get("members") or []))


def _p(f: Params) -> Params:
    return f.get("params") or {}


SENTENCES: dict[str, Callable[[Params, Params, str], str]] = {
    "no_case": _no_case,
    "case": _case,
    "case_open": _case,
    "fever_reading_open": _fever,
    "attested": lambda f, r, on: _(
        "attested by %(by)s on %(on)s: %(note)s",
        by=_p(f).get("by"),
        on=_md(_p(f).get("on")),
        note=_p(f).get("note"),
    ),
    "attestation_not_enough": lambda f, r, on: _(
        "attested by %(by)s on %(on)s, but the data show the gaps above",
        by=_p(f).get("by"),
        on=_md(_p(f).get("on")),
    ),
    "no_data_kind": lambda f, r, on: _("no record can show this item; it needs an attestation"),
    "no_closure": lambda f, r, on: _("no closure record on or before %(on)s", on=_md(on)),
    "too_many_entrances": _closure,
    "closed": _closure,
    "no_households": lambda f, r, on: _("no household is registered"),
    "no_checks": lambda f, r, on: _("no temperature check in %(first)s..%(last)s", **_span(r)),
    "coverage": lambda f, r, on: _(
        "%(covered)s of %(households)s households (%(percent)s%%) "
        "checked on each day %(first)s..%(last)s",
        covered=_p(f).get("covered"),
        households=_p(f).get("households"),
        percent=_p(f).get("percent"),
        **_span(r),
    ),
    "household_unchecked": lambda f, r, on: _(
        "%(where)s: no temperature check on %(days)s",
        where=place(_p(f)),
        days=_days(_p(f).get("days") or []),
    ),
    "no_logs": lambda f, r, on: _("no disinfection log in %(first)s..%(last)s", **_span(r)),
    "day_without_log": lambda f, r, on: _(
        "no disinfection log on %(days)s", days=_days(_p(f).get("days") or [])
    ),
    "corridor_short": _corridor,
    "disinfected": _disinfected,
    "no_supply_records": lambda f, r, on: _("no delivery or medicine request recorded"),
    "deliveries": lambda f, r, on: _(
        "%(count)s deliveries done in %(first)s..%(last)s", count=_p(f).get("count"), **_span(r)
    ),
    "no_deliveries": lambda f, r, on: _(
        "%(count)s deliveries done in %(first)s..%(last)s", count=_p(f).get("count"), **_span(r)
    ),
    "medicine_overdue": _medicine,
    "no_work_groups": lambda f, r, on: _("no work group is recorded"),
    "work_group": _work_group,
    "work_group_missing": _work_group,
}


def loss_reason(status: Params) -> str:
    """Why a certified compound lost the status, from `records.certification`'s answer."""
    p = status.get("reason_params") or {}
    code = status.get("reason_code")
    if code == "case":
        kind = case_kind(p.get("category", ""))
        return _("%(kind)s case since %(start)s", kind=kind, start=_md(p.get("start_date")))
    if code == "fever_reading":
        return _(
            "fever reading %(temp)s °C on %(first)s, no case recorded",
            temp=p.get("temperature_c"),
            first=_md(p.get("first_day")),
        )
    return str(status.get("reason") or "")


def fact_sentence(fact: Params, rule: Params, on: str) -> str:
    """`fact` and `rule` as in Explanation.to_dict() (after redaction); `on` its date."""
    render = SENTENCES.get(str(fact.get("code")))
    if render is None:
        return str(fact.get("text", ""))
    try:
        return render(fact, rule, on)
    except (KeyError, TypeError, ValueError):  # a fact from an older check: its own text
        return str(fact.get("text", ""))
