"""Certification pages, the JSON API, exports and published lists.

Pages: /certification (community dashboard), /certification/compounds/<id> (the full
explanation, records, application and decisions), /certification/lists, and on a
street/district/city server /certification/totals. API: /api/compounds/<id>/certification
and /api/communities/<id>/certification (signed-in session).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    request,
    url_for,
)
from flask_babel import get_locale, pgettext
from flask_babel import gettext as _

from ..auth.access import login_required, roles_required
from ..db import get_db
from ..web import render
from . import daily, data, exports, records, sentences, service, svg
from .evaluate import roll_up
from .rules import ITEMS, LABELS, WORK_GROUP_KINDS, WORK_GROUP_LABELS

bp = Blueprint("certification", __name__)

ADMIN = ("community_admin",)
STREET = ("street_official",)
CHART_DAYS = 30


def _compound_or_404(db, compound_id: str) -> dict:
    rows = data.compounds(db, [compound_id])
    if not rows or not g.user.sees(compound_id):
        abort(
            404 if not rows and "*" in g.user.compounds else 403,
            description="not found, or outside your scope",
        )
    return rows[0]


@bp.app_template_filter("group_label")
def group_label(kind: str) -> str:
    if kind not in WORK_GROUP_LABELS:
        return kind
    zh, en = WORK_GROUP_LABELS[kind]
    return zh if str(get_locale() or "zh_CN").startswith("zh") else en


bp.add_app_template_global(sentences.fact_sentence, "fact_sentence")
bp.add_app_template_global(sentences.loss_reason, "loss_reason")


@bp.app_template_filter("rule_label")
def rule_label(rule: str) -> str:
    if rule not in LABELS:
        return rule
    zh, en = LABELS[rule]
    return zh if str(get_locale() or "zh_CN").startswith("zh") else en


# -- API ------------------------------------------------------------------------------------


@bp.get("/api/compounds/<compound_id>/certification")
@login_required
def api_compound(compound_id: str):
    """A compound's check on a date: every rule, pass or fail, with its facts.
    ---
    get:
      summary: Certification check of a compound
      parameters:
        - {name: compound_id, in: path, required: true, schema: {type: string}}
        - {name: date, in: query, required: false, schema: {type: string, format: date},
           description: "local date (default today in the server's time zone)"}
      responses:
        200: {description: "the explanation: rules, facts, earliest pass date, stored status"}
        400: {description: bad date}
        401: {description: not signed in}
        403: {description: outside the user's scope}
    """
    db = get_db()
    compound = _compound_or_404(db, compound_id)
    item = service.check_compounds(db, [compound], service.date_arg())[0]
    doc = service.redact(item.explanation.to_dict())
    doc["certification"] = {**service.status_json(item.status), "display": item.state}
    return jsonify(doc)


@bp.get("/api/communities/<community_id>/certification")
@login_required
def api_community(community_id: str):
    """A community's (or village's) roll-up: epidemic-free when every compound is.
    ---
    get:
      summary: Certification roll-up of a community or village
      parameters:
        - {name: community_id, in: path, required: true, schema: {type: string}}
        - {name: date, in: query, required: false, schema: {type: string, format: date}}
      responses:
        200: {description: "passed, counts and share, each compound with its failing rules"}
        400: {description: bad date}
        401: {description: not signed in}
        403: {description: "some compounds of the community are outside the user's scope"}
        404: {description: no compound belongs to this community}
    """
    db = get_db()
    on = service.date_arg()
    compounds = data.compounds(db, community_id=community_id)
    if not compounds:
        abort(404, description="no compound belongs to this community")
    if not all(g.user.sees(c["id"]) for c in compounds):
        abort(403, description="some compounds of this community are outside your scope")
    checked = service.check_compounds(db, compounds, on)
    unit = data.unit(db, community_id)
    kind = unit["level"] if unit["level"] in ("community", "village") else "community"
    result = roll_up(kind, community_id, [c.explanation for c in checked], unit["name"], on)
    doc = result.to_dict()
    states = {c.explanation.compound_id: c.state for c in checked}
    for child in doc["children"]:
        child["certification"] = states.get(child["id"])
    doc["rule_version"] = service.version().id
    return jsonify(doc)


# -- dashboard --------------------------------------------------------------------------------


def _chart_values(compound_ids: list[str], on: dt.date, today_rows: list[dict]):
    """Past days from the aggregate rows of `lastmeter server aggregate`, today live.
    Missing past days stay gaps (computing 29 days here would take seconds); the page
    says how many and how to fill them. Returns (values, missing day count)."""
    up_path = Path(current_app.config["DATA_DIR"]) / daily.UPSTREAM_DB
    first, yesterday = on - dt.timedelta(days=CHART_DAYS - 1), on - dt.timedelta(days=1)
    missing = len(daily.missing_days(up_path, compound_ids, first, yesterday))
    values = daily.series(up_path, compound_ids, first, yesterday)
    values[on.isoformat()] = {
        "households": sum(r["households"] or 0 for r in today_rows),
        "checked": sum(r["checked_today"] for r in today_rows),
        "fevers": sum(r["fevers_today"] for r in today_rows),
    }
    return values, missing


@bp.get("/certification")
@login_required
def dashboard():
    db = get_db()
    on = service.date_arg()
    community_id = request.args.get("community") or None
    compounds = service.visible(db, community_id)
    checked = service.check_compounds(db, compounds, on)
    rows = []
    for item in checked:
        s = service.summary(item)
        screening = item.explanation.result("screening").details
        s["checked_today"] = (
            (screening.get("by_day") or [{}])[-1].get("checked", 0) if screening else 0
        )
        rows.append(s)
    units = []
    for unit_id in dict.fromkeys(c["community_id"] for c in compounds if c["community_id"]):
        unit = data.unit(db, unit_id)
        kids = [c.explanation for c in checked if c.compound.get("community_id") == unit_id]
        kind = unit["level"] if unit["level"] in ("community", "village") else "community"
        units.append(roll_up(kind, unit_id, kids, unit["name"], on))
    days = [on - dt.timedelta(days=CHART_DAYS - 1 - i) for i in range(CHART_DAYS)]
    values, missing = _chart_values([c["id"] for c in compounds], on, rows)
    chart = svg.chart(
        days, values, _("Fevers and screening coverage, last 30 days"), _("coverage %"), _("fevers")
    )
    return render(
        "certification/dashboard.html",
        "certification/_dashboard.html",
        on=on,
        rows=rows,
        units=units,
        chart=chart,
        chart_missing=missing,
        community_id=community_id,
        all_units=data.units(db),
    )


@bp.get("/certification/report.<fmt>")
@login_required
def report(fmt: str):
    if fmt not in ("csv", "xlsx"):
        abort(404)
    db = get_db()
    on = service.date_arg()
    compounds = service.visible(db, request.args.get("community") or None)
    rows = [service.summary(item) for item in service.check_compounds(db, compounds, on)]
    name = f"certification-{on.isoformat()}.{fmt}"
    if fmt == "csv":
        body, mime = exports.to_csv(rows), "text/csv; charset=utf-8"
    else:
        body = exports.to_xlsx(rows, on.isoformat())
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    resp = Response(body, mimetype=mime)
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return resp


# -- a compound -------------------------------------------------------------------------------


def _compound_page(compound_id: str, errors: dict | None = None, status: int = 200):
    db = get_db()
    compound = _compound_or_404(db, compound_id)
    on = service.date_arg()
    item = service.check_compounds(db, [compound], on)[0]
    return render(
        "certification/compound.html",
        on=on,
        compound=compound,
        item=item,
        doc=service.redact(item.explanation.to_dict()),
        recs=records.records(db, compound_id),
        apps=records.applications(db, [compound_id]),
        items=ITEMS,
        kinds=WORK_GROUP_KINDS,
        errors=errors or {},
        form=request.form if errors else {},
        status=status,
    )


@bp.get("/certification/compounds/<compound_id>")
@login_required
def compound(compound_id: str):
    return _compound_page(compound_id)


def _back(compound_id: str):
    return redirect(
        url_for(
            "certification.compound", compound_id=compound_id, date=request.form.get("date") or None
        ),
        code=303,
    )


def _date_field(name: str) -> dt.date:
    value = (request.form.get(name) or "").strip()
    try:
        return dt.date.fromisoformat(value) if len(value) == 10 else dt.date.fromisoformat("x")
    except ValueError:
        raise records.CertError(name, "the date must look like 2020-03-08") from None


def cert_errors(exc: records.CertError) -> dict[str, str]:
    """The error beside its field, in the page's language (the records raise msgids)."""
    params = dict(exc.params)
    if "status" in params:
        params["status"] = application_status(params["status"])
    return {exc.field: _(exc.template, **params)}


