"""GET /healthz: the process is up (no database check; readiness is a separate concern)."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

blp = Blueprint("health", __name__, description="Liveness")


class HealthSchema(Schema):
    """Liveness answer."""

    status = fields.String()


@blp.route("/healthz")
class Health(MethodView):
    """Liveness."""

    @blp.response(200, HealthSchema)
    def get(self) -> dict[str, str]:
        """Tell that the process is up."""
        return {"status": "ok"}
