"""API keys: admin management (create, shown once; list; revoke) and `whoami` for any key."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from remedy.api.auth import current_principal, roles
from remedy.api.hardening import no_store
from remedy.api.schemas import SLUG
from remedy.extensions import session
from remedy.services.keys import ROLES, KeyService

blp = Blueprint(
    "keys", __name__, url_prefix="/v1", description="API keys (admin) and the calling key"
)


class KeyRequestSchema(Schema):
    """A key to create."""

    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    team = fields.String(load_default=None, validate=SLUG)
    label = fields.String(load_default="", validate=validate.Length(max=200))


class KeySchema(Schema):
    """A key as listed (never its secret)."""

    prefix = fields.String()
    role = fields.String()
    team = fields.String(allow_none=True)
    label = fields.String()
    created_at = fields.DateTime()
    revoked_at = fields.DateTime(allow_none=True)


class NewKeySchema(KeySchema):
    """A new key: the only time the secret is shown."""

    key = fields.String()


class KeyListSchema(Schema):
    """All keys."""

    keys = fields.List(fields.Nested(KeySchema))


@blp.route("/keys")
class Keys(MethodView):
    """Create and list keys."""

    @roles("admin")
    @blp.response(200, KeyListSchema)
    def get(self) -> dict[str, Any]:
        """List every key (a team-scoped admin: its team's), newest first."""
        return {"keys": KeyService(session()).list(current_principal().team)}

    @roles("admin")
    @no_store
    @blp.arguments(KeyRequestSchema)
    @blp.response(201, NewKeySchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Create a key; its secret is in this response only. A team-scoped admin creates keys
        for its own team only (the team defaults to it; another team or none is 403)."""
        principal = current_principal()
        team = principal.team_for(data["team"]) if principal.team else data["team"]
        token, row = KeyService(session()).create(
            data["role"], team, data["label"], actor=principal.prefix
        )
        return {
            "key": token,
            "prefix": row.prefix,
            "role": row.role,
            "team": row.team,
            "label": row.label,
            "created_at": row.created_at,
            "revoked_at": None,
        }


@blp.route("/keys/<prefix>/revoke")
class RevokeKey(MethodView):
    """Revoke a key."""

    @roles("admin")
    @blp.response(200, KeySchema)
    def post(self, prefix: str) -> Any:
        """Revoke the key with this prefix; it stops working at once."""
        principal = current_principal()
        return KeyService(session()).revoke(prefix, actor=principal.prefix, scope=principal)


class WhoAmISchema(Schema):
    """The calling key: its prefix, role and team scope (never the secret)."""

    prefix = fields.String()
    role = fields.String()
    team = fields.String(allow_none=True)
    expires_at = fields.DateTime(
        allow_none=True, metadata={"description": "a panel session's key: when it stops"}
    )


@blp.route("/whoami")
class WhoAmI(MethodView):
    """The calling key."""

    @roles("agent", "finance", "admin")
    @blp.response(200, WhoAmISchema)
    def get(self) -> Any:
        """Return the calling key's prefix, role and team, so a client can check a key."""
        return current_principal()
