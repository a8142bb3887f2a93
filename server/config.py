"""A data directory holds everything of one program: lastmeter.db, blobs/, config.toml."""

from __future__ import annotations

import secrets
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

DB_NAME = "lastmeter.db"
CONFIG_NAME = "config.toml"

# Every key a server's config.toml may hold, with its default (docs/server.md lists them).
DEFAULTS: dict[str, Any] = {
    "level": "community",  # community | street | district | city
    "name": "Last Meter community",
    "timezone": "Asia/Shanghai",
    "certification_rules": "wuhan-2020-03",  # a rule version id (server/certification/rules.py)
    "max_request_bytes": 8 * 1024 * 1024,
    "max_blob_bytes": 10 * 1024 * 1024,
    "max_clock_drift_ms": 10 * 60 * 1000,
    "pull_batch_cells": 20_000,
    "login_attempts_per_15_min": 10,
    "device_token_failures_per_15_min": 30,  # per client address, then 429
    "session_cookie_secure": False,
}


def read_config(data_dir: Path) -> dict[str, Any]:
    path = data_dir / CONFIG_NAME
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        return tomllib.load(fh)


def init_data_dir(data_dir: Path, **overrides: Any) -> dict[str, Any]:
    """Create the directory and its config (with a fresh secret key) if missing."""
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "blobs").mkdir(exist_ok=True)
    config = read_config(data_dir)
    changed = False
    if "secret_key" not in config:
        config["secret_key"] = secrets.token_hex(32)
        changed = True
    for key, value in overrides.items():
        if value is not None and config.get(key) != value:
            config[key] = value
            changed = True
    if changed:
        tmp = data_dir / (CONFIG_NAME + ".tmp")
        tmp.write_text(tomli_w.dumps(config), encoding="utf-8")
        tmp.replace(data_dir / CONFIG_NAME)
    return config
