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
