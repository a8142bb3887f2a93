"""Synced tables of the voting area (filled in by its issue)."""

from ..schema import Table

TABLES: list[Table] = []
