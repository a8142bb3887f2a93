"""Helpers for the blob tests (imported as tests.server.blobs.helpers)."""

from __future__ import annotations

import contextlib
import socket
import threading
from pathlib import Path

from sync import Replica
from sync.blobstore import BlobStore
from sync.http_client import SyncClient, make_session


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


class CorruptingProxy:
    """A TCP proxy on 127.0.0.1 that flips bytes the first time `needle` passes upstream.

    Stands in for a bad link: the bytes of one chunk arrive damaged, nothing else changes.
    """

    def __init__(self, target_port: int, needle: bytes) -> None:
        self.target = ("127.0.0.1", target_port)
        self.needle = needle
        self.corrupted = 0
        self._lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self._closing = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            threading.Thread(target=self._up, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._down, args=(upstream, client), daemon=True).start()

    def _up(self, src: socket.socket, dst: socket.socket) -> None:
        keep = len(self.needle) - 1  # held back so a needle split across reads is still seen
        buf = b""
        src.settimeout(0.01)
        try:
            while True:
                try:
                    data = src.recv(65536)
                except TimeoutError:
                    dst.sendall(buf)  # quiet line: let everything held back through
                    buf = b""
                    continue
                if not data:
                    break
                buf += data
                with self._lock:
                    if self.corrupted == 0 and self.needle in buf:
                        damaged = bytes(b ^ 0x55 for b in self.needle)
                        buf = buf.replace(self.needle, damaged, 1)
                        self.corrupted += 1
                if self.corrupted:
                    dst.sendall(buf)  # done: no need to hold anything back any more
                    buf = b""
                elif len(buf) > keep:
                    dst.sendall(buf[:-keep])
                    buf = buf[-keep:]
            dst.sendall(buf)
        except OSError:
            pass
        finally:
            _close(dst, src)

    def _down(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            _close(dst, src)

    def close(self) -> None:
        self._closing = True
        self.listener.close()


def _close(*socks: socket.socket) -> None:
    for s in socks:
        with contextlib.suppress(OSError):
            s.shutdown(socket.SHUT_RDWR)
        s.close()
