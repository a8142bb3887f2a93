"""Simplified Chinese first, English second (Flask-Babel).

Catalogs: `field_agent/translations/zh_Hans_CN` and any `field_agent/<area>/translations`; the .mo
files are compiled by `python -m server.i18n` (which scans field_agent/ too) and committed.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, request, session
from flask_babel import Babel

LANGUAGES = ("zh_CN", "en")


def translation_dirs(root: Path) -> list[str]:
    return sorted({str(p.parent.parent) for p in root.rglob("translations/*/LC_MESSAGES")})


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