@bp.app_template_filter("application_status")
def application_status(status: str) -> str:
    return {
        "pending": pgettext("application", "pending"),
        "approved": pgettext("application", "approved"),
        "rejected": pgettext("application", "rejected"),
    }.get(status, status)


def _guarded(compound_id: str, action):
    db = get_db()
    _compound_or_404(db, compound_id)
    try:
        action(db)
    except records.CertError as exc:
        return _compound_page(compound_id, cert_errors(exc), 422)
    flash(_("Saved."))
    return _back(compound_id)


@bp.post("/certification/compounds/<compound_id>/closures")
@roles_required(*ADMIN)
def add_closure(compound_id: str):
    entrances = (request.form.get("open_entrances") or "").splitlines()
    return _guarded(
        compound_id,
        lambda db: records.add_closure(
            db,
            compound_id,
            _date_field("closed_on"),
            entrances,
            request.form.get("note", ""),
            g.user.username,
        ),
    )


@bp.post("/certification/compounds/<compound_id>/work-groups")
@roles_required(*ADMIN)
def set_work_group(compound_id: str):
    members = (request.form.get("members") or "").replace("，", ",").replace("\n", ",").split(",")
    return _guarded(
        compound_id,
        lambda db: records.set_work_group(
            db, compound_id, request.form.get("kind", ""), members, g.user.username
        ),
    )


