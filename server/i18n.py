"""Simplified Chinese first, English second (Flask-Babel); catalogs per area.

Each area may keep `translations/zh_Hans_CN/LC_MESSAGES/messages.po` beside its code; the
committed .mo files are compiled from them by `python -m server.i18n` (a test checks
they are current).
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, request, session
from flask_babel import Babel

ROOTS = [Path(__file__).parent, Path(__file__).parent.parent / "field_agent"]
LANGUAGES = ("zh_CN", "en")


def translation_dirs(root: Path) -> list[str]:
    return sorted(str(p.parent.parent) for p in root.rglob("translations/*/LC_MESSAGES"))


def po_files() -> list[Path]:
    return sorted(p for root in ROOTS for p in root.rglob("translations/*/LC_MESSAGES/*.po"))


def compiled(po: Path) -> bytes:
    with po.open("rb") as fh:
        catalog = read_po(fh)
    out = io.BytesIO()
    write_mo(out, catalog)
    return out.getvalue()


def select_locale() -> str:
    lang = request.args.get("lang") or session.get("lang")
    return lang if lang in LANGUAGES else "zh_CN"


def init_app(app: Flask, root: Path) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", "zh_CN")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(translation_dirs(root))
    Babel(app, locale_selector=select_locale)

    @app.context_processor
    def languages():
        return {"current_lang": select_locale(), "languages": LANGUAGES}


def main() -> int:
    for po in po_files():
        po.with_suffix(".mo").write_bytes(compiled(po))
        print("compiled", po)
    return 0


if __name__ == "__main__":
    sys.exit(main())
