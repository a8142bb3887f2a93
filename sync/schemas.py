"""Wire schemas (marshmallow): the shape of every message; per-cell checks live in the replica."""

from __future__ import annotations

from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

PROTOCOL_VERSION = 1

__all__ = ["PROTOCOL_VERSION", "BatchSchema", "TableChunkSchema", "ValidationError"]


def _is_list(value: object) -> None:
    if not isinstance(value, list):
        raise ValidationError("rows must be a list")


class TableChunkSchema(Schema):
    class Meta:
        unknown = RAISE

    columns = fields.List(fields.String(validate=validate.Length(1, 63)), required=True)
    # Each row: [row_id, hlc, site_index, prev | null, mask, [values...]]; checked in apply().
    # Raw, not List(List(Raw)): per-row field objects would cost more than the merge itself.
    rows = fields.Raw(required=True, validate=_is_list)


class BatchSchema(Schema):
    class Meta:
        unknown = RAISE

    protocol_version = fields.Integer(required=True, validate=validate.Equal(PROTOCOL_VERSION))
    origin = fields.String(required=True, validate=validate.Length(1, 64))
    next = fields.Integer(required=True, validate=validate.Range(min=0))
    more = fields.Boolean(required=True)
    sites = fields.List(fields.String(validate=validate.Length(1, 64)), required=True)
    # Row shapes are checked by Batch.from_dict (sync.protocol.bad_row), cells by apply().
    tables = fields.Dict(
        keys=fields.String(validate=validate.Length(1, 63)),
        values=fields.Nested(TableChunkSchema),
        required=True,
    )

    @validates_schema
    def _columns_unique(self, data: dict[str, Any], **kwargs: object) -> None:
        for name, chunk in data.get("tables", {}).items():
            if len(set(chunk["columns"])) != len(chunk["columns"]):
                raise ValidationError(f"table {name}: duplicate column names")


BATCH_SCHEMA = BatchSchema()
