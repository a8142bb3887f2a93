"""Reads for the users and devices pages (the accounts tables belong to server/auth)."""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("lastmeter.accounts")  # no tables of its own (see server/auth/data.py)


def list_users(db: Database) -> list[dict]:
    users = list(
        db.query(
            "SELECT u.id, u.username, u.display_name, u.role, u.active, "
            "(SELECT count(*) FROM devices d WHERE d.user_id = u.id AND d.revoked_at IS NULL) "
            "AS devices FROM users u ORDER BY u.role, u.username"
        )
    )
    scopes: dict[int, list[str]] = {}
    for user_id, compound_id in db.execute(
        "SELECT user_id, compound_id FROM user_compounds ORDER BY compound_id"
    ):
        scopes.setdefault(user_id, []).append(compound_id)
    for user in users:
        user["compounds"] = scopes.get(user["id"], [])
    return users


def get_device(db: Database, device_id: int) -> dict | None:
    rows = list(
        db.query("SELECT id, user_id, name, revoked_at FROM devices WHERE id = ?", [device_id])
    )
    return rows[0] if rows else None


def update_user(db: Database, user_id: int, role: str, compounds: list[str]) -> None:
    from ..auth.data import set_compounds

    with db.atomic():
        db.execute("UPDATE users SET role = ? WHERE id = ?", [role, user_id])
        set_compounds(db, user_id, compounds)
