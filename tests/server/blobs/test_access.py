"""Who may read and write photos, bad names, and the "photo pending" list."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from server.auth import data as auth_data
from server.blobs import data as blob_data
from server.db import get_db
from tests.server.conftest import make_device, make_user
from tests.sync.photo_helpers import photo, png_claiming_size

PHOTO = photo("JPEG", gps=False)
SHA = hashlib.sha256(PHOTO).hexdigest()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def upload(client, token: str, data: bytes = PHOTO):
    sha = hashlib.sha256(data).hexdigest()
    return client.put(
        f"/api/blobs/{sha}?offset=0&total={len(data)}", data=data, headers=bearer(token)
    )


def photo_row(app, sha: str, compound: str, **over) -> None:
    """A `photos` row as a sync would bring it (written through the server's replica)."""
    app.extensions["replica"].write("photos", sha, {"compound_id": compound, **over})


@pytest.mark.parametrize(
    "name",
    [
        "A" * 64,
        "g" * 64,
        "a" * 63,
        "a" * 65,
        "..",
        "...." + "a" * 60,
        "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "..%5c..%5cwindows",
        "a" * 63 + "%00",
    ],
)
def test_names_that_are_not_a_sha256_are_refused(server_app, client, name):
    token = make_device(server_app)
    for method, path in [
        ("get", f"/api/blobs/{name}/status"),
        ("put", f"/api/blobs/{name}?offset=0&total=3"),
        ("get", f"/api/blobs/{name}"),
        ("get", f"/api/blobs/{name}/thumb"),
    ]:
        resp = getattr(client, method)(path, data=b"abc", headers=bearer(token))
        assert resp.status_code in (400, 404), (method, path, resp.status_code)
        assert resp.is_json
    data_dir = Path(server_app.config["DATA_DIR"])
    written = [p.name for p in data_dir.rglob("*") if p.is_file()]
    assert all(n.startswith(("lastmeter.db", "config.toml")) for n in written), written


def test_an_uppercase_name_is_refused_with_400_and_a_reason(server_app, client):
    token = make_device(server_app)
    resp = client.put(
        f"/api/blobs/{SHA.upper()}?offset=0&total=3", data=b"abc", headers=bearer(token)
    )
    assert resp.status_code == 400
    assert "64 lowercase hex" in resp.get_json()["error"]


@pytest.mark.parametrize(
    "query",
    ["", "?offset=0", "?total=5", "?offset=x&total=5", "?offset=-1&total=5", "?offset=0&total=0"],
)
def test_an_upload_needs_whole_offset_and_total(server_app, client, query):
    token = make_device(server_app)
    resp = client.put(f"/api/blobs/{SHA}{query}", data=b"12345", headers=bearer(token))
    assert resp.status_code == 400


@pytest.mark.parametrize("header", [None, "Bearer lm_wrong", "Bearer ", "Basic abc", "lm_x"])
def test_a_missing_or_wrong_token_gets_401(server_app, client, header):
    make_device(server_app)
    headers = {"Authorization": header} if header else {}
    assert client.get(f"/api/blobs/{SHA}/status", headers=headers).status_code == 401
    put = client.put(f"/api/blobs/{SHA}?offset=0&total=5", data=b"12345", headers=headers)
    assert put.status_code == 401
    assert client.get(f"/api/blobs/{SHA}", headers=headers).status_code == 401
    assert client.get("/api/blobs/pending", headers=headers).status_code == 401


def test_a_revoked_token_gets_401(server_app, client):
    token = make_device(server_app)
    assert upload(client, token).status_code == 201
    with server_app.app_context():
        device = auth_data.device_for_token(get_db(), token)
        auth_data.revoke_device(get_db(), device.id)
    assert client.get(f"/api/blobs/{SHA}", headers=bearer(token)).status_code == 401
    assert client.get(f"/api/blobs/{SHA}/status", headers=bearer(token)).status_code == 401


def test_a_device_of_another_compound_gets_403(server_app, client):
    photo_row(server_app, SHA, "c2")
    owner = make_device(server_app, "vol2", compounds=("c2",))
    other = make_device(server_app, "vol1", compounds=("c1",))
    assert upload(client, other).status_code == 403  # may not attach bytes to c2's photo
    assert client.get(f"/api/blobs/{SHA}/status", headers=bearer(other)).status_code == 403
    assert upload(client, owner).status_code == 201
    for path in (f"/api/blobs/{SHA}", f"/api/blobs/{SHA}/thumb"):
        assert client.get(path, headers=bearer(other)).status_code == 403
        ok = client.get(path, headers=bearer(owner))
        assert ok.status_code == 200
        assert ok.mimetype == "image/jpeg"


def test_a_signed_in_user_sees_photos_of_their_compounds_only(server_app, client, auth):
    photo_row(server_app, SHA, "c2")
    assert upload(client, make_device(server_app, "vol2", compounds=("c2",))).status_code == 201
    _, pw = make_user(server_app, "head1", role="building_head", compounds=("c1",))
    _, pw2 = make_user(server_app, "head2", role="building_head", compounds=("c2",))
    assert client.get(f"/api/blobs/{SHA}").status_code == 401  # not signed in
    auth.login("head1", pw)
    assert client.get(f"/api/blobs/{SHA}").status_code == 403
    auth.logout()
    auth.login("head2", pw2)
    resp = client.get(f"/api/blobs/{SHA}/thumb")
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"].startswith("private")


def test_a_photo_before_its_record_is_seen_only_by_its_uploader_and_all_scope(server_app, client):
    uploader = make_device(server_app, "vol1", compounds=("c1",))
    stranger = make_device(server_app, "vol9", compounds=("c1",))
    admin = make_device(server_app, "admin", role="community_admin", compounds=("*",))
    assert upload(client, uploader).status_code == 201
    assert client.get(f"/api/blobs/{SHA}", headers=bearer(uploader)).status_code == 200
    assert client.get(f"/api/blobs/{SHA}", headers=bearer(admin)).status_code == 200
    assert client.get(f"/api/blobs/{SHA}", headers=bearer(stranger)).status_code == 404
    photo_row(server_app, SHA, "c1")  # the record arrives: now its compound decides
    assert client.get(f"/api/blobs/{SHA}", headers=bearer(stranger)).status_code == 200


def test_a_record_without_bytes_reads_as_photo_pending(server_app, client):
    photo_row(server_app, SHA, "c1")
    token = make_device(server_app, "vol1", compounds=("c1",))
    resp = client.get(f"/api/blobs/{SHA}", headers=bearer(token))
    assert resp.status_code == 404
    assert "photo pending" in resp.get_json()["error"]


def test_pending_lists_records_whose_bytes_have_not_arrived_in_the_callers_scope(
    server_app, client, auth
):
    other = photo("PNG", gps=False)
    other_sha = hashlib.sha256(other).hexdigest()
    third = "e" * 64
    photo_row(server_app, SHA, "c1", ref_table="medicine_requests", ref_id="m1")
    photo_row(server_app, other_sha, "c1")
    photo_row(server_app, third, "c2")
    vol = make_device(server_app, "vol1", compounds=("c1",))
    assert upload(client, vol, other).status_code == 201

    body = client.get("/api/blobs/pending", headers=bearer(vol)).get_json()
    assert body["count"] == 1
    assert [(p["id"], p["ref_table"], p["ref_id"]) for p in body["pending"]] == [
        (SHA, "medicine_requests", "m1")
    ]
    _, pw = make_user(server_app, "admin", compounds=("*",))
    auth.login("admin", pw)
    every = client.get("/api/blobs/pending").get_json()
    assert {p["id"] for p in every["pending"]} == {SHA, third}
    assert client.get("/api/blobs/pending?limit=1").get_json()["count"] == 2
    assert len(client.get("/api/blobs/pending?limit=1").get_json()["pending"]) == 1
    assert client.get("/api/blobs/pending?limit=0").status_code == 400

    assert upload(client, vol).status_code == 201
    with server_app.app_context():
        db = get_db()
        assert [p["id"] for p in blob_data.pending_photos(db, ["c1"])] == []
        assert [p["id"] for p in blob_data.pending_photos(db, None)] == [third]
        assert blob_data.pending_photos(db, []) == []
        assert blob_data.count_pending(db, ["c2"]) == 1
        assert blob_data.arrived(db, [SHA, other_sha, third]) == {SHA, other_sha}


def test_the_openapi_document_describes_the_blob_endpoints(client):
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert {"put", "get"} <= set(paths["/api/blobs/{sha}"])
    assert "get" in paths["/api/blobs/{sha}/status"]
    assert "get" in paths["/api/blobs/{sha}/thumb"]
    assert "get" in paths["/api/blobs/pending"]
    put = paths["/api/blobs/{sha}"]["put"]
    assert {"409", "413", "415", "422"} <= {str(k) for k in put["responses"]}


def test_a_decompression_bomb_is_refused_with_415(server_app, client):
    token = make_device(server_app)
    resp = upload(client, token, png_claiming_size(30_000, 30_000))
    assert resp.status_code == 415
    assert "pixels" in resp.get_json()["error"]
    with server_app.app_context():
        assert get_db().execute("SELECT count(*) FROM blobs").fetchone()[0] == 0
