"""Blob metadata (server-only table `blobs`) and "photo pending" listings. SQL only; `db` first.

A blob is named by the SHA-256 the client sent (the `photos` row id). The bytes kept on
disk are that photo with its location metadata removed, so they may hash differently:
`stored_sha` names them in the content store, `thumb_sha` names the thumbnail.
"""

from __future__ import annotations

import time
from typing import Any

from sqlite_utils import Database, Migrations

migrations = Migrations("lastmeter.blobs")


@migrations()
def m001_blobs(db: Database) -> None:
    db["blobs"].create(
        {
            "sha": str,  # the name the client uploaded under (SHA-256 of what it sent)
            "size": int,  # bytes the client sent
            "stored_sha": str,  # SHA-256 of the bytes kept (location stripped)
            "stored_size": int,
            "thumb_sha": str,
            "mime": str,
            "width": int,
            "height": int,
            "user_id": int,  # who uploaded it (sees it before its photos row arrives)
            "device_id": int,
            "received_at": int,
        },
        pk="sha",
        not_null={"size", "stored_sha", "stored_size", "thumb_sha", "mime", "received_at"},
    )


def record_blob(
    db: Database,
    sha: str,
    *,
    size: int,
    stored_sha: str,
    stored_size: int,
    thumb_sha: str,
    mime: str,
    width: int,
    height: int,
    user_id: int | None,
    device_id: int | None,
) -> None:
    """Remember a stored blob; a second upload of the same name keeps the first record."""
    db.execute(
        "INSERT INTO blobs (sha, size, stored_sha, stored_size, thumb_sha, mime, width, "
        "height, user_id, device_id, received_at) VALUES (?,?,?,?,?,?,?,?,?,?,?) "
        "ON CONFLICT (sha) DO NOTHING",
        [
            sha,
            size,
            stored_sha,
            stored_size,
            thumb_sha,
            mime,
            width,
            height,
            user_id,
            device_id,
            int(time.time()),
        ],
    )


def get_blob(db: Database, sha: str) -> dict[str, Any] | None:
    cur = db.execute("SELECT * FROM blobs WHERE sha = ?", [sha])
    row = cur.fetchone()
    if row is None:
        return None
    return dict(zip([d[0] for d in cur.description], row, strict=True))


def arrived(db: Database, shas: list[str]) -> set[str]:
    """Which of these photo names have their bytes on the server (for "photo pending" marks)."""
    found: set[str] = set()
    shas = list(dict.fromkeys(s for s in shas if s))
    for i in range(0, len(shas), 500):
        part = shas[i : i + 500]
        marks = ",".join("?" * len(part))
        found.update(
            r[0] for r in db.execute(f"SELECT sha FROM blobs WHERE sha IN ({marks})", part)
        )
    return found


def photo_compound(db: Database, sha: str) -> str | None:
    """The compound of the `photos` row named `sha`, None when no such row has arrived."""
    row = db.execute("SELECT compound_id FROM photos WHERE id = ?", [sha]).fetchone()
    return row[0] if row else None


def _scope_sql(compounds: list[str] | None) -> tuple[str, list[str]]:
    if compounds is None:
        return "", []
    return f" AND p.compound_id IN ({','.join('?' * len(compounds))})", list(compounds)


def pending_photos(
    db: Database, compounds: list[str] | None = None, limit: int = 500
) -> list[dict[str, Any]]:
    """`photos` rows whose bytes have not arrived, oldest first.

    `compounds=None` means every compound; an empty list means none.
    """
    if compounds is not None and not compounds:
        return []
    where, params = _scope_sql(compounds)
    cur = db.execute(
        "SELECT p.id, p.compound_id, p.mime, p.size, p.taken_at, p.ref_table, p.ref_id "
        "FROM photos p LEFT JOIN blobs b ON b.sha = p.id "
        f"WHERE b.sha IS NULL{where} ORDER BY p._ctr LIMIT ?",
        [*params, limit],
    )
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur]


def count_pending(db: Database, compounds: list[str] | None = None) -> int:
    if compounds is not None and not compounds:
        return 0
    where, params = _scope_sql(compounds)
    return db.execute(
        "SELECT count(*) FROM photos p LEFT JOIN blobs b ON b.sha = p.id "
        f"WHERE b.sha IS NULL{where}",
        params,
    ).fetchone()[0]
