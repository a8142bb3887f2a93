"""Aggregate tables sent upstream (street, district, city). No personal columns here.

One row per compound and day, id "<compound_id>/<YYYY-MM-DD>": counts and the
certification status only — never a name of a person, a resident, a household or a case.
Place names (compound, community, street, district) are public units, not persons.
"""

from ..schema import Column, Table

COUNT = {"min": 0, "max": 10_000_000}

TABLES: list[Table] = [
    Table(
        "compound_days",
        [
            Column("day", "date", required=True),
            Column("compound_name", max_length=200),
            Column("community_id", max_length=100),
            Column("community_name", max_length=200),
            Column("community_kind", choices=("community", "village")),
            Column("street_id", max_length=100),
            Column("street_name", max_length=200),
            Column("district_id", max_length=100),
            Column("district_name", max_length=200),
            Column("households", "int", **COUNT),
            Column("residents", "int", **COUNT),
            Column("checked", "int", **COUNT),  # households with a temperature check that day
            Column("fevers", "int", **COUNT),  # people with a reading >= the fever threshold
            Column("open_three_kinds", "int", **COUNT),  # unreleased three-kinds, end of day
            Column("confirmed", "int", **COUNT),  # confirmed cases starting that day
            Column("deliveries", "int", **COUNT),
            Column("medicine_open", "int", **COUNT),
            Column("status", choices=("certified", "passes", "fails")),
            Column("failing_rules", max_length=500),
            Column("rule_version", max_length=60),
        ],
        indexes=[("day",), ("community_id", "day")],
        doc="A compound's figures for one day, computed nightly by `lastmeter server aggregate`.",
    ),
]
