"""The whole /api/openapi.json is a valid OpenAPI document and lists every /api endpoint."""

from __future__ import annotations

from openapi_spec_validator import validate


def test_openapi_document_is_valid_and_complete(client, server_app):
    resp = client.get("/api/openapi.json")
    assert resp.status_code == 200
    spec = resp.get_json()
    validate(spec)
    documented = set(spec["paths"])
    for rule in server_app.url_map.iter_rules():
        if rule.rule.startswith("/api/") and rule.endpoint != "openapi.document":
            path = rule.rule.replace("<", "{").replace(">", "}")
            path = path.replace("{int:", "{").replace("{path:", "{")
            assert path in documented, f"{rule.rule} is missing from the OpenAPI document"
            assert spec["paths"][path], f"{rule.rule} has no documented operations"
