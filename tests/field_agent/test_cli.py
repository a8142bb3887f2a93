"""`lastmeter agent run`: serves the app with waitress on 127.0.0.1 only."""

from __future__ import annotations

import os
import re
import subprocess

import pytest
import requests

from tests.field_agent.helpers import LASTMETER

pytestmark = pytest.mark.slow


def test_agent_run_serves_on_localhost_only(tmp_path):
    proc = subprocess.Popen(
        [LASTMETER, "agent", "run", "--data", str(tmp_path / "agent"), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        line = proc.stdout.readline()
        url = re.search(r"http://\S+", line).group(0).rstrip("/")
        assert url.startswith("http://127.0.0.1:")
        resp = requests.get(url + "/", allow_redirects=False, timeout=10)
        assert resp.status_code == 302
        assert resp.headers["Location"].endswith("/setup")
        setup = requests.get(url + "/setup", timeout=10)
        assert setup.status_code == 200
        assert "谁在用这台电脑" in setup.text
        assert (tmp_path / "agent" / "lastmeter.db").exists()
        assert (tmp_path / "agent" / "config.toml").stat().st_mode & 0o077 == 0
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()
