"""Aggregate tables sent upstream (street, district, city). No personal columns here."""

from ..schema import Table

TABLES: list[Table] = []
