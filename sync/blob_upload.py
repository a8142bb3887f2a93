"""Photo upload for the sync client: resumable chunks to /api/blobs, confirmed per photo.

`sync.http_client.upload_blobs` and `SyncClient.sync()` call into here. Each photo starts
with a question (how many bytes does the server have?) and continues from that offset,
so an upload cut off anywhere costs only the chunk in flight. Photos the server stored
(or refused for good: not an image, too big) are remembered in `_lm_blob_sent` of the
replica's file and not sent again.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from typing import Any

import requests

from .blobstore import BlobStore, is_name
from .http_client import SyncClient, SyncError
from .replica import Replica

SENT_DDL = """
CREATE TABLE IF NOT EXISTS _lm_blob_sent (
    sha TEXT PRIMARY KEY, status TEXT NOT NULL, message TEXT, at INTEGER NOT NULL
)
"""
MAX_RESTARTS = 2  # a hash mismatch (bytes damaged on the way) restarts a photo at most twice
MAX_CONFLICTS = 5  # 409s in a row before giving up on a photo for this sync


def _call(client: SyncClient, method: str, path: str, **kwargs: Any) -> requests.Response:
    """One request with the client's session, timeouts and retries; 401 and no answer raise."""
    try:
        resp = client.session.request(method, client.url + path, timeout=client.timeout, **kwargs)
    except requests.RequestException as exc:
        raise SyncError("unreachable", f"cannot reach the server at {client.url}: {exc}") from exc
    client.report.requests += 1
    client.report.bytes_received += len(resp.content)
    if resp.status_code == 401:
        raise SyncError("unauthorized", f"the server refused this device's token: {_msg(resp)}")
    return resp


def _msg(resp: requests.Response) -> str:
    try:
        return str(resp.json().get("error", resp.text[:200]))
    except ValueError:
        return resp.text[:200]


