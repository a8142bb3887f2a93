"""Places above the compound (server-only), and reads of compounds and buildings.

The hierarchy (DOMAIN.md): city > district > street > community or village > compound >
building > household > resident. Units above the compound live in the server-only
`places` table (level, parent); compounds and buildings are synced tables (written
through the replica, read here with plain SQL).
"""

from __future__ import annotations

import time
import uuid

from sqlite_utils import Database, Migrations

migrations = Migrations("lastmeter.places")

LEVELS = ("city", "district", "street", "community", "village")
# A parent must sit higher than its child; community and village are the same rank.
RANK = {"city": 0, "district": 1, "street": 2, "community": 3, "village": 3}
NAMESPACE = uuid.UUID("5a0c9b1e-6f1d-4c55-9d1e-2f3b9a7c4e10")


@migrations()
def m001_places(db: Database) -> None:
    db["places"].create(
        {"id": str, "level": str, "parent_id": str, "name": str, "created_at": int},
        pk="id",
        not_null={"level", "name"},
    )
    db["places"].create_index(["parent_id"])


class PlaceError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def stable_id(*parts: str) -> str:
    """The same place, building or household always gets the same id (imports, demo)."""
    key = "|".join(" ".join(str(p).split()).casefold() for p in parts)
    return str(uuid.uuid5(NAMESPACE, key))


def get_place(db: Database, place_id: str | None) -> dict | None:
    if not place_id:
        return None
    rows = list(db.query("SELECT * FROM places WHERE id = ?", [place_id]))
    return rows[0] if rows else None


def add_place(
    db: Database, level: str, name: str, parent_id: str | None, place_id: str | None = None
) -> str:
    name = " ".join(name.split())
    if level not in LEVELS:
        raise PlaceError("level", "unknown level")
    if not name or len(name) > 200:
        raise PlaceError("name", "the name must be 1 to 200 characters")
    parent = get_place(db, parent_id) if parent_id else None
    if parent_id and parent is None:
        raise PlaceError("parent_id", "no such parent place")
    if parent is not None and RANK[parent["level"]] >= RANK[level]:
        raise PlaceError("parent_id", "the parent must be a larger unit")
    place_id = place_id or stable_id("place", parent_id or "", level, name)
    existing = get_place(db, place_id)
    if existing is not None:
        return place_id  # the same unit under the same parent: nothing to add
    db["places"].insert(
        {
            "id": place_id,
            "level": level,
            "parent_id": parent_id,
            "name": name,
            "created_at": int(time.time()),
        }
    )
    return place_id


def all_places(db: Database) -> list[dict]:
    return list(db.query("SELECT * FROM places ORDER BY name"))


def tree(db: Database) -> list[tuple[int, dict]]:
    """Every place as (depth, place), parents before children, siblings by name."""
    places = all_places(db)
    by_parent: dict[str | None, list[dict]] = {}
    ids = {p["id"] for p in places}
    for p in places:
        parent = p["parent_id"] if p["parent_id"] in ids else None
        by_parent.setdefault(parent, []).append(p)
    out: list[tuple[int, dict]] = []

    def walk(parent: str | None, depth: int) -> None:
        for p in sorted(by_parent.get(parent, []), key=lambda p: (RANK[p["level"]], p["name"])):
            out.append((depth, p))
            walk(p["id"], depth + 1)

    walk(None, 0)
    return out


def path(db: Database, place_id: str | None) -> list[dict]:
    """The place and its parents, from the top (city) down."""
    out: list[dict] = []
    seen: set[str] = set()
    while place_id and place_id not in seen:
        seen.add(place_id)
        place = get_place(db, place_id)
        if place is None:
            break
        out.append(place)
        place_id = place["parent_id"]
    return out[::-1]


def descendants(db: Database, place_id: str) -> list[dict]:
    return list(
        db.query(
            "WITH RECURSIVE d(id) AS (SELECT id FROM places WHERE parent_id = ? "
            "UNION SELECT p.id FROM places p JOIN d ON p.parent_id = d.id) "
            "SELECT p.* FROM places p JOIN d USING (id)",
            [place_id],
        )
    )


def units_below(db: Database, level: str) -> list[dict]:
    """For a street/district/city server: its own units and the units right below them,
    with how many communities, villages and compounds each holds."""
    tops = list(db.query("SELECT * FROM places WHERE level = ? ORDER BY name", [level]))
    out = []
    for top in tops:
        children = []
        for child in db.query(
            "SELECT * FROM places WHERE parent_id = ? ORDER BY name", [top["id"]]
        ):
            below = descendants(db, child["id"])
            ids = [child["id"], *(p["id"] for p in below)]
            counts = {lv: sum(1 for p in below if p["level"] == lv) for lv in LEVELS}
            counts["compound"] = compound_count(db, ids)
            children.append({**child, "counts": counts})
        out.append({**top, "children": children})
    return out


