"""The voting JSON API: everything the committee does on pages, plus result and bulletin.

Committee calls use the signed-in session. Their POSTs must be `application/json`: a
cross-site form cannot send that type without a CORS preflight this server never grants,
and the session cookie is SameSite=Lax, so these views are exempt from the form CSRF
token. `POST /api/ballots/<token>` is authorised by the secret token itself.
"""

from __future__ import annotations

from flask import abort, g, jsonify, request, url_for

from .. import csrf
from ..auth.access import roles_required
from ..db import get_db
from . import data
from .common import (
    MANAGE,
    bp,
    managed,
    may_see_how,
    motion_or_404,
    now,
    publish,
    writer,
    zone,
)


def _json_body() -> dict:
    if not request.is_json:
        abort(415, description="send application/json")
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, description="the body must be a JSON object")
    return body


def _refused(exc: data.VoteError):
    return jsonify(error=exc.message, code=exc.code), exc.status


def _motion_json(motion: dict) -> dict:
    keys = ("id", "compound_id", "title", "body", "matter", "rule_set", "opens_at", "closes_at",
            "late_after_hours", "show_running", "open_ballot", "status", "opened_at",
            "frozen_at", "electorate_fingerprint")  # fmt: skip
    out = {k: motion.get(k) for k in keys}
    if motion.get("electorate"):
        out["N"] = motion["electorate"]["N"]
        out["A"] = motion["electorate"]["A"]
    return out


@bp.get("/api/motions")
@roles_required(*MANAGE)
def api_list():
    """Motions in the user's compounds.
    ---
    get:
      summary: List motions
      responses:
        200: {description: "motions: id, compound_id, title, matter, rule_set, times, status"}
        401: {description: sign in first}
    """
    scope = None if "*" in g.user.compounds else g.user.compounds
    return jsonify(motions=data.list_motions(get_db(), scope))


@bp.post("/api/motions")
@csrf.exempt
@roles_required(*MANAGE)
def api_create():
    """Create a motion as a draft.
    ---
    post:
      summary: Create a motion
      requestBody:
        content:
          application/json:
            schema:
              type: object
              required: [compound_id, title, matter, opens_at, closes_at]
              properties:
                compound_id: {type: string}
                title: {type: string}
                body: {type: string}
                matter: {type: string, description: "an art. 278 matter id, e.g. other_major"}
                rule_set:
                  type: string
                  enum: [auto, civil-code-2021, property-law-2007, simple-majority]
                opens_at: {type: string, format: date-time}
                closes_at: {type: string, format: date-time}
                late_after_hours: {type: integer, default: 24}
                show_running: {type: boolean, default: false}
                open_ballot: {type: boolean, default: false}
      responses:
        201: {description: the motion}
        422: {description: "errors: field -> message"}
    """
    values, errors = data.check_motion(_json_body(), zone())
    if not errors and not g.user.sees(values["compound_id"]):
        errors["compound_id"] = "outside your scope"
    if errors:
        return jsonify(error="invalid motion", errors=errors), 422
    motion_id = data.create_motion(get_db(), values, g.user.id, now())
    return jsonify(_motion_json(data.get_motion(get_db(), motion_id))), 201


@bp.get("/api/motions/<motion_id>")
@roles_required(*MANAGE)
def api_get(motion_id: str):
    """One motion.
    ---
    get:
      summary: A motion with its status and, once open, N and A
      parameters: [{in: path, name: motion_id, schema: {type: string}, required: true}]
      responses:
        200: {description: the motion}
        404: {description: no such motion}
    """
    return jsonify(_motion_json(managed(motion_id)))


def _action(motion_id: str, fn):
    managed(motion_id)
    _json_body()
    try:
        return fn()
    except data.VoteError as exc:
        return _refused(exc)


@bp.post("/api/motions/<motion_id>/open")
@csrf.exempt
@roles_required(*MANAGE)
def api_open(motion_id: str):
    """Open the motion: the electorate is frozen from the register now.
    ---
    post:
      summary: Open a motion
      parameters: [{in: path, name: motion_id, schema: {type: string}, required: true}]
      requestBody: {content: {application/json: {schema: {type: object}}}}
      responses:
        200: {description: "N, A and register problems of the frozen electorate"}
        409: {description: "already open, or the closing time has passed"}
    """

    def go():
        e = data.open_motion(get_db(), motion_id, now())
        publish(motion_id)
        d = e.to_dict()
        return jsonify(N=d["N"], A=d["A"], problems=d["problems"], fingerprint=e.fingerprint())

    return _action(motion_id, go)


@bp.get("/api/motions/<motion_id>/electorate")
@roles_required(*MANAGE)
def api_electorate(motion_id: str):
    """The frozen electorate, and changes to the register since (not applied).
    ---
    get:
      summary: List the electorate
      parameters: [{in: path, name: motion_id, schema: {type: string}, required: true}]
      responses:
        200:
          description: "N, A, owners (key, name, households, area, developer, voter),
            problems, register_changes"
        409: {description: not opened yet}
    """
    motion = managed(motion_id)
    try:
        e = data.electorate_of(motion)
    except data.VoteError as exc:
        return _refused(exc)
    return jsonify(**e.to_dict(), register_changes=data.register_changes(get_db(), motion))