@bp.post("/certification/compounds/<compound_id>/attestations")
@roles_required(*ADMIN)
def add_attestation(compound_id: str):
    f = request.form
    return _guarded(
        compound_id,
        lambda db: records.add_attestation(
            db,
            compound_id,
            f.get("item", ""),
            f.get("note", ""),
            g.user.username,
            _date_field("on_date"),
            (f.get("photo_sha256") or "").strip().lower() or None,
        ),
    )


@bp.post("/certification/compounds/<compound_id>/apply")
@roles_required(*ADMIN)
def apply(compound_id: str):
    db = get_db()
    compound = _compound_or_404(db, compound_id)
    on = service.date_arg()
    item = service.check_compounds(db, [compound], on)[0]
    records.apply(db, item.explanation, g.user.username)
    if item.explanation.passed:
        flash(_("Applied: the check passes; a street official decides."))
    else:
        flash(_("Applied, but the check fails: see the failing rules."))
    return _back(compound_id)


@bp.post("/certification/applications/<int:app_id>/decide")
@roles_required(*STREET)
def decide(app_id: int):
    db = get_db()
    app = records.get_application(db, app_id)
    if app is None:
        abort(404)
    _compound_or_404(db, app["compound_id"])
    approve = request.form.get("decision") == "approve"
    return _guarded(
        app["compound_id"],
        lambda db: records.decide(
            db, app_id, approve, g.user.username, request.form.get("note", "")
        ),
    )


@bp.post("/certification/compounds/<compound_id>/revoke")
@roles_required(*STREET)
def revoke(compound_id: str):
    return _guarded(
        compound_id,
        lambda db: records.revoke(
            db, compound_id, _date_field("on_date"), request.form.get("reason", ""), g.user.username
        ),
    )


# -- published lists --------------------------------------------------------------------------


@bp.get("/certification/lists")
@login_required
def lists():
    db = get_db()
    return render(
        "certification/lists.html", lists=records.lists(db), on=service.today(), errors={}
    )


@bp.post("/certification/lists")
@roles_required(*STREET)
def publish():
    db = get_db()
    try:
        on = _date_field("on_date")
        scope_id = current_app.config.get("NAME") or "all"
        compounds = service.visible(db)
        statuses = []
        v, days = service.version(), service.cal()
        facts = data.load_facts(db, [c["id"] for c in compounds], on, v)
        for c in compounds:
            s = records.certification(db, c["id"], on, v, days, facts.get(c["id"]))
            statuses.append({"compound_id": c["id"], "name": c["name"], **s})
        list_id = records.publish_list(db, scope_id, scope_id, on, statuses, g.user.username)
    except records.CertError as exc:
        errors = cert_errors(exc)
        return render(
            "certification/lists.html",
            lists=records.lists(db),
            on=service.today(),
            errors=errors,
            status=422,
        )
    flash(_("Published."))
    return redirect(url_for("certification.published", list_id=list_id), code=303)


@bp.get("/certification/lists/<int:list_id>")
@login_required
def published(list_id: int):
    item = records.get_list(get_db(), list_id)
    if item is None:
        abort(404)
    return render("certification/list.html", item=item)


# -- upper levels: totals from the aggregate rows --------------------------------------------


@bp.get("/certification/totals")
@login_required
def totals():
    from . import totals as totals_mod

    db = get_db()
    on = (
        service.date_arg()
        if request.args.get("date")
        else totals_mod.latest_day(db) or service.today()
    )
    return render(
        "certification/totals.html",
        on=on,
        groups=totals_mod.by_unit(db, on),
        history=totals_mod.history(db, on, CHART_DAYS),
    )
