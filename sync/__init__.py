"""Last Meter's sync engine: SQLite replicas with HLC stamps and per-column merge.

No Flask here; `sync.http_client` alone uses requests.
"""

from .clock import HLC
from .ids import new_id
from .protocol import ApplyResult, Batch, BatchError, Rejection, TableChunk, WriteError
from .replica import Policy, Replica
from .schema import Column, Schema, Table
from .tables import default_schema, upstream_schema

__all__ = [
    "HLC",
    "ApplyResult",
    "Batch",
    "BatchError",
    "Column",
    "Policy",
    "Rejection",
    "Replica",
    "Schema",
    "Table",
    "TableChunk",
    "WriteError",
    "default_schema",
    "new_id",
    "upstream_schema",
]
