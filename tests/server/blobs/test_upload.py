"""Photo upload over real HTTP (waitress on 127.0.0.1): resumable, verified, images only."""

from __future__ import annotations

import hashlib

import pytest
import requests

from server.blobs import data as blob_data
from server.db import open_db
from sync.blob_upload import blob_upload_state, pending_uploads
from sync.http_client import SyncError, upload_blobs
from sync.images import strip_location
from tests.server.blobs.helpers import CorruptingProxy
from tests.server.conftest import make_device
from tests.sync.photo_helpers import big_jpeg, metadata, photo

CHUNK = 64 * 1024


@pytest.fixture(scope="module")
def big() -> bytes:
    """A JPEG of about 530 KB without metadata (nine 64 KB chunks)."""
    data = big_jpeg()
    assert 6 * CHUNK < len(data) < 12 * CHUNK
    return data


def sha_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def server_files(app) -> list[str]:
    """Every file under the server's blob directory (relative paths)."""
    from pathlib import Path

    root = Path(app.config["BLOB_DIR"])
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def blob_rows(app) -> list[dict]:
    db = open_db(app.config["DATABASE"])
    try:
        return list(db["blobs"].rows)
    finally:
        db.close()


def session(token: str) -> requests.Session:
    s = requests.Session()
    s.headers["Authorization"] = f"Bearer {token}"
    return s


class Stop(Exception):
    """Raised from the progress callback: the laptop goes away mid-upload."""


