"""Which strings of some sources a catalog leaves untranslated (imported as tests.catalogs)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file


def messages(path: Path, keywords: Mapping[str, Any] = DEFAULT_KEYWORDS) -> list[str]:
    """The msgids of a .py (with these gettext keywords) or a Jinja template."""
    if path.suffix == ".py":
        found = extract_from_file("python", str(path), keywords=keywords)
    else:
        found = extract_from_file(
            "jinja2.ext:babel_extract", str(path), options={"extensions": "jinja2.ext.i18n"}
        )
    return [m[1] if isinstance(m[1], str) else m[1][0] for m in found]


def untranslated(
    sources: Iterable[Path],
    translated: set[str],
    root: Path,
    keywords: Mapping[str, Any] = DEFAULT_KEYWORDS,
) -> list[str]:
    """'path: msgid' for every msgid of `sources` not in `translated`, paths from `root`."""
    return sorted(
        f"{path.relative_to(root)}: {msg!r}"
        for path in sources
        for msg in messages(path, keywords)
        if msg not in translated
    )
