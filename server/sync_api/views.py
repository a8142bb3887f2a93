"""POST /api/sync/push, GET /api/sync/pull, GET /api/sync/hello (device token auth)."""

from __future__ import annotations

import time

from flask import Blueprint, abort, current_app, g, request

from sync import Batch, BatchError
from sync.clock import wall_ms
from sync.schemas import PROTOCOL_VERSION

from ..auth import data as auth_data
from ..auth.access import device_required
from ..db import get_db, get_replica
from ..permissions import hidden_tables
from . import data as push_data
from . import policy
from .wire import json_response, read_json

bp = Blueprint("sync_api", __name__, url_prefix="/api/sync")
CSRF_EXEMPT = True  # token-authenticated JSON API, no cookies involved


def _scope() -> list[str] | None:
    user = g.device.user
    return None if auth_data.ALL in user.compounds else list(user.compounds)


def _bind_site(site: str) -> None:
    """One device token, one laptop database (site id); 409 when a copy shows up.

    A token used by a database other than the one it first synced (a re-created or
    foreign database), or a database already synced under another active token (a copied
    laptop), would let two writers stamp cells with one site id: refused.
    """
    device = g.device
    if device.site_id is not None:
        if device.site_id != site:
            abort(
                409,
                description=(
                    "this token belongs to another laptop's database; re-enrol this laptop "
                    "with `lastmeter agent init` and a new device token"
                ),
            )
        return
    other = auth_data.device_for_site(get_db(), site)
    if other is not None and other != device.id:
        abort(
            409,
            description=(
                f"this laptop's database is a copy of the one of device {other}; give this "
                "laptop a fresh data directory (`lastmeter agent init`), or revoke device "
                f"{other} if it is the same laptop"
            ),
        )
    auth_data.touch_device(get_db(), device.id, site)
    device.site_id = site


def _check_not_behind(next_: int) -> None:
    """409 when a push ends before what this token already pushed: the laptop's database
    went back, so two databases (a copy, or a restored backup) share one site id.

    A re-sent batch after a lost answer ends where it ended before (equal), never before.
    """
    reached = push_data.pushed_up_to(get_db(), g.device.id)
    if reached is not None and next_ < reached:
        abort(
            409,
            description=(
                f"this laptop's database is behind what this device already sent ({next_} < "
                f"{reached}): another laptop is using a copy of it, or it was restored from a "
                "backup. Two laptops must never share a database: give this laptop a fresh "
                "data directory (`lastmeter agent init`) with a new device token, and revoke "
                "this device if its laptop is gone"
            ),
        )


@bp.get("/hello")
@device_required
def hello():
    """Who the device is and the server's clock.
    ---
    get:
      summary: Handshake before a sync
      security: [{device: []}]
      responses:
        200: {description: "server_time_ms, server site id, the device's user, role and scope"}
        401: {description: missing or revoked token}
    """
    replica = get_replica()
    user = g.device.user
    return json_response(
        {
            "protocol_version": PROTOCOL_VERSION,
            "server_site": replica.site_id,
            "server_time_ms": wall_ms(),
            "device": g.device.name,
            "user": user.username,
            "role": user.role,
            "scope": user.compounds,
        }
    )


@bp.post("/push")
@device_required
def push():
    """Merge a batch of the device's own cells; bad cells come back rejected with reasons.
    ---
    post:
      summary: Push a batch (gzip JSON allowed)
      security: [{device: []}]
      requestBody:
        content:
          application/json:
            schema: BatchSchema
      responses:
        200: {description: "accepted count, rejected cells with reason codes, ack cursor"}
        400: {description: "malformed request: not JSON, not gzip, wrong shape"}
        401: {description: missing or revoked token}
        403: {description: the device's role may not push at all}
        409: {description: "token and database (site id) do not match, or the database went back"}
        413: {description: body too large}
    """
    device = g.device
    if not policy.may_push(device.user.role):
        abort(403, description=f"a {device.user.role} device may not push cells")
    data = read_json()
    try:
        batch = Batch.from_dict(data)
    except BatchError as exc:
        abort(400, description=str(exc))
    _bind_site(batch.origin)
    _check_not_behind(batch.next)
    rejected = policy.strip_foreign(batch, device, batch.origin)
    result = get_replica().apply(batch, policy=policy.row_policy(device))
    push_data.note_push(get_db(), device.id, batch.origin, batch.next)
    if not device.last_seen_at or time.time() - device.last_seen_at > 60:
        auth_data.touch_device(get_db(), device.id, batch.origin)  # a write: once a minute
    rejected += result.rejected
    return json_response(
        {
            "protocol_version": PROTOCOL_VERSION,
            "ack": batch.next,
            "accepted": result.accepted,
            "changed": result.changed,
            "rejected": [r.to_dict() for r in rejected],
            "server_time_ms": wall_ms(),
        }
    )


@bp.get("/pull")
@device_required
def pull():
    """The server's cells in the device's scope since `cursor`, never the device's own.
    ---
    get:
      summary: Pull a batch
      security: [{device: []}]
      parameters:
        - {in: query, name: cursor, schema: {type: integer, minimum: 0}, required: true}
        - in: query
          name: base
          description: "where the agent's unfinished pass began (default: cursor); rows carry
            their cells changed after it"
          schema: {type: integer, minimum: 0}
        - {in: query, name: site, schema: {type: string}, required: true}
        - {in: query, name: limit, schema: {type: integer, minimum: 1, maximum: 100000}}
        - in: query
          name: who
          description: "1: add the device's user and role to the answer, so an agent that
            knows the server's site id refreshes them without a hello"
          schema: {type: integer, enum: [0, 1]}
      responses:
        200:
          description: a batch; continue from `next` while `more`
          content:
            application/json:
              schema: PulledBatchSchema
        400: {description: bad parameters}
        401: {description: missing or revoked token}
        409: {description: "the token and the laptop's database (site id) do not match"}
    """
    try:
        cursor = int(request.args.get("cursor", ""))
        base = int(request.args.get("base", cursor))
        limit = int(request.args.get("limit", current_app.config["PULL_BATCH_CELLS"]))
    except ValueError:
        abort(400, description="cursor, base and limit must be whole numbers")
    site = request.args.get("site", "")
    if not 0 <= base <= cursor or not 1 <= limit <= 100_000 or not 1 <= len(site) <= 64:
        abort(
            400,
            description="need 0 <= base <= cursor, 1 <= limit <= 100000 and the agent's site id",
        )
    _bind_site(site)
    batch = get_replica().changes_since(
        cursor, scope=_scope(), exclude_site=site, limit=limit, cells_after=base
    )
    for table in hidden_tables(g.device.user.role):
        batch.tables.pop(table, None)  # e.g. paper ballots: who voted how stays on the server
    body = batch.to_dict()
    body["server_time_ms"] = wall_ms()
    body["scope"] = g.device.user.compounds  # the agent re-reads all when it widens
    if request.args.get("who") == "1":
        # Asked for, not always sent: an older agent refuses unknown keys in a batch.
        body["user"] = g.device.user.username
        body["role"] = g.device.user.role
    return json_response(body)
