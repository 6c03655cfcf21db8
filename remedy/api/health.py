"""GET /healthz (the process is up) and GET /readyz (the database answers, a model is loaded)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy.exc import SQLAlchemyError

from remedy.errors import ServiceUnavailable
from remedy.extensions import session
from remedy.services import app_services

blp = Blueprint("health", __name__, description="Liveness and readiness")


class HealthSchema(Schema):
    """Liveness or readiness answer."""

    status = fields.String()
    checks = fields.Dict(keys=fields.String(), values=fields.String())


@blp.route("/healthz")
class Health(MethodView):
    """Liveness."""

    @blp.doc(security=[])  # public: load balancers probe without a key
    @blp.response(200, HealthSchema)
    def get(self) -> dict[str, str]:
        """Tell that the process is up (no dependency is checked)."""
        return {"status": "ok"}


@blp.route("/readyz")
class Ready(MethodView):
    """Readiness."""

    @blp.doc(security=[])
    @blp.response(200, HealthSchema)
    def get(self) -> dict[str, Any]:
        """Check the database and the model in use; 503 with Retry-After when not ready."""
        try:
            db = session()
            db.execute(sa.text("SELECT 1"))
            scorer = app_services.scorer()(db)
        except SQLAlchemyError:
            raise ServiceUnavailable(
                "the database does not answer", {"database": ["down"]}
            ) from None
        return {"status": "ready", "checks": {"database": "ok", "model": scorer.version}}
