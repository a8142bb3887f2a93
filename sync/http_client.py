"""The requests-based sync client, used by the field agent and the server's upstream job.

One `SyncClient.sync()` = hello, push everything this replica wrote, pull everything new.
Cursors move only after the other side acknowledged a committed batch, so any step can be
cut off at any byte and simply retried.
"""

from __future__ import annotations

import gzip
import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .protocol import Batch, BatchError
from .replica import Replica

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

OUTBOX_DDL = """
CREATE TABLE IF NOT EXISTS _lm_outbox (
    id INTEGER PRIMARY KEY, tbl TEXT NOT NULL, row_id TEXT, col TEXT, value TEXT,
    reason TEXT NOT NULL, message TEXT NOT NULL, hlc INTEGER, at INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'open'
)
"""


class SyncError(RuntimeError):
    """The exchange could not finish; `kind` is unreachable, unauthorized, refused or protocol."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        super().__init__(message)


@dataclass
class SyncReport:
    pushed_cells: int = 0
    pulled_cells: int = 0
    rejected: int = 0
    requests: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0
    clock_offset_ms: int | None = None
    server_site: str | None = None
    errors: list[str] = field(default_factory=list)


Progress = Callable[[str, int, int], None]  # (phase, done, total-or-0)


def make_session(retries: int = 5, backoff: float = 0.3) -> requests.Session:
    """A session that retries connection errors and 5xx with backoff (push/pull are idempotent)."""
    retry = Retry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        backoff_factor=backoff,
        status_forcelist=(500, 502, 503, 504),
        allowed_methods=None,
        raise_on_status=False,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class SyncClient:
    def __init__(
        self,
        replica: Replica,
        server_url: str,
        token: str,
        *,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (5.0, 60.0),
        max_cells: int = 20_000,
        max_bytes: int = 2_000_000,
        progress: Progress | None = None,
        peer_name: str | None = None,
        server_site: str | None = None,
    ) -> None:
        self.replica = replica
        self.url = server_url.rstrip("/")
        self.session = session or make_session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.timeout = timeout
        self.max_cells = max_cells
        self.max_bytes = max_bytes
        self.progress = progress or (lambda phase, done, total: None)
        self.peer_name = peer_name
        self.server_site = server_site
        self.report = SyncReport(server_site=server_site)
        with sqlite3.connect(replica.path) as db:
            db.execute(OUTBOX_DDL)

    # -- HTTP ---------------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            resp = self.session.request(method, self.url + path, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise SyncError("unreachable", f"cannot reach the server at {self.url}: {exc}") from exc
        self.report.requests += 1
        self.report.bytes_received += len(resp.content)
        if resp.status_code == 401:
            raise SyncError("unauthorized", f"the server refused this device's token: {_err(resp)}")
        if resp.status_code >= 400:
            raise SyncError("refused", f"the server answered {resp.status_code}: {_err(resp)}")
        try:
            return resp.json()
        except ValueError as exc:
            raise SyncError("protocol", f"the server's answer is not JSON: {exc}") from exc

    def hello(self) -> dict[str, Any]:
        sent_at = int(time.time() * 1000)
        info = self._request("GET", "/api/sync/hello")
        rtt = int(time.time() * 1000) - sent_at
        self.report.clock_offset_ms = info["server_time_ms"] - (sent_at + rtt // 2)
        self.report.server_site = self.server_site = info["server_site"]
        return info

    # -- push ---------------------------------------------------------------------------

    def _own_batch(self, since: int, server_site: str) -> tuple[Batch, bytes]:
        """Our own cells after `since`, bounded by cells and by bytes."""
        limit = self.max_cells
        while True:
            batch = self.replica.changes_since(since, exclude_site=server_site, limit=limit)
            _keep_site(batch, self.replica.site_id)
            body = _dumps(batch.to_dict()).encode()
            if len(body) <= self.max_bytes or limit <= 1:
                return batch, body
            limit = max(1, limit // 2)

    def push(self) -> int:
        server = self.report.server_site or self.hello()["server_site"]
        peer = self.peer_name or server
        cursor = self.replica.cursor(peer)["sent"]
        total_cells = pushed = 0
        while True:
            batch, body = self._own_batch(cursor, server)
            if batch.cells == 0:
                # Nothing of ours in this stretch (e.g. cells we pulled): no request needed.
                if batch.next != cursor:
                    cursor = batch.next
                    self.replica.set_cursor(peer, sent=cursor)
                if batch.more:
                    continue
                break
            payload = gzip.compress(body, compresslevel=6)
            self.report.bytes_sent += len(payload)
            answer = self._request(
                "POST",
                "/api/sync/push",
                data=payload,
                headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
            )
            if answer.get("ack") != batch.next:
                raise SyncError("protocol", "the server acknowledged a different batch")
            self._keep_rejected(answer.get("rejected", []))
            pushed += batch.cells
            total_cells += batch.cells
            cursor = batch.next
            self.replica.set_cursor(peer, sent=cursor)  # only after the server committed it
            self.progress("push", pushed, 0)
            if not batch.more:
                break
        self.report.pushed_cells += total_cells
        return total_cells

    def _keep_rejected(self, rejected: list[dict[str, Any]]) -> None:
        if not rejected:
            return
        now = int(time.time())
        rows = [
            (
                r.get("table"),
                r.get("row_id"),
                r.get("column"),
                json.dumps(r.get("value"), ensure_ascii=False),
                r.get("reason"),
                r.get("message"),
                r.get("hlc"),
                now,
            )
            for r in rejected
        ]
        with sqlite3.connect(self.replica.path, timeout=30) as db:
            db.executemany(
                "INSERT INTO _lm_outbox (tbl, row_id, col, value, reason, message, hlc, at) "
                "VALUES (?,?,?,?,?,?,?,?)",
                rows,
            )
        self.report.rejected += len(rows)

    # -- pull ---------------------------------------------------------------------------

    def pull(self) -> int:
        server = self.report.server_site or self.hello()["server_site"]
        peer = self.peer_name or server
        cursor = self.replica.cursor(peer)["received"]
        total = 0
        while True:
            data = self._request(
                "GET",
                "/api/sync/pull",
                params={"cursor": cursor, "site": self.replica.site_id, "limit": self.max_cells},
            )
            server_ms = data.pop("server_time_ms", None)
            if isinstance(server_ms, int):
                self.report.clock_offset_ms = server_ms - int(time.time() * 1000)
            try:
                batch = Batch.from_dict(data)
            except BatchError as exc:
                raise SyncError("protocol", f"the server sent a malformed batch: {exc}") from exc
            if batch.cells:
                result = self.replica.apply(batch)
                if result.rejected:
                    first = result.rejected[0]
                    self.report.errors.append(
                        f"{len(result.rejected)} pulled cells refused here, e.g. {first.message}"
                    )
            total += batch.cells
            cursor = batch.next
            self.replica.set_cursor(peer, received=cursor)
            self.progress("pull", total, 0)
            if not batch.more:
                break
        self.report.pulled_cells += total
        return total

    def sync(self) -> SyncReport:
        """Push then pull. With the server's site known, nothing new costs one request."""
        self.report = SyncReport(server_site=self.server_site)
        if self.server_site is None:
            self.hello()
        self.push()
        self.pull()
        return self.report


