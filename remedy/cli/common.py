"""What every command needs: the app it works on and the folder models are cached in."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app

from remedy import create_app


def current_or_new_app() -> Flask:
    """Return the current app under `flask remedy`, else create one for the `remedy` command."""
    try:
        return current_app._get_current_object()  # type: ignore[attr-defined]
    except RuntimeError:
        return create_app()


def model_cache_dir(app: Flask) -> Path:
    """Return the folder this process materialises model artifacts into."""
    return Path(app.config["MODEL_DIR"]) / "cache"
