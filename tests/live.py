"""Live servers on 127.0.0.1 for tests (imported as tests.live)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

LASTMETER = str(Path(sys.executable).parent / "lastmeter")


class LiveServer:
    """`lastmeter server run` in a subprocess on a random port, read from its first line;
    stop() and start() again come back on the same port."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.url = ""

    def start(self) -> LiveServer:
        self.proc = subprocess.Popen(
            [LASTMETER, "server", "run", "--data", str(self.data), "--port", str(self.port)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        line = self.proc.stdout.readline()
        assert "http://" in line, f"server did not start: {line!r}"
        self.url = line.split()[4].rstrip("/")
        self.port = int(self.url.rsplit(":", 1)[1])
        return self

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, as a power cut."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()
