"""One sync of the agent's replica with its server (used by the CLI and the background job)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import requests

from sync import Replica
from sync.blobstore import BlobStore
from sync.http_client import Progress, SyncClient, SyncError, SyncReport, pass_base

from . import settings


def _blob_store(data_dir: Path) -> BlobStore:
    return BlobStore(settings.blob_dir(data_dir))


def run_sync(
    data_dir: Path,
    progress: Progress | None = None,
    replica: Replica | None = None,
    session: requests.Session | None = None,
) -> SyncReport:
    """Push, pull (and photo uploads); remember the device's role, user and scope.

    A hello only while the server's site id is unknown: the pull's answer carries the
    role, user and scope too, so a sync with nothing new is one request.
    """
    conf = settings.load(data_dir)
    if not conf.get("server_url") or not conf.get("token"):
        raise SyncError("unenrolled", "this laptop is not enrolled: run `lastmeter agent init`")
    own = replica is None
    replica = replica or Replica(settings.db_path(data_dir))
    try:
        client = SyncClient(
            replica,
            conf["server_url"],
            conf["token"],
            progress=progress,
            server_site=conf.get("server_site"),
            session=session,
            blob_store=_blob_store(data_dir),  # photos go up after each push, resumably
        )
        try:
            report = client.sync()
        except BaseException:
            _remember(data_dir, client.report)  # what the server said before it stopped
            raise
    finally:
        if own:
            replica.close()
    _remember(data_dir, report, last_sync_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    return report


def _remember(data_dir: Path, report: SyncReport, **more: str) -> None:
    told = {
        "server_site": report.server_site,
        "role": report.role,
        "user": report.user,
        "scope": report.scope,
        "clock_offset_ms": report.clock_offset_ms,
        **more,
    }
    if any(value is not None for value in told.values()):
        settings.save(data_dir, **told)  # None values are left as they were


def waiting_cells(data_dir: Path, replica: Replica | None = None) -> int:
    """Cells this laptop wrote that the server has not acknowledged yet."""
    conf = settings.load(data_dir)
    own = replica is None
    replica = replica or Replica(settings.db_path(data_dir))
    try:
        return count_waiting(replica, conf.get("server_site"))
    finally:
        if own:
            replica.close()


def count_waiting(replica: Replica, peer: str | None) -> int:
    """This replica's own cells not acknowledged by `peer` (the server's site id).

    Counted in SQL (`Replica.count_since`), not by building the batch a push would send:
    the status bar asks on every page, after a long offline stretch too.
    """
    sent = replica.cursor(peer)["sent"] if peer else 0
    base = pass_base(replica.path, peer, "sent") if peer else 0  # a pass cut off half-way
    return replica.count_since(sent, site=replica.site_id, cells_after=base)
