"""/api/openapi.json, built from the /api views' docstrings (YAML after '---')."""

from __future__ import annotations

import re

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec_webframeworks.flask import FlaskPlugin
from flask import Blueprint, current_app, jsonify
from marshmallow import fields

from sync.schemas import BatchSchema

bp = Blueprint("openapi", __name__)


class PulledBatchSchema(BatchSchema):
    """GET /api/sync/pull's answer: a batch, the server's clock and the device's scope
    (and, asked with who=1, its user and role)."""

    server_time_ms = fields.Integer(required=True)
    scope = fields.List(fields.String(), required=True)
    user = fields.String()  # with who=1
    role = fields.String()  # with who=1


# Areas add marshmallow schemas here so their docstrings can refer to them by name.
SCHEMAS: dict[str, type] = {"BatchSchema": BatchSchema, "PulledBatchSchema": PulledBatchSchema}


def build_spec() -> dict:
    spec = APISpec(
        title="Last Meter",
        version="1",
        openapi_version="3.0.3",
        plugins=[FlaskPlugin(), MarshmallowPlugin()],
        info={"description": "Community server API: sync, blobs, register, votes, supplies."},
    )
    spec.components.security_scheme("device", {"type": "http", "scheme": "bearer"})
    for name, schema in sorted(SCHEMAS.items()):
        spec.components.schema(name, schema=schema)
    views = {}
    for rule in current_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.endpoint == "openapi.document":
            continue
        view = current_app.view_functions[rule.endpoint]
        spec.path(view=view, app=current_app)
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in rule.methods or ():
            views[(path, method.lower())] = view
    doc = spec.to_dict()
    _common_errors(doc, views)
    return doc


# Answers any view can give through the shared machinery (decorators, Flask limits), added
# to each operation that lacks them so the document lists every status a client can see.
UNKNOWN_ID = {"description": "no such object (unknown id in the path)"}
SIGN_IN = {"description": "sign in first (page session) or send a device token"}
FORBIDDEN = {"description": "your role or scope may not do this"}
TOO_MANY = {"description": "too many bad device tokens from this address; see Retry-After"}
TOO_LARGE = {"description": "body larger than max_request_bytes"}
NOT_JSON = {"description": "the body is not application/json"}
DISK_FULL = {"description": "the server's disk is full: nothing of the request was kept"}


def _common_errors(doc: dict, views: dict) -> None:
    for path, path_item in doc.get("paths", {}).items():
        for method, op in path_item.items():
            if method not in ("get", "post", "put", "delete", "patch"):
                continue
            responses = op.setdefault("responses", {})
            view = views.get((path, method))
            params = list(path_item.get("parameters", [])) + list(op.get("parameters", []))
            if any(p.get("in") == "path" for p in params):
                responses.setdefault("404", UNKNOWN_ID)
            if view is not None and (
                getattr(view, "login_required", False) or getattr(view, "roles", None)
            ):
                responses.setdefault("401", SIGN_IN)
                responses.setdefault("403", FORBIDDEN)
            security = op.get("security") or []
            if any("device" in s for s in security):
                responses.setdefault("401", SIGN_IN)
                responses.setdefault("429", TOO_MANY)
            if "requestBody" in op or method in ("post", "put", "patch"):
                responses.setdefault("413", TOO_LARGE)
                responses.setdefault("507", DISK_FULL)
            body = op.get("requestBody", {}).get("content", {})
            if "application/json" in body:
                responses.setdefault("415", NOT_JSON)


@bp.get("/api/openapi.json")
def document():
    return jsonify(build_spec())
