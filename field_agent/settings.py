"""The agent's data directory: lastmeter.db, blobs/, config.toml (server URL, token)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

DB_NAME = "lastmeter.db"
CONFIG_NAME = "config.toml"


def db_path(data_dir: Path) -> Path:
    return data_dir / DB_NAME


def load(data_dir: Path) -> dict[str, Any]:
    path = data_dir / CONFIG_NAME
    if not path.exists():
        return {}
    with path.open("rb") as fh:
        return tomllib.load(fh)


def save(data_dir: Path, **values: Any) -> dict[str, Any]:
    """Merge `values` into config.toml atomically; owner-only (it holds a token)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "blobs").mkdir(exist_ok=True)
    config = {**load(data_dir), **{k: v for k, v in values.items() if v is not None}}
    tmp = data_dir / (CONFIG_NAME + ".tmp")
    tmp.write_text(tomli_w.dumps(config), encoding="utf-8")
    os.chmod(tmp, 0o600)
    tmp.replace(data_dir / CONFIG_NAME)
    return config
