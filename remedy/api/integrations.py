"""Help-desk integrations (admin) and the panel's sign-in through its host.

`POST /v1/panel/sessions` needs no API key: the host-minted token in its body is the
credential (remedy/services/integrations.py checks it); it is rate-limited per address like
any call without a key.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from remedy.api.auth import bearer_token, current_principal, roles
from remedy.api.hardening import no_store
from remedy.api.schemas import SLUG
from remedy.errors import InvalidInput
from remedy.extensions import session
from remedy.origins import SCHEMA_PATTERN
from remedy.services.integrations import MAX_ORIGINS, IntegrationService

blp = Blueprint(
    "integrations",
    __name__,
    url_prefix="/v1",
    description="Help desks that sign their agents in to the panel (admin), and that sign-in",
)
# The one operation that takes no API key (create_app marks it).
KEYLESS_ENDPOINTS = ("integrations.PanelSessions",)


class IntegrationRequestSchema(Schema):
    """An integration to create."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    team = fields.String(load_default=None, validate=SLUG)
    allowed_origins = fields.List(
        fields.String(validate=[validate.Length(min=1, max=300), validate.Regexp(SCHEMA_PATTERN)]),
        required=True,
        validate=validate.Length(min=1, max=MAX_ORIGINS),
        metadata={
            "description": "host origins its panel runs on; `*` stands for one label: "
            "https://*.apps.zdusercontent.com"
        },
    )


class IntegrationSchema(Schema):
    """An integration as listed (never its secret)."""

    id = fields.String()
    name = fields.String()
    team = fields.String()
    allowed_origins = fields.List(fields.String())
    created_by = fields.String()
    created_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)


class NewIntegrationSchema(IntegrationSchema):
    """A new integration: the only time its secret is shown."""

    secret = fields.String(
        metadata={"description": "the HS256 key the host signs panel tokens with; shown once"}
    )


class IntegrationListSchema(Schema):
    """All integrations."""

    integrations = fields.List(fields.Nested(IntegrationSchema))


class PanelSessionRequestSchema(Schema):
    """A host-minted token to exchange, and the host origin the panel runs in."""

    token = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=4096),
        metadata={
            "description": "the token; or send it as 'Authorization: Bearer <token>' (what a "
            "help desk's signing proxy, e.g. Zendesk's secure requests, sets)"
        },
    )
    origin = fields.String(
        required=True,
        validate=validate.Length(min=1, max=300),
        metadata={"description": "the host page's origin (the panel sends what its browser saw)"},
    )


class PanelSessionSchema(Schema):
    """A panel session: an agent key for the integration's team, until `expires_at`."""

    key = fields.String(metadata={"description": "Bearer key; keep it in memory only"})
    prefix = fields.String()
    role = fields.String()
    team = fields.String()
    agent = fields.String()
    integration_id = fields.String()
    expires_at = fields.DateTime()


@blp.route("/integrations")
class Integrations(MethodView):
    """Create and list integrations."""

    @roles("admin")
    @blp.response(200, IntegrationListSchema)
    def get(self) -> dict[str, Any]:
        """List every integration (a team-scoped admin: its team's), newest first."""
        return {"integrations": IntegrationService(session()).list(current_principal().team)}

    @roles("admin")
    @no_store
    @blp.arguments(IntegrationRequestSchema)
    @blp.response(201, NewIntegrationSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Create an integration; its secret is in this answer only. Audited. A team-scoped
        admin creates integrations for its own team only (the team defaults to it)."""
        principal = current_principal()
        team = principal.team_for(data["team"])
        secret, row = IntegrationService(session()).create(
            data["name"], team, data["allowed_origins"], actor=principal.prefix
        )
        fields_of = ("id", "name", "team", "allowed_origins", "created_by", "created_at")
        return {name: getattr(row, name) for name in fields_of} | {
            "revoked_at": None,
            "secret": secret,
        }


@blp.route("/integrations/<integration_id>/revoke")
class RevokeIntegration(MethodView):
    """Revoke an integration."""

    @roles("admin")
    @blp.response(200, IntegrationSchema)
    def post(self, integration_id: str) -> Any:
        """Revoke it: its tokens are refused and its panel sessions' keys stop at once."""
        principal = current_principal()
        return IntegrationService(session()).revoke(
            integration_id, actor=principal.prefix, team=principal.team
        )


@blp.route("/panel/sessions")
class PanelSessions(MethodView):
    """Sign a panel in through its host."""

    @no_store
    @blp.arguments(PanelSessionRequestSchema)
    @blp.response(201, PanelSessionSchema)
    @blp.alt_response(401, description="expired, wrong audience, tampered or unknown token")
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Exchange a host-minted HS256 token (iss: the integration, aud: remedy-panel, sub:
        the agent, team, exp minutes ahead) for a short-lived agent key scoped to the
        integration's team. No API key: the token is the credential."""
        config = current_app.config
        token = data["token"] or bearer_token()
        if not token:
            message = "send the host-minted token in the body or as a bearer token"
            raise InvalidInput(message, {"token": [message]})
        if len(token) > 4096:
            raise InvalidInput("the token is too long", {"token": ["at most 4096 characters"]})
        return IntegrationService(session()).open_session(
            token,
            data["origin"],
            session_minutes=config["PANEL_SESSION_MINUTES"],
            token_max_minutes=config["PANEL_TOKEN_MAX_MINUTES"],
        )
