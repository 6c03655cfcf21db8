"""POST /v1/recommendations and GET /v1/decisions/<id>."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from remedy.api.approvals import approval_status
from remedy.api.auth import current_principal, roles
from remedy.api.dumping import compile_dumper, dumped_response
from remedy.api.reading import current_reader
from remedy.api.schemas import DecisionSchema, RecommendationRequestSchema
from remedy.decisions.record import DecisionRecord
from remedy.domain import FaultType, Incident
from remedy.extensions import session
from remedy.metrics import DECISIONS
from remedy.presenting import present_decision
from remedy.services import app_services
from remedy.services.recommendations import RecommendationService, get_decision

blp = Blueprint("recommendations", __name__, url_prefix="/v1", description="Ranked remedy plans")
# The answer is dumped by a plan compiled from DecisionSchema (the documented contract).
dump_decision = compile_dumper(DecisionSchema)


def incident_from_request(data: dict[str, Any], team: str) -> Incident:
    """Build the domain incident from validated request data."""
    incident = data["incident"]
    return Incident(
        customer_id=incident["customer_id"],
        severity=incident["severity"],
        fault_type=FaultType(incident["fault_type"]),
        customer_value=incident["customer_value"],
        loss_amount=incident["loss_amount"],
        currency=incident["currency"],
        category=incident["category"],
        channel=incident["channel"],
        locale=incident["locale"],
        churn_threat=incident["churn_threat"] or incident["customer_status"] == "leaving",
        customer_status=incident["customer_status"],
        external_id=incident["external_id"],
        team=team,
        public=incident["public"],
        reach=incident["reach"],
        reported_at=incident["reported_at"],
        touchpoint=incident["touchpoint"],
    )


@blp.route("/recommendations")
class Recommendations(MethodView):
    """Recommend remedy plans for an incident."""

    @roles("agent")
    @blp.arguments(RecommendationRequestSchema)
    @blp.response(201, DecisionSchema)
    def post(self, data: dict[str, Any]) -> Response:
        """Rank remedy plans for an incident, inside the caps, and record the decision."""
        db = session()
        principal = current_principal()
        team = principal.team_for(data["team"])
        incident = incident_from_request(data, team)
        # A running champion/challenger experiment decides which model ranks for this customer
        # (the same one for every incident of theirs); the guardrails are the same either way.
        arm = app_services.experiments().assignment(db, team, incident.customer_id)
        scorer = app_services.scorer().of_version(db, arm.version) if arm else None
        engine = app_services.engines().engine(db, scorer)
        limit = data["limit"] or current_app.config["DEFAULT_LIMIT"]
        exploration, rng = app_services.exploration()
        decision = RecommendationService(db, engine, exploration, rng).recommend(
            incident, limit, current_principal().prefix, arm=arm
        )
        explored = DecisionRecord.of(decision).explored
        DECISIONS.labels("yes" if explored else "no").inc()
        return dumped_response(dump_decision, present_decision(decision, current_reader()), 201)


@blp.route("/decisions/<decision_id>")
class Decisions(MethodView):
    """What was decided."""

    @roles("agent", "finance")
    @blp.response(200, DecisionSchema)
    def get(self, decision_id: str) -> Response:
        """Return a stored decision with the plans shown, the cap, the versions and, once a
        plan was sent for approval, where that stands (`approval`: who decides, who decided
        and why)."""
        decision = get_decision(session(), decision_id)
        principal = current_principal()
        principal.hide_unless_sees(decision.team, f"decision {decision_id!r}")
        answer = present_decision(decision, current_reader(), approval_status(decision))
        return dumped_response(dump_decision, answer, 200)
