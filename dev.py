#!/usr/bin/env python3
"""The README's two commands, needing only Python 3.11+ and pip (Windows, macOS, Linux):

    python3 dev.py demo    start the demo: a community server and a field agent
    python3 dev.py test    lint and run the whole test suite (what CI runs)

Each creates `.venv/` and installs the project into it when missing or out of date.
"""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
EXE = ".exe" if os.name == "nt" else ""


def run(*args: str | Path) -> None:
    code = subprocess.call([str(a) for a in args], cwd=ROOT)
    if code:
        sys.exit(code)


def ensure_venv() -> None:
    python = BIN / f"python{EXE}"
    stamp = VENV / ".installed"
    if sys.version_info < (3, 11):  # noqa: UP036 -- dev.py runs on whatever Python the user has
        sys.exit("Last Meter needs Python 3.11 or newer")
    if not python.exists():
        print("creating .venv ...", flush=True)
        venv.create(VENV, with_pip=True)
    if not stamp.exists() or stamp.stat().st_mtime < (ROOT / "pyproject.toml").stat().st_mtime:
        print("installing Last Meter and its test tools into .venv ...", flush=True)
        run(python, "-m", "pip", "install", "-q", "--upgrade", "pip")
        run(python, "-m", "pip", "install", "-q", "-e", ".[test]")
        stamp.touch()


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in ("demo", "test"):
        sys.exit(__doc__)
    ensure_venv()
    if argv[0] == "demo":
        run(BIN / f"lastmeter{EXE}", "demo", *argv[1:])
    else:
        run(BIN / f"ruff{EXE}", "check", ".")
        run(BIN / f"ruff{EXE}", "format", "--check", ".")
        run(BIN / f"pytest{EXE}", *argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
