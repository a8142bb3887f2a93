"""Sync status bar, Sync now with progress, the outbox of rejected cells, conflicts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Blueprint, abort, current_app, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from sync import WriteError
from sync.blob_upload import pending_uploads
from sync.http_client import outbox, set_outbox_status

from .. import localtime, settings
from ..db import get_db, get_replica
from ..syncer import count_waiting
from ..volunteers.access import passive, recorded_by
from ..web import is_htmx, render
from . import data

bp = Blueprint("syncing", __name__, url_prefix="/sync")
NAV = [("syncing.index", _l("Sync")), ("syncing.outbox_page", _l("Outbox"))]


def _waiting(db: Any, peer: str | None) -> int:
    """Cells not yet acknowledged; recounted only when the replica or the cursor moved."""
    sent = 0
    if peer:
        row = db.execute("SELECT sent FROM _lm_peers WHERE peer = ?", [peer]).fetchone()
        sent = row[0] if row else 0
    key = (data.local_counter(db), sent, peer)
    cached = current_app.extensions.get("waiting_cache")
    if cached and cached[0] == key:
        return cached[1]
    count = count_waiting(get_replica(), peer)
    current_app.extensions["waiting_cache"] = (key, count)
    return count


def _counts(conf: dict[str, Any]) -> dict[str, int]:
    """The status bar's figures from the database, once per request (a page may ask twice)."""
    if "sync_counts" not in g:
        db = get_db()
        g.sync_counts = {
            "waiting": _waiting(db, conf.get("server_site")),
            "rejected": data.count_open_rejected(db),
            "conflicts": data.count_conflicts(db),
            "photos_waiting": len(pending_uploads(get_replica())),
        }
    return g.sync_counts


def status() -> dict[str, Any]:
    conf = settings.load_cached(current_app.config["DATA_DIR"])
    state = current_app.extensions["agent_sync"].state
    offset = conf.get("clock_offset_ms")
    last = conf.get("last_sync_at")
    return {
        "enrolled": bool(conf.get("server_url") and conf.get("token")),
        "server_url": conf.get("server_url"),
        "online": state["online"],
        "running": state["running"] or state.get("queued", False),
        "phase": state["phase"],
        "done": state["done"],
        "error": state["error"],
        "error_kind": state["error_kind"],
        "last_sync_at": localtime.show(last) if last else None,
        **_counts(conf),
        "clock_offset_s": None if offset is None else round(offset / 1000),
        "clock_warn": offset is not None and abs(offset) > 60_000,
        "role": conf.get("role"),
        "user": conf.get("user"),
    }


@bp.app_context_processor
def inject_status():
    return {"sync_status": status}


@bp.get("/")
def index():
    return render("syncing/index.html", "syncing/_status.html", sync=status())


@bp.get("/status")
@passive
def status_bar():
    """The status bar alone (htmx polls it; polling does not count as activity)."""
    return render("syncing/_status.html", sync=status())


@bp.post("/now")
def now():
    """Start a sync in the background and come back at once: the page shows progress."""
    job = current_app.extensions["agent_sync"]
    if not status()["enrolled"]:
        flash(_("This laptop is not enrolled: run `lastmeter agent init` with a device token."))
    else:
        job.state["queued"] = True
        job.request_now()
    if is_htmx():
        return render("syncing/_status.html", sync=status())
    return redirect(url_for("syncing.index"), code=303)


# -- outbox -------------------------------------------------------------------------------


def _outbox_items() -> list[dict[str, Any]]:
    items = outbox(current_app.config["DATABASE"])
    replica = get_replica()
    for item in items:
        table = replica.schema.tables.get(item["tbl"])
        item["immutable"] = bool(table and table.immutable)
        item["at_local"] = localtime.show(dt.datetime.fromtimestamp(item["at"], dt.UTC).isoformat())
        shown = item["value"]
        item["shown"] = "" if shown is None else str(shown)
    return items


@bp.get("/outbox")
def outbox_page(errors: dict[int, str] | None = None, status_code: int = 200):
    return render(
        "syncing/outbox.html", items=_outbox_items(), errors=errors or {}, status=status_code
    )


