"""Fixtures for the fault suite: a live server in a thread, laptops, a small disk."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from server import create_app
from server.auth import data as auth_data
from server.db import get_db, get_replica
from tests.live import LiveApp


class Server:
    """A community server with compound c1 on `data_dir`, served on 127.0.0.1."""

    def __init__(self, data_dir: Path, **config) -> None:
        self.app = create_app({"DATA_DIR": str(data_dir), **config})
        with self.app.app_context():
            get_replica().write("compounds", "c1", {"compound_id": "c1", "name": "临江雅居"})
        self.live = LiveApp(self.app)
        self.url = self.live.url

    def token(self, username: str = "vol", role: str = "volunteer", name: str = "laptop") -> str:
        with self.app.app_context():
            db = get_db()
            user = auth_data.get_user_by_name(db, username) or auth_data.create_user(
                db, username, "password-123", role, ["c1"]
            )
            return auth_data.issue_device(db, user.id, name)[1]

    def rows(self, table: str) -> list[dict]:
        with self.app.app_context():
            return get_replica().rows(table)

    def close(self) -> None:
        self.live.stop()
        self.app.extensions["replica"].close()


@pytest.fixture
def server(tmp_path):
    s = Server(tmp_path / "server")
    yield s
    s.close()


def mount_tmpfs(path: Path, size: str) -> bool:
    """A size-limited file system at `path` (root only); False where mounting is refused."""
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def resize_tmpfs(path: Path, size: str) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(path)], check=True)


def unmount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True, check=False)
