"""Supply pages: distribution rounds, standing policies, group-buying, ledger, medicine."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _

from sync import WriteError

from ..auth.access import login_required, require_compound, roles_required
from ..db import get_db, get_replica
from ..web import render
from . import api, data, exports, ledger, ledger_data, medicine, orders
from .allocate import HOUSEHOLD_FLAGS, LAST_TIER, PlanError

bp = Blueprint("supply", __name__, url_prefix="/supply")
# The JSON API lives under /api/supply; it comes in with the pages.
bp.record_once(lambda state: state.app.register_blueprint(api.bp))

MANAGE = ("community_admin",)
FIELD = ("volunteer", "building_head", "community_admin")
LEDGER = ("community_admin", "committee")
INPUT_ERRORS = (PlanError, ledger.LedgerError, orders.OrderError, medicine.StockError)


def labels() -> dict[str, str]:
    return {
        "medical_worker": _("Medical-worker family"),
        "hardship": _("Hardship household"),
        "elderly_alone": _("Elderly living alone"),
        LAST_TIER: _("Everyone else"),
        "full": _("full share"),
        "partial": _("what was left"),
        "none": _("not served: the quantity ran out"),
        "money_in": _("Money in"),
        "money_out": _("Money out"),
        "goods_in": _("Goods in"),
        "goods_out": _("Goods out"),
        "draft": _("draft"),
        "confirmed": _("confirmed"),
        "cancelled": _("cancelled"),
        "open": _("open"),
        "closed": _("closed"),
        "dispatched": _("dispatched"),
        "unpaid": _("unpaid"),
        "paid": _("paid"),
        "refunded": _("refunded"),
        "reassigned": _("reassigned"),
        "returned": _("returned"),
    }


def scope() -> dict[str, str]:
    """The compounds this user sees, id -> name."""
    names = data.compound_names(get_db())
    return {c: names[c] for c in g.user.scope(list(names)) if c in names}


def _user() -> str:
    return g.user.username


# Parameters of an error message that name a kind of entry or a state, shown by label.
LABELLED_PARAMS = ("kind", "old", "new")


def _errors(exc: Exception) -> dict[str, str]:
    if isinstance(exc, WriteError):
        return {p.column or "form": p.message for p in exc.problems}
    field = getattr(exc, "field", "form")
    template = getattr(exc, "template", None)
    if template is None:
        return {field: getattr(exc, "message", str(exc))}
    # The data layers raise English msgids with named parameters: translate them here.
    names = labels()
    params = {
        k: names.get(v, v) if k in LABELLED_PARAMS and isinstance(v, str) else v
        for k, v in exc.params.items()
    }
    return {field: _(template, **params)}


# -- overview and policies ------------------------------------------------------------------


@bp.get("/")
@login_required
def index():
    db, compounds = get_db(), scope()
    return render(
        "supply/index.html",
        rounds=data.list_rounds(db, list(compounds)),
        offers=orders.list_offers(db, list(compounds)),
        compounds=compounds,
        policies={c: data.get_policy(db, c) for c in compounds},
        labels=labels(),
    )


@bp.route("/policies/<compound_id>", methods=["GET", "POST"])
@roles_required(*MANAGE)
def policy(compound_id: str):
    require_compound(compound_id)
    db, errors = get_db(), {}
    if request.method == "POST":
        chosen = [request.form.get(f"tier{i}", "") for i in range(len(HOUSEHOLD_FLAGS))]
        try:
            data.set_policy(db, compound_id, [c for c in chosen if c], _user())
            flash(_("The standing policy is saved."))
            return redirect(url_for(".index"), 303)
        except PlanError as exc:
            errors = _errors(exc)
    current = data.get_policy(db, compound_id)
    status = 422 if errors else 200
    return render(
        "supply/policy.html", status=status, compound_id=compound_id, policy=current,
        flags=HOUSEHOLD_FLAGS, labels=labels(), errors=errors, form=request.form,
    )  # fmt: skip


# -- distribution rounds --------------------------------------------------------------------


@bp.route("/rounds/new", methods=["GET", "POST"])
@roles_required(*MANAGE)
def new_round():
    compounds, errors = scope(), {}
    form = request.form
    if request.method == "POST":
        chosen = form.getlist("compound_ids")
        for c in chosen:
            require_compound(c)
        try:
            seed_text = form.get("seed", "").strip()
            if seed_text and not seed_text.isdigit():
                raise PlanError("seed", _("The seed must be a whole number, or left empty."))
            round_id = data.create_round(
                get_db(),
                compound_ids=chosen,
                item=form.get("item"),
                unit=form.get("unit"),
                quantity=form.get("quantity", "").strip(),
                per_household=form.get("per_household", "").strip() or "1",
                divisible=bool(form.get("divisible")),
                seed=int(seed_text) if seed_text else None,
                note=form.get("note", ""),
                user=_user(),
            )
            return redirect(url_for(".show_round", round_id=round_id), 303)
        except INPUT_ERRORS as exc:
            errors = _errors(exc)
    return render(
        "supply/round_new.html", status=422 if errors else 200, compounds=compounds,
        errors=errors, form=form,
    )  # fmt: skip


def _round(round_id: str) -> dict[str, Any]:
    rnd = data.get_round(get_db(), round_id)
    if rnd is None:
        abort(404, description="no such round")
    for c in rnd["compound_ids"]:
        require_compound(c)
    return rnd


@bp.get("/rounds/<round_id>")
@login_required
def show_round(round_id: str, status: int = 200, message: str | None = None):
    db, rnd = get_db(), _round(round_id)
    plan = homes = stamp = None
    lines = None
    if rnd["status"] == "confirmed":
        lines = data.round_lines(db, round_id)
    else:
        plan, homes = data.plan_round(db, rnd)
        stamp = data.fingerprint(plan)
    return render(
        "supply/round.html", status=status, rnd=rnd, plan=plan, homes=homes, lines=lines,
        fingerprint=stamp, labels=labels(), message=message, names=data.compound_names(db),
    )  # fmt: skip


@bp.post("/rounds/<round_id>/confirm")
@roles_required(*MANAGE)
def confirm_round(round_id: str):
    _round(round_id)
    try:
        data.confirm_round(
            get_db(), get_replica(), round_id, request.form.get("fingerprint", ""), _user()
        )
    except data.StalePlan:
        msg = _("The register or past deliveries changed since this plan was shown: review it.")
        return show_round(round_id, status=409, message=msg)
    except (PlanError, WriteError) as exc:
        return show_round(round_id, status=422, message="; ".join(_errors(exc).values()))
    flash(_("Round confirmed: the deliveries are on their way to the volunteers."))
    return redirect(url_for(".show_round", round_id=round_id), 303)


@bp.post("/rounds/<round_id>/cancel")
@roles_required(*MANAGE)
def cancel_round(round_id: str):
    _round(round_id)
    data.cancel_round(get_db(), round_id)
    return redirect(url_for(".show_round", round_id=round_id), 303)


@bp.get("/rounds/<round_id>/packing")
@login_required
def packing(round_id: str):
    rnd = _round(round_id)
    if rnd["status"] != "confirmed":
        abort(404, description="packing lists exist once the round is confirmed")
    return render("supply/packing.html", rnd=rnd, groups=data.packing_lists(get_db(), round_id))


PLAN_HEADERS = ["rank", "household_id", "building", "unit", "owner", "tier", "received_before",
                "last_received", "draw", "quantity", "outcome"]  # fmt: skip


@bp.get("/rounds/<round_id>/plan.<fmt>")
@login_required
def export_plan(round_id: str, fmt: str):
    db, rnd = get_db(), _round(round_id)
    if rnd["status"] == "confirmed":
        rows = [
            [r["rank"], r["household_id"], r["building"], r["unit"], r["owner_name"],
             r["tier_name"], Decimal(r["received_before"]), r["last_received"], r["draw"],
             Decimal(r["quantity"]), r["outcome"]]
            for r in data.round_lines(db, round_id)
        ]  # fmt: skip
    else:
        plan, homes = data.plan_round(db, rnd)
        rows = [
            [a.rank, a.household_id, homes[a.household_id]["building"],
             homes[a.household_id]["unit"], homes[a.household_id]["owner_name"], a.tier_name,
             a.received_before, a.last_received and str(a.last_received), a.draw, a.quantity,
             a.outcome]
            for a in plan.allocations
        ]  # fmt: skip
    return exports.download(fmt, f"plan-{round_id}", PLAN_HEADERS, rows)


@bp.get("/rounds/<round_id>/packing.<fmt>")
@login_required
def export_packing(round_id: str, fmt: str):
    rnd = _round(round_id)
    if rnd["status"] != "confirmed":
        abort(404, description="packing lists exist once the round is confirmed")
    rows = [
        [building, r["unit"], r["owner_name"], r["household_id"], rnd["item"],
         Decimal(r["quantity"]), rnd["unit"]]
        for building, lines, _total in data.packing_lists(get_db(), round_id)
        for r in lines
    ]  # fmt: skip
    headers = ["building", "unit", "owner", "household_id", "item", "quantity", "item_unit"]
    return exports.download(fmt, f"packing-{round_id}", headers, rows)


# -- group-buying ---------------------------------------------------------------------------


@bp.route("/offers/new", methods=["GET", "POST"])
@roles_required(*MANAGE)
def new_offer():
    compounds, errors, form = scope(), {}, request.form
    if request.method == "POST":
        compound_id = form.get("compound_id", "")
        require_compound(compound_id)
        try:
            offer_id = orders.create_offer(
                get_db(), get_replica(), compound_id=compound_id,
                **{k: form.get(k) for k in ("item", "unit", "unit_price_yuan", "deadline",
                                             "max_per_household", "organiser", "note")},
            )  # fmt: skip
            return redirect(url_for(".show_offer", offer_id=offer_id), 303)
        except (*INPUT_ERRORS, WriteError) as exc:
            errors = _errors(exc)
    return render(
        "supply/offer_new.html", status=422 if errors else 200, compounds=compounds,
        errors=errors, form=form,
    )  # fmt: skip


def _offer(offer_id: str) -> dict[str, Any]:
    offer = orders.get_offer(get_db(), offer_id)
    if offer is None:
        abort(404, description="no such offer")
    require_compound(offer["compound_id"])
    return offer


@bp.get("/offers/<offer_id>")
@login_required
def show_offer(offer_id: str, status: int = 200, errors: dict | None = None):
    db, offer = get_db(), _offer(offer_id)
    rows = orders.orders(db, offer)
    totals = orders.totals_by_building(rows)
    homes = data.households(db, [offer["compound_id"]])
    return render(
        "supply/offer.html", "supply/_orders.html", status=status, offer=offer, rows=rows,
        totals=totals, homes=homes, errors=errors or {}, form=request.form, labels=labels(),
        grand={k: sum((t[k] for t in totals), Decimal(0))
               for k in ("quantity", "amount_yuan", "paid_yuan")},
    )  # fmt: skip


@bp.post("/offers/<offer_id>/orders")
@roles_required(*FIELD)
def place_order(offer_id: str):
    offer, form = _offer(offer_id), request.form
    try:
        orders.place_order(
            get_db(), get_replica(), offer, household_id=form.get("household_id"),
            quantity=form.get("quantity", ""), taken_by=_user(), note=form.get("note"),
        )  # fmt: skip
    except (*INPUT_ERRORS, WriteError) as exc:
        return show_offer(offer_id, status=422, errors=_errors(exc))
    return redirect(url_for(".show_offer", offer_id=offer_id), 303)


@bp.post("/orders/<order_id>/payment")
@roles_required(*FIELD)
def set_payment(order_id: str):
    db = get_db()
    row = db.execute("SELECT offer_id FROM group_orders WHERE id = ?", [order_id]).fetchone()
    if row is None:
        abort(404, description="no such order")
    _offer(row[0])
    try:
        orders.set_payment(db, get_replica(), order_id, request.form.get("payment", ""))
    except (orders.OrderError, WriteError) as exc:
        return show_offer(row[0], status=422, errors=_errors(exc))
    return redirect(url_for(".show_offer", offer_id=row[0]), 303)


@bp.post("/offers/<offer_id>/close")
@roles_required(*MANAGE)
def close_offer(offer_id: str):
    _offer(offer_id)
    orders.close_offer(get_replica(), offer_id)
    return redirect(url_for(".show_offer", offer_id=offer_id), 303)


@bp.post("/offers/<offer_id>/dispatch")
@roles_required(*MANAGE)
def dispatch(offer_id: str):
    offer = _offer(offer_id)
    try:
        made = orders.dispatch(get_db(), get_replica(), offer)
    except (orders.OrderError, WriteError) as exc:
        return show_offer(offer_id, status=422, errors=_errors(exc))
    flash(_("%(n)d deliveries made.", n=made))
    return redirect(url_for(".show_offer", offer_id=offer_id), 303)


@bp.get("/offers/<offer_id>/orders.<fmt>")
@login_required
def export_orders(offer_id: str, fmt: str):
    offer = _offer(offer_id)
    rows = [
        [r["building"], r["home_unit"], r["owner_name"], r["household_id"], offer["item"],
         r["quantity"], offer["unit"], Decimal(offer["unit_price_yuan"]), r["amount_yuan"],
         r["payment"], r["taken_by"]]
        for r in orders.orders(get_db(), offer)
    ]  # fmt: skip
    headers = ["building", "unit", "owner", "household_id", "item", "quantity", "item_unit",
               "unit_price_yuan", "amount_yuan", "payment", "taken_by"]  # fmt: skip
    return exports.download(fmt, f"orders-{offer_id}", headers, rows)


# -- donations ledger -----------------------------------------------------------------------


def _ledger_page(status: int = 200, errors: dict | None = None):
    db = get_db()
    entries = ledger_data.entries(db)
    corrected = {e.corrects for e in entries if e.corrects}
    return render(
        "supply/ledger.html", status=status, rows=ledger_data.rows(db), corrected=corrected,
        money=ledger.money_balances(entries), goods=ledger.goods_balances(entries),
        warnings=ledger.overdrawn(entries), kinds=ledger.KINDS, labels=labels(),
        errors=errors or {}, form=request.form,
    )  # fmt: skip


@bp.get("/ledger")
@roles_required(*LEDGER)
def ledger_page():
    return _ledger_page()


@bp.post("/ledger")
@roles_required(*LEDGER)
def add_entry():
    form = request.form
    fields = ("kind", "purpose", "date", "amount_yuan", "item", "unit", "quantity",
              "counterparty", "note")  # fmt: skip
    values = {k: (form.get(k) or "").strip() or None for k in fields}
    try:
        ledger_data.add(get_db(), _user(), **values)
    except ledger.LedgerError as exc:
        return _ledger_page(422, _errors(exc))
    flash(_("Entry recorded."))
    return redirect(url_for(".ledger_page"), 303)


@bp.post("/ledger/<entry_id>/correct")
@roles_required(*LEDGER)
def correct_entry(entry_id: str):
    try:
        ledger_data.correct(
            get_db(), _user(), entry_id, request.form.get("date") or "", request.form.get("note")
        )
    except ledger.LedgerError as exc:
        return _ledger_page(422, _errors(exc))
    flash(_("Correction recorded: enter the right figures as a new entry if needed."))
    return redirect(url_for(".ledger_page"), 303)


@bp.get("/ledger.<fmt>")
@roles_required(*LEDGER)
def export_ledger(fmt: str):
    fields = ["id", "date", "kind", "purpose", "amount_yuan", "item", "quantity", "unit",
              "counterparty", "note", "corrects", "created_by"]  # fmt: skip
    rows = [
        [Decimal(r[k]) if k in ("amount_yuan", "quantity") and r[k] else r[k] for k in fields]
        for r in ledger_data.rows(get_db())
    ]
    return exports.download(fmt, "ledger", fields, rows)


# -- medicine stock -------------------------------------------------------------------------


def _medicine_page(status: int = 200, errors: dict | None = None):
    db, compounds = get_db(), list(scope())
    rows, total = medicine.stock(db, compounds)
    candidates = {r["id"]: medicine.open_requests(db, compounds, r["drug_name"]) for r in rows}
    return render(
        "supply/medicine.html", status=status, rows=rows, total=total, candidates=candidates,
        moves=medicine.moves(db), errors=errors or {}, labels=labels(),
    )  # fmt: skip


@bp.get("/medicine")
@roles_required(*FIELD)
def medicine_page():
    return _medicine_page()


def _stock_compound(request_id: str) -> None:
    row = (
        get_db()
        .execute("SELECT compound_id FROM medicine_requests WHERE id = ?", [request_id])
        .fetchone()
    )
    if row is None:
        abort(404, description="no such medicine request")
    require_compound(row[0])


@bp.post("/medicine/<request_id>/reassign")
@roles_required(*FIELD)
def reassign(request_id: str):
    _stock_compound(request_id)
    try:
        medicine.reassign(
            get_db(), get_replica(), request_id, request.form.get("to_request_id", ""), _user()
        )
    except (medicine.StockError, WriteError) as exc:
        return _medicine_page(422, _errors(exc))
    return redirect(url_for(".medicine_page"), 303)


@bp.post("/medicine/<request_id>/return")
@roles_required(*FIELD)
def return_medicine(request_id: str):
    _stock_compound(request_id)
    try:
        medicine.return_to_pharmacy(get_db(), request_id, _user(), request.form.get("note"))
    except medicine.StockError as exc:
        return _medicine_page(422, _errors(exc))
    return redirect(url_for(".medicine_page"), 303)
