"""Synced tables of the voting area: paper ballots recorded by volunteers.

Online ballots never leave the server (server/voting/data.py); a paper ballot is written
once on the field agent and never changed: a voter who changes their mind casts a new
ballot, and the server counts the last one cast before the close (server/voting/counting.py).
"""

from ..schema import Column, Table

SHA256 = r"[0-9a-f]{64}"
RECEIPT = r"[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}"

TABLES = [
    Table(
        "ballots",
        [
            Column("motion_id", required=True, max_length=100),
            Column("household_id", required=True, max_length=100),
            Column("choice", required=True, choices=("for", "against", "abstain")),
            Column("recorded_at", "datetime", required=True),
            Column("voter_name", max_length=200),
            Column("volunteer", max_length=100),
            Column("photo_sha256", max_length=64, pattern=SHA256),
            Column("receipt", required=True, max_length=14, pattern=RECEIPT),
            Column("note", max_length=500),
        ],
        immutable=True,
        indexes=[("motion_id", "household_id")],
        doc="A paper ballot: the owner's choice, the photo of the signed paper, the volunteer.",
    ),
]
