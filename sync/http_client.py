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
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .blobstore import BlobStore
from .protocol import Batch, BatchError
from .replica import Replica

_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

OUTBOX_DDL = """
CREATE TABLE IF NOT EXISTS _lm_outbox (
    id INTEGER PRIMARY KEY, tbl TEXT NOT NULL, row_id TEXT, col TEXT, value TEXT,
    reason TEXT NOT NULL, message TEXT NOT NULL, hlc INTEGER, at INTEGER NOT NULL,
    status TEXT NOT NULL DEFAULT 'open'
);
CREATE UNIQUE INDEX IF NOT EXISTS _lm_outbox_cell
    ON _lm_outbox (tbl, ifnull(row_id, ''), ifnull(col, ''), ifnull(hlc, 0));
CREATE TABLE IF NOT EXISTS _lm_client (peer TEXT PRIMARY KEY, scope TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS _lm_pass (
    peer TEXT NOT NULL, way TEXT NOT NULL, base INTEGER NOT NULL, PRIMARY KEY (peer, way)
);
"""


class SyncError(RuntimeError):
    """The exchange could not finish; `kind` is unreachable, unauthorized, refused or protocol."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        super().__init__(message)


class ServerChanged(SyncError):
    """A pulled batch comes from another site than the server this client knew."""

    def __init__(self, origin: str) -> None:
        super().__init__("protocol", f"the server's site id is now {origin}")


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
    photos_uploaded: int = 0
    photos_pending: int = 0
    errors: list[str] = field(default_factory=list)
    # Who the server says this device is (from the hello or, when it was skipped, the pull).
    user: str | None = None
    role: str | None = None
    scope: list[str] | None = None


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
        max_cells: int = 40_000,
        max_bytes: int = 3_000_000,
        progress: Progress | None = None,
        peer_name: str | None = None,
        server_site: str | None = None,
        blob_store: BlobStore | None = None,
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
        self.blob_store = blob_store  # photos to upload after each push
        self.report = SyncReport(server_site=server_site)
        self._batch_rows = max_cells  # shrinks when a batch comes out over max_bytes
        _ensure_tables(replica.path)

    # -- HTTP ---------------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            resp = self.session.request(method, self.url + path, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise SyncError("unreachable", f"cannot reach the server at {self.url}: {exc}") from exc
        self.report.requests += 1
        # What came over the wire (gzipped when the server compressed it).
        size = resp.headers.get("Content-Length")
        self.report.bytes_received += int(size) if size and size.isdigit() else len(resp.content)
        if resp.status_code == 401:
            raise SyncError("unauthorized", f"the server refused this device's token: {_err(resp)}")
        if resp.status_code == 413:
            raise SyncError("too_large", f"the server refused a batch as too large: {_err(resp)}")
        if resp.status_code >= 400:
            raise SyncError("refused", f"the server answered {resp.status_code}: {_err(resp)}")
        try:
            return resp.json()
        except ValueError as exc:
            raise SyncError("protocol", f"the server's answer is not JSON: {exc}") from exc

    def hello(self) -> dict[str, Any]:
        now = self.replica.clock.now_ms  # the clock this laptop stamps its cells with
        sent_at = now()
        info = self._request("GET", "/api/sync/hello")
        rtt = now() - sent_at
        self.report.clock_offset_ms = info["server_time_ms"] - (sent_at + rtt // 2)
        self.report.server_site = self.server_site = info["server_site"]
        self._note_device(info)
        return info

    def _note_device(self, info: dict[str, Any]) -> None:
        for key in ("user", "role"):
            if isinstance(info.get(key), str):
                setattr(self.report, key, info[key])
        if isinstance(info.get("scope"), list):
            self.report.scope = [str(c) for c in info["scope"]]

    # -- push ---------------------------------------------------------------------------

    def _own_batch(self, since: int, base: int, server_site: str) -> tuple[Batch, bytes]:
        """Our own cells after `since`, bounded by rows (the cell limit) and by JSON bytes."""
        while True:
            limit = self._batch_rows
            batch = self.replica.changes_since(
                since, exclude_site=server_site, limit=limit, cells_after=base
            )
            _keep_site(batch, self.replica.site_id)
            body = _dumps(batch.to_dict()).encode()
            if len(body) <= self.max_bytes or limit <= 1:
                return batch, body
            # Scale down to what fits, with a margin, and remember it for the next batches.
            self._batch_rows = max(
                1, min(limit // 2, int(limit * self.max_bytes / len(body) * 0.9))
            )

    def _prepare(self, since: int, base: int, server_site: str) -> tuple[Batch, bytes]:
        batch, body = self._own_batch(since, base, server_site)
        return batch, gzip.compress(body, compresslevel=6) if batch.cells else b""

    def push(self) -> int:
        server = self.report.server_site or self.hello()["server_site"]
        peer = self.peer_name or server
        cursor = self.replica.cursor(peer)["sent"]
        base = pass_base(self.replica.path, peer, "sent")
        total_cells = pushed = 0
        # While the server merges one batch, a worker reads and compresses the next one
        # (reading only: the cursor still moves only after the server's answer).
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lastmeter-push")
        ahead: tuple[int, Future[tuple[Batch, bytes]]] | None = None
        try:
            while True:
                if ahead is not None and ahead[0] == cursor:
                    batch, payload = ahead[1].result()
                else:
                    batch, payload = self._prepare(cursor, base, server)
                ahead = None
                if batch.cells == 0:
                    # Nothing of ours in this stretch (e.g. cells we pulled): no request needed.
                    if batch.next != cursor:
                        cursor = batch.next
                        self.replica.set_cursor(peer, sent=cursor)
                    if batch.more:
                        continue
                    _set_pass_base(self.replica.path, peer, "sent", cursor)
                    break
                if batch.more:
                    ahead = (batch.next, pool.submit(self._prepare, batch.next, base, server))
                self.report.bytes_sent += len(payload)
                try:
                    answer = self._request(
                        "POST",
                        "/api/sync/push",
                        data=payload,
                        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
                    )
                except SyncError as exc:
                    if exc.kind != "too_large" or self._batch_rows <= 1:
                        raise
                    if ahead is not None:
                        ahead[1].result()
                        ahead = None
                    self._batch_rows = max(1, self._batch_rows // 4)  # the server's limit is lower
                    continue
                if answer.get("ack") != batch.next:
                    raise SyncError("protocol", "the server acknowledged a different batch")
                self._keep_rejected(answer.get("rejected", []))
                pushed += batch.cells
                total_cells += batch.cells
                cursor = batch.next
                self.replica.set_cursor(peer, sent=cursor)  # only after the server committed it
                self.progress("push", pushed, 0)
                if not batch.more:
                    _set_pass_base(self.replica.path, peer, "sent", cursor)
                    break
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
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
        # The same answer may come twice (a retry after a lost cursor write): one entry per cell.
        with sqlite3.connect(self.replica.path, timeout=30) as db:
            db.executemany(
                "INSERT INTO _lm_outbox (tbl, row_id, col, value, reason, message, hlc, at) "
                "VALUES (?,?,?,?,?,?,?,?) ON CONFLICT DO UPDATE SET value = excluded.value, "
                "reason = excluded.reason, message = excluded.message, at = excluded.at",
                rows,
            )
        self.report.rejected += len(rows)

    # -- pull ---------------------------------------------------------------------------

    def pull(self) -> int:
        server = self.report.server_site or self.hello()["server_site"]
        peer = self.peer_name or server
        cursor = self.replica.cursor(peer)["received"]
        base = pass_base(self.replica.path, peer, "received")
        total = 0
        now = self.replica.clock.now_ms
        while True:
            sent_at = now()
            data = self._request(
                "GET",
                "/api/sync/pull",
                params={
                    "cursor": cursor,
                    "base": base,
                    "site": self.replica.site_id,
                    "limit": self.max_cells,
                    "who": 1,  # user and role in the answer: no hello needed to refresh them
                },
            )
            server_ms = data.pop("server_time_ms", None)
            if isinstance(server_ms, int):
                self.report.clock_offset_ms = server_ms - (sent_at + (now() - sent_at) // 2)
            self._note_device({"user": data.pop("user", None), "role": data.pop("role", None)})
            scope = data.pop("scope", None)
            self._note_device({"scope": scope})
            if isinstance(scope, list) and self._scope_widened(peer, scope):
                cursor = base = 0  # the new compounds' rows lie behind our cursor: read all
                continue
            try:
                batch = Batch.from_dict(data)
            except BatchError as exc:
                raise SyncError("protocol", f"the server sent a malformed batch: {exc}") from exc
            if batch.origin != server:
                raise ServerChanged(batch.origin)
            if batch.cells:
                result = self._apply_pulled(batch)
                if result.rejected:
                    # Keep the cursor: these cells come again once this laptop can store them.
                    first = result.rejected[0]
                    raise SyncError(
                        "protocol",
                        f"{len(result.rejected)} cells from the server cannot be stored here "
                        f"({first.reason}: {first.message}); update Last Meter on this laptop",
                    )
            total += batch.cells
            cursor = batch.next
            self.replica.set_cursor(peer, received=cursor)
            self.progress("pull", total, 0)
            if not batch.more:
                _set_pass_base(self.replica.path, peer, "received", cursor)
                break
        self.report.pulled_cells += total
        return total

    def _apply_pulled(self, batch: Batch) -> Any:
        """Merge a server batch. Its stamps were checked against the server's clock; a
        laptop whose clock is behind must still store them, not refuse them as 'ahead'."""
        drift = self.replica.max_drift_ms
        self.replica.max_drift_ms = 1 << 62
        try:
            return self.replica.apply(batch)
        finally:
            self.replica.max_drift_ms = drift

    def _scope_widened(self, peer: str, scope: list[Any]) -> bool:
        """Remember the device's scope; True when it gained compounds since the last pull."""
        new = sorted(str(c) for c in scope)
        with sqlite3.connect(self.replica.path, timeout=30) as db:
            row = db.execute("SELECT scope FROM _lm_client WHERE peer = ?", (peer,)).fetchone()
            db.execute(
                "INSERT INTO _lm_client (peer, scope) VALUES (?, ?) "
                "ON CONFLICT(peer) DO UPDATE SET scope = excluded.scope",
                (peer, json.dumps(new)),
            )
        if row is None:
            return False
        return bool(set(new) - set(json.loads(row[0])))

    def sync(self) -> SyncReport:
        """Push then pull. With the server's site known, nothing new costs one request."""
        self.report = SyncReport(server_site=self.server_site)
        if self.server_site is None:
            self.hello()
        try:
            self._push_and_pull()
        except ServerChanged:
            # The server at this URL is not the one whose site id was kept (re-enrolled
            # elsewhere, server re-created): learn its id, and so its own cursors, and redo.
            self.server_site = self.report.server_site = None
            self.hello()
            try:
                self._push_and_pull()
            except ServerChanged as exc:
                raise SyncError("protocol", f"the server's site id keeps changing: {exc}") from exc
        return self.report

    def _push_and_pull(self) -> None:
        self.push()
        if self.blob_store is not None:
            from .blob_upload import upload_pending

            upload_pending(self)
        self.pull()


