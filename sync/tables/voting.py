"""Synced tables of the voting area: paper ballots recorded by volunteers, and the
notices of motions the server sends down so an offline agent knows what is being voted.

Online ballots never leave the server (server/voting/data.py); a paper ballot is written
once on the field agent and never changed: a voter who changes their mind casts a new
ballot, and the server counts the last one cast before the close (server/voting/counting.py).
"""

from ..schema import Column, Table

SHA256 = r"[0-9a-f]{64}"
RECEIPT = r"[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}"

TABLES = [
    Table(
        "motion_notices",
        [
            Column("title", required=True, max_length=200),
            Column("body", max_length=5000),
            Column("matter", max_length=60),
            Column("rule_set", max_length=40),
            Column("binding", "bool"),
            Column("opens_at", "datetime", required=True),
            Column("closes_at", "datetime", required=True),
            Column("status", merge="max", states=("draft", "open", "closed")),
        ],
        doc="Written by the server only (no role may push it): what an agent shows when a "
        "volunteer records a paper ballot. Its id is the motion's id.",
    ),
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
