"""GET /v1/models and promotion (admin): which model ranks plans, and changing it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from remedy.api.auth import current_principal, roles
from remedy.extensions import session
from remedy.services.model_registry import ModelRegistry, card_summary

blp = Blueprint("models", __name__, url_prefix="/v1", description="Ranking model versions")


class ModelSchema(Schema):
    """One registered version."""

    version = fields.String()
    created_at = fields.DateTime()
    created_by = fields.String()
    model_sha256 = fields.String()
    sklearn_version = fields.String(allow_none=True)
    training_window = fields.Dict()
    metrics = fields.Dict()
    promoted = fields.Boolean()
    last_promotion = fields.Nested(
        lambda: PromotionSchema(),
        allow_none=True,
        metadata={"description": "when, by whom and why this version was last promoted"},
    )


class PromotionSchema(Schema):
    """One promotion."""

    version = fields.String()
    at = fields.DateTime()
    by = fields.String()
    reason = fields.String()


class ModelListSchema(Schema):
    """Versions, the one in use, and the promotion history."""

    current = fields.String(allow_none=True)
    models = fields.List(fields.Nested(ModelSchema))
    promotions = fields.List(fields.Nested(PromotionSchema))


class CardSchema(Schema):
    """A model card."""

    version = fields.String()
    card = fields.Dict()


class PromoteSchema(Schema):
    """Why a version is promoted."""

    reason = fields.String(load_default="", validate=validate.Length(max=200))


def _cache() -> Path:
    """Where this worker materialises artifacts."""
    return Path(current_app.config["MODEL_DIR"]) / "cache"


@blp.route("/models")
class Models(MethodView):
    """Model versions."""

    @roles("finance", "admin")
    @blp.response(200, ModelListSchema)
    def get(self) -> dict[str, Any]:
        """List versions (newest first), the promoted one, and every promotion."""
        registry = ModelRegistry(session())
        current = registry.current()
        promotions = registry.promotions()
        last: dict[str, Any] = {}
        for promotion in promotions:  # newest first: the first seen is the last promotion
            last.setdefault(promotion.version, promotion)
        return {
            "current": current,
            "models": [
                {
                    **card_summary(row),
                    "promoted": row.version == current,
                    "last_promotion": last.get(row.version),
                }
                for row in registry.versions()
            ],
            "promotions": promotions,
        }


@blp.route("/models/<version>")
class ModelCard(MethodView):
    """One version's card."""

    @roles("finance", "admin")
    @blp.response(200, CardSchema)
    def get(self, version: str) -> dict[str, Any]:
        """Return the version's model card (metrics, training window, policy values)."""
        row = ModelRegistry(session()).get(version)
        return {"version": row.version, "card": row.card}


@blp.route("/models/<version>/promote")
class Promote(MethodView):
    """Promote a version."""

    @roles("admin", unscoped=True)
    @blp.arguments(PromoteSchema)
    @blp.response(200, PromotionSchema)
    def post(self, data: dict[str, Any], version: str) -> Any:
        """Make this version rank plans on every worker from their next request."""
        return ModelRegistry(session()).promote(
            version, current_principal().prefix, data["reason"], _cache()
        )


@blp.route("/models/rollback")
class Rollback(MethodView):
    """Go back to the previous model."""

    @roles("admin", unscoped=True)
    @blp.arguments(PromoteSchema)
    @blp.response(200, PromotionSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Promote again the version in use before the current one (audited, with the reason)."""
        return ModelRegistry(session()).rollback(
            current_principal().prefix, _cache(), data["reason"]
        )
