"""/api/blobs: resumable photo upload (device token), photo and thumbnail reads, pending list.

An upload is a series of `PUT /api/blobs/<sha>?offset=N&total=T` chunks into a partial
file. The chunk that reaches `total` finishes it: the SHA-256 is checked, the bytes must
decode as a JPEG, PNG or WebP, their location metadata is stripped, a thumbnail made,
and only then is anything stored. A failed check leaves nothing behind.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, g, jsonify, request, send_file

from sync.blobstore import BadName, BlobStore, HashMismatch, OffsetMismatch, check_name
from sync.images import ImageRejected, inspect_image, strip_location, thumbnail

from ..auth import data as auth_data
from ..auth.access import device_limiter, device_required, too_many_bad_tokens
from ..auth.data import User
from ..db import get_db
from ..permissions import may_write
from . import data

bp = Blueprint("blobs", __name__, url_prefix="/api/blobs")
CSRF_EXEMPT = True  # uploads use device tokens; reads are GET only

_finish_lock = threading.Lock()  # one finishing upload at a time (hash, decode, strip)
STALE_PARTIAL_S = 7 * 24 * 3600  # an upload untouched for a week is dropped


class Stores:
    """The app's blob directories: `incoming/` (partials), the photos, `thumbs/`."""

    def __init__(self, root: Path) -> None:
        self.incoming = BlobStore(root / "incoming")
        self.photos = BlobStore(root)
        self.thumbs = BlobStore(root / "thumbs")


@bp.record_once
def _setup(state) -> None:
    state.app.extensions["blob_stores"] = Stores(Path(state.app.config["BLOB_DIR"]))


def stores() -> Stores:
    return current_app.extensions["blob_stores"]


def _name(sha: str) -> str:
    try:
        return check_name(sha)
    except BadName as exc:
        abort(400, description=str(exc))


def _compounds(user: User) -> list[str] | None:
    return None if auth_data.ALL in user.compounds else list(user.compounds)


def _error(status: int, message: str, **extra: Any):
    resp = jsonify(error=message, **extra)
    resp.status_code = status
    return resp


def _check_upload_rights(sha: str) -> None:
    user = g.device.user
    if not may_write(user.role, "photos"):
        abort(403, description=f"a {user.role} may not upload photos")
    compound = data.photo_compound(get_db(), sha)
    if compound is not None and not user.sees(compound):
        abort(403, description=f"this photo belongs to compound {compound}, outside your scope")


def _status(sha: str) -> dict[str, Any]:
    blob = data.get_blob(get_db(), sha)
    limit = int(current_app.config["MAX_BLOB_BYTES"])
    if blob is not None:
        return {"sha256": sha, "complete": True, "offset": blob["size"], "max_bytes": limit}
    offset = stores().incoming.partial_size(sha)
    return {"sha256": sha, "complete": False, "offset": offset, "max_bytes": limit}


@bp.get("/<sha>/status")
@device_required
def status(sha: str):
    """How many bytes of this blob the server has (HEAD: the same as headers).
    ---
    get:
      summary: Upload status of a blob
      description: >
        `complete` true once the photo is stored; otherwise `offset` is the size of the
        partial upload, where the next chunk must start. `max_bytes` is the size limit.
        HEAD returns the same in the headers `X-Blob-Offset` and `X-Blob-Complete`.
      security: [{device: []}]
      parameters:
        - {in: path, name: sha, required: true, schema: {type: string, pattern: "^[0-9a-f]{64}$"}}
      responses:
        200: {description: "{sha256, complete, offset, max_bytes}"}
        400: {description: not a SHA-256 name}
        401: {description: missing or revoked token}
        403: {description: the photo's compound is outside the device's scope}
    """
    sha = _name(sha)
    _check_upload_rights(sha)
    body = _status(sha)
    resp = jsonify(body)
    resp.headers["X-Blob-Offset"] = str(body["offset"])
    resp.headers["X-Blob-Complete"] = "1" if body["complete"] else "0"
    return resp


