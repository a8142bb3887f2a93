"""docs/protocol.md names every endpoint, reason code and status the sync API produces."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
DOC = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")

REASONS = [
    "role", "scope", "site", "unknown_table", "unknown_column", "bad_type", "out_of_range",
    "too_long", "unknown_state", "bad_format", "required", "row_rejected", "immutable",
    "clock_ahead", "compound_change", "unknown_row", "malformed", "missing_id",
]  # fmt: skip


@pytest.mark.parametrize("reason", REASONS)
def test_every_reason_code_is_documented_and_real(reason):
    assert f"`{reason}`" in DOC
    sources = [*(ROOT / "sync").glob("*.py"), *(ROOT / "server" / "sync_api").glob("*.py")]
    assert any(f'"{reason}"' in p.read_text(encoding="utf-8") for p in sources), reason


def test_every_sync_endpoint_is_documented(server_app):
    rules = [r.rule for r in server_app.url_map.iter_rules() if r.rule.startswith("/api/sync/")]
    assert rules
    for rule in rules:
        assert rule in DOC


@pytest.mark.parametrize("status", [400, 401, 403, 409, 413, 429])
def test_every_error_status_is_documented(status):
    assert re.search(rf"\| {status} \|", DOC)