def _json(resp: requests.Response) -> dict[str, Any]:
    try:
        body = resp.json()
    except ValueError as exc:
        raise SyncError("protocol", f"the server's answer is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise SyncError("protocol", "the server's answer is not a JSON object")
    return body


def _file_sha(store: BlobStore, sha: str) -> str:
    digest = hashlib.sha256()
    with store.open(sha) as fh:
        while block := fh.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def _mark(path: str, sha: str, status: str, message: str | None = None) -> None:
    with sqlite3.connect(path, timeout=30) as db:
        db.execute(SENT_DDL)
        db.execute(
            "INSERT INTO _lm_blob_sent (sha, status, message, at) VALUES (?,?,?,?) "
            "ON CONFLICT (sha) DO UPDATE SET status = excluded.status, "
            "message = excluded.message, at = excluded.at",
            (sha, status, message, int(time.time())),
        )


def _upload_one(client: SyncClient, store: BlobStore, sha: str, chunk_size: int) -> tuple:
    """('uploaded' | 'already' | 'refused' | 'failed', message)."""
    total = store.size(sha)
    if _file_sha(store, sha) != sha:
        return "failed", "the photo's file on this laptop is damaged (its hash does not match)"
    resp = _call(client, "GET", f"/api/blobs/{sha}/status")
    if resp.status_code != 200:
        return "failed", f"the server answered {resp.status_code}: {_msg(resp)}"
    state = _json(resp)
    if state.get("complete"):
        return "already", ""
    limit = state.get("max_bytes")
    if isinstance(limit, int) and total > limit:
        return "refused", f"the photo is {total} bytes; the server accepts at most {limit}"
    offset = int(state.get("offset", 0))
    restarts = conflicts = 0
    with store.open(sha) as fh:
        while True:
            if not 0 <= offset <= total:
                offset = 0
            fh.seek(offset)
            chunk = fh.read(chunk_size)
            client.report.bytes_sent += len(chunk)
            resp = _call(
                client,
                "PUT",
                f"/api/blobs/{sha}",
                params={"offset": offset, "total": total},
                data=chunk,
                headers={"Content-Type": "application/octet-stream"},
            )
            code = resp.status_code
            if code in (200, 201):
                body = _json(resp)
                if body.get("complete"):
                    return ("uploaded" if code == 201 else "already"), ""
                offset, conflicts = int(body["offset"]), 0
                client.progress("photos", offset, total)
                continue
            if code == 409 and conflicts < MAX_CONFLICTS:
                conflicts += 1
                offset = int(_json(resp).get("offset", 0))  # resume where the server stands
                continue
            if code == 422 and restarts < MAX_RESTARTS:
                restarts += 1
                offset = 0  # damaged on the way: the server dropped it, send it again
                continue
            if code in (413, 415):
                return "refused", _msg(resp)
            return "failed", f"the server answered {code}: {_msg(resp)}"


def upload_blobs(
    client: SyncClient, store: BlobStore, shas: list[str], chunk_size: int = 256 * 1024
) -> dict[str, Any]:
    """Upload these photos from `store`, each resuming from the server's offset.

    Returns {"uploaded": [...], "already": [...], "refused": {sha: why}, "failed":
    {sha: why}, "requests": n, "bytes_sent": n}. Refused photos (not an image, too big)
    are final; failed ones are tried again next time. No answer at all or a refused token
    raise SyncError, like the rest of the sync.
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be positive")
    result: dict[str, Any] = {"uploaded": [], "already": [], "refused": {}, "failed": {}}
    requests_before, sent_before = client.report.requests, client.report.bytes_sent
    try:
        for sha in dict.fromkeys(shas):
            if not is_name(sha):
                result["failed"][sha] = "not a SHA-256 photo name"
                continue
            if not store.exists(sha):
                result["failed"][sha] = "the photo's bytes are not on this laptop"
                continue
            outcome, message = _upload_one(client, store, sha, chunk_size)
            if outcome in ("uploaded", "already"):
                result[outcome].append(sha)
                _mark(client.replica.path, sha, "stored")
            elif outcome == "refused":
                result["refused"][sha] = message
                _mark(client.replica.path, sha, "refused", message)
            else:
                result["failed"][sha] = message
    finally:
        result["requests"] = client.report.requests - requests_before
        result["bytes_sent"] = client.report.bytes_sent - sent_before
    return result


def pending_uploads(replica: Replica) -> list[str]:
    """This replica's own `photos` rows not yet confirmed by the server, oldest first.

    (Rows other laptops wrote are theirs to upload.) The agent's pages may show these.
    """
    with sqlite3.connect(replica.path, timeout=30) as db:
        db.execute(SENT_DDL)
        # The writer is a site id, or (newer files) the site's number in _lm_sites.
        numbered = db.execute("SELECT 1 FROM sqlite_master WHERE name = '_lm_sites'").fetchone()
        writer = "(SELECT n FROM _lm_sites WHERE site = ?)" if numbered else "?"
        rows = db.execute(
            f"SELECT id FROM photos WHERE _site = {writer} "
            "AND id NOT IN (SELECT sha FROM _lm_blob_sent) ORDER BY _ctr",
            (replica.site_id,),
        ).fetchall()
    return [r[0] for r in rows]


def upload_pending(client: SyncClient) -> dict[str, Any]:
    """Upload this replica's pending photos whose bytes are in `client.blob_store`."""
    store: BlobStore | None = client.blob_store
    if store is None:
        return {"uploaded": [], "already": [], "refused": {}, "failed": {}, "waiting": []}
    pending = pending_uploads(client.replica)
    here = [s for s in pending if is_name(s) and store.exists(s)]
    result = upload_blobs(client, store, here)
    # Rows whose bytes are not in the store yet (still being saved, or lost) stay pending.
    sent = set(here)
    result["waiting"] = [s for s in pending if s not in sent]
    client.report.photos_uploaded += len(result["uploaded"])
    client.report.photos_pending = len(result["waiting"]) + len(result["failed"])
    for sha, why in {**result["refused"], **result["failed"]}.items():
        client.report.errors.append(f"photo {sha[:12]}: {why}")
    return result


def blob_upload_state(path: str) -> list[dict[str, Any]]:
    """What the server said about each photo this laptop sent (for the agent's pages)."""
    with sqlite3.connect(path, timeout=30) as db:
        db.execute(SENT_DDL)
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute("SELECT * FROM _lm_blob_sent ORDER BY at, sha")]
