"""Photos taken on this laptop (a signed paper ballot, a drug box): downscaled and stripped,
kept by SHA-256 in the blob store, with a synced `photos` row naming what they belong to."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from sync import Replica


def photo_problem(data: bytes) -> str | None:
    """Why these bytes are not a photo we can keep (for the form), or None."""
    from sync.images import ImageRejected, check_image  # PIL only when a photo is sent

    try:
        check_image(data)
    except ImageRejected as exc:
        return _("Not a photo we can use: %(why)s", why=str(exc))
    return None


def store_photo(
    replica: Replica,
    store: Any,
    compound_id: str,
    data: bytes,
    *,
    ref_table: str,
    ref_id: str,
    who: str,
    taken_at: str,
) -> str:
    """Keep the prepared photo and write its photos row (once per SHA); returns the SHA."""
    from sync.images import prepare_photo  # PIL only when a photo is taken

    prepared = prepare_photo(data)
    sha = store.put(prepared)
    if replica.get("photos", sha) is None:
        replica.write(
            "photos",
            sha,
            {
                "compound_id": compound_id,
                "mime": "image/jpeg",
                "size": len(prepared),
                "taken_at": taken_at,
                "ref_table": ref_table,
                "ref_id": ref_id,
                "recorded_by": who,
            },
        )
    return sha
