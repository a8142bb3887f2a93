"""The register's synced tables: compounds, buildings, households, residents."""

from ..schema import Column, Table

TABLES = [
    Table(
        "compounds",
        [
            Column("name", required=True, max_length=200),
            Column("community_id", max_length=100),
            Column("address", max_length=400),
        ],
        doc="A residential compound; its compound_id is its own id.",
    ),
    Table(
        "buildings",
        [
            Column("name", required=True, max_length=100),
            Column("floors", "int", min=0, max=200),
            Column("units", "int", min=0, max=10000),
        ],
        doc="A building of a compound (its name is what households.building holds).",
    ),
    Table(
        "households",
        [
            Column("building", required=True, max_length=100),
            Column("unit", required=True, max_length=100),
            Column("area_m2", "real", min=0, max=100_000),
            Column("owner_name", max_length=200),
            Column("phone", max_length=40),
            Column("members", "int", min=0, max=100),
            Column("medical_worker", "bool"),
            Column("hardship", "bool"),
            Column("elderly_alone", "bool"),
            # For owners' votes (server/voting/electorate.py): who owns the unit, as an
            # opaque key (never the name), co-owners as a JSON list, developer-held units.
            Column("owner_key", max_length=100),
            Column("co_owners", max_length=2000),
            Column("developer_held", "bool"),
        ],
        indexes=[("compound_id", "building", "unit")],
    ),
    Table(
        "residents",
        [
            Column("household_id", required=True, max_length=100),
            Column("name", required=True, max_length=200),
            Column("birth_year", "int", min=1880, max=2100),
            Column("phone", max_length=40),
        ],
        indexes=[("household_id",)],
    ),
]
