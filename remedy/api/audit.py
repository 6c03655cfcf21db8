"""GET /v1/audit: the audit log, newest first, for admins."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from remedy.api.auth import current_principal, roles
from remedy.extensions import session
from remedy.services.audit_log import AuditLog

blp = Blueprint("audit", __name__, url_prefix="/v1", description="Audit log (admin)")


class AuditQuerySchema(Schema):
    """Filters and paging."""

    entity = fields.String(validate=validate.Length(max=64))
    before_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))  # INTEGER ids
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class AuditEntrySchema(Schema):
    """One change."""

    id = fields.Integer()
    at = fields.DateTime()
    actor = fields.String()
    action = fields.String()
    entity = fields.String()
    entity_id = fields.String()
    before = fields.Raw(allow_none=True)
    after = fields.Raw(allow_none=True)


class AuditPageSchema(Schema):
    """A page of entries; pass the last id as before_id for the next page."""

    entries = fields.List(fields.Nested(AuditEntrySchema))


@blp.route("/audit")
class Audit(MethodView):
    """Who changed what."""

    @roles("admin")
    @blp.arguments(AuditQuerySchema, location="query")
    @blp.response(200, AuditPageSchema)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """List audit entries, newest first, optionally for one entity kind (a team-scoped
        admin reads what its team's keys did)."""
        entries = AuditLog(session()).page(
            current_principal().team, query["limit"], query.get("entity"), query.get("before_id")
        )
        return {"entries": entries}
