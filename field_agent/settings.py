"""The agent's data directory: lastmeter.db, blobs/, config.toml (server URL, token, settings).

Keys of config.toml, with their defaults (`DEFAULTS`; each is upper-cased into app.config):
`name`, `timezone`, `idle_lock_minutes`, `sync_interval_seconds`, `retry_interval_seconds`,
`max_photo_bytes`, `secret_key` (made at first start). Written by sync: `server_url`,
`token`, `server_site`, `last_sync_at`, `clock_offset_ms`, `role`, `user`, `scope`.
"""

from __future__ import annotations

import os
import secrets
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

DB_NAME = "lastmeter.db"
CONFIG_NAME = "config.toml"

DEFAULTS: dict[str, Any] = {
    "name": "Last Meter field agent",
    "timezone": "Asia/Shanghai",
    "idle_lock_minutes": 5,  # a shared laptop locks itself when left alone
    "sync_interval_seconds": 180,  # background sync while the server answers
    "retry_interval_seconds": 30,  # how often to look for the server while it is away
    "max_photo_bytes": 20 * 1024 * 1024,  # a phone photo before downscaling
}


def db_path(data_dir: Path) -> Path:
    return data_dir / DB_NAME


def blob_dir(data_dir: Path) -> Path:
    return data_dir / "blobs"


def load(data_dir: Path) -> dict[str, Any]:
    path = data_dir / CONFIG_NAME
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        return tomllib.load(fh)


def save(data_dir: Path, **values: Any) -> dict[str, Any]:
    """Merge `values` into config.toml atomically; owner-only (it holds a token)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    blob_dir(data_dir).mkdir(exist_ok=True)
    config = {**load(data_dir), **{k: v for k, v in values.items() if v is not None}}
    tmp = data_dir / (CONFIG_NAME + ".tmp")
    tmp.write_text(tomli_w.dumps(config), encoding="utf-8")
    os.chmod(tmp, 0o600)
    tmp.replace(data_dir / CONFIG_NAME)
    return config


def init_data_dir(data_dir: Path) -> dict[str, Any]:
    """Create the directory and a session secret on first start; return the stored config."""
    config = load(data_dir)
    if "secret_key" not in config or not blob_dir(data_dir).exists():
        config = save(data_dir, secret_key=config.get("secret_key") or secrets.token_hex(32))
    return config


_cache: dict[str, tuple[tuple[int, int, int], dict[str, Any]]] = {}


def load_cached(data_dir: str | Path) -> dict[str, Any]:
    """`load`, re-read only when config.toml changed (pages read it on every request)."""
    path = Path(data_dir) / CONFIG_NAME
    try:
        st = path.stat()
        stamp = (st.st_mtime_ns, st.st_ino, st.st_size)  # save() replaces the file
    except FileNotFoundError:
        return {}
    hit = _cache.get(str(path))
    if hit and hit[0] == stamp:
        return hit[1]
    config = load(Path(data_dir))
    _cache[str(path)] = (stamp, config)
    return config
