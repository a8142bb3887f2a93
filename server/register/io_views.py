"""Import (preview, then confirm), export, and the read-only household API."""

from __future__ import annotations

from flask import Response, flash, g, jsonify, redirect, request, url_for
from flask_babel import gettext as _

from sync import WriteError

from ..auth.access import require_compound, roles_required
from ..db import get_db, get_replica
from ..places import data as places
from ..places.scope import ADMIN, REGISTER_READERS, missing, scope_of
from ..web import render
from . import data, export, importer
from .views import bp, list_args, query_households


def _import_form(errors: dict | None = None, form: dict | None = None, status: int = 200):
    return render(
        "register/import.html",
        compounds=places.compound_names(get_db(), scope_of(g.user)),
        kinds=importer.KINDS,
        form=form or {},
        errors=errors or {},
        status=status,
    )


def _preview(pending: dict, plan: importer.Plan, compound: dict, status: int = 200):
    return render(
        "register/import_preview.html",
        pending=pending,
        plan=plan,
        compound=compound,
        status=422 if plan.errors else status,
    )


@bp.get("/import")
@roles_required(*ADMIN)
def import_form():
    return _import_form()


@bp.post("/import")
@roles_required(*ADMIN)
def import_upload():
    db = get_db()
    form = {"compound": request.form.get("compound", ""), "kind": request.form.get("kind", "")}
    errors = {}
    compound = places.get_compound(db, form["compound"]) if form["compound"] else None
    if compound is None or not g.user.sees(form["compound"]):
        errors["compound"] = _("Choose a compound from the list.")
    if form["kind"] not in importer.KINDS:
        errors["kind"] = _("Choose what the file holds.")
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        errors["file"] = _("Choose a CSV or XLSX file.")
    if errors:
        return _import_form(errors, form, status=422)
    try:
        rows = importer.read_rows(upload.filename, upload.read())
    except importer.ImportFileError as exc:
        return _import_form({"file": str(exc)}, form, status=422)
    if not rows:
        return _import_form({"file": _("The file has no rows below its header.")}, form, 422)
    token = data.save_import(db, g.user.id, compound["id"], form["kind"], upload.filename, rows)
    plan = importer.plan(db, form["kind"], compound["id"], compound["name"], rows)
    pending = {"token": token, "filename": upload.filename, "kind": form["kind"]}
    return _preview(pending, plan, compound)


@bp.post("/import/<token>")
@roles_required(*ADMIN)
def import_confirm(token: str):
    db = get_db()
    pending = data.load_import(db, token, g.user.id)
    if pending is None:
        flash(_("This import has expired or was done already; upload the file again."))
        return redirect(url_for("register.import_form"), code=303)
    require_compound(pending["compound_id"])
    compound = places.get_compound(db, pending["compound_id"])
    if compound is None:
        missing()
    # Checked again: the register may have changed since the preview.
    plan = importer.plan(db, pending["kind"], compound["id"], compound["name"], pending["rows"])
    if plan.errors:
        return _preview(pending, plan, compound)
    try:
        written = importer.apply(get_replica(), plan)
    except WriteError as exc:
        flash(_("Nothing was imported: %(e)s", e=str(exc)))
        return _preview(pending, plan, compound, status=422)
    data.drop_import(db, token)
    flash(
        _(
            "Imported: %(new)s new, %(changed)s changed, %(same)s unchanged (%(n)s rows written).",
            new=plan.count("new"),
            changed=plan.count("changed"),
            same=plan.count("unchanged"),
            n=written,
        )
    )
    return redirect(url_for("register.households", compound=compound["id"]), code=303)


@bp.get("/export/<kind>.<fmt>")
@roles_required(*ADMIN)
def export_list(kind: str, fmt: str):
    if kind not in importer.KINDS or fmt not in ("csv", "xlsx"):
        missing()
    compound = request.args.get("compound") or None
    scope = scope_of(g.user)
    if compound:
        require_compound(compound)
        scope = [compound]
    db = get_db()
    if kind == "households":
        columns, rows = export.HOUSEHOLD_EXPORT, data.export_households(db, scope)
    else:
        columns, rows = export.RESIDENT_EXPORT, data.export_residents(db, scope)
    if fmt == "csv":
        body, mime = export.to_csv(columns, rows), "text/csv; charset=utf-8"
    else:
        body = export.to_xlsx(columns, rows, kind)
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    resp = Response(body, mimetype=mime)
    resp.headers["Content-Disposition"] = f'attachment; filename="{kind}.{fmt}"'
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.get("/api/households")
@roles_required(*REGISTER_READERS)
def api_households():
    """Households in the signed-in user's compounds, filtered and paginated like the page.
    ---
    get:
      summary: List households (session sign-in; your compounds only)
      parameters:
        - {in: query, name: q, schema: {type: string}, description: "unit, owner, phone, resident"}
        - {in: query, name: compound, schema: {type: string}}
        - {in: query, name: building, schema: {type: string}, description: building id}
        - {in: query, name: medical_worker, schema: {type: string}}
        - {in: query, name: hardship, schema: {type: string}}
        - {in: query, name: elderly_alone, schema: {type: string}}
        - {in: query, name: page, schema: {type: integer}}
      responses:
        200: {description: "households (id, compound, building, unit, flags), total, page"}
        401: {description: not signed in}
        403: {description: "role may not read the register, or compound outside your scope"}
        404: {description: "unknown compound (to a user who sees every compound; others get 403)"}
    """
    args = list_args()
    rows, total = query_households(args)
    for row in rows:
        for flag in data.FLAGS:
            row[flag] = bool(row[flag]) if row[flag] is not None else None
    return jsonify(households=rows, total=total, page=args["page"], per_page=data.PER_PAGE)