@bp.post("/api/motions/<motion_id>/links")
@csrf.exempt
@roles_required(*MANAGE)
def api_links(motion_id: str):
    """Issue secret ballot links (earlier links of those owners are revoked).
    ---
    post:
      summary: Issue ballot links
      parameters: [{in: path, name: motion_id, schema: {type: string}, required: true}]
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                owner_keys: {type: array, items: {type: string}, description: "default: all"}
      responses:
        200: {description: "links: owner_key, name, households, token, url (shown once)"}
        409: {description: the motion is not open}
    """
    managed(motion_id)
    keys = _json_body().get("owner_keys")
    if keys is not None and not (isinstance(keys, list) and all(isinstance(k, str) for k in keys)):
        abort(400, description="owner_keys must be a list of strings")
    try:
        issued = data.issue_links(get_db(), motion_id, now(), keys)
    except data.VoteError as exc:
        return _refused(exc)
    for item in issued:
        item["url"] = url_for("voting.ballot", token=item["token"], _external=True)
    return jsonify(links=issued)


@bp.post("/api/motions/<motion_id>/links/revoke")
@csrf.exempt
@roles_required(*MANAGE)
def api_revoke(motion_id: str):
    """Revoke an owner's links (a lost phone, a link sent to the wrong person).
    ---
    post:
      summary: Revoke ballot links
      parameters: [{in: path, name: motion_id, schema: {type: string}, required: true}]
      requestBody:
        content:
          application/json:
            schema: {type: object, required: [owner_key], properties: {owner_key: {type: string}}}
      responses:
        200: {description: "revoked: how many links"}
    """
    managed(motion_id)
    key = str(_json_body().get("owner_key") or "")
    return jsonify(revoked=data.revoke_links(get_db(), motion_id, key, now()))


@bp.post("/api/motions/<motion_id>/close")
@csrf.exempt
@roles_required(*MANAGE)
def api_close(motion_id: str):
    """Close: compute and freeze the tally, the result, the bulletin and the audit list.
    ---
    post:
      summary: Close a motion
      parameters: [{in: path, name: motion_id, schema: {type: string}, required: true}]
      requestBody: {content: {application/json: {schema: {type: object}}}}
      responses:
        200: {description: "tally and result"}
        409: {description: "not open, or before the closing time"}
    """

    def go():
        closed = data.close_motion(get_db(), motion_id, now())
        publish(motion_id)
        return jsonify(closed)

    return _action(motion_id, go)


@bp.get("/api/motions/<motion_id>/result")
def api_result(motion_id: str):
    """The result: each test with its numbers and margin (public).
    ---
    get:
      summary: Result of a motion
      parameters: [{in: path, name: motion_id, schema: {type: string}, required: true}]
      responses:
        200:
          description: "closed: frozen tally and result; open: turnout (and a provisional
            result if running tallies are shown)"
        404: {description: no such motion}
    """
    motion = motion_or_404(motion_id)
    if motion["status"] == "draft":
        abort(404, description="no such motion")
    if motion["status"] == "closed":
        return jsonify(status="closed", frozen_at=motion["frozen_at"], tally=motion["tally"],
                       result=motion["result"])  # fmt: skip
    body = {"status": "open", "turnout": data.turnout(get_db(), motion, now())}
    if motion["show_running"]:
        body.update(data.provisional_result(get_db(), motion, now()))
    return jsonify(body)


@bp.get("/api/motions/<motion_id>/bulletin")
def api_bulletin(motion_id: str):
    """The public bulletin: every receipt code with its choice; recount from it (public).
    ---
    get:
      summary: Bulletin of a closed motion
      parameters: [{in: path, name: motion_id, schema: {type: string}, required: true}]
      responses:
        200: {description: "N, A, entries: receipt, choice, status, area (counted only)"}
        409: {description: published at the close}
    """
    motion = motion_or_404(motion_id)
    if motion["status"] != "closed":
        return jsonify(error="the bulletin is published at the close", code="not_closed"), 409
    return jsonify(motion["bulletin"])


@bp.get("/api/motions/<motion_id>/audit")
@roles_required(*MANAGE)
def api_audit(motion_id: str):
    """Every ballot with its status (counted, superseded, late, refused) and reason.
    ---
    get:
      summary: Audit list
      parameters: [{in: path, name: motion_id, schema: {type: string}, required: true}]
      responses:
        200: {description: "ballots; choice is null unless open ballots and the committee asks"}
        409: {description: not opened yet}
    """
    motion = managed(motion_id)
    try:
        items = data.audit_list(get_db(), motion, now(), show_choice=may_see_how(motion))
    except data.VoteError as exc:
        return _refused(exc)
    return jsonify(ballots=items)


@bp.post("/api/ballots/<token>")
@csrf.exempt
def api_cast(token: str):
    """Cast an online ballot with the owner's secret token; returns the receipt code.
    ---
    post:
      summary: Cast a ballot
      parameters: [{in: path, name: token, schema: {type: string}, required: true}]
      requestBody:
        content:
          application/json:
            schema:
              type: object
              required: [choice]
              properties: {choice: {type: string, enum: [for, against, abstain]}}
      responses:
        200: {description: "receipt, choice, received_at"}
        404: {description: unknown link}
        409: {description: "not open yet, or closed"}
        410: {description: revoked link}
        422: {description: bad choice}
    """
    choice = str(_json_body().get("choice") or "")
    try:
        got = data.cast_online(get_db(), token, choice, now(), writer())
    except data.VoteError as exc:
        return _refused(exc)
    return jsonify(receipt=got["receipt"], choice=got["choice"], received_at=got["received_at"])
