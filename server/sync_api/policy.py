"""What a device may write: its role's tables (server.permissions), its compounds, its site."""

from __future__ import annotations

from sync import Batch, Rejection

from ..auth.data import Device
from ..permissions import COLUMN_RIGHTS, WRITE_RIGHTS, may_write


def may_push(role: str) -> bool:
    """A role that may write no synced table has no business on the push endpoint (403)."""
    return any(role in roles for roles in WRITE_RIGHTS.values())


def row_policy(device: Device):
    user = device.user

    def policy(table: str, compound_id: str | None):
        if not may_write(user.role, table):
            return ("role", f"a {user.role} may not write {table}")
        if not user.sees(compound_id):
            return ("scope", f"compound {compound_id} is outside this device's scope")
        return None

    return policy


def strip_foreign(batch: Batch, device: Device, site_id: str) -> list[Rejection]:
    """Refuse cells stamped by another site, and columns the role may not write.

    A device pushes only what it wrote itself; relaying other sites' stamps is not allowed.
    """
    rejected: list[Rejection] = []
    own = {i for i, s in enumerate(batch.sites) if s == site_id}
    for name, chunk in batch.tables.items():
        forbidden_mask = 0
        for i, col in enumerate(chunk.columns):
            roles = COLUMN_RIGHTS.get((name, col))
            if roles is not None and device.user.role not in roles:
                forbidden_mask |= 1 << i
        kept = []
        for raw in chunk.rows:
            if not (isinstance(raw, list) and len(raw) == 6 and type(raw[2]) is int):
                kept.append(raw)  # malformed rows get the engine's own reasons
                continue
            if raw[2] not in own:
                rejected.append(
                    Rejection(
                        name, raw[0], None, "site", "cells must be stamped by the pushing device"
                    )
                )
                continue
            mask = raw[4]
            if forbidden_mask and type(mask) is int and mask & forbidden_mask:
                raw = _drop_columns(name, chunk.columns, raw, forbidden_mask, device, rejected)
                if raw is None:
                    continue
            kept.append(raw)
        chunk.rows = kept
    return rejected


def _drop_columns(name, columns, raw, forbidden, device, rejected):
    row_id, hlc, si, prev, mask, values = raw
    if not isinstance(values, list) or len(values) != mask.bit_count():
        return raw
    new_mask, new_values, j = 0, [], 0
    for i, col in enumerate(columns):
        if not mask >> i & 1:
            continue
        value = values[j]
        j += 1
        if forbidden >> i & 1:
            msg = f"a {device.user.role} may not change {name}.{col}"
            rejected.append(Rejection(name, row_id, col, "role", msg, value, hlc))
        else:
            new_mask |= 1 << i
            new_values.append(value)
    return [row_id, hlc, si, prev, new_mask, new_values] if new_mask else None
