"""Fixtures for the photo blobs: a live waitress server in a thread, agents with photo stores."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from waitress.server import create_server

from sync import Replica
from sync.blobstore import BlobStore
from sync.http_client import SyncClient, make_session


class LiveApp:
    """`app` served by waitress on 127.0.0.1, random port, in a thread of this process."""

    def __init__(self, app) -> None:
        self.app = app
        self.server = create_server(app, host="127.0.0.1", port=0, threads=4)
        self.url = f"http://127.0.0.1:{self.server.effective_port}"
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        # waitress has no stop(); close every channel (the listener too) so run() returns.
        while self.server._map:
            for channel in list(self.server._map.values()):
                channel.handle_close()
        self.server.task_dispatcher.shutdown()
        self.thread.join(10)


@pytest.fixture
def live(server_app) -> Iterator[LiveApp]:
    """server_app under waitress on a random port of 127.0.0.1."""
    server = LiveApp(server_app)
    yield server
    server.stop()


class Agent:
    """A field agent's data: its replica and photo store under tmp_path/<name>."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.replica = Replica(root / "lastmeter.db")
        self.store = BlobStore(root / "blobs")

    def client(self, url: str, token: str, **kw) -> SyncClient:
        """A SyncClient with few, quick retries (tests must not wait on backoff)."""
        kw.setdefault("blob_store", self.store)
        return SyncClient(
            self.replica, url, token, session=make_session(2, backoff=0.01), timeout=(5, 30), **kw
        )

    def add_photo(self, data: bytes, compound: str = "c1", **over) -> str:
        """Keep the bytes and write the `photos` row named by their SHA-256."""
        sha = self.store.put(data)
        row = {"compound_id": compound, "mime": "image/jpeg", "size": len(data), **over}
        self.replica.write("photos", sha, row)
        return sha


@pytest.fixture
def agent(tmp_path) -> Iterator[Agent]:
    """A field agent in tmp_path/agent."""
    a = Agent(tmp_path / "agent")
    yield a
    a.replica.close()