def _item(item_id: int) -> dict[str, Any]:
    for item in outbox(current_app.config["DATABASE"]):
        if item["id"] == item_id:
            return item
    abort(404, description=_("This rejected cell is no longer open."))


@bp.post("/outbox/<int:item_id>/resend")
def resend(item_id: int):
    item = _item(item_id)
    raw = request.form.get("value") if item["col"] is not None else None
    try:
        how, new = data.resend(get_replica(), item, raw, recorded_by())
    except data.BadValue as exc:
        return outbox_page({item_id: str(exc)}, 422)
    except WriteError as exc:
        return outbox_page({item_id: "; ".join(p.message for p in exc.problems)}, 422)
    path = current_app.config["DATABASE"]
    set_outbox_status(path, item_id, "resent")
    if how == "copy":
        # The whole row was re-created: its other rejected cells are settled too.
        for other in outbox(path):
            if other["tbl"] == item["tbl"] and other["row_id"] == item["row_id"]:
                set_outbox_status(path, other["id"], "resent")
    flash(_("Written again; it goes with the next sync."))
    current_app.extensions["agent_sync"].request_now()
    return redirect(url_for("syncing.outbox_page"), code=303)


@bp.post("/outbox/<int:item_id>/discard")
def discard(item_id: int):
    _item(item_id)
    set_outbox_status(current_app.config["DATABASE"], item_id, "discarded")
    flash(_("Discarded: the server keeps its value."))
    return redirect(url_for("syncing.outbox_page"), code=303)


# -- conflicts ----------------------------------------------------------------------------


@bp.get("/conflicts")
def conflicts():
    replica = get_replica()
    items = [c for c in replica.conflicts() if c["column"] not in data.META_COLUMNS]
    for item in items:
        when = data.hlc_time(item["won_hlc"])
        item["won_at"] = localtime.show(when.isoformat()) if when else ""
        mine = data.hlc_time(item["lost_hlc"])
        item["lost_at"] = localtime.show(mine.isoformat()) if mine else ""
        row = None
        table = replica.schema.tables.get(item["table"])
        if table is not None:
            row = replica.get(item["table"], item["row_id"])
        item["their_volunteer"] = (row or {}).get("recorded_by")
        item["mine_site"] = item["lost_site"] == replica.site_id
    return render("syncing/conflicts.html", items=items, error=request.args.get("error"))


@bp.post("/conflicts/<int:conflict_id>/keep-theirs")
def keep_theirs(conflict_id: int):
    replica = get_replica()
    item = next((c for c in replica.conflicts() if c["id"] == conflict_id), None)
    if item is None or not replica.dismiss_conflict(conflict_id):
        abort(404, description=_("This conflict is already settled."))
    for other in replica.conflicts():  # the who-recorded-it of the same edit goes with it
        same = (other["table"], other["row_id"]) == (item["table"], item["row_id"])
        if same and other["column"] in data.META_COLUMNS:
            replica.dismiss_conflict(other["id"])
    flash(_("Kept the other value."))
    return redirect(url_for("syncing.conflicts"), code=303)


@bp.post("/conflicts/<int:conflict_id>/write-mine")
def write_mine(conflict_id: int):
    replica = get_replica()
    item = next((c for c in replica.conflicts() if c["id"] == conflict_id), None)
    if item is None:
        abort(404, description=_("This conflict is already settled."))
    table = replica.schema.tables[item["table"]]
    cells = {item["column"]: item["lost_value"]}
    if "recorded_by" in table.by_name and item["column"] != "recorded_by":
        cells["recorded_by"] = recorded_by()
    try:
        replica.write(item["table"], item["row_id"], cells)
    except WriteError as exc:
        message = "; ".join(p.message for p in exc.problems)
        flash(_("Cannot write yours again: %(why)s", why=message))
        return redirect(url_for("syncing.conflicts"), code=303)
    flash(_("Your value is written again; it goes with the next sync."))
    return redirect(url_for("syncing.conflicts"), code=303)
