"""GET/PUT the versioned catalog, rules and caps; every PUT makes a new version and is audited."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from remedy.api.auth import current_principal, roles
from remedy.extensions import session
from remedy.services.configs import ConfigService

blp = Blueprint("configs", __name__, url_prefix="/v1", description="Catalog, rules and caps")


class DocumentSchema(Schema):
    """A whole catalog, rules or caps document (validated by its own loader)."""

    class Meta:
        unknown = "include"


class VersionSchema(Schema):
    """One stored version."""

    kind = fields.String()
    version = fields.Integer()
    created_at = fields.DateTime()
    created_by = fields.String()
    effective_at = fields.DateTime()
    document = fields.Dict()


class HistorySchema(Schema):
    """Every version, newest first."""

    versions = fields.List(fields.Nested(VersionSchema))


def _document_view(kind: str, write_roles: tuple[str, ...]) -> type[MethodView]:
    """Build the GET/PUT view for one kind of document."""

    class DocumentView(MethodView):
        @roles("agent", "finance", "admin")
        @blp.response(200, VersionSchema)
        def get(self) -> Any:
            """Return the active version."""
            return ConfigService(session()).document(kind)

        @roles(*write_roles, unscoped=True)
        @blp.arguments(DocumentSchema)
        @blp.response(200, VersionSchema)
        def put(self, document: dict[str, Any]) -> Any:
            """Replace the document: validated whole, tried on recent and synthetic incidents (422
            naming the first whose decision fails), and stored as a new version."""
            db = session()
            engines = current_app.extensions["remedy.engines"]
            return ConfigService(db).replace(
                kind,
                document,
                current_principal().prefix,
                engine_for=lambda proposed: engines.trial_engine(db, proposed),
            )

    class HistoryView(MethodView):
        @roles("finance", "admin")
        @blp.response(200, HistorySchema)
        def get(self) -> dict[str, Any]:
            """Return every version, newest first."""
            return {"versions": ConfigService(session()).history(kind)}

    DocumentView.__name__ = f"{kind.title()}Document"
    HistoryView.__name__ = f"{kind.title()}History"
    return DocumentView, HistoryView


for _kind, _writers in (("catalog", ("admin",)), ("rules", ("admin",)), ("caps", ("finance",))):
    _document, _history = _document_view(_kind, _writers)
    blp.route(f"/{_kind}", endpoint=f"{_kind}_document")(_document)
    blp.route(f"/{_kind}/history", endpoint=f"{_kind}_history")(_history)
