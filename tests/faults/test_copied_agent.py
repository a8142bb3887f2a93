"""A laptop's database copied to a second laptop (the same site id) is refused with 409
and a message that says how to re-enrol. What is and is not noticed: docs/security.md."""

from __future__ import annotations

import shutil

import pytest

from field_agent import settings
from field_agent.syncer import run_sync
from sync import Replica, new_id
from sync.http_client import SyncClient, SyncError, make_session

pytestmark = pytest.mark.slow


def enrol(tmp_path, server, name: str, token: str | None = None):
    data = tmp_path / name
    settings.init_data_dir(data)
    token = token or server.token(name, name=f"{name} laptop")
    settings.save(data, server_url=server.url, token=token)
    return data


def write_checks(data, n: int) -> None:
    with Replica(settings.db_path(data)) as laptop:
        laptop.write_many(
            "temperature_checks",
            {new_id(): {"compound_id": "c1", "household_id": "h1", "temperature_c": 36.6,
                        "measured_at": "2020-03-10T08:00:00+08:00"} for _ in range(n)},
        )  # fmt: skip


def sync(data):
    with Replica(settings.db_path(data)) as laptop:
        return run_sync(data, replica=laptop, session=make_session(retries=0))


def test_a_copied_database_under_a_new_token_is_refused(tmp_path, server):
    a = enrol(tmp_path, server, "a")
    write_checks(a, 3)
    sync(a)
    b = enrol(tmp_path, server, "b")  # a second laptop, enrolled properly...
    shutil.copy(settings.db_path(a), settings.db_path(b))  # ...then given a's database
    with pytest.raises(SyncError) as err:
        sync(b)
    assert "409" in str(err.value)
    assert "copy" in str(err.value)
    assert "lastmeter agent init" in str(err.value)


def test_a_token_used_by_another_database_is_refused(tmp_path, server):
    a = enrol(tmp_path, server, "a")
    write_checks(a, 1)
    sync(a)
    token = settings.load(a)["token"]
    other = enrol(tmp_path, server, "other", token=token)  # a's token, a fresh database
    write_checks(other, 1)
    with pytest.raises(SyncError) as err:
        sync(other)
    assert "409" in str(err.value)
    assert "lastmeter agent init" in str(err.value)


def test_a_copied_data_directory_with_the_same_token_is_noticed_when_it_falls_behind(
    tmp_path, server
):
    a = enrol(tmp_path, server, "a")
    write_checks(a, 5)
    sync(a)
    b = tmp_path / "b"
    shutil.copytree(a, b)  # the whole data directory: same token, same site id
    write_checks(b, 3)
    sync(b)  # the copy pushes first: nothing tells it apart from the original yet
    write_checks(a, 1)  # the original's counter is now behind what the token pushed
    with pytest.raises(SyncError) as err:
        sync(a)
    message = str(err.value)
    assert "409" in message
    assert "copy" in message
    assert "lastmeter agent init" in message
    assert len(server.rows("temperature_checks")) == 8  # what came before stays, once


def test_a_batch_sent_again_after_a_lost_answer_is_not_taken_for_a_copy(tmp_path, server):
    a = enrol(tmp_path, server, "a")
    write_checks(a, 4)
    sync(a)
    conf = settings.load(a)
    with Replica(settings.db_path(a)) as laptop:
        laptop.set_cursor(conf["server_site"], sent=0)  # as if the answer never came
        client = SyncClient(laptop, server.url, conf["token"], session=make_session(retries=0))
        client.sync()
    assert len(server.rows("temperature_checks")) == 4
