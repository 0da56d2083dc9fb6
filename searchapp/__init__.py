"""searchapp: full-text search for news articles, one paragraph per document."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def resource_folder(name: str) -> Path:
    """`templates` or `static`: inside the installed package, else at the checkout's top level."""
    packaged = Path(__file__).parent / name
    return packaged if packaged.is_dir() else Path(__file__).parent.parent / name


def create_app(overrides: Mapping[str, object] | None = None):
    """The Flask app; settings come from `SEARCHAPP_*` variables, then from `overrides`."""
    from flask import Flask
    from htmx_flask import Htmx

    from .config import load_settings
    from .web import init_app

    settings = load_settings(**dict(overrides or {}))
    app = Flask(__name__, template_folder=resource_folder("templates"), static_folder=resource_folder("static"))
    Htmx(app)
    init_app(app, settings)
    return app
