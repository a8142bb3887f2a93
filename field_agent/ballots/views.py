"""Paper ballots: an owner without a smartphone votes on paper; the volunteer records it.

Who voted how is personal data: this laptop's list shows who has a ballot recorded and
whether it reached the server, never the choice, the receipt code or the photo of the
paper (the public bulletin pairs receipts with choices). The receipt and the choice are
shown once, to the volunteer who recorded the ballot, to hand to the owner.
"""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import RequestEntityTooLarge

from sync import WriteError, new_id

from .. import localtime, settings
from ..db import get_blob_store, get_db, get_replica
from ..photos import photo_problem, store_photo
from ..places import data as places
from ..places.context import compound_required, current_compound
from ..volunteers.access import recorded_by
from ..web import render
from . import data

bp = Blueprint("ballots", __name__, url_prefix="/ballots")
NAV = [("ballots.index", _l("Paper ballots"))]

CHOICE_LABELS = {"for": _l("In favour"), "against": _l("Against"), "abstain": _l("Abstain")}
STATE_LABELS = {
    "open": _l("open now"),
    "not_open": _l("not open yet"),
    "closed": _l("closed"),
}
SENT_LABELS = {
    "sent": _l("sent to the server"),
    "waiting": _l("waiting to be sent"),
    "rejected": _l("rejected by the server"),
    "rejected_resent": _l("rejected by the server; recorded again as a copy"),
    "rejected_discarded": _l("rejected by the server; discarded"),
}
RECEIPT_KEY = "ballot_receipt"  # (volunteer id, ballot id) of the receipt to show once


def _ctx() -> dict:
    return {
        "choice_labels": CHOICE_LABELS,
        "state_labels": STATE_LABELS,
        "sent_labels": SENT_LABELS,
    }


def _server_site() -> str | None:
    return settings.load_cached(current_app.config["DATA_DIR"]).get("server_site")


@bp.get("/")
@compound_required
def index():
    db = get_db()
    compound = current_compound()
    return render(
        "ballots/index.html",
        motions=data.notices(db, compound["id"], localtime.now()),
        ballots=data.recorded_here(db, compound["id"], get_replica().local_no, _server_site()),
        **_ctx(),
    )


def _motion(motion_id: str) -> dict:
    found = data.notice(get_db(), motion_id)
    if found is None or found["compound_id"] != current_compound()["id"]:
        abort(404, description=_("No such motion on this laptop."))
    return found


def _refusal(motion: dict) -> str | None:
    which = data.state(motion, localtime.now())
    if which == "closed":
        return _("This vote has closed: no more ballots can be recorded.")
    if which == "not_open":
        return _("This vote has not opened yet: ballots are recorded from %(opens)s.",
                 opens=localtime.show(motion["opens_at"]))  # fmt: skip
    return None


@bp.route("/<motion_id>/record", methods=["GET", "POST"])
@compound_required
def record(motion_id: str):
    db = get_db()
    compound = current_compound()
    motion = _motion(motion_id)
    households = places.households(db, compound["id"])
    form = {"household_id": request.args.get("household", ""), "choice": "",
            "voter_name": "", "note": ""}  # fmt: skip
    errors: dict[str, str] = {}
    refusal = _refusal(motion)
    if request.method == "GET" or refusal:
        if refusal:
            errors["motion"] = refusal
        status = 422 if request.method == "POST" and refusal else 200
        return _page(motion, form, errors, households, status)
    try:
        upload = request.files.get("photo")
        form = {k: data.clean(request.form.get(k, "")) for k in form}
    except RequestEntityTooLarge:
        errors["photo"] = _("The photo is too large.")
        return _page(motion, form, errors, households, 413)
    household = places.household(db, form["household_id"]) if form["household_id"] else None
    if household is None or household["compound_id"] != compound["id"]:
        errors["household_id"] = _("Choose the owner's household.")
    if form["choice"] not in data.CHOICES:
        errors["choice"] = _("Choose for, against or abstain, as marked on the paper.")
    if not form["voter_name"]:
        errors["voter_name"] = _("Enter the name of the owner who signed the paper.")
    elif len(form["voter_name"]) > 200:
        errors["voter_name"] = _("At most 200 characters.")
    if len(form["note"]) > 500:
        errors["note"] = _("At most 500 characters.")
    photo = upload.read() if upload is not None and upload.filename else None
    if photo is None:
        errors["photo"] = _("Take a photo of the signed paper ballot.")
    elif why := photo_problem(photo):
        errors["photo"] = why
    if errors:
        return _page(motion, form, errors, households, 422)
    replica = get_replica()
    ballot_id = new_id()
    who = recorded_by()
    # to the millisecond: a changed mind a few seconds later must sort after the first
    at = dt.datetime.now(localtime.tz()).isoformat(timespec="milliseconds")
    try:
        sha = store_photo(
            replica,
            get_blob_store(),
            compound["id"],
            photo,
            ref_table="ballots",
            ref_id=ballot_id,
            who=who,
            taken_at=at,
        )
        ballot_id, _receipt = data.record(
            replica,
            ballot_id=ballot_id,
            compound_id=compound["id"],
            motion_id=motion["id"],
            household_id=household["id"],
            choice=form["choice"],
            voter_name=form["voter_name"],
            volunteer=who,
            recorded_at=at,
            photo_sha256=sha,
            note=form["note"],
        )
    except WriteError as exc:
        errors["form"] = "; ".join(p.message for p in exc.problems)
        return _page(motion, form, errors, households, 422)
    session[RECEIPT_KEY] = [g.volunteer["id"], ballot_id]
    flash(_("Ballot recorded. Hand the receipt code to the owner."))
    return redirect(url_for("ballots.receipt", ballot_id=ballot_id), code=303)


def _page(motion, form, errors, households, status):
    earlier = 0
    if form["household_id"]:
        earlier = data.count_for(
            get_db(), motion["id"], form["household_id"], get_replica().local_no
        )
    return render(
        "ballots/record.html",
        status=status,
        motion=motion,
        form=form,
        errors=errors,
        households=households,
        earlier=earlier,
        **_ctx(),
    )


@bp.get("/receipt/<ballot_id>")
@compound_required
def receipt(ballot_id: str):
    """The receipt code to hand to the owner: shown to the volunteer who recorded it."""
    if session.get(RECEIPT_KEY) != [g.volunteer["id"], ballot_id]:
        abort(404, description=_("A receipt is shown only right after its ballot is recorded."))
    ballot = data.get(get_db(), ballot_id, get_replica().local_no)
    if ballot is None:
        abort(404, description=_("No such ballot on this laptop."))
    return render("ballots/receipt.html", ballot=ballot, **_ctx())


@bp.post("/receipt/<ballot_id>/done")
@compound_required
def done(ballot_id: str):
    """The owner has the receipt: stop showing it (the laptop is shared)."""
    if session.get(RECEIPT_KEY) == [g.volunteer["id"], ballot_id]:
        session.pop(RECEIPT_KEY)
    return redirect(url_for("ballots.index"), code=303)
