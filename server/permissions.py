"""Who may write what: the one place that says which role may write which synced table.

Roles (DOMAIN.md): volunteer, building_head, property, committee, community_admin,
street_official. Scope (which compounds) is checked separately, per row.
"""

from __future__ import annotations

ROLES = (
    "volunteer",
    "building_head",
    "property",
    "committee",
    "community_admin",
    "street_official",
)

FIELD = ("volunteer", "building_head", "community_admin")

WRITE_RIGHTS: dict[str, tuple[str, ...]] = {
    "compounds": ("community_admin",),
    "buildings": ("community_admin",),
    "households": ("building_head", "community_admin"),
    "residents": ("building_head", "community_admin"),
    "temperature_checks": ("volunteer", "building_head", "property", "community_admin"),
    "deliveries": FIELD,
    "medicine_requests": FIELD,
    "disinfection_logs": ("volunteer", "property", "community_admin"),
    "health_cases": ("volunteer", "building_head", "community_admin"),
    "photos": ("volunteer", "building_head", "property", "committee", "community_admin"),
    "group_offers": ("community_admin",),
    "group_orders": FIELD,
    "ballots": FIELD,  # paper ballots recorded by volunteers (immutable)
    # A community server pushing its nightly aggregates to the street/district/city server.
    "compound_days": ("community_admin",),
}


def may_write(role: str, table: str) -> bool:
    return role in WRITE_RIGHTS.get(table, ())


# Columns only some roles may change (the rest of the table follows WRITE_RIGHTS).
COLUMN_RIGHTS: dict[tuple[str, str], tuple[str, ...]] = {
    ("health_cases", "released_on"): ("building_head", "community_admin"),
    ("health_cases", "released_by"): ("building_head", "community_admin"),
    ("health_cases", "release_note"): ("building_head", "community_admin"),
}


# Tables a device pulls only when its role is listed: the rest of its scope it gets whole.
READ_RIGHTS: dict[str, tuple[str, ...]] = {
    "ballots": (),  # ballots go up from the laptops, never down to any of them
}


def hidden_tables(role: str) -> list[str]:
    return [table for table, roles in READ_RIGHTS.items() if role not in roles]
