"""Medicine bought on behalf: photo of the drug box, shopping list, bought/delivered/refused,
refused medicine kept as stock with its value until given to another household."""

from __future__ import annotations

import hashlib
import io
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image

from tests.field_agent.helpers import jpeg_bytes

H1 = "c1-1栋-101"
H2 = "c1-1栋-102"
H3 = "c1-2栋-101"


def new_request(
    volunteer, household=H1, drug="布洛芬缓释胶囊", quantity="2", photo=None, lang="en"
):
    data = {"household_id": household, "drug_name": drug, "quantity": quantity}
    if photo is not None:
        data["photo"] = (io.BytesIO(photo), "box.jpg")
    return volunteer.post(f"/medicine/new?lang={lang}", data, content_type="multipart/form-data")


def only_request(replica, drug=None):
    rows = replica.rows("medicine_requests")
    if drug:
        rows = [r for r in rows if r["drug_name"] == drug]
    assert len(rows) == 1
    return rows[0]


def test_request_with_photo_stores_a_small_clean_jpeg(volunteer, replica, agent_app, client):
    original = jpeg_bytes(3000, 2000)
    resp = new_request(volunteer, photo=original)
    assert resp.status_code == 303
    row = only_request(replica)
    sha = row["photo_sha256"]
    assert row["requested_by"] == "王芳"
    assert row["recorded_by"] == "王芳"
    assert row["status"] == "requested"
    assert row["quantity"] == 2
    assert row["created_at"]
    photo = replica.get("photos", sha)
    assert photo["mime"] == "image/jpeg"
    assert photo["ref_id"] == row["id"]
    assert photo["ref_table"] == "medicine_requests"
    assert photo["recorded_by"] == "王芳"
    stored = agent_app.config["BLOB_DIR"] + f"/{sha[:2]}/{sha}"
    data = Path(stored).read_bytes()
    assert hashlib.sha256(data).hexdigest() == sha
    assert photo["size"] == len(data) < len(original)
    with Image.open(io.BytesIO(data)) as img:
        assert max(img.size) <= 1600
        assert not img.getexif()  # the camera's EXIF is gone
    served = client.get(f"/medicine/photo/{sha}")
    assert served.status_code == 200
    assert served.data == data
    assert served.mimetype == "image/jpeg"


def test_request_without_photo_is_allowed(volunteer, replica):
    assert new_request(volunteer).status_code == 303
    assert only_request(replica)["photo_sha256"] is None


def test_a_file_that_is_not_an_image_saves_nothing(volunteer, replica, agent_app):
    resp = new_request(volunteer, photo=b"%PDF-1.4 not a photo")
    assert resp.status_code == 422
    assert "Not a photo we can use" in resp.get_data(as_text=True)
    assert replica.rows("medicine_requests") == []
    assert replica.rows("photos") == []


def test_too_large_upload_is_refused_at_the_field(volunteer, agent_app, replica):
    agent_app.config["MAX_CONTENT_LENGTH"] = 50_000
    resp = new_request(volunteer, photo=b"\xff" * 60_000)
    assert resp.status_code == 413
    assert replica.rows("medicine_requests") == []


@pytest.mark.parametrize(
    ("household", "drug", "quantity", "message"),
    [
        ("", "药", "1", "Choose a household."),
        ("c9-nope", "药", "1", "Choose a household."),
        (H1, "  ", "1", "Enter the drug"),
        (H1, "x" * 201, "1", "At most 200 characters."),
        (H1, "药", "0", "Between 1 and 1000."),
        (H1, "药", "1001", "Between 1 and 1000."),
        (H1, "药", "1.5", "A whole number"),
        (H1, "药", "", "Enter how many."),
    ],
)
def test_request_bad_inputs(volunteer, replica, household, drug, quantity, message):
    resp = new_request(volunteer, household, drug, quantity)
    assert resp.status_code == 422
    assert message in resp.get_data(as_text=True)
    assert replica.rows("medicine_requests") == []


def test_shopping_list_consolidates_across_households(volunteer, client):
    new_request(volunteer, H1, "布洛芬", "2")
    new_request(volunteer, H2, "布洛芬", "1")
    new_request(volunteer, H3, "阿莫西林", "3")
    html = client.get("/medicine/shopping?lang=en").get_data(as_text=True)
    assert "布洛芬 · 3 boxes" in html
    assert "阿莫西林 · 3 boxes" in html
    assert "1栋 101" in html
    assert "1栋 102" in html
    assert "2栋 101" in html


