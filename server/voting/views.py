"""Owners' votes: the committee's pages and the owner's ballot page.

The JSON API is in api.py on the same blueprint. The ballot page is reached by a secret
link; the token in the URL is what authorises the vote, so its POST is exempt from the
CSRF check (a forger cannot know the token) and it works on a phone without JavaScript.
"""

from __future__ import annotations

import segno
from flask import abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _

from .. import csrf
from ..auth.access import roles_required
from ..db import get_db
from ..places import data as places_data
from ..web import render
from . import api, data  # noqa: F401  (api registers its routes on bp)
from .common import (
    MANAGE,
    bp,
    describe,
    local,
    managed,
    may_see_how,
    motion_or_404,
    now,
    publish,
    rule_set_choices,
    writer,
    zh,
    zone,
)
from .counting import CHOICES
from .rules import MATTERS, NON_BINDING_NOTICE_EN, NON_BINDING_NOTICE_ZH

PREFIX = "/votes"


def choice_labels() -> dict[str, str]:
    return {"for": _("For"), "against": _("Against"), "abstain": _("Abstain"), None: "—"}


@bp.app_context_processor
def voting_helpers():
    return {"local_time": local, "choice_labels": choice_labels}


@bp.after_app_request
def stamp_paper_ballots(resp):
    """A paper ballot's receive time is when its sync push reached this server."""
    if request.endpoint == "sync_api.push" and resp.status_code == 200:
        data.note_arrivals(get_db(), now())
    return resp


# -- committee pages ------------------------------------------------------------------


@bp.get(PREFIX + "/")
@roles_required(*MANAGE)
def index():
    scope = None if "*" in g.user.compounds else g.user.compounds
    motions = data.list_motions(get_db(), scope)
    names = {c["id"]: c["name"] for c in places_data.compound_names(get_db(), scope)}
    for m in motions:
        m["labels"] = describe(m)
        m["compound_name"] = names.get(m["compound_id"], m["compound_id"])
    return render("voting/index.html", motions=motions)


@bp.route(PREFIX + "/new", methods=["GET", "POST"])
@roles_required(*MANAGE)
def new():
    errors: dict[str, str] = {}
    if request.method == "POST":
        values, errors = data.check_motion(request.form, zone())
        if not errors and not g.user.sees(values["compound_id"]):
            errors["compound_id"] = _("This compound is outside your scope.")
        if not errors:
            motion_id = data.create_motion(get_db(), values, g.user.id, now())
            flash(_("The motion is saved as a draft. Open it to freeze the electorate."))
            return redirect(url_for(".detail", motion_id=motion_id), 303)
    return render(
        "voting/new.html",
        status=422 if errors else 200,
        errors=errors,
        form=request.form,
        matters=MATTERS,
        rule_sets=rule_set_choices(),
        compounds=g.user.compounds,
    )


@bp.get(PREFIX + "/<motion_id>")
@roles_required(*MANAGE)
def detail(motion_id: str):
    db, motion, t = get_db(), managed(motion_id), now()
    ctx = {"motion": motion, "labels": describe(motion), "now": t}
    if motion["electorate"]:
        ctx["turnout"] = data.turnout(db, motion, t)
        ctx["links"] = data.links_summary(db, motion_id)
        ctx["changes"] = data.register_changes(db, motion)
        if motion["show_running"] and motion["status"] == "open":
            ctx["running"] = data.provisional_result(db, motion, t)
    ctx["may_close"] = motion["status"] == "open" and t >= data.parse_time(motion["closes_at"])
    return render("voting/detail.html", fragment="voting/_status.html", **ctx)


def _act(motion_id: str, action):
    try:
        action()
        publish(motion_id)
    except data.VoteError as exc:
        flash(exc.message)
    return redirect(url_for(".detail", motion_id=motion_id), 303)


@bp.post(PREFIX + "/<motion_id>/open")
@roles_required(*MANAGE)
def open_(motion_id: str):
    managed(motion_id)
    return _act(motion_id, lambda: data.open_motion(get_db(), motion_id, now()))


@bp.post(PREFIX + "/<motion_id>/close")
@roles_required(*MANAGE)
def close(motion_id: str):
    managed(motion_id)
    return _act(motion_id, lambda: data.close_motion(get_db(), motion_id, now()))


@bp.post(PREFIX + "/<motion_id>/links/revoke")
@roles_required(*MANAGE)
def revoke(motion_id: str):
    managed(motion_id)
    key = request.form.get("owner_key", "")
    n = data.revoke_links(get_db(), motion_id, key, now())
    flash(_("%(n)d link(s) revoked.", n=n))
    return redirect(url_for(".electorate", motion_id=motion_id), 303)


