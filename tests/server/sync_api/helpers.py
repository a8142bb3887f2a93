"""Helpers for the sync API tests (imported as tests.server.sync_api.helpers)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from server import create_app
from server.auth import data as auth_data
from server.db import open_db
from sync import Replica, new_id
from sync.http_client import SyncClient, make_session
from tests.live import LASTMETER as LASTMETER  # re-exported for test_cli
from tests.live import LiveServer as LiveServer  # re-exported for the live tests

CHECK_AT = "2020-03-08T08:00:00+08:00"


class ServerDir:
    """A server's data directory, made the way `lastmeter server init` makes it."""

    def __init__(self, path: Path, **config: Any) -> None:
        self.path = path
        app = create_app({"DATA_DIR": str(path), **config})
        app.extensions["replica"].close()
        self.db_path = path / "lastmeter.db"

    def add_device(self, username: str, role: str, compounds: list[str]) -> str:
        db = open_db(self.db_path)
        try:
            user = auth_data.get_user_by_name(db, username)
            if user is None:
                user = auth_data.create_user(db, username, f"pw-{username}-1", role, compounds)
            _, token = auth_data.issue_device(db, user.id, f"{username}-laptop")
        finally:
            db.close()
        return token

    def set_scope(self, username: str, compounds: list[str]) -> None:
        db = open_db(self.db_path)
        try:
            user = auth_data.get_user_by_name(db, username)
            auth_data.set_compounds(db, user.id, compounds)
        finally:
            db.close()

    def revoke(self, token: str) -> None:
        db = open_db(self.db_path)
        try:
            device = auth_data.device_for_token(db, token)
            assert auth_data.revoke_device(db, device.id)
        finally:
            db.close()

    @contextlib.contextmanager
    def replica(self) -> Iterator[Replica]:
        """The server's replica file, opened beside the running server (WAL allows it)."""
        replica = Replica(self.db_path)
        try:
            yield replica
        finally:
            replica.close()


def client(replica: Replica, url: str, token: str, retries: int = 2, **kw: Any) -> SyncClient:
    """A SyncClient with few, quick retries (tests must not wait on backoff)."""
    return SyncClient(
        replica, url, token, session=make_session(retries, backoff=0.01), timeout=(5, 30), **kw
    )


# -- rows --------------------------------------------------------------------------------


def household(compound: str, unit: str = "101", **over: Any) -> dict[str, Any]:
    return {"compound_id": compound, "building": "1", "unit": unit, **over}


def check(compound: str, household_id: str = "h1", t: float = 36.6, **over: Any) -> dict:
    return {
        "compound_id": compound,
        "household_id": household_id,
        "temperature_c": t,
        "measured_at": CHECK_AT,
        **over,
    }


def delivery(compound: str, household_id: str = "h1", **over: Any) -> dict[str, Any]:
    return {"compound_id": compound, "household_id": household_id, "kind": "vegetables", **over}


def write_checks(replica: Replica, compound: str, n: int) -> list[str]:
    ids = [new_id() for _ in range(n)]
    replica.write_many(
        "temperature_checks", {i: check(compound, f"h{k % 50}") for k, i in enumerate(ids)}
    )
    return ids


# -- snapshots ---------------------------------------------------------------------------


def cells(replica: Replica, scope: list[str] | None = None) -> dict[tuple, tuple]:
    """Every winning cell: (table, row, column) -> (value, hlc, site). Local counters aside,
    two replicas that hold the same cells hold the same data."""
    batch = replica.changes_since(0, scope=scope)
    out: dict[tuple, tuple] = {}
    for name, chunk in batch.tables.items():
        for row_id, hlc, si, _prev, mask, values in chunk.rows:
            cols = [c for i, c in enumerate(chunk.columns) if mask >> i & 1]
            for col, value in zip(cols, values, strict=True):
                key = (name, row_id, col)
                assert key not in out, f"cell {key} twice"
                out[key] = (value, hlc, batch.sites[si])
    return out


def row_counts(replica: Replica) -> dict[str, int]:
    return {
        name: replica.db.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
        for name in replica.schema.tables
    }


# -- talking to an app through Flask's test client ----------------------------------------


def token_for(app: Any, username: str, role: str = "volunteer", compounds=("c1",)) -> str:
    """A device token for a (new or existing) user of a server app."""
    db = open_db(app.config["DATABASE"])
    try:
        user = auth_data.get_user_by_name(db, username)
        if user is None:
            user = auth_data.create_user(db, username, f"pw-{username}-1", role, list(compounds))
        _, token = auth_data.issue_device(db, user.id, f"{username}-laptop")
    finally:
        db.close()
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def push(test_client: Any, token: str, batch: Any, **kw: Any) -> Any:
    body = batch if isinstance(batch, bytes | str) else json.dumps(batch)
    return test_client.post(
        "/api/sync/push",
        data=body,
        headers={**bearer(token), "Content-Type": "application/json", **kw.pop("headers", {})},
        **kw,
    )


def reasons(resp: Any) -> set[str]:
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return {r["reason"] for r in resp.get_json()["rejected"]}
