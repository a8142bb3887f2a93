"""Users, their compounds, devices and tokens, sign-in attempts. SQL only; `db` first."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass, field

from sqlite_utils import Database, Migrations
from werkzeug.security import check_password_hash, generate_password_hash

from ..permissions import ROLES

migrations = Migrations("lastmeter.auth")

ALL = "*"  # a scope entry meaning every compound this server holds


@migrations()
def m001_accounts(db: Database) -> None:
    db["users"].create(
        {
            "id": int,
            "username": str,
            "display_name": str,
            "password_hash": str,
            "role": str,
            "active": int,
            "created_at": int,
        },
        pk="id",
        not_null={"username", "password_hash", "role"},
        defaults={"active": 1},
    )
    db["users"].create_index(["username"], unique=True)
    db["user_compounds"].create({"user_id": int, "compound_id": str}, pk=("user_id", "compound_id"))
    db["devices"].create(
        {
            "id": int,
            "user_id": int,
            "name": str,
            "token_hash": str,
            "site_id": str,
            "created_at": int,
            "revoked_at": int,
            "last_seen_at": int,
        },
        pk="id",
        not_null={"user_id", "token_hash"},
    )
    db["devices"].create_index(["token_hash"], unique=True)
    db["login_attempts"].create({"key": str, "at": int}, not_null={"key", "at"})
    db["login_attempts"].create_index(["key", "at"])


@dataclass
class User:
    id: int
    username: str
    display_name: str
    role: str
    compounds: list[str] = field(default_factory=list)

    def sees(self, compound_id: str | None) -> bool:
        return compound_id is not None and (ALL in self.compounds or compound_id in self.compounds)

    def scope(self, all_compounds: list[str]) -> list[str]:
        return list(all_compounds) if ALL in self.compounds else list(self.compounds)


@dataclass
class Device:
    id: int
    name: str
    user: User
    site_id: str | None
    last_seen_at: int | None = None


class AccountError(ValueError):
    pass


def hash_token(token: str) -> str:
    # Tokens are 256 random bits: a fast hash is enough (no dictionary to attack).
    return hashlib.sha256(token.encode()).hexdigest()


def create_user(
    db: Database,
    username: str,
    password: str,
    role: str,
    compounds: list[str],
    display_name: str | None = None,
) -> User:
    username = username.strip()
    if not username or len(username) > 80:
        raise AccountError("the user name must be 1 to 80 characters")
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if len(password) < 8:
        raise AccountError("the password must have at least 8 characters")
    if db.execute("SELECT 1 FROM users WHERE username = ?", [username]).fetchone():
        raise AccountError(f"a user named {username!r} exists already")
    with db.atomic():
        user_id = (
            db["users"]
            .insert(
                {
                    "username": username,
                    "display_name": display_name or username,
                    "password_hash": generate_password_hash(password),
                    "role": role,
                    "active": 1,
                    "created_at": int(time.time()),
                }
            )
            .last_pk
        )
        set_compounds(db, user_id, compounds)
    return get_user(db, user_id)  # type: ignore[return-value]


def set_compounds(db: Database, user_id: int, compounds: list[str]) -> None:
    db.execute("DELETE FROM user_compounds WHERE user_id = ?", [user_id])
    db["user_compounds"].insert_all(
        [{"user_id": user_id, "compound_id": c} for c in dict.fromkeys(compounds)]
    )


def get_user(db: Database, user_id: int) -> User | None:
    row = db.execute(
        "SELECT id, username, display_name, role FROM users WHERE id = ? AND active = 1",
        [user_id],
    ).fetchone()
    if row is None:
        return None
    compounds = [
        r[0]
        for r in db.execute(
            "SELECT compound_id FROM user_compounds WHERE user_id = ? ORDER BY compound_id",
            [user_id],
        )
    ]
    return User(row[0], row[1], row[2], row[3], compounds)


def get_user_by_name(db: Database, username: str) -> User | None:
    row = db.execute("SELECT id FROM users WHERE username = ?", [username]).fetchone()
    return get_user(db, row[0]) if row else None


def check_password(db: Database, username: str, password: str) -> User | None:
    row = db.execute(
        "SELECT id, password_hash FROM users WHERE username = ? AND active = 1", [username]
    ).fetchone()
    if row is None:
        # Same work either way, so timing does not tell which user names exist.
        check_password_hash(_DUMMY_HASH, password)
        return None
    return get_user(db, row[0]) if check_password_hash(row[1], password) else None


_DUMMY_HASH = generate_password_hash("not a real password")


def set_password(db: Database, user_id: int, password: str) -> None:
    if len(password) < 8:
        raise AccountError("the password must have at least 8 characters")
    db.execute(
        "UPDATE users SET password_hash = ? WHERE id = ?",
        [generate_password_hash(password), user_id],
    )


def too_many_attempts(db: Database, key: str, limit: int, window_s: int = 900) -> bool:
    since = int(time.time()) - window_s
    db.execute("DELETE FROM login_attempts WHERE at < ?", [since])
    count = db.execute("SELECT count(*) FROM login_attempts WHERE key = ?", [key]).fetchone()[0]
    return count >= limit


def record_attempt(db: Database, key: str) -> None:
    db.execute("INSERT INTO login_attempts (key, at) VALUES (?, ?)", [key, int(time.time())])


def clear_attempts(db: Database, key: str) -> None:
    db.execute("DELETE FROM login_attempts WHERE key = ?", [key])


def issue_device(db: Database, user_id: int, name: str) -> tuple[int, str]:
    """A new device token for a user; the token is returned once and stored hashed."""
    name = name.strip()
    if not name or len(name) > 100:
        raise AccountError("the device name must be 1 to 100 characters")
    if get_user(db, user_id) is None:
        raise AccountError("no such user")
    token = "lm_" + secrets.token_urlsafe(32)
    device_id = (
        db["devices"]
        .insert(
            {
                "user_id": user_id,
                "name": name,
                "token_hash": hash_token(token),
                "created_at": int(time.time()),
            }
        )
        .last_pk
    )
    return device_id, token


def revoke_device(db: Database, device_id: int) -> bool:
    cur = db.execute(
        "UPDATE devices SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
        [int(time.time()), device_id],
    )
    return cur.rowcount == 1


def device_for_token(db: Database, token: str) -> Device | None:
    row = db.execute(
        "SELECT id, name, user_id, site_id, last_seen_at FROM devices "
        "WHERE token_hash = ? AND revoked_at IS NULL",
        [hash_token(token)],
    ).fetchone()
    if row is None:
        return None
    user = get_user(db, row[2])
    if user is None:
        return None
    return Device(row[0], row[1], user, row[3], row[4])


def touch_device(db: Database, device_id: int, site_id: str) -> None:
    db.execute(
        "UPDATE devices SET last_seen_at = ?, site_id = coalesce(site_id, ?) WHERE id = ?",
        [int(time.time()), site_id, device_id],
    )


def device_for_site(db: Database, site_id: str) -> int | None:
    """The active device whose laptop database has this site id, if any."""
    row = db.execute(
        "SELECT id FROM devices WHERE site_id = ? AND revoked_at IS NULL ORDER BY id LIMIT 1",
        [site_id],
    ).fetchone()
    return row[0] if row else None


def list_devices(db: Database, user_id: int | None = None) -> list[dict]:
    sql = (
        "SELECT d.id, d.name, d.user_id, u.username, d.site_id, d.created_at, d.revoked_at, "
        "d.last_seen_at FROM devices d JOIN users u ON u.id = d.user_id"
    )
    params: list = []
    if user_id is not None:
        sql += " WHERE d.user_id = ?"
        params.append(user_id)
    return list(db.query(sql + " ORDER BY d.id", params))
