"""remedy: service-recovery decisions. `create_app` reads like a table of contents."""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask

if TYPE_CHECKING:
    from remedy.services.job_kinds import JobRegistry


def create_app(config: dict[str, Any] | None = None, *, instance_path: str | None = None) -> Flask:
    """Create the app: settings, extensions, blueprints, error handlers, CLI.

    The instance folder (default database, models) is `instance_path`, else
    `REMEDY_INSTANCE_PATH`, else Flask's default (`<prefix>/var/remedy-instance` when installed,
    `instance/` beside the package in a checkout).
    """
    chosen = instance_path or os.environ.get("REMEDY_INSTANCE_PATH") or None
    app = Flask(
        __name__,
        instance_path=str(Path(chosen).expanduser().resolve()) if chosen else None,
        instance_relative_config=True,
    )
    os.makedirs(app.instance_path, exist_ok=True)
    from remedy.config import from_environment

    app.config.update(from_environment(app.instance_path))
    if config:
        app.config.update(config)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    """Bind the database, the API and the decision engine provider."""
    from remedy import observability
    from remedy.api import ratelimit
    from remedy.api.errors import RemedyApi
    from remedy.decisions.exploration import ExplorationPolicy
    from remedy.decisions.ranker import ValueSettings
    from remedy.extensions import db
    from remedy.services.app_services import Exploration, Services
    from remedy.services.approvals import FourEyes
    from remedy.services.at_risk import AtRiskSettings
    from remedy.services.engines import EngineProvider
    from remedy.services.experiments import RunningExperiment
    from remedy.services.keys import PrincipalCache
    from remedy.services.model_registry import ScorerProvider
    from remedy.services.rollups import register_rollup

    register_rollup()  # the reports' ticket rollup, kept in each writing transaction

    observability.init_app(app)  # first, so every later hook and log line has the request id
    ratelimit.init_app(app)
    app.config.setdefault("API_TITLE", "remedy")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("OPENAPI_SWAGGER_UI_PATH", "docs")
    # Swagger UI is served from the swagger-ui-bundle package: no CDN, works offline.
    app.config.setdefault("OPENAPI_SWAGGER_UI_URL", "/docs/static/")
    db.init_app(app)
    app.extensions["remedy.api"] = RemedyApi(
        app,
        spec_kwargs={
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearer": []}],
        },
    )
    values = ValueSettings(
        app.config["HORIZON_YEARS"], app.config["REFERRAL_SHARE"], app.config["WORD_OF_MOUTH_SHARE"]
    )
    exploration = Exploration(
        ExplorationPolicy(
            app.config["EXPLORATION_RATE"],
            app.config["EXPLORATION_TOP_K"],
            app.config["EXPLORATION_CLOSENESS"] or None,
        ),
        random.Random(app.config["EXPLORATION_SEED"]),
    )
    # Per-worker caches of what changes rarely, checked against the cache generation on every
    # request (remedy/store/generation.py).
    scorer = ScorerProvider(Path(app.config["MODEL_DIR"]) / "cache")
    engines = EngineProvider(scorer, values)
    # Who may not approve, and the at-risk thresholds: checked once here (an unknown tier or a
    # bad share stops the start).
    four_eyes = FourEyes.from_names(
        app.config["FOUR_EYES_TIERS"].split(","), app.config["ADMIN_APPROVAL_TIERS"].split(",")
    )
    at_risk = AtRiskSettings.from_config(app.config)
    Services(
        engines,
        scorer,
        PrincipalCache(),
        exploration,
        register_jobs(),
        four_eyes,
        at_risk,
        RunningExperiment(),
    ).install(app)


def register_jobs() -> JobRegistry:
    """Collect the long work of every domain: job kinds and periodic tasks (the worker runs
    what this registry holds)."""
    from remedy.services import (
        approvals,
        at_risk_notices,
        experiments,
        integrations,
        mass_jobs,
        webhook_delivery,
    )
    from remedy.services.job_kinds import JobRegistry
    from remedy.whatif import job as whatif

    registry = JobRegistry()
    for domain in (
        whatif,
        approvals,
        mass_jobs,
        webhook_delivery,
        at_risk_notices,
        integrations,
        experiments,
    ):
        domain.register_jobs(registry)
    return registry


def register_blueprints(app: Flask) -> None:
    """Register the API blueprints, the web console and the offline Swagger UI assets."""
    import swagger_ui_bundle
    from flask import abort, send_from_directory

    from remedy.api import (
        approvals,
        at_risk,
        audit,
        budgets,
        configs,
        customers,
        experiments,
        health,
        integrations,
        jobs,
        keys,
        lifecycle,
        mass_incidents,
        model_versions,
        outcomes,
        recommendations,
        reports,
        webhooks,
        whatif,
    )
    from remedy.api.auth import register_auth
    from remedy.api.hardening import DOCS_ASSETS, register_guards
    from remedy.api.unit_of_work import register_unit_of_work
    from remedy.console import PUBLIC_ENDPOINTS as CONSOLE_PAGES
    from remedy.console import blp as console
    from remedy.extensions import mark_bulk, mark_keyless, mark_public

    api = app.extensions["remedy.api"]
    for module in (
        health,
        recommendations,
        lifecycle,
        approvals,
        outcomes,
        configs,
        budgets,
        experiments,
        model_versions,
        keys,
        integrations,
        audit,
        whatif,
        jobs,
        reports,
        at_risk,
        customers,
        mass_incidents,
        webhooks,
    ):
        api.register_blueprint(module.blp)
    app.register_blueprint(console)  # plain Flask: pages, not API operations in the spec
    mark_public(app, *CONSOLE_PAGES)  # page shells and scripts; their data needs a key
    mark_keyless(app, *integrations.KEYLESS_ENDPOINTS)  # the token in the body vouches
    # Thousands of customers, as JSON, CSV or multipart.
    mark_bulk(app, app.config["MASS_INCIDENT_MAX_BYTES"], *mass_incidents.BULK_ENDPOINTS)
    register_auth(app)
    register_unit_of_work(app)
    register_guards(app)  # body depth, URL length, security headers

    @app.get("/docs/static/<path:filename>", endpoint="swagger_static")
    def swagger_static(filename: str):  # type: ignore[no-untyped-def]
        """Serve the Swagger UI files /docs loads from the installed bundle (nothing else)."""
        if filename not in DOCS_ASSETS:
            abort(404)
        return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)


def register_errorhandlers(app: Flask) -> None:
    """Give every error the one JSON envelope."""
    from remedy.api.errors import register_error_handlers

    register_error_handlers(app)


def register_commands(app: Flask) -> None:
    """Expose the CLI under `flask` too (the `remedy` command is the main entry)."""
    from remedy.cli import cli

    app.cli.add_command(cli, "remedy")
