"""Synced tables of the supply area (filled in by its issue)."""

from ..schema import Table

TABLES: list[Table] = []
