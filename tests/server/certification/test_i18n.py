"""The certification pages speak Simplified Chinese first: every string translated."""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po

from server import i18n
from tests import catalogs

SERVER = Path(i18n.__file__).parent
SOURCES = [
    *sorted((SERVER / "templates" / "certification").glob("*.html")),
    SERVER / "certification" / "views.py",
    SERVER / "certification" / "sentences.py",
]


def test_every_string_of_the_certification_pages_has_a_chinese_translation():
    translated: set[str] = set()
    for po in i18n.po_files():
        with po.open("rb") as fh:
            translated |= {m.id for m in read_po(fh) if m.id and m.string}
    untranslated = catalogs.untranslated(SOURCES, translated, SERVER)
    assert not untranslated, "\n".join(untranslated)


def test_dashboard_is_chinese_by_default(client, app_store, login_as):
    app_store.seed()
    login_as("sec")
    html = client.get("/certification?date=2020-03-08").get_data(as_text=True)
    assert "无疫情小区" in html
    assert "可申报" in html  # the compound would pass


def test_every_record_error_is_a_literal_msgid_with_a_translation():
    import ast

    translated: set[str] = set()
    for po in i18n.po_files():
        with po.open("rb") as fh:
            translated |= {m.id for m in read_po(fh) if m.id and m.string and not m.context}
    problems, found = [], 0
    for path in (SERVER / "certification" / "records.py", SERVER / "certification" / "views.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            name = isinstance(node, ast.Call) and (
                getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            )
            if name != "CertError":
                continue
            found += 1
            message = node.args[1]
            if not isinstance(message, ast.Constant):
                problems.append(f"{path.name}:{node.lineno}: not a literal msgid")
            elif message.value not in translated:
                problems.append(f"{path.name}:{node.lineno}: {message.value!r} untranslated")
    assert found > 10
    assert not problems, "\n".join(problems)


def test_an_application_shows_its_status_in_chinese(client, app_store, login_as):
    import re

    app_store.seed()
    login_as("sec")
    page = "/certification/compounds/cp1?date=2020-03-08"
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get(page).get_data(as_text=True))
    resp = client.post(
        "/certification/compounds/cp1/apply?date=2020-03-08", data={"csrf_token": token.group(1)}
    )
    assert resp.status_code == 303
    assert "待审批" in client.get(page).get_data(as_text=True)
    assert "pending" in client.get(page + "&lang=en").get_data(as_text=True)
