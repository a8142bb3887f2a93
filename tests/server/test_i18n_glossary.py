"""One word, one translation: every catalog of the server and the field agent agrees.

The server's area catalogs merge into one gettext domain, so when two of them translate
the same English msgid differently the one loaded last wins on every page (voting's
"房屋" showed on the register as "Households"). The agent's catalog is held to the same
glossary so a volunteer and a secretary read the same words (../shared/DOMAIN.md).
Where one English word really needs two translations, the template says which with
`pgettext` (a msgctxt), and each (msgctxt, msgid) still has one translation.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from server import i18n

REPO = Path(i18n.__file__).parent.parent
CATALOGS = i18n.po_files()


def _read(po: Path):
    with po.open("rb") as fh:
        return read_po(fh)


def _key(message) -> tuple[str | None, str]:
    msgid = message.id if isinstance(message.id, str) else message.id[0]
    return message.context, msgid


def _name(po: Path) -> str:
    return str(po.relative_to(REPO))


def test_catalogs_of_both_apps_are_found():
    names = {_name(po).split("/translations/")[0] for po in CATALOGS}
    assert {"server", "server/voting", "server/register", "field_agent"} <= names


def test_the_same_msgid_has_one_translation_in_every_catalog():
    seen: dict[tuple[str | None, str], dict[str, object]] = defaultdict(dict)
    for po in CATALOGS:
        for message in _read(po):
            if message.id and message.string:
                seen[_key(message)][_name(po)] = message.string
    clashes = []
    for (context, msgid), by_catalog in sorted(
        seen.items(), key=lambda kv: (kv[0][1], kv[0][0] or "")
    ):
        if len({repr(s) for s in by_catalog.values()}) > 1:
            where = "; ".join(f"{name}: {s!r}" for name, s in sorted(by_catalog.items()))
            label = f"[{context}] {msgid!r}" if context else repr(msgid)
            clashes.append(f"{label} -> {where}")
    assert not clashes, "translated differently:\n" + "\n".join(clashes)


@pytest.mark.parametrize("po", CATALOGS, ids=_name)
def test_no_message_is_left_untranslated_or_fuzzy(po):
    # A fuzzy entry is dropped by the compiler, so it shows in English: same as empty.
    bad = []
    for message in _read(po):
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            bad.append(f"untranslated: {_key(message)!r}")
        elif message.fuzzy:
            bad.append(f"fuzzy: {_key(message)!r}")
    assert not bad, "\n".join(bad)


def test_the_glossary_uses_the_domain_words():
    """DOMAIN.md's terms, where the catalogs translate the bare English word."""
    expected = {
        "Household": "住户",
        "Households": "住户",
        "Owner": "业主",
        "Compound": "小区",
        "Building": "楼栋",
        "Resident": "居民",
        "Volunteer": "志愿者",
    }
    found: dict[str, set[str]] = defaultdict(set)
    for po in CATALOGS:
        for message in _read(po):
            if message.context is None and message.id in expected and message.string:
                found[message.id].add(message.string)
    assert found, "none of the glossary words is in any catalog"
    wrong = {word: got for word, got in found.items() if got != {expected[word]}}
    assert not wrong, wrong
