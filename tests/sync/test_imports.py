"""The engine imports no web framework: the field agent and servers build on it, not it on them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_sync_loads_neither_flask_nor_requests():
    code = (
        "import sys, sync, sync.clock, sync.merge, sync.store, sync.protocol, sync.schemas\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'flask', 'requests', 'werkzeug'}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
