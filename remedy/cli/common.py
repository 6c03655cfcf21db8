"""What every command needs: the app it works on and the folder models are cached in."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app

from remedy import create_app


def current_or_new_app() -> Flask:
    """Return the current app under `flask remedy`, else create one for the `remedy` command.

    A command's app has no statement timeout: REMEDY_DATABASE_STATEMENT_TIMEOUT_MS keeps a hung
    database from holding web requests (which then answer 503), while commands and the job
    worker run long statements on purpose (training's read of a million outcomes, a replay's
    month, a rollup rebuild); a hung database holds only the command, and a job's lease lets
    another worker take over. The connect and pool timeouts still apply."""
    try:
        return current_app._get_current_object()  # type: ignore[attr-defined]
    except RuntimeError:
        return create_app({"DATABASE_STATEMENT_TIMEOUT_MS": 0})


def model_cache_dir(app: Flask) -> Path:
    """Return the folder this process materialises model artifacts into."""
    return Path(app.config["MODEL_DIR"]) / "cache"