def compound_count(db: Database, community_ids: list[str]) -> int:
    if not community_ids:
        return 0
    marks = ",".join("?" * len(community_ids))
    sql = f"SELECT count(*) FROM compounds WHERE deleted = 0 AND community_id IN ({marks})"
    return db.execute(sql, community_ids).fetchone()[0]


def communities(db: Database) -> list[dict]:
    return list(
        db.query(
            "SELECT * FROM places WHERE level IN ('community', 'village') ORDER BY name",
        )
    )


# -- compounds and buildings (synced tables; reads only) -------------------------------


def all_compound_ids(db: Database) -> list[str]:
    return [r[0] for r in db.execute("SELECT id FROM compounds WHERE deleted = 0 ORDER BY name")]


def _scope_sql(column: str, compounds: list[str] | None) -> tuple[str, list]:
    if compounds is None:
        return "1", []
    if not compounds:
        return "0", []
    return f"{column} IN ({','.join('?' * len(compounds))})", list(compounds)


def compounds(db: Database, scope: list[str] | None) -> list[dict]:
    """Compounds in scope (None = all) with their buildings, households and flags counted."""
    where, params = _scope_sql("c.id", scope)
    sql = f"""
        SELECT c.id, c.name, c.community_id, c.address, p.name AS community,
          coalesce(b.n, 0) AS buildings, coalesce(h.n, 0) AS households,
          coalesce(h.members, 0) AS members, coalesce(r.n, 0) AS residents,
          coalesce(h.medical, 0) AS medical_worker, coalesce(h.hardship, 0) AS hardship,
          coalesce(h.elderly, 0) AS elderly_alone, coalesce(h.area, 0) AS area_m2
        FROM compounds c
        LEFT JOIN places p ON p.id = c.community_id
        LEFT JOIN (SELECT compound_id, count(*) AS n FROM buildings WHERE deleted = 0
                   GROUP BY compound_id) b ON b.compound_id = c.id
        LEFT JOIN (SELECT compound_id, count(*) AS n, sum(members) AS members,
                     sum(medical_worker) AS medical, sum(hardship) AS hardship,
                     sum(elderly_alone) AS elderly, sum(area_m2) AS area
                   FROM households WHERE deleted = 0 GROUP BY compound_id) h
          ON h.compound_id = c.id
        LEFT JOIN (SELECT compound_id, count(*) AS n FROM residents WHERE deleted = 0
                   GROUP BY compound_id) r ON r.compound_id = c.id
        WHERE c.deleted = 0 AND {where}
        ORDER BY c.name"""
    return list(db.query(sql, params))


def get_compound(db: Database, compound_id: str) -> dict | None:
    rows = list(
        db.query(
            "SELECT c.id, c.name, c.community_id, c.address, p.name AS community "
            "FROM compounds c LEFT JOIN places p ON p.id = c.community_id "
            "WHERE c.id = ? AND c.deleted = 0",
            [compound_id],
        )
    )
    return rows[0] if rows else None


def compound_names(db: Database, scope: list[str] | None) -> list[dict]:
    where, params = _scope_sql("id", scope)
    return list(
        db.query(
            f"SELECT id, name FROM compounds WHERE deleted = 0 AND {where} ORDER BY name", params
        )
    )


def buildings(db: Database, compound_id: str) -> list[dict]:
    """The compound's buildings in natural order (2 before 10), households counted."""
    return list(
        db.query(
            """SELECT b.id, b.name, b.floors, b.units, b.compound_id, coalesce(h.n, 0) AS households
            FROM buildings b
            LEFT JOIN (SELECT building, count(*) AS n FROM households
                       WHERE compound_id = :c AND deleted = 0 GROUP BY building) h
              ON h.building = b.name
            WHERE b.compound_id = :c AND b.deleted = 0
            ORDER BY length(b.name), b.name""",
            {"c": compound_id},
        )
    )


def buildings_in(db: Database, scope: list[str] | None) -> list[dict]:
    where, params = _scope_sql("b.compound_id", scope)
    return list(
        db.query(
            f"SELECT b.id, b.name, b.compound_id, c.name AS compound FROM buildings b "
            f"JOIN compounds c ON c.id = b.compound_id AND c.deleted = 0 "
            f"WHERE b.deleted = 0 AND {where} ORDER BY c.name, length(b.name), b.name",
            params,
        )
    )


def get_building(db: Database, building_id: str) -> dict | None:
    rows = list(
        db.query(
            "SELECT id, compound_id, name, floors, units FROM buildings "
            "WHERE id = ? AND deleted = 0",
            [building_id],
        )
    )
    return rows[0] if rows else None


def building_names(db: Database, compound_id: str) -> set[str]:
    return {
        r[0]
        for r in db.execute(
            "SELECT name FROM buildings WHERE compound_id = ? AND deleted = 0", [compound_id]
        )
    }