@bp.put("/<sha>")
@device_required
def upload(sha: str):
    """Append one chunk of a photo; the chunk that reaches `total` completes it.
    ---
    put:
      summary: Upload a chunk of a blob (resumable, idempotent)
      security: [{device: []}]
      parameters:
        - {in: path, name: sha, required: true, schema: {type: string, pattern: "^[0-9a-f]{64}$"}}
        - {in: query, name: offset, required: true, schema: {type: integer, minimum: 0}}
        - {in: query, name: total, required: true, schema: {type: integer, minimum: 1},
           description: the blob's full size in bytes}
      requestBody:
        content:
          application/octet-stream:
            schema: {type: string, format: binary}
      responses:
        200: {description: "chunk kept, {offset, complete: false}; or the blob was already stored"}
        201: {description: "blob complete and stored, {offset, complete: true, mime}"}
        400: {description: bad name or parameters}
        401: {description: missing or revoked token}
        403: {description: the photo's compound is outside the device's scope}
        409: {description: "offset is not where the upload stands; `offset` says where"}
        413: {description: "the blob is over max_blob_bytes"}
        415: {description: "not a JPEG, PNG or WebP image (message says why); nothing stored"}
        422: {description: "the bytes do not hash to the name; nothing stored, start again"}
    """
    sha = _name(sha)
    try:
        offset = int(request.args["offset"])
        total = int(request.args["total"])
    except (KeyError, ValueError):
        abort(400, description="need whole numbers offset= and total= (the blob's size)")
    limit = int(current_app.config["MAX_BLOB_BYTES"])
    if total > limit:
        return _error(413, f"the photo is {total} bytes; at most {limit} bytes are accepted")
    if offset < 0 or total < 1:
        abort(400, description="need offset >= 0 and total >= 1")
    _check_upload_rights(sha)
    if data.get_blob(get_db(), sha) is not None:
        return jsonify(_status(sha))  # already here: uploading again is a no-op
    chunk = request.get_data(cache=False)
    if offset + len(chunk) > total:
        return _error(413, f"this chunk goes past the stated total of {total} bytes")
    incoming = stores().incoming
    if incoming.partial_size(sha) > total:
        incoming.discard_partial(sha)  # a stale partial of some other size: start over
        return _error(409, "the upload starts again from offset 0", offset=0)
    try:
        size = incoming.append_partial(sha, offset, chunk)
    except OffsetMismatch as exc:
        return _error(409, str(exc), offset=exc.expected)
    if size < total:
        return jsonify(sha256=sha, complete=False, offset=size)
    return _finish(sha)


def _finish(sha: str):
    st = stores()
    with _finish_lock:
        if data.get_blob(get_db(), sha) is not None:  # a parallel upload finished first
            st.incoming.discard_partial(sha)
            return jsonify(_status(sha))
        try:
            st.incoming.finish_partial(sha)
        except HashMismatch as exc:
            return _error(422, str(exc), offset=0)
        try:
            raw = st.incoming.read(sha)
            try:
                info = inspect_image(raw)
                clean = strip_location(raw)
                thumb = thumbnail(clean)
            except ImageRejected as exc:
                return _error(415, f"not stored: {exc}")
            stored_sha = st.photos.put(clean)
            thumb_sha = st.thumbs.put(thumb)
            data.record_blob(
                get_db(),
                sha,
                size=len(raw),
                stored_sha=stored_sha,
                stored_size=len(clean),
                thumb_sha=thumb_sha,
                mime=info.mime,
                width=info.width,
                height=info.height,
                user_id=g.device.user.id,
                device_id=g.device.id,
            )
        finally:
            st.incoming.remove(sha)
            st.incoming.discard_stale_partials(STALE_PARTIAL_S)
    resp = jsonify(sha256=sha, complete=True, offset=len(raw), mime=info.mime)
    resp.status_code = 201
    return resp


# -- reading --------------------------------------------------------------------------------


def _viewer() -> User | None:
    """A device token if one is sent, else the signed-in page user."""
    header = request.headers.get("Authorization", "")
    if header:
        token = header[7:].strip() if header.startswith("Bearer ") else ""
        device = auth_data.device_for_token(get_db(), token) if token else None
        if device is None and token:
            device_limiter().failed(request.remote_addr or "?")  # same limit as the sync API
        return device.user if device else None
    return g.get("user")


