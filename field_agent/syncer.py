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
    """Hello, push, pull (and photo uploads); remember the device's role and scope."""
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
        info = client.hello()
        settings.save(
            data_dir,
            server_site=info.get("server_site"),
            role=info.get("role"),
            user=info.get("user"),
            scope=info.get("scope"),
            clock_offset_ms=client.report.clock_offset_ms,
        )
        report = client.sync()
    finally:
        if own:
            replica.close()
    settings.save(
        data_dir,
        server_site=report.server_site,
        last_sync_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        clock_offset_ms=report.clock_offset_ms,
    )
    return report


def waiting_cells(data_dir: Path, replica: Replica | None = None) -> int:
    """Cells this laptop wrote that the server has not acknowledged yet."""
    conf = settings.load(data_dir)
    own = replica is None
    replica = replica or Replica(settings.db_path(data_dir))
    try:
        peer = conf.get("server_site")
        sent = replica.cursor(peer)["sent"] if peer else 0
        base = pass_base(replica.path, peer, "sent") if peer else 0  # a pass cut off half-way
        batch = replica.changes_since(sent, exclude_site=peer, cells_after=base)
        return sum(
            row[4].bit_count()
            for chunk in batch.tables.values()
            for row in chunk.rows
            if batch.sites[row[2]] == replica.site_id
        )
    finally:
        if own:
            replica.close()
