"""GET/PUT the versioned catalog, rules, caps and exchange rates; every PUT is a new, audited
version."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from remedy.api.auth import current_principal, roles
from remedy.extensions import session
from remedy.services.configs import ConfigService

blp = Blueprint(
    "configs", __name__, url_prefix="/v1", description="Catalog, rules, caps and exchange rates"
)


class DocumentSchema(Schema):
    """A whole catalog, rules, caps or exchange-rates document (validated by its own loader)."""

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

        @roles(*write_roles)
        @blp.arguments(DocumentSchema)
        @blp.response(200, VersionSchema)
        def put(self, document: dict[str, Any]) -> Any:
            """Replace the document; it is validated whole and stored as a new version."""
            return ConfigService(session()).replace(kind, document, current_principal().prefix)

    class HistoryView(MethodView):
        @roles("finance", "admin")
        @blp.response(200, HistorySchema)
        def get(self) -> dict[str, Any]:
            """Return every version, newest first."""
            return {"versions": ConfigService(session()).history(kind)}

    name = kind.title().replace("_", "")
    DocumentView.__name__ = f"{name}Document"
    HistoryView.__name__ = f"{name}History"
    return DocumentView, HistoryView


for _kind, _path, _writers in (
    ("catalog", "catalog", ("admin",)),
    ("rules", "rules", ("admin",)),
    ("caps", "caps", ("finance",)),
    # the rates training converts net values to US dollars with (remedy/services/exchange_rates.py)
    ("exchange_rates", "exchange-rates", ("finance",)),
):
    _document, _history = _document_view(_kind, _writers)
    blp.route(f"/{_path}", endpoint=f"{_kind}_document")(_document)
    blp.route(f"/{_path}/history", endpoint=f"{_kind}_history")(_history)