@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("", "Enter the price paid."),
        ("abc", "Not a price."),
        ("-1", "Not a price."),
        ("1.234", "At most two decimals"),
        ("nan", "Not a price."),
    ],
)
def test_bought_needs_a_price(volunteer, replica, price, message):
    new_request(volunteer)
    rid = only_request(replica)["id"]
    resp = volunteer.post(
        f"/medicine/{rid}/bought?lang=en", {"price": price, "next": "/medicine/shopping"}
    )
    assert resp.status_code == 422
    assert message in resp.get_data(as_text=True)
    assert only_request(replica)["status"] == "requested"


def test_full_path_bought_delivered(volunteer, replica):
    new_request(volunteer)
    rid = only_request(replica)["id"]
    assert volunteer.post(f"/medicine/{rid}/delivered", {}).status_code == 422  # not bought
    assert volunteer.post(f"/medicine/{rid}/bought", {"price": "¥35.5"}).status_code == 303
    row = only_request(replica)
    assert row["status"] == "bought"
    assert row["price_yuan"] == 35.5
    assert row["bought_by"] == "王芳"
    assert volunteer.post(f"/medicine/{rid}/bought", {"price": "30"}).status_code == 422
    assert volunteer.post(f"/medicine/{rid}/delivered", {}).status_code == 303
    row = only_request(replica)
    assert row["status"] == "delivered"
    assert row["delivered_by"] == "王芳"
    resp = volunteer.post(f"/medicine/{rid}/refused", {"reason": "late"})
    assert resp.status_code == 422  # already closed


def test_refused_medicine_stays_as_stock_until_reassigned(volunteer, replica, client):
    new_request(volunteer, H1, "连花清瘟", "1")
    new_request(volunteer, H2, "布洛芬", "1")
    a = only_request(replica, "连花清瘟")["id"]
    b = only_request(replica, "布洛芬")["id"]
    volunteer.post(f"/medicine/{a}/bought", {"price": "35.50"})
    volunteer.post(f"/medicine/{b}/bought", {"price": "12.3"})
    assert volunteer.post(f"/medicine/{a}/refused", {"reason": " "}).status_code == 422
    assert volunteer.post(f"/medicine/{a}/refused", {"reason": "太贵"}).status_code == 303
    assert volunteer.post(f"/medicine/{b}/refused", {"reason": "不要了"}).status_code == 303
    html = client.get("/medicine/stock?lang=en").get_data(as_text=True)
    assert "Value held: ¥47.80" in html
    # Reassign: not to the same household, not to an unknown one.
    resp = volunteer.post(
        f"/medicine/{a}/reassign", {"household_id": H1, "next": "/medicine/stock"}
    )
    assert resp.status_code == 422
    resp = volunteer.post(
        f"/medicine/{a}/reassign", {"household_id": "zz", "next": "/medicine/stock"}
    )
    assert resp.status_code == 422
    assert volunteer.post(f"/medicine/{a}/reassign", {"household_id": H3}).status_code == 303
    html = client.get("/medicine/stock?lang=en").get_data(as_text=True)
    assert "Value held: ¥12.30" in html
    assert replica.get("medicine_requests", a)["reassigned_to"] == H3
    given = [r for r in replica.rows("medicine_requests") if r["household_id"] == H3]
    assert len(given) == 1
    assert given[0]["status"] == "bought"
    assert given[0]["price_yuan"] == 35.5
    # A second reassignment of the same refused box is refused.
    assert volunteer.post(f"/medicine/{a}/reassign", {"household_id": H2}).status_code == 422


def test_refused_before_buying_is_not_stock(volunteer, replica, client):
    new_request(volunteer)
    rid = only_request(replica)["id"]
    assert volunteer.post(f"/medicine/{rid}/refused", {"reason": "改主意"}).status_code == 303
    html = client.get("/medicine/stock?lang=en").get_data(as_text=True)
    assert "Value held: ¥0.00" in html


def test_photo_route_refuses_bad_and_unknown_names(volunteer, client):
    assert client.get("/medicine/photo/../../etc").status_code == 404
    assert client.get("/medicine/photo/" + "a" * 64).status_code == 404


def test_unknown_request_is_404(volunteer):
    assert volunteer.post("/medicine/nope/bought", {"price": "1"}).status_code == 404


def test_stock_value_is_exact(volunteer, replica, client):
    for i in range(3):
        new_request(volunteer, H1, f"药{i}", "1")
    for row in replica.rows("medicine_requests"):
        volunteer.post(f"/medicine/{row['id']}/bought", {"price": "0.10"})
        volunteer.post(f"/medicine/{row['id']}/refused", {"reason": "x"})
    html = client.get("/medicine/stock?lang=en").get_data(as_text=True)
    assert f"Value held: ¥{Decimal('0.30')}" in html
