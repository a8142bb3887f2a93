"""Simplified Chinese catalogs: compiled files current, every string of the register
areas and the base pages translated, pages in both languages."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from server import i18n
from tests import catalogs

SERVER = Path(i18n.__file__).parent
SOURCES = [
    *sorted((SERVER / "templates" / "places").glob("*.html")),
    *sorted((SERVER / "templates" / "register").glob("*.html")),
    *sorted((SERVER / "templates" / "accounts").glob("*.html")),
    *(SERVER / "templates" / n for n in ("base.html", "error.html", "home.html")),
    SERVER / "templates" / "auth" / "login.html",
    SERVER / "auth" / "views.py",
    *sorted((SERVER / "places").glob("*.py")),
    *sorted((SERVER / "register").glob("*.py")),
    *sorted((SERVER / "accounts").glob("*.py")),
]


@pytest.mark.parametrize("po", i18n.po_files(), ids=lambda p: str(p.relative_to(SERVER.parent)))
def test_committed_mo_equals_a_fresh_compile(po):
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"run .venv/bin/python -m server.i18n to compile {po}"
    assert mo.read_bytes() == i18n.compiled(po), f"{mo} is stale: run python -m server.i18n"


def test_every_string_of_these_pages_has_a_chinese_translation():
    translated: set[str] = set()
    for po in i18n.po_files():
        with po.open("rb") as fh:
            translated |= {m.id for m in read_po(fh) if m.id and m.string}
    untranslated = catalogs.untranslated(SOURCES, translated, SERVER)
    assert not untranslated, "\n".join(untranslated)


def test_sign_in_page_is_chinese_first_with_an_english_switch(client):
    zh = client.get("/auth/login").get_data(as_text=True)
    assert "用户名" in zh
    assert "登录" in zh
    en = client.get("/auth/login?lang=en").get_data(as_text=True)
    assert "User name" in en
    assert "用户名" not in en


def test_wrong_password_message_is_translated_and_the_same_for_unknown_users(client, admin):
    import re

    html = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    wrong = client.post(
        "/auth/login", data={"username": "secretary", "password": "nope-nope", "csrf_token": token}
    )
    unknown = client.post(
        "/auth/login",
        data={"username": "nobody-here", "password": "nope-nope", "csrf_token": token},
    )
    assert wrong.status_code == unknown.status_code == 401
    assert "用户名或密码错误" in wrong.get_data(as_text=True)

    # No user enumeration: the two answers are the same page (CSRF tokens carry a time).
    def page(resp):
        return re.sub(r"[\w-]+\.[\w-]+\.[\w-]+", "TOKEN", resp.get_data(as_text=True))

    assert page(wrong) == page(unknown)
