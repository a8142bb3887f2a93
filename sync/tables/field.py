"""What volunteers record in the field."""

from ..schema import Column, Table

SHA256 = r"[0-9a-f]{64}"

TABLES = [
    Table(
        "temperature_checks",
        [
            Column("household_id", required=True, max_length=100),
            Column("resident_id", max_length=100),
            Column("temperature_c", "real", required=True, min=34, max=43),
            Column("measured_at", "datetime", required=True),
            Column("recorded_by", max_length=100),
            Column("note", max_length=500),
        ],
        immutable=True,
        indexes=[("household_id",), ("measured_at",)],
    ),
    Table(
        "deliveries",
        [
            Column("household_id", required=True, max_length=100),
            Column("kind", max_length=40),
            Column("items", max_length=500),
            Column("quantity", "real", min=0, max=1_000_000),
            Column(
                "status",
                merge="max",
                states=("planned", "packed", "out", ("delivered", "refused")),
            ),
            Column("delivered_at", "datetime"),
            Column("refused_reason", max_length=500),
            Column("volunteer", max_length=100),
            Column("round_id", max_length=100),
            Column("recorded_by", max_length=100),
        ],
        indexes=[("household_id",), ("round_id",)],
    ),
    Table(
        "medicine_requests",
        [
            Column("household_id", required=True, max_length=100),
            Column("drug_name", required=True, max_length=200),
            Column("quantity", "int", min=1, max=1000),
            Column("photo_sha256", max_length=64, pattern=SHA256),
            Column("price_yuan", "real", min=0, max=1_000_000),
            Column(
                "status",
                merge="max",
                states=("requested", "bought", ("delivered", "refused")),
            ),
            Column("refused_reason", max_length=500),
            Column("requested_by", max_length=100),
            Column("bought_by", max_length=100),
            Column("delivered_by", max_length=100),
            Column("created_at", "datetime"),
            Column("reassigned_to", max_length=100),  # household that took refused medicine
            Column("recorded_by", max_length=100),
        ],
        indexes=[("household_id",)],
    ),
    Table(
        "disinfection_logs",
        [
            Column("area", required=True, max_length=200),
            Column("building", max_length=100),
            Column("done_by", max_length=100),
            Column("done_at", "datetime", required=True),
            Column("note", max_length=500),
            Column("recorded_by", max_length=100),
        ],
        immutable=True,
        indexes=[("done_at",)],
    ),
    Table(
        "health_cases",
        [
            Column("resident_id", max_length=100),
            Column("household_id", max_length=100),
            Column(
                "category",
                required=True,
                choices=("confirmed", "suspected", "fever", "close_contact"),
            ),
            Column("start_date", "date", required=True),
            Column("released_on", "date"),
            Column("source_check_id", max_length=100),
            Column("note", max_length=1000),
            Column("release_note", max_length=1000),
            Column("released_by", max_length=100),
            Column("recorded_by", max_length=100),
        ],
        indexes=[("resident_id",)],
    ),
    Table(
        "photos",
        [
            Column("mime", choices=("image/jpeg", "image/png", "image/webp")),
            Column("size", "int", min=0, max=100_000_000),
            Column("taken_at", "datetime"),
            Column("ref_table", max_length=60),
            Column("ref_id", max_length=100),
            Column("recorded_by", max_length=100),
        ],
        immutable=True,
        doc="Photo metadata; the row id is the SHA-256 of the bytes.",
    ),
]
