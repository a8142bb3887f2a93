"""The server SIGKILLed and restarted again and again while agents sync and owners vote
(bench/load.py --kill-every): clients retry, and the final state is exact."""

from __future__ import annotations

import pytest

from tests.load.test_load import load_module

pytestmark = pytest.mark.slow


def test_repeated_sigkill_during_the_load_ends_exact(tmp_path):
    load = load_module()
    plan = load.setup(tmp_path, agents=80, records=300, owners=40)
    result = load.run(plan, threads=4, kill_every=0.4, deadline_s=240)
    assert result.kills >= 2, "the server was not killed during the load: make it longer"
    assert result.errors == []
    # Every check of every laptop, every column; every owner's counted choice and every
    # receipt an owner was shown (a ballot re-sent after a lost answer may be stored twice:
    # the last one counts, and it has the same choice).
    assert result.problems == []
    assert len(result.sync_latency_s) == 80
    assert len(result.ballot_latency_s) == 40
