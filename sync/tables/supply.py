"""Synced tables of the supply area: group-buying offers and the orders volunteers take.

Money and quantities travel as exact decimal text (a float would lose fen); distribution
rounds and the donations ledger stay on the server and reach the agents as `deliveries`.
"""

from ..schema import Column, Table

YUAN = r"\d{1,9}(\.\d{1,2})?"  # yuan to the fen, e.g. 10 or 10.50
QUANTITY = r"\d{1,7}(\.\d{1,3})?"  # units, or jin to the gram-ish: 2.5

TABLES = [
    Table(
        "group_offers",
        [
            Column("item", required=True, max_length=200),
            Column("unit", required=True, max_length=40),
            Column("unit_price_yuan", required=True, max_length=12, pattern=YUAN),
            Column("deadline", "datetime"),
            Column("max_per_household", max_length=12, pattern=QUANTITY),
            Column("status", merge="max", states=("open", "closed", "dispatched")),
            Column("organiser", max_length=100),
            Column("note", max_length=1000),
        ],
        doc="A group-buying offer (e.g. pork at 10 yuan/jin) open for orders until its deadline.",
    ),
    Table(
        "group_orders",
        [
            Column("offer_id", required=True, max_length=100),
            Column("household_id", required=True, max_length=100),
            Column("quantity", required=True, max_length=12, pattern=QUANTITY),
            Column("payment", merge="max", states=("unpaid", "paid", "refunded")),
            Column("taken_by", max_length=100),
            Column("note", max_length=500),
        ],
        indexes=[("offer_id",), ("household_id",)],
        doc="One household's order on an offer; payment only moves forward.",
    ),
]
