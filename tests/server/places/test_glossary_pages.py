"""The register speaks the domain's words once every area's catalog is merged:
住户 for households (not voting's 房屋), 业主 for the owner, 门牌号 for the unit, and a
count column says 户数 / 居民数."""

from __future__ import annotations


def _header(html: str) -> str:
    return html[html.index("<thead>") : html.index("</thead>")]


def test_household_list_uses_the_glossary(admin, register):
    html = admin.get("/households").get_data(as_text=True)
    assert "<h1>住户</h1>" in html
    head = _header(html)
    for word in ("门牌号", "业主", "面积（平方米）", "居民数"):
        assert word in head, word
    for wrong in ("房屋", "户主", "单元"):
        assert wrong not in html, wrong


def test_overview_counts_say_how_many(admin, register):
    html = admin.get("/").get_data(as_text=True)
    assert "户数" in html
    assert "居民数" in html
    en = admin.get("/?lang=en").get_data(as_text=True)
    assert "Households" in en
    assert "户数" not in en


def test_household_detail_edit_link_and_owner(admin, register):
    html = admin.get(f"/households/{register.household_a}").get_data(as_text=True)
    assert ">编辑<" in html
    assert "<th>业主</th>" in html
    assert "<th>门牌号</th>" in html


def test_import_row_errors_read_in_chinese_and_in_english_on_request(admin, register):
    import io
    import re

    from .conftest import post

    content = "楼栋,门牌号,面积\r\n9栋,301,60\r\n1栋,302,-5\r\n".encode()

    def preview(path):
        resp = post(
            admin,
            path,
            {"compound": register.a, "kind": "households", "file": (io.BytesIO(content), "h.csv")},
            content_type="multipart/form-data",
        )
        assert resp.status_code == 422
        return re.findall(r'<span class="field-error">([^<]*)</span>', resp.get_data(as_text=True))

    zh = preview("/import")
    assert "楼栋: 未知楼栋 9栋：请先在小区中添加该楼栋。" in zh
    assert any(e.startswith("面积（平方米）: ") for e in zh)
    en = preview("/import?lang=en")
    assert "Building: Unknown building 9栋: add it to the compound first." in en
