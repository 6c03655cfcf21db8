"""GET/PUT the versioned catalog, rules, caps and exchange rates; every PUT is a new, audited
version."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from remedy.api.auth import current_principal, roles
from remedy.api.fields import Moment
from remedy.extensions import session
from remedy.services import app_services
from remedy.services.caps_governance import CapsGovernance
from remedy.services.configs import ConfigService
from remedy.store.tables import utcnow

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

        @roles(*write_roles, unscoped=True)
        @blp.arguments(DocumentSchema)
        @blp.response(200, VersionSchema)
        def put(self, document: dict[str, Any]) -> Any:
            """Replace the document: validated whole, tried on recent and synthetic incidents (422
            naming the first whose decision fails), and stored as a new version."""
            db = session()
            engines = app_services.engines()
            return ConfigService(db).replace(
                kind,
                document,
                current_principal().prefix,
                engine_for=lambda proposed: engines.trial_engine(db, proposed),
                max_plans=current_app.config["MAX_PLANS"],
                max_ms_per_decision=current_app.config["TRIAL_MS_PER_DECISION"],
            )

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


class GoverningArgs(Schema):
    """Which logged incidents to count (default: the last 30 days)."""

    start = Moment(load_default=None, data_key="from")
    end = Moment(load_default=None, data_key="to", metadata={"description": "exclusive"})


class TermSourceSchema(Schema):
    """A term's value in a slice and where in the caps document it is set."""

    value = fields.String()
    source = fields.String(metadata={"description": "'default' or 'override n' (from 0)"})
    path = fields.String(metadata={"example": "incident_caps.overrides.2.set.loss_multiple"})


class SliceSchema(Schema):
    """One severity and fault type."""

    severity = fields.Integer()
    fault_type = fields.String()
    overrides = fields.List(fields.Integer(), metadata={"description": "matching, in order"})
    loss_multiple = fields.Nested(TermSourceSchema)
    value_share = fields.Nested(TermSourceSchema)
    absolute = fields.Dict(keys=fields.String(), values=fields.Nested(TermSourceSchema))
    incidents = fields.Integer(metadata={"description": "logged incidents in the range"})
    binding = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "how many of them each term set the cap for"},
    )


class GoverningSchema(Schema):
    """The active caps explained per slice."""

    version = fields.Integer()
    start = fields.String(data_key="from")
    end = fields.String(data_key="to")
    slices = fields.List(fields.Nested(SliceSchema))


@blp.route("/caps/governing")
class CapsGoverning(MethodView):
    """Which override governs each slice, and which term binds."""

    @roles("finance", "admin")
    @blp.arguments(GoverningArgs, location="query")
    @blp.response(200, GoverningSchema)
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Per severity x fault type: the overrides that match, where each term comes from, and
        over the incidents logged in [from, to) how often each term set the cap."""
        end = args["end"] or utcnow()
        start = args["start"] or end - timedelta(days=30)
        result = CapsGovernance(session()).slices(start, end, current_principal().team)
        result["start"], result["end"] = result.pop("from"), result.pop("to")
        return result
