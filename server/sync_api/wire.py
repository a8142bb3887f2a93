"""Request and response bodies: gzip in both directions, bounded sizes, JSON errors."""

from __future__ import annotations

import gzip
import json
import zlib
from typing import Any

from flask import Response, abort, current_app, request

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def read_json() -> Any:
    """The request body as JSON, gunzipped when sent gzipped; 400/413 otherwise."""
    limit = int(current_app.config["MAX_REQUEST_BYTES"])
    body = request.get_data(cache=False)
    if len(body) > limit:
        abort(413, description=f"request body over {limit} bytes; send smaller batches")
    if request.headers.get("Content-Encoding", "").lower() == "gzip":
        # Bounded inflate: a small gzip bomb must not fill the server's memory.
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            body = inflater.decompress(body, limit * 8)
        except zlib.error:
            abort(400, description="the body is not valid gzip")
        if inflater.unconsumed_tail:
            abort(413, description="the unzipped body is too large; send smaller batches")
        if not inflater.eof:  # cut off: without its trailer the checksum was never checked
            abort(400, description="the gzip body is incomplete")
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        abort(400, description=f"the body is not JSON: {exc}")


def json_response(payload: Any, status: int = 200) -> Response:
    raw = _dumps(payload).encode()
    resp = Response(raw, status=status, mimetype="application/json")
    if len(raw) > 1024 and "gzip" in request.headers.get("Accept-Encoding", ""):
        resp.set_data(gzip.compress(raw, compresslevel=5))
        resp.headers["Content-Encoding"] = "gzip"
    resp.headers["Vary"] = "Accept-Encoding"
    return resp
