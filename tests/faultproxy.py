"""A fault-injecting TCP proxy for the sync tests (and a byte counter for the benchmark).

    proxy = FaultProxy(("127.0.0.1", server_port))
    proxy.plan = lambda n: Fault(drop_up_after=5000) if n % 3 == 0 else None
    ... point the client at proxy.url ...
    proxy.close()

Each accepted connection n (0, 1, 2, ...) gets `plan(n)`: a Fault or None (pass through).
- drop_up_after / drop_down_after: reset both sockets (RST) once that many bytes went
  client->server / server->client;
- truncate_down_after: forward only that many response bytes, then close cleanly (FIN);
- delay: seconds to sleep before forwarding each chunk, both ways;
- reply: answer the first request with these bytes (e.g. a 503) and close, never
  reaching the server.
`bytes_up`, `bytes_down` and `connections` count what really crossed the proxy.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Fault:
    drop_up_after: int | None = None
    drop_down_after: int | None = None
    truncate_down_after: int | None = None
    delay: float = 0.0
    reply: bytes | None = None


class FaultProxy:
    def __init__(self, target: tuple[str, int], plan: Callable[[int], Fault | None] | None = None):
        self.target = target
        self.plan = plan or (lambda n: None)
        self.connections = 0
        self.bytes_up = 0
        self.bytes_down = 0
        self.faults_fired = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._closed = False
        self._open: set[socket.socket] = set()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            socks = list(self._open)
        for s in socks:
            with contextlib.suppress(OSError):
                s.close()
        self._thread.join(5)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ------------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            with self._lock:
                n = self.connections
                self.connections += 1
            fault = self.plan(n) or Fault()
            if fault.reply is not None:
                threading.Thread(
                    target=self._reply, args=(client, fault.reply), daemon=True
                ).start()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError:
                _reset(client)
                continue
            upstream.settimeout(None)
            for sock in (client, upstream):  # no Nagle delays: relay each chunk as it comes
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._open.update((client, upstream))
            state = {"done": False}
            for src, dst, up in ((client, upstream, True), (upstream, client, False)):
                threading.Thread(
                    target=self._pump,
                    args=(src, dst, up, fault, state, client, upstream),
                    daemon=True,
                ).start()

    def _reply(self, client: socket.socket, reply: bytes) -> None:
        with contextlib.suppress(OSError):
            client.recv(65536)
            client.sendall(reply)
            with self._lock:
                self.faults_fired += 1
        _close(client)

    def _pump(self, src, dst, up, fault, state, client, upstream) -> None:
        sent = 0
        drop = fault.drop_up_after if up else fault.drop_down_after
        truncate = None if up else fault.truncate_down_after
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    with contextlib.suppress(OSError):
                        dst.shutdown(socket.SHUT_WR)
                    return
                if fault.delay:
                    time.sleep(fault.delay)
                cut = min(x for x in (drop, truncate, 1 << 62) if x is not None)
                if sent + len(data) > cut:
                    data = data[: cut - sent]
                    self._forward(dst, data, up)
                    with self._lock:
                        self.faults_fired += 1
                    if cut == truncate:
                        # The response ends early but cleanly, as a broken middlebox would.
                        with contextlib.suppress(OSError):
                            dst.shutdown(socket.SHUT_RDWR)
                        _close(src)
                        _close(dst)
                    else:
                        _reset(client)
                        _reset(upstream)
                    return
                self._forward(dst, data, up)
                sent += len(data)
        except OSError:
            _close(client)
            _close(upstream)
        finally:
            with self._lock:
                if state["done"]:
                    self._open.discard(client)
                    self._open.discard(upstream)
                state["done"] = True

    def _forward(self, dst: socket.socket, data: bytes, up: bool) -> None:
        if not data:
            return
        dst.sendall(data)
        with self._lock:
            if up:
                self.bytes_up += len(data)
            else:
                self.bytes_down += len(data)


def _reset(sock: socket.socket) -> None:
    """Close with RST, as a dropped link looks to the other side."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    _close(sock)


def _close(sock: socket.socket) -> None:
    # close() alone waits for the other relay thread's recv() on this socket to return,
    # which may be never; shutdown() wakes it, so the close (and its RST) happens now.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RD)
    with contextlib.suppress(OSError):
        sock.close()


def main() -> None:
    """`python tests/faultproxy.py HOST:PORT`: a plain counting proxy in its own process.

    Prints its port; then answers each line on stdin with the byte counters as JSON.
    """
    import json
    import sys

    host, port = sys.argv[1].rsplit(":", 1)
    proxy = FaultProxy((host, int(port)))
    print(proxy.port, flush=True)
    for _ in sys.stdin:
        stats = {"up": proxy.bytes_up, "down": proxy.bytes_down, "connections": proxy.connections}
        print(json.dumps(stats), flush=True)
    proxy.close()


if __name__ == "__main__":
    main()