def test_upload_cut_off_half_way_resumes_from_the_servers_offset(live, agent, big, server_app):
    token = make_device(server_app)
    sha = agent.add_photo(big)
    chunks_done = []

    def cut_after_four(phase, done, total):
        chunks_done.append(done)
        if len(chunks_done) == 4:
            raise Stop

    first = agent.client(live.url, token, progress=cut_after_four)
    with pytest.raises(Stop):
        upload_blobs(first, agent.store, [sha], chunk_size=CHUNK)
    status = session(token).get(f"{live.url}/api/blobs/{sha}/status").json()
    assert (status["complete"], status["offset"]) == (False, 4 * CHUNK)
    head = session(token).head(f"{live.url}/api/blobs/{sha}/status")
    assert head.headers["X-Blob-Offset"] == str(4 * CHUNK)
    assert head.headers["X-Blob-Complete"] == "0"

    second = agent.client(live.url, token)
    result = upload_blobs(second, agent.store, [sha], chunk_size=CHUNK)
    assert result["uploaded"] == [sha]
    assert result["bytes_sent"] == len(big) - 4 * CHUNK  # only what the server lacked
    # 1 status question + the remaining chunks, nothing more
    assert result["requests"] == 1 + -(-(len(big) - 4 * CHUNK) // CHUNK)

    got = session(token).get(f"{live.url}/api/blobs/{sha}")
    assert got.status_code == 200
    assert got.content == big  # no metadata to strip: the very bytes sent
    assert got.headers["Content-Type"] == "image/jpeg"
    assert not any(f.startswith("incoming/partial") for f in server_files(server_app))


def test_a_chunk_at_the_wrong_offset_gets_409_with_the_servers_offset(live, big, server_app):
    token = make_device(server_app)
    sha = sha_of(big)
    s = session(token)
    url = f"{live.url}/api/blobs/{sha}"
    params = {"total": len(big)}
    assert s.put(url, params={**params, "offset": 0}, data=big[:CHUNK]).json()["offset"] == CHUNK
    again = s.put(url, params={**params, "offset": 0}, data=big[:CHUNK])  # a retried chunk
    assert again.status_code == 409
    assert again.json()["offset"] == CHUNK
    ahead = s.put(url, params={**params, "offset": 3 * CHUNK}, data=big[3 * CHUNK : 4 * CHUNK])
    assert (ahead.status_code, ahead.json()["offset"]) == (409, CHUNK)
    rest = s.put(url, params={**params, "offset": CHUNK}, data=big[CHUNK:])
    assert (rest.status_code, rest.json()["complete"]) == (201, True)
    assert s.get(url).content == big


def test_a_corrupted_chunk_fails_the_hash_check_and_nothing_is_stored(live, big, server_app):
    token = make_device(server_app)
    sha = sha_of(big)
    s = session(token)
    url = f"{live.url}/api/blobs/{sha}"
    damaged = bytearray(big[CHUNK : 2 * CHUNK])
    damaged[100] ^= 0x01  # one bit flipped on the way
    s.put(url, params={"offset": 0, "total": len(big)}, data=big[:CHUNK])
    s.put(url, params={"offset": CHUNK, "total": len(big)}, data=bytes(damaged))
    last = s.put(url, params={"offset": 2 * CHUNK, "total": len(big)}, data=big[2 * CHUNK :])
    assert last.status_code == 422
    assert "hash" in last.json()["error"]
    status = s.get(f"{url}/status").json()
    assert (status["complete"], status["offset"]) == (False, 0)
    assert s.get(url).status_code == 404
    assert server_files(server_app) == []
    assert blob_rows(server_app) == []


def test_a_non_image_is_refused_with_415_and_not_stored(live, agent, server_app):
    token = make_device(server_app)
    text = b"#!/bin/sh\necho not a photo\n" * 100
    sha = agent.add_photo(text)
    s = session(token)
    resp = s.put(f"{live.url}/api/blobs/{sha}", params={"offset": 0, "total": len(text)}, data=text)
    assert resp.status_code == 415
    assert "not a JPEG, PNG or WebP" in resp.json()["error"]
    assert server_files(server_app) == []
    assert blob_rows(server_app) == []

    # Through the client: refused for good, remembered, not sent again on the next sync.
    client = agent.client(live.url, token)
    report = client.sync()
    assert any("not a JPEG, PNG or WebP" in e for e in report.errors)
    assert [(r["sha"], r["status"]) for r in blob_upload_state(agent.replica.path)] == [
        (sha, "refused")
    ]
    again = client.sync()
    assert again.errors == []
    assert again.photos_pending == 0


def test_oversize_is_refused_with_413_before_the_bytes_are_sent(live, server_app):
    token = make_device(server_app)
    limit = server_app.config["MAX_BLOB_BYTES"]
    assert limit == 10 * 1024 * 1024  # the default
    s = session(token)
    resp = s.put(f"{live.url}/api/blobs/{'a' * 64}", params={"offset": 0, "total": limit + 1})
    assert resp.status_code == 413
    assert str(limit) in resp.json()["error"]
    past = s.put(
        f"{live.url}/api/blobs/{'b' * 64}", params={"offset": 0, "total": 10}, data=b"x" * 11
    )
    assert past.status_code == 413
    assert server_files(server_app) == []


def test_a_photo_over_the_configured_limit_is_refused_through_the_client(
    live, agent, big, server_app
):
    server_app.config["MAX_BLOB_BYTES"] = len(big) - 1
    token = make_device(server_app)
    sha = agent.add_photo(big)
    result = upload_blobs(agent.client(live.url, token), agent.store, [sha], chunk_size=CHUNK)
    assert list(result["refused"]) == [sha]
    assert "at most" in result["refused"][sha]
    assert result["bytes_sent"] == 0  # the status answer told the limit: nothing sent
    assert server_files(server_app) == []


def test_exif_gps_is_stripped_on_storage_and_the_name_is_kept(live, agent, server_app):
    token = make_device(server_app)
    original = photo("JPEG", (320, 240), orientation=6)
    assert metadata(original)["gps"]
    sha = agent.add_photo(original)
    result = upload_blobs(agent.client(live.url, token), agent.store, [sha])
    assert result["uploaded"] == [sha]
    served = session(token).get(f"{live.url}/api/blobs/{sha}").content
    info = metadata(served)
    assert info["gps"] == {}
    assert info["exif"] == {0x0112: 6}
    assert info["pixels"] == metadata(original)["pixels"]
    assert served == strip_location(original)
    (row,) = blob_rows(server_app)
    assert row["sha"] == sha  # still found by the name the agent gave it
    assert row["stored_sha"] == sha_of(served) != sha
    assert (row["size"], row["stored_size"]) == (len(original), len(served))
    assert (row["width"], row["height"], row["mime"]) == (320, 240, "image/jpeg")
    thumb = session(token).get(f"{live.url}/api/blobs/{sha}/thumb")
    assert thumb.headers["Content-Type"] == "image/jpeg"
    assert metadata(thumb.content)["size"] == (192, 256)  # upright, long side 256


def test_uploading_again_is_a_no_op(live, agent, server_app):
    token = make_device(server_app)
    sha = agent.add_photo(photo("PNG", gps=False))
    client = agent.client(live.url, token)
    assert upload_blobs(client, agent.store, [sha])["uploaded"] == [sha]
    again = upload_blobs(client, agent.store, [sha])
    assert again["already"] == [sha]
    assert (again["requests"], again["bytes_sent"]) == (1, 0)
    assert len(blob_rows(server_app)) == 1


def test_sync_uploads_this_laptops_pending_photos_after_the_push(live, agent, server_app):
    token = make_device(server_app)
    shas = [agent.add_photo(photo("JPEG", (50 + i, 40))) for i in range(3)]
    client = agent.client(live.url, token)
    report = client.sync()
    assert report.errors == []
    assert report.photos_uploaded == 3
    assert report.photos_pending == 0
    assert sorted(r["sha"] for r in blob_rows(server_app)) == sorted(shas)
    requests_before = client.report.requests
    second = client.sync()
    assert second.photos_uploaded == 0
    assert second.requests <= requests_before  # confirmed photos cost no more requests


def test_a_photo_row_without_its_bytes_stays_pending_on_the_agent(live, agent, server_app):
    token = make_device(server_app)
    sha = sha_of(b"not here yet")
    agent.replica.write("photos", sha, {"compound_id": "c1", "mime": "image/jpeg"})
    report = agent.client(live.url, token).sync()
    assert report.photos_pending == 1
    assert report.photos_uploaded == 0
    db = open_db(server_app.config["DATABASE"])
    try:
        assert [p["id"] for p in blob_data.pending_photos(db, ["c1"])] == [sha]
    finally:
        db.close()


def test_a_wrong_token_gets_401_and_the_client_raises(live, agent, server_app):
    sha = agent.add_photo(photo("JPEG", gps=False))
    bad = session("lm_not-a-token")
    assert bad.get(f"{live.url}/api/blobs/{sha}/status").status_code == 401
    put = bad.put(f"{live.url}/api/blobs/{sha}", params={"offset": 0, "total": 5}, data=b"12345")
    assert put.status_code == 401
    with pytest.raises(SyncError) as err:
        upload_blobs(agent.client(live.url, "lm_not-a-token"), agent.store, [sha])
    assert err.value.kind == "unauthorized"
    assert server_files(server_app) == []


def test_a_chunk_damaged_on_the_wire_is_caught_and_the_client_sends_the_photo_again(
    live, agent, big, server_app
):
    token = make_device(server_app)
    sha = agent.add_photo(big)
    proxy = CorruptingProxy(int(live.url.rsplit(":", 1)[1]), big[CHUNK + 1000 : CHUNK + 1032])
    try:
        result = upload_blobs(agent.client(proxy.url, token), agent.store, [sha], chunk_size=CHUNK)
    finally:
        proxy.close()
    assert proxy.corrupted == 1
    assert result["uploaded"] == [sha]
    # The damaged upload was refused at the end and sent once more, in full.
    assert result["bytes_sent"] == 2 * len(big)
    assert session(token).get(f"{live.url}/api/blobs/{sha}").content == big
    assert len(blob_rows(server_app)) == 1


def test_only_this_laptops_own_photos_are_pending_upload(live, agent, server_app):
    token = make_device(server_app)
    theirs = "d" * 64  # a photo another laptop recorded; the server has its row
    server_app.extensions["replica"].write("photos", theirs, {"compound_id": "c1"})
    mine = agent.add_photo(photo("JPEG", gps=False))
    assert pending_uploads(agent.replica) == [mine]
    report = agent.client(live.url, token).sync()
    assert agent.replica.get("photos", theirs) is not None  # pulled
    assert report.photos_uploaded == 1
    assert pending_uploads(agent.replica) == []
