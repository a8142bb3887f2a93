"""Live servers on 127.0.0.1 for tests (imported as tests.live)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from waitress.server import create_server

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


class LiveApp:
    """`app` served by waitress on 127.0.0.1 in a thread; stop() and start() again on the
    same port (a server that goes down and comes back)."""

    def __init__(self, app, port: int = 0) -> None:
        self.app = app
        self.port = port
        self.thread: threading.Thread | None = None
        self.start()

    def start(self) -> LiveApp:
        self.server = create_server(self.app, host="127.0.0.1", port=self.port, threads=4)
        self.port = self.server.effective_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        return self

    def _serve(self) -> None:
        # waitress's run() has no stop; poll in short steps and close from this same thread
        # (closing sockets under a running poll from another thread races).
        channels = self.server._map
        while not self._stop.is_set():
            self.server.asyncore.loop(timeout=0.05, map=channels, use_poll=True, count=1)
        for channel in list(channels.values()):
            channel.handle_close()
        self.server.task_dispatcher.shutdown()

    def stop(self) -> None:
        self._stop.set()
        if self.thread is not None:
            self.thread.join(10)
