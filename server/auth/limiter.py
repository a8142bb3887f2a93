"""Failed device-token attempts per client address: past the limit, 429 with Retry-After.

Device tokens carry 256 random bits, so guessing is hopeless; the limit is there so that
a stolen-but-revoked laptop or a script hammering the API cannot fill the logs or burn
CPU, and so that a leaked token prefix cannot be walked. Kept in memory: a restart
forgets it, which is fine for a limit measured in minutes.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict, deque

WINDOW_S = 15 * 60
MAX_ADDRESSES = 10_000  # the oldest addresses are forgotten first past this


class FailureLimiter:
    def __init__(self, limit: int, window_s: float = WINDOW_S, now=time.monotonic) -> None:
        self.limit = limit
        self.window_s = window_s
        self.now = now
        self._lock = threading.Lock()
        self._fails: OrderedDict[str, deque[float]] = OrderedDict()

    def _recent(self, key: str, now: float) -> deque[float] | None:
        fails = self._fails.get(key)
        if fails is None:
            return None
        while fails and fails[0] <= now - self.window_s:
            fails.popleft()
        if not fails:
            del self._fails[key]
            return None
        return fails

    def retry_after(self, key: str) -> int:
        """Seconds until `key` may try again; 0 while under the limit."""
        now = self.now()
        with self._lock:
            fails = self._recent(key, now)
            if fails is None or len(fails) < self.limit:
                return 0
            return max(1, math.ceil(fails[-self.limit] + self.window_s - now))

    def failed(self, key: str) -> None:
        now = self.now()
        with self._lock:
            fails = self._recent(key, now)
            if fails is None:
                fails = self._fails[key] = deque()
            fails.append(now)
            self._fails.move_to_end(key)
            while len(fails) > self.limit:
                fails.popleft()
            while len(self._fails) > MAX_ADDRESSES:
                self._fails.popitem(last=False)
