"""The agent speaks Simplified Chinese first: every string translated, the .mo current."""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po

import field_agent
from server import i18n
from tests import catalogs

ROOT = Path(field_agent.__file__).parent
KEYWORDS = {"_": None, "_l": None}  # the agent marks strings with _ and _l only
PO = ROOT / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"


def test_every_agent_string_has_a_chinese_translation():
    with PO.open("rb") as fh:
        translated = {m.id for m in read_po(fh) if m.id and m.string}
    sources = [*ROOT.rglob("*.py"), *(ROOT / "templates").rglob("*.html")]
    untranslated = catalogs.untranslated(sources, translated, ROOT, KEYWORDS)
    assert not untranslated, "\n".join(untranslated)


def test_compiled_catalog_is_current():
    assert PO in i18n.po_files()  # `python -m server.i18n` compiles it
    assert PO.with_suffix(".mo").read_bytes() == i18n.compiled(PO)


def test_pages_are_chinese_first(volunteer, client):
    html = client.get("/temperatures/grid?building=1栋").get_data(as_text=True)
    assert "保存本楼" in html
    assert "今天已测 0 / 5" in html
    assert "Save the building" in client.get("/temperatures/grid?building=1栋&lang=en").get_data(
        as_text=True
    )