def _unauthorised():
    resp = _error(401, "sign in or send a valid device token")
    resp.headers["WWW-Authenticate"] = 'Bearer realm="lastmeter"'
    return resp


def _readable(sha: str) -> tuple[User | None, dict[str, Any] | None, Any]:
    """(user, blob row, error response or None) for a read of `sha`."""
    limited = too_many_bad_tokens()
    if limited is not None:
        return None, None, limited
    user = _viewer()
    if user is None:
        return None, None, _unauthorised()
    db = get_db()
    compound = data.photo_compound(db, sha)
    blob = data.get_blob(db, sha)
    if compound is not None:
        if not user.sees(compound):
            return user, None, _error(403, "this photo's compound is outside your scope")
    elif blob is None or not (auth_data.ALL in user.compounds or blob["user_id"] == user.id):
        return user, None, _error(404, "no such photo")
    if blob is None:
        return user, None, _error(404, "photo pending: its record is here, its bytes are not")
    return user, blob, None


def _send(store: BlobStore, name: str, mime: str):
    resp = send_file(store.path(name), mimetype=mime, conditional=True, etag=name, max_age=3600)
    resp.headers["Cache-Control"] = "private, max-age=3600"
    return resp


@bp.get("/<sha>")
def photo(sha: str):
    """The stored photo (location metadata removed).
    ---
    get:
      summary: Read a photo
      description: For a device token or a signed-in user whose scope holds the photo's compound.
      security: [{device: []}, {}]
      parameters:
        - {in: path, name: sha, required: true, schema: {type: string, pattern: "^[0-9a-f]{64}$"}}
      responses:
        200:
          description: the image
          content: {image/jpeg: {}, image/png: {}, image/webp: {}}
        400: {description: not a SHA-256 name}
        401: {description: neither signed in nor a valid device token}
        403: {description: the photo's compound is outside the caller's scope}
        404: {description: "unknown, or photo pending (record here, bytes not yet)"}
    """
    sha = _name(sha)
    _, blob, err = _readable(sha)
    if err is not None:
        return err
    return _send(stores().photos, blob["stored_sha"], blob["mime"])


@bp.get("/<sha>/thumb")
def thumb(sha: str):
    """A JPEG thumbnail (long side 256 px) of the photo.
    ---
    get:
      summary: Read a photo's thumbnail
      security: [{device: []}, {}]
      parameters:
        - {in: path, name: sha, required: true, schema: {type: string, pattern: "^[0-9a-f]{64}$"}}
      responses:
        200:
          description: the thumbnail
          content: {image/jpeg: {}}
        400: {description: not a SHA-256 name}
        401: {description: neither signed in nor a valid device token}
        403: {description: the photo's compound is outside the caller's scope}
        404: {description: "unknown, or photo pending"}
    """
    sha = _name(sha)
    _, blob, err = _readable(sha)
    if err is not None:
        return err
    return _send(stores().thumbs, blob["thumb_sha"], "image/jpeg")


@bp.get("/pending")
def pending():
    """`photos` records in the caller's scope whose bytes have not arrived ("photo pending").
    ---
    get:
      summary: Photos pending
      security: [{device: []}, {}]
      parameters:
        - {in: query, name: limit, schema: {type: integer, minimum: 1, maximum: 5000}}
      responses:
        200:
          description: >
            {count, pending: [{id, compound_id, mime, size, taken_at, ref_table, ref_id}]}
        400: {description: bad limit}
        401: {description: neither signed in nor a valid device token}
    """
    limited = too_many_bad_tokens()
    if limited is not None:
        return limited
    user = _viewer()
    if user is None:
        return _unauthorised()
    try:
        limit = int(request.args.get("limit", 500))
    except ValueError:
        abort(400, description="limit must be a whole number")
    if not 1 <= limit <= 5000:
        abort(400, description="need 1 <= limit <= 5000")
    db = get_db()
    scope = _compounds(user)
    return jsonify(
        count=data.count_pending(db, scope), pending=data.pending_photos(db, scope, limit)
    )
