"""/api/openapi.json, built from the /api views' docstrings (YAML after '---')."""

from __future__ import annotations

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec_webframeworks.flask import FlaskPlugin
from flask import Blueprint, current_app, jsonify

from sync.schemas import BatchSchema

bp = Blueprint("openapi", __name__)

# Areas add marshmallow schemas here so their docstrings can refer to them by name.
SCHEMAS: dict[str, type] = {"BatchSchema": BatchSchema}


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
    for rule in current_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or rule.endpoint == "openapi.document":
            continue
        view = current_app.view_functions[rule.endpoint]
        spec.path(view=view, app=current_app)
    return spec.to_dict()


@bp.get("/api/openapi.json")
def document():
    return jsonify(build_spec())
