"""The volunteer laptop's offline app: `create_app(test_config=None)`."""

from __future__ import annotations

import importlib
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask
from flask_wtf.csrf import CSRFProtect

from . import db as db_mod
from . import i18n, localtime, settings, web

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
OWN_STATIC = Path(__file__).resolve().parent / "static"

# Each area is a package with `views.py` (a `bp` Blueprint, optional `NAV` entries) and,
# when it keeps agent-only tables, `data.py` (`migrations`). Add a line here to plug an
# area in (paper ballots, group-buying orders, ...); order is the nav and migration order.
AREAS = [
    "volunteers",
    "places",
    "temperatures",
    "deliveries",
    "medicine",
    "disinfection",
    "health",
    "ballots",
    "orders",
    "syncing",
]

csrf = CSRFProtect()


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Defaults, then the data directory's config.toml, then test overrides."""
    test_config = dict(test_config or {})
    app = Flask(__name__, static_folder=None)
    data_dir = Path(
        test_config.pop("DATA_DIR", None)
        or os.environ.get("LASTMETER_AGENT_DATA")
        or "lastmeter-agent"
    )
    file_config = settings.init_data_dir(data_dir)
    merged = {**settings.DEFAULTS, **file_config}
    app.config.from_mapping({k.upper(): v for k, v in merged.items()})
    app.config.update(
        DATA_DIR=str(data_dir),
        DATABASE=str(settings.db_path(data_dir)),
        BLOB_DIR=str(settings.blob_dir(data_dir)),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_NAME="lastmeter_agent",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        WTF_CSRF_TIME_LIMIT=None,
    )
    app.config.update(test_config)
    app.config["MAX_CONTENT_LENGTH"] = int(app.config["MAX_PHOTO_BYTES"]) + 1024 * 1024

    views = [importlib.import_module(f".{area}.views", __name__) for area in AREAS]
    sets = []
    for area in AREAS:
        if (Path(__file__).parent / area / "data.py").exists():
            data = importlib.import_module(f".{area}.data", __name__)
            if hasattr(data, "migrations"):
                sets.append(data.migrations)
    db_mod.init_app(app, sets)
    csrf.init_app(app)
    web.init_app(app)
    i18n.init_app(app, Path(__file__).parent)

    app.register_blueprint(
        Blueprint("static", __name__, static_folder=str(STATIC_DIR), static_url_path="/static")
    )
    app.register_blueprint(
        Blueprint(
            "agent_static", __name__, static_folder=str(OWN_STATIC), static_url_path="/static/agent"
        )
    )
    nav = []
    for module in views:
        app.register_blueprint(module.bp)
        nav += getattr(module, "NAV", [])
    app.jinja_env.filters["localtime"] = localtime.show

    from .background import BackgroundSync
    from .volunteers.access import require_volunteer

    app.before_request(require_volunteer)
    app.extensions["agent_sync"] = BackgroundSync(app)

    @app.context_processor
    def navigation():
        return {"nav_items": nav}

    return app


def start_background_sync(app: Flask) -> None:
    """Sync every few minutes in a thread (`lastmeter agent run` starts it)."""
    app.extensions["agent_sync"].start()


def close_app(app: Flask) -> None:
    """Stop background sync, close the replica and the pages' connections."""
    app.extensions["agent_sync"].stop()
    db_mod.close_all(app)
