"""Content-addressed blob files (photos) named by the SHA-256 of their bytes.

`DIR/ab/abcdef...` holds a complete blob; `DIR/partial/<sha>` an upload in progress.
Writes go to a temporary file, are fsynced, then renamed into place, so a blob that
exists is always whole. Names are checked (64 lowercase hex) before any path is built.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
import time
from pathlib import Path
from typing import BinaryIO

_SHA_RE = re.compile(r"[0-9a-f]{64}")
_READ = 1024 * 1024


class BlobError(ValueError):
    """Base of the store's refusals."""


class BadName(BlobError):
    """Not a SHA-256 hex name (64 lowercase hex characters)."""


class OffsetMismatch(BlobError):
    """A chunk that does not continue the partial upload; `expected` is the current size."""

    def __init__(self, sha: str, offset: int, expected: int) -> None:
        self.expected = expected
        super().__init__(
            f"blob {sha[:12]}: chunk at offset {offset}, but the server has {expected}"
        )


class HashMismatch(BlobError):
    """The finished upload's bytes do not hash to its name; the partial was discarded."""

    def __init__(self, sha: str, actual: str) -> None:
        self.actual = actual
        super().__init__(f"the uploaded bytes hash to {actual}, not {sha}; upload them again")


def check_name(sha: object) -> str:
    """`sha` if it is 64 lowercase hex characters, else BadName (no path tricks get through)."""
    if not isinstance(sha, str) or not _SHA_RE.fullmatch(sha):
        raise BadName(f"{str(sha)[:80]!r} is not a SHA-256 name (64 lowercase hex characters)")
    return sha


def is_name(sha: object) -> bool:
    return isinstance(sha, str) and _SHA_RE.fullmatch(sha) is not None


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BlobStore:
    """Blobs under `directory`; safe for several threads of one process."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._partials = self.directory / "partial"
        self._lock = threading.Lock()

    # -- complete blobs -------------------------------------------------------------------

    def path(self, sha: str) -> Path:
        sha = check_name(sha)
        return self.directory / sha[:2] / sha

    def exists(self, sha: str) -> bool:
        return self.path(sha).is_file()

    def size(self, sha: str) -> int:
        """Size in bytes; FileNotFoundError when the blob is not here."""
        return self.path(sha).stat().st_size

    def open(self, sha: str) -> BinaryIO:
        """The blob for reading (binary); FileNotFoundError when it is not here."""
        return self.path(sha).open("rb")

    def read(self, sha: str) -> bytes:
        return self.path(sha).read_bytes()

    def put(self, data: bytes) -> str:
        """Store `data` and return its SHA-256 hex; storing the same bytes twice is a no-op."""
        sha = sha256_hex(data)
        target = self.path(sha)
        if target.is_file():
            return sha
        target.parent.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)
        return sha

    def remove(self, sha: str) -> bool:
        """Delete the blob; True if it was there."""
        try:
            self.path(sha).unlink()
        except FileNotFoundError:
            return False
        return True

    def __iter__(self):
        """Names of the complete blobs."""
        for sub in sorted(self.directory.glob("[0-9a-f][0-9a-f]")):
            for f in sorted(sub.iterdir()):
                if is_name(f.name) and f.name.startswith(sub.name):
                    yield f.name

    # -- partial uploads ------------------------------------------------------------------

    def _partial(self, sha: str) -> Path:
        return self._partials / check_name(sha)

    def partial_size(self, sha: str) -> int:
        """Bytes received so far of an unfinished upload (0 when none)."""
        try:
            return self._partial(sha).stat().st_size
        except FileNotFoundError:
            return 0

    def append_partial(self, sha: str, offset: int, chunk: bytes) -> int:
        """Append `chunk` at `offset`, which must equal the partial size; returns the new size.

        A retried chunk (same offset, already written) gets OffsetMismatch with the
        current size, so the sender simply continues from there.
        """
        path = self._partial(sha)
        with self._lock:
            current = self.partial_size(sha)
            if offset != current:
                raise OffsetMismatch(sha, offset, current)
            self._partials.mkdir(exist_ok=True)
            with path.open("ab") as fh:
                fh.write(chunk)
                fh.flush()
                os.fsync(fh.fileno())
            return current + len(chunk)

    def finish_partial(self, sha: str) -> bool:
        """Check the partial's SHA-256 and move it into place.

        True when the blob is now stored from this partial, False when there was no
        partial (nothing to finish) or the blob was already stored (partial dropped).
        A partial whose bytes do not hash to `sha` is deleted and HashMismatch raised.
        """
        path = self._partial(sha)
        with self._lock:
            if not path.is_file():
                return False
            digest = hashlib.sha256()
            with path.open("rb") as fh:
                while block := fh.read(_READ):
                    digest.update(block)
            actual = digest.hexdigest()
            if actual != sha:
                path.unlink()
                raise HashMismatch(sha, actual)
            target = self.path(sha)
            if target.is_file():
                path.unlink()
                return False
            target.parent.mkdir(exist_ok=True)
            os.replace(path, target)
        _fsync_dir(target.parent)
        return True

    def discard_stale_partials(self, max_age_s: float) -> int:
        """Delete partial uploads untouched for `max_age_s` seconds; returns how many."""
        if not self._partials.is_dir():
            return 0
        cutoff = time.time() - max_age_s
        gone = 0
        with self._lock:
            for f in self._partials.iterdir():
                if is_name(f.name) and f.stat().st_mtime < cutoff:
                    f.unlink(missing_ok=True)
                    gone += 1
        return gone

    def discard_partial(self, sha: str) -> bool:
        with self._lock:
            try:
                self._partial(sha).unlink()
            except FileNotFoundError:
                return False
            return True


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable (POSIX); directories cannot be opened on Windows."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