@bp.post(PREFIX + "/<motion_id>/links")
@roles_required(*MANAGE)
def links(motion_id: str):
    """Issue links and show them once, printable with QR codes (not a redirect: the
    tokens exist only in this response)."""
    motion = managed(motion_id)
    keys = request.form.getlist("owner_key") or None
    try:
        issued = data.issue_links(get_db(), motion_id, now(), keys)
    except data.VoteError as exc:
        flash(exc.message)
        return redirect(url_for(".detail", motion_id=motion_id), 303)
    for item in issued:
        item["url"] = url_for(".ballot", token=item["token"], _external=True)
        item["qr"] = segno.make(item["url"], error="m").svg_data_uri(scale=3)
    return render("voting/links.html", motion=motion, labels=describe(motion), issued=issued)


@bp.get(PREFIX + "/<motion_id>/electorate")
@roles_required(*MANAGE)
def electorate(motion_id: str):
    motion = managed(motion_id)
    e = data.electorate_of(motion) if motion["electorate"] else None
    changes = data.register_changes(get_db(), motion) if e else []
    return render("voting/electorate.html", motion=motion, labels=describe(motion),
                  electorate=e, changes=changes)  # fmt: skip


@bp.get(PREFIX + "/<motion_id>/audit")
@roles_required(*MANAGE)
def audit(motion_id: str):
    motion = managed(motion_id)
    if not motion["electorate"]:
        abort(409, description="the motion has not been opened")
    items = data.audit_list(get_db(), motion, now(), show_choice=may_see_how(motion))
    return render("voting/audit.html", motion=motion, labels=describe(motion), items=items,
                  show_choice=may_see_how(motion))  # fmt: skip


# -- public pages: result and bulletin ------------------------------------------------


def _notice():
    return NON_BINDING_NOTICE_ZH if zh() else NON_BINDING_NOTICE_EN


@bp.get(PREFIX + "/<motion_id>/result")
def result(motion_id: str):
    motion = motion_or_404(motion_id)
    if motion["status"] == "draft":
        abort(404, description="no such motion")
    ctx = {"motion": motion, "labels": describe(motion), "notice": _notice()}
    if motion["status"] == "closed":
        ctx.update(frozen=motion["result"], tally=motion["tally"])
    else:
        ctx["turnout"] = data.turnout(get_db(), motion, now())
        if motion["show_running"]:
            running = data.provisional_result(get_db(), motion, now())
            ctx.update(frozen=running["result"], tally=running["tally"], provisional=True)
    return render("voting/result.html", fragment="voting/_result.html", **ctx)


@bp.get(PREFIX + "/<motion_id>/bulletin")
def bulletin(motion_id: str):
    motion = motion_or_404(motion_id)
    if motion["status"] != "closed":
        abort(409, description="the bulletin is published at the close")
    return render("voting/bulletin.html", motion=motion, labels=describe(motion),
                  board=motion["bulletin"], notice=_notice())  # fmt: skip


# -- the owner's ballot page ----------------------------------------------------------


def _ballot_page(token: str, status: int = 200, **ctx):
    return render("voting/ballot.html", status=status, token=token, choices=CHOICES,
                  notice=_notice(), **ctx)  # fmt: skip


@bp.get("/b/<token>")
def ballot(token: str):
    db = get_db()
    try:
        link, motion = data.ballot_context(db, token, now())
    except data.VoteError as exc:
        return _ballot_page(token, status=exc.status, refused=exc)
    mine = data.owner_ballots(db, motion["id"], link["owner_key"])
    return _ballot_page(token, motion=motion, labels=describe(motion), mine=mine)


@bp.post("/b/<token>")
@csrf.exempt
def cast(token: str):
    db = get_db()
    try:
        receipt = data.cast_online(db, token, request.form.get("choice", ""), now(), writer())
    except data.VoteError as exc:
        return _ballot_page(token, status=exc.status, refused=exc)
    return redirect(url_for(".receipt", token=token, code=receipt["receipt"]), 303)


@bp.get("/b/<token>/receipt/<code>")
def receipt(token: str, code: str):
    db = get_db()
    link = data.link_for_token(db, token)
    if link is None:
        abort(404, description="this ballot link is not valid")
    mine = data.owner_ballots(db, link["motion_id"], link["owner_key"])
    got = next((b for b in mine if b["receipt"] == code), None)
    if got is None:
        abort(404, description="no such receipt for this link")
    motion = data.get_motion(db, link["motion_id"])
    return render("voting/receipt.html", motion=motion, labels=describe(motion), got=got,
                  token=token)  # fmt: skip