def outbox(path: str, status: str = "open") -> list[dict[str, Any]]:
    """Cells the server refused, with its reasons, for a person to fix or discard."""
    with sqlite3.connect(path, timeout=30) as db:
        db.execute(OUTBOX_DDL)
        db.row_factory = sqlite3.Row
        rows = db.execute(
            "SELECT * FROM _lm_outbox WHERE status = ? ORDER BY id", (status,)
        ).fetchall()
    out = []
    for row in rows:
        item = dict(row)
        item["value"] = json.loads(item["value"]) if item["value"] is not None else None
        out.append(item)
    return out


def set_outbox_status(path: str, item_id: int, status: str) -> bool:
    with sqlite3.connect(path, timeout=30) as db:
        cur = db.execute(
            "UPDATE _lm_outbox SET status = ? WHERE id = ? AND status = 'open'", (status, item_id)
        )
        return cur.rowcount == 1


def _keep_site(batch: Batch, site: str) -> None:
    """Drop cells other sites wrote: the server has them already, from their writers."""
    own = {i for i, s in enumerate(batch.sites) if s == site}
    for chunk in batch.tables.values():
        chunk.rows = [row for row in chunk.rows if row[2] in own]
    for name in [n for n, c in batch.tables.items() if not c.rows]:
        del batch.tables[name]


def _err(resp: requests.Response) -> str:
    try:
        return str(resp.json().get("error", resp.text[:200]))
    except ValueError:
        return resp.text[:200]
