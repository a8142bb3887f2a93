"""A requests transport backed by Flask's test client: the real server app, no sockets.

    session = requests.Session()
    session.mount("http://server", FlaskTransport(app))

Responses go through urllib3 like real ones, so gzip bodies are decoded as on the wire.
"""

from __future__ import annotations

import io
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from urllib3 import HTTPResponse


class FlaskTransport(BaseAdapter):
    def __init__(self, app) -> None:
        super().__init__()
        self.client = app.test_client()
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status)
        self._builder = HTTPAdapter()

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        url = urlsplit(request.url)
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        resp = self.client.open(
            url.path,
            query_string=url.query,
            method=request.method,
            headers=dict(request.headers),
            data=body,
        )
        self.requests.append((request.method, url.path, resp.status_code))
        raw = HTTPResponse(
            body=io.BytesIO(resp.get_data()),
            headers=list(resp.headers.items()),
            status=resp.status_code,
            preload_content=False,
            decode_content=True,
        )
        return self._builder.build_response(request, raw)

    def close(self) -> None:
        self._builder.close()


def session_for(app, base: str = "http://server") -> tuple[requests.Session, FlaskTransport]:
    session = requests.Session()
    transport = FlaskTransport(app)
    session.mount(base, transport)
    return session, transport
