"""Last Meter's synced tables. Each area declares its tables in its own module here."""

from __future__ import annotations

from ..schema import Schema, Table
from . import aggregates, field, places, supply, voting

AREAS = (places, field, voting, supply, aggregates)


def default_tables() -> list[Table]:
    return [table for area in AREAS for table in area.TABLES]


def default_schema() -> Schema:
    """The schema of the field agent and community server replicas."""
    return Schema(default_tables(), version="1")


def upstream_schema() -> Schema:
    """What a community sends up to street, district and city: aggregates only."""
    return Schema(aggregates.TABLES, version="1")
