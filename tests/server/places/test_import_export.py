"""Import from CSV and XLSX: a preview with per-row errors, nothing written before the
confirmation, one write on confirm, the same file twice changes nothing; export back."""

from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import Workbook, load_workbook

from server.places.data import stable_id

from .conftest import post

HEADER = ["楼栋", "门牌号", "面积", "户主", "医护家庭", "困难户", "独居老人"]
GOOD = [
    ["1栋", "201", "88.5", "王芳", "是", "", ""],
    ["1栋", "202", "102.25㎡", "李强", "", "1", ""],
    ["1栋", "101", "89.37", "Owner A", "1", "0", "1"],  # exists: elderly_alone changes
]
BAD = [
    ["1栋", "", "70", "No unit", "", "", ""],  # missing unit
    ["1栋", "203", "-5", "Negative", "", "", ""],  # bad area
    ["1栋", "201", "60", "Twice", "", "", ""],  # duplicate of row 2
    ["9栋", "301", "60", "Nowhere", "", "", ""],  # unknown building
    ["1栋", "204", "abc", "Letters", "", "", ""],  # bad area
]


def as_csv(rows, header=HEADER) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([header, *rows])
    return out.getvalue().encode("utf-8-sig")


def as_xlsx(rows, header=HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        # Spreadsheets hold numbers as numbers: 201 and 88.5, not text.
        sheet.append([float(c) if re.fullmatch(r"\d+(\.\d+)?", c) else c for c in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(client, compound, content, filename, kind="households"):
    return post(
        client,
        "/import",
        {"compound": compound, "kind": kind, "file": (io.BytesIO(content), filename)},
        content_type="multipart/form-data",
    )


def confirm(client, html):
    action = re.search(r'action="(/import/[^"]+)"', html)
    assert action, "no confirm button"
    return post(client, action.group(1))


@pytest.mark.parametrize(("make", "filename"), [(as_csv, "h.csv"), (as_xlsx, "h.xlsx")])
def test_bad_rows_are_shown_per_row_and_nothing_is_written(
    admin, server_app, register, make, filename
):
    replica = server_app.extensions["replica"]
    before = replica.counter
    resp = upload(admin, register.a, make(GOOD + BAD), filename)
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    rows = dict(re.findall(r"<tr class=\"fever\">\s*<td>(\d+)</td>(.*?)</tr>", html, re.S))
    assert sorted(rows) == ["5", "6", "7", "8", "9"]
    # Each error names its column as the forms do (Chinese first) and says why in Chinese.
    assert "门牌号: " in rows["5"]
    assert "面积（平方米）: " in rows["6"]
    assert "面积（平方米）: " in rows["9"]
    assert "门牌号: " in rows["7"]
    assert "2" in rows["7"]
    assert "楼栋: " in rows["8"]
    assert "9栋" in rows["8"]
    assert 'action="/import/' not in html  # no confirm button while rows have errors
    assert replica.counter == before


@pytest.mark.parametrize(("make", "filename"), [(as_csv, "h.csv"), (as_xlsx, "h.xlsx")])
def test_good_file_imports_once_and_twice_changes_nothing(
    admin, server_app, register, make, filename
):
    replica = server_app.extensions["replica"]
    before = replica.counter
    resp = upload(admin, register.a, make(GOOD), filename)
    assert resp.status_code == 200
    assert replica.counter == before  # the preview writes nothing
    resp = confirm(admin, resp.get_data(as_text=True))
    assert resp.status_code == 303
    h201 = replica.get("households", stable_id(register.a, "1栋", "201"))
    assert (h201["owner_name"], h201["area_m2"], h201["medical_worker"]) == ("王芳", 88.5, True)
    assert replica.get("households", stable_id(register.a, "1栋", "202"))["area_m2"] == 102.25
    a101 = replica.get("households", register.household_a)
    assert a101["elderly_alone"] is True
    assert a101["area_m2"] == 89.37
    after_first = replica.counter
    assert after_first > before

    resp = upload(admin, register.a, make(GOOD), filename)
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert ">new<" not in html
    assert ">changed<" not in html
    assert confirm(admin, html).status_code == 303
    assert replica.counter == after_first  # the same file again changed nothing


def test_residents_import_needs_known_households(admin, server_app, register):
    header = ["building", "unit", "name", "birth_year"]
    rows = [
        ["1栋", "101", "张伟", "1948"],
        ["1栋", "101", "张伟", "1948"],  # duplicate person
        ["1栋", "999", "Nobody", "1980"],  # no such household
        ["1栋", "102", "Old", "1700"],  # bad year
    ]
    resp = upload(admin, register.a, as_csv(rows, header), "r.csv", kind="residents")
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    bad = re.findall(r"<tr class=\"fever\">\s*<td>(\d+)</td>", html)
    assert bad == ["3", "4", "5"]
    resp = upload(admin, register.a, as_csv(rows[:1], header), "r.csv", kind="residents")
    assert confirm(admin, resp.get_data(as_text=True)).status_code == 303
    names = {r["name"] for r in server_app.extensions["replica"].rows("residents")}
    assert "张伟" in names


def test_a_file_that_is_not_a_spreadsheet_is_refused(admin, register):
    resp = upload(admin, register.a, b"PK\x03\x04 not really a zip", "x.xlsx")
    assert resp.status_code == 422
    assert 'id="err-file"' in resp.get_data(as_text=True)
    resp = upload(admin, register.a, b"\x89PNG....", "x.png")
    assert resp.status_code == 422


def test_gbk_csv_from_excel_is_read(admin, server_app, register):
    content = "楼栋,门牌号,户主\r\n1栋,205,陈静\r\n".encode("gb18030")
    resp = upload(admin, register.a, content, "gbk.csv")
    assert resp.status_code == 200
    confirm(admin, resp.get_data(as_text=True))
    row = server_app.extensions["replica"].get("households", stable_id(register.a, "1栋", "205"))
    assert row["owner_name"] == "陈静"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_imports_back_unchanged(admin, server_app, register, fmt):
    replica = server_app.extensions["replica"]
    replica.write("households", register.household_a, {"owner_name": "=cmd|' /C calc'!A0"})
    for kind in ("households", "residents"):
        resp = admin.get(f"/export/{kind}.{fmt}?compound={register.a}")
        assert resp.status_code == 200
        body = resp.get_data()
        if fmt == "csv":
            text = body.decode("utf-8-sig")
            assert "'=cmd" in text or kind == "residents"  # never a live formula
            assert "Owner B" not in text
        else:
            sheet = load_workbook(io.BytesIO(body)).active
            assert sheet.max_row == 3  # header + the two households/residents of A
        before = replica.counter
        resp = upload(admin, register.a, body, f"{kind}.{fmt}", kind=kind)
        html = resp.get_data(as_text=True)
        assert resp.status_code == 200, html
        assert ">new<" not in html
        assert ">changed<" not in html
        confirm(admin, html)
        assert replica.counter == before
    assert replica.get("households", register.household_a)["owner_name"].startswith("=cmd")
