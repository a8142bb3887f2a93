"""sync.blobstore: content-addressed photo files, resumable partial uploads, safe names."""

from __future__ import annotations

import hashlib
import os
import time

import pytest

from sync.blobstore import BadName, BlobStore, HashMismatch, OffsetMismatch

DATA = b"a photo's bytes " * 1000
SHA = hashlib.sha256(DATA).hexdigest()


@pytest.fixture
def store(tmp_path) -> BlobStore:
    return BlobStore(tmp_path / "blobs")


def files(root) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_put_names_the_blob_by_its_sha256_and_fans_out(store):
    assert store.put(DATA) == SHA
    assert store.path(SHA) == store.directory / SHA[:2] / SHA
    assert store.exists(SHA)
    assert store.size(SHA) == len(DATA)
    with store.open(SHA) as fh:
        assert fh.read() == DATA
    assert list(store) == [SHA]


def test_put_twice_is_a_no_op_and_leaves_no_temporary_files(store):
    store.put(DATA)
    mtime = store.path(SHA).stat().st_mtime_ns
    assert store.put(DATA) == SHA
    assert store.path(SHA).stat().st_mtime_ns == mtime
    assert files(store.directory) == [f"{SHA[:2]}/{SHA}"]


def test_missing_blob_is_reported_not_invented(store):
    assert not store.exists(SHA)
    with pytest.raises(FileNotFoundError):
        store.size(SHA)
    with pytest.raises(FileNotFoundError):
        store.open(SHA)
    assert store.partial_size(SHA) == 0


BAD_NAMES = [
    "../../etc/passwd",
    "../" + "a" * 61,
    "a" * 63,
    "a" * 65,
    "A" * 64,  # upper case: one blob must have one name
    "g" * 64,
    "a" * 62 + "/b",
    "a" * 63 + "\n",
    "",
    None,
    64,
]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_names_that_are_not_64_lowercase_hex_are_refused_everywhere(store, name):
    for call in (
        lambda: store.path(name),
        lambda: store.exists(name),
        lambda: store.open(name),
        lambda: store.size(name),
        lambda: store.partial_size(name),
        lambda: store.append_partial(name, 0, b"x"),
        lambda: store.finish_partial(name),
        lambda: store.remove(name),
    ):
        with pytest.raises(BadName):
            call()
    assert files(store.directory.parent) == []


def test_partial_upload_finishes_into_a_verified_blob(store):
    assert store.append_partial(SHA, 0, DATA[:5000]) == 5000
    assert store.append_partial(SHA, 5000, DATA[5000:]) == len(DATA)
    assert store.partial_size(SHA) == len(DATA)
    assert not store.exists(SHA)  # not a blob until its hash is checked
    assert store.finish_partial(SHA) is True
    assert store.read(SHA) == DATA
    assert store.partial_size(SHA) == 0


@pytest.mark.parametrize("offset", [0, 4999, 5001, 10**9])
def test_a_chunk_must_start_where_the_partial_ends(store, offset):
    store.append_partial(SHA, 0, DATA[:5000])
    with pytest.raises(OffsetMismatch) as err:
        store.append_partial(SHA, offset, b"xyz")
    assert err.value.expected == 5000
    assert store.partial_size(SHA) == 5000  # unchanged


def test_a_corrupt_partial_fails_the_hash_check_and_is_discarded(store):
    bad = bytearray(DATA)
    bad[1234] ^= 0xFF
    store.append_partial(SHA, 0, bytes(bad))
    with pytest.raises(HashMismatch) as err:
        store.finish_partial(SHA)
    assert err.value.actual == hashlib.sha256(bad).hexdigest()
    assert not store.exists(SHA)
    assert store.partial_size(SHA) == 0
    assert files(store.directory) == []


def test_finishing_a_blob_already_stored_keeps_one_copy(store):
    store.put(DATA)
    store.append_partial(SHA, 0, DATA)
    assert store.finish_partial(SHA) is False
    assert store.read(SHA) == DATA
    assert files(store.directory) == [f"{SHA[:2]}/{SHA}"]


def test_finishing_without_a_partial_stores_nothing(store):
    assert store.finish_partial(SHA) is False
    assert not store.exists(SHA)


def test_remove_and_discard(store):
    store.put(DATA)
    store.append_partial(SHA, 0, b"abc")
    assert store.discard_partial(SHA) is True
    assert store.discard_partial(SHA) is False
    assert store.remove(SHA) is True
    assert store.remove(SHA) is False
    assert files(store.directory) == []


def test_stale_partials_are_discarded_fresh_ones_kept(store):
    other = "c" * 64
    store.append_partial(SHA, 0, b"old")
    store.append_partial(other, 0, b"new")
    old = time.time() - 8 * 24 * 3600
    os.utime(store.directory / "partial" / SHA, (old, old))
    assert store.discard_stale_partials(7 * 24 * 3600) == 1
    assert (store.partial_size(SHA), store.partial_size(other)) == (0, 3)
