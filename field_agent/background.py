"""Background sync: a thread that syncs every few minutes while the server answers.

Pages never touch the network: they read `BackgroundSync.state` and ask for a sync with
`request_now()`. The thread keeps its own replica handle on the file, so a long merge
never holds the pages' replica lock.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path
from typing import Any

from flask import Flask

from sync import Replica
from sync.http_client import SyncError, make_session

from . import settings
from .syncer import run_sync


class BackgroundSync:
    def __init__(self, app: Flask) -> None:
        self.data_dir = Path(app.config["DATA_DIR"])
        self.interval = float(app.config["SYNC_INTERVAL_SECONDS"])
        self.retry_interval = float(app.config["RETRY_INTERVAL_SECONDS"])
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._run_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._replica: Replica | None = None
        self.state: dict[str, Any] = {
            "running": False,
            "phase": "",
            "done": 0,
            "online": None,  # None until the first attempt
            "error": None,
            "error_kind": None,
            "attempt_at": None,
            "last_report": None,
            "runs": 0,
            "queued": False,  # Sync now was pressed; the thread has not picked it up yet
        }

    # -- the loop -------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="agent-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        with self._run_lock:
            if self._replica is not None:
                self._replica.close()
                self._replica = None

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            wait = self.interval if self.state["online"] else self.retry_interval
            self._wake.wait(wait)
            self._wake.clear()

    def request_now(self) -> None:
        """Sync as soon as possible, without waiting for it (a page must not block)."""
        if self.alive:
            self._wake.set()
        elif not self.state["running"]:
            threading.Thread(target=self.run_once, name="agent-sync-now", daemon=True).start()

    # -- one sync -------------------------------------------------------------------------

    def _progress(self, phase: str, done: int, total: int) -> None:
        self.state.update(phase=phase, done=done)

    def run_once(self) -> bool:
        """One sync now, in this thread; True when everything was exchanged."""
        if not self._run_lock.acquire(blocking=False):
            return False  # another sync is under way
        self.state["queued"] = False
        try:
            conf = settings.load(self.data_dir)
            if not conf.get("server_url") or not conf.get("token"):
                self.state.update(online=None, error_kind="unenrolled", error=None)
                return False
            if self._replica is None:
                self._replica = Replica(settings.db_path(self.data_dir))
            self.state.update(running=True, phase="hello", done=0, attempt_at=_now())
            try:
                report = run_sync(
                    self.data_dir,
                    progress=self._progress,
                    replica=self._replica,
                    session=make_session(retries=1, backoff=0.2),
                )
            except SyncError as exc:
                self.state.update(
                    online=exc.kind != "unreachable", error=str(exc), error_kind=exc.kind
                )
                return False
            except Exception as exc:  # keep the thread alive whatever happens; show it
                self.state.update(online=None, error=f"{type(exc).__name__}: {exc}")
                self.state["error_kind"] = "internal"
                return False
            self.state.update(
                online=True,
                error="; ".join(report.errors) or None,
                error_kind=None,
                last_report=report,
            )
            return not report.errors
        finally:
            self.state.update(running=False, phase="", runs=self.state["runs"] + 1)
            self._run_lock.release()

    def wait_idle(self, timeout: float = 60) -> None:
        """Block until no sync runs (tests and shutdown)."""
        deadline = time.monotonic() + timeout
        while self.state["running"] and time.monotonic() < deadline:
            time.sleep(0.02)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
