"""/api/openapi.json describes the sync endpoints and is a valid OpenAPI 3 document."""

from __future__ import annotations

from openapi_spec_validator import validate


def test_the_sync_part_of_the_openapi_document_is_valid(client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    # Other areas' paths are theirs to validate; the sync endpoints and schemas must be valid.
    spec["paths"] = {p: v for p, v in spec["paths"].items() if p.startswith("/api/sync/")}
    validate(spec)


def test_the_sync_endpoints_are_described(client):
    spec = client.get("/api/openapi.json").get_json()
    paths = spec["paths"]
    assert set(paths["/api/sync/hello"]) == {"get"}
    assert set(paths["/api/sync/push"]) == {"post"}
    assert set(paths["/api/sync/pull"]) == {"get"}
    push = paths["/api/sync/push"]["post"]
    assert {"200", "400", "401", "403", "409", "413"} <= set(push["responses"])
    body = push["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/BatchSchema"}
    pull = paths["/api/sync/pull"]["get"]
    assert {p["name"] for p in pull["parameters"]} == {"cursor", "base", "site", "limit", "who"}
    for path in ("/api/sync/hello", "/api/sync/push", "/api/sync/pull"):
        for operation in paths[path].values():
            assert operation["security"] == [{"device": []}]
            assert "401" in operation["responses"]
    batch = spec["components"]["schemas"]["BatchSchema"]
    assert set(batch["required"]) == {
        "protocol_version",
        "origin",
        "next",
        "more",
        "sites",
        "tables",
    }
    assert spec["components"]["securitySchemes"]["device"]["scheme"] == "bearer"
