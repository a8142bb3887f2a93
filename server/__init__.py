"""The community server (and, configured by level, the street, district or city server)."""

from __future__ import annotations

import importlib
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, g, redirect, url_for
from flask_wtf.csrf import CSRFProtect

from . import config as config_mod
from . import db as db_mod
from . import i18n, web

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

# Each area is a package with `data.py` (migrations) and `views.py` (a `bp` Blueprint).
# Add a line here to plug an area in; order is the order of migrations.
AREAS = [
    "auth",
    "sync_api",
    "supply",
    "blobs",
    "voting",
    "places",
    "register",
    "accounts",
    "certification",
]

csrf = CSRFProtect()


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Defaults, then the data directory's config.toml, then test overrides."""
    test_config = dict(test_config or {})
    app = Flask(__name__, static_folder=None)
    data_dir = Path(
        test_config.pop("DATA_DIR", None) or os.environ.get("LASTMETER_DATA") or "lastmeter-data"
    )
    file_config = config_mod.init_data_dir(data_dir)
    settings = {**config_mod.DEFAULTS, **file_config}
    app.config.from_mapping({k.upper(): v for k, v in settings.items()})
    app.config.update(
        DATA_DIR=str(data_dir),
        DATABASE=str(data_dir / config_mod.DB_NAME),
        BLOB_DIR=str(data_dir / "blobs"),
        MAX_CONTENT_LENGTH=int(settings["max_request_bytes"]),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=bool(settings["session_cookie_secure"]),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.config.update(test_config)
    app.config["MAX_CONTENT_LENGTH"] = int(app.config["MAX_REQUEST_BYTES"])

    modules = [importlib.import_module(f".{area}", __name__) for area in AREAS]
    sets = [
        importlib.import_module(f".{area}.data", __name__).migrations
        for area, mod in zip(AREAS, modules, strict=True)
        if (Path(mod.__file__).parent / "data.py").exists()  # type: ignore[arg-type]
    ]
    db_mod.init_app(app, sets)
    csrf.init_app(app)
    web.init_app(app)
    i18n.init_app(app, Path(__file__).parent)

    app.register_blueprint(
        Blueprint("static", __name__, static_folder=str(STATIC_DIR), static_url_path="/static")
    )
    from .auth.access import load_user
    from .openapi import bp as openapi_bp

    app.before_request(load_user)
    app.register_blueprint(openapi_bp)
    for area in AREAS:
        views = importlib.import_module(f".{area}.views", __name__)
        app.register_blueprint(views.bp)
        if getattr(views, "CSRF_EXEMPT", False):
            csrf.exempt(views.bp)

    @app.get("/")
    def home():
        if g.get("user") is None:
            return redirect(url_for("auth.login"))
        from .places.views import overview

        return overview()

    return app
