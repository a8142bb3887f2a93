"""The demo's field agent: its volunteer with a known PIN, and a first sync at start.

Like server/cli.py, the demo composes the two apps, so this module (and only it, in
server/demo) imports field_agent, lazily, when the demo serves.
"""

from __future__ import annotations

from pathlib import Path

VOLUNTEER = "志愿者 Volunteer (Linjiang)"  # the server user vol-linjiang's display name
PIN = "2020"  # a demo PIN, printed at start


def ensure_volunteer(agent_dir: Path, name: str = VOLUNTEER, pin: str = PIN) -> bool:
    """The volunteer exists on the laptop with this PIN (so the agent opens on sign-in,
    not on first-time setup); returns True when it was created or its PIN reset."""
    from werkzeug.security import check_password_hash

    from field_agent import close_app, create_app
    from field_agent.db import open_db
    from field_agent.volunteers import data as volunteers

    app = create_app({"DATA_DIR": str(agent_dir)})  # makes the database and its tables
    db = open_db(app.config["DATABASE"])
    try:
        person = volunteers.get_by_name(db, name)
        if person is None:
            volunteers.create(db, name, pin)
            return True
        if not check_password_hash(person["pin_hash"], pin):
            volunteers.set_pin(db, person["id"], pin)
            return True
        return False
    finally:
        db.close()
        close_app(app)


def first_sync(agent_dir: Path) -> str:
    """One push and pull with the demo server (which must be serving); a line to print."""
    from field_agent.syncer import run_sync
    from sync.http_client import SyncError

    try:
        report = run_sync(agent_dir)
    except SyncError as exc:
        return f"first sync failed: {exc} (the agent retries in the background)"
    return (
        f"first sync: pulled {report.pulled_cells:,} cells, pushed {report.pushed_cells:,}, "
        f"{report.rejected} rejected"
    )