def outbox(path: str, status: str = "open") -> list[dict[str, Any]]:
    """Cells the server refused, with its reasons, for a person to fix or discard."""
    _ensure_tables(path)
    with sqlite3.connect(path, timeout=30) as db:
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


def pass_base(path: str, peer: str, way: str) -> int:
    """Where the unfinished pass over `way` ("sent" or "received") with `peer` began.

    Batches are cut by rows in counter order, but a row edited later sits at its newest
    counter: its older cells lie behind the cursor when their batch is reached. So until
    a pass completes, every batch carries each row's cells changed after the pass's base,
    not only after the cursor; repeating a few cells is harmless, losing one is not.
    """
    try:
        with sqlite3.connect(path, timeout=30) as db:
            row = db.execute(
                "SELECT base FROM _lm_pass WHERE peer = ? AND way = ?", (peer, way)
            ).fetchone()
    except sqlite3.OperationalError:  # no sync client ever ran on this database
        return 0
    return int(row[0]) if row else 0


def _set_pass_base(path: str, peer: str, way: str, base: int) -> None:
    with sqlite3.connect(path, timeout=30) as db:
        db.execute(
            "INSERT INTO _lm_pass (peer, way, base) VALUES (?, ?, ?) "
            "ON CONFLICT(peer, way) DO UPDATE SET base = excluded.base",
            (peer, way, base),
        )


def _ensure_tables(path: str) -> None:
    with sqlite3.connect(path, timeout=30) as db:
        db.executescript(OUTBOX_DDL)


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


# -- photos (the logic is in sync/blob_upload.py) -----------------------------------------


def upload_blobs(
    client: SyncClient, store: BlobStore, shas: list[str], chunk_size: int = 256 * 1024
) -> dict[str, Any]:
    """Upload these photos, each resuming from the server's offset, chunk by chunk.

    Uses the client's session, timeouts and retries. Returns {"uploaded", "already",
    "refused", "failed", "requests", "bytes_sent"}; see `sync.blob_upload.upload_blobs`.
    """
    from .blob_upload import upload_blobs as run

    return run(client, store, shas, chunk_size)
