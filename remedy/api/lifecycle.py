"""POST /v1/decisions/<id>/{accept,approve,reject,fulfil,cancel}: act on a decision (the
approvers' queue is GET /v1/approvals, api/approvals.py).

Each takes an optional `Idempotency-Key` header: a retry with the same key and body gets the
first successful answer again (header `Idempotent-Replayed: true`) and changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask import Response, current_app, g, request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import (
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
)

from remedy.api.auth import current_principal, roles
from remedy.api.fields import Amount, MinorAmount, currency_field
from remedy.decisions.record import DecisionRecord, DecisionStatus
from remedy.extensions import session
from remedy.metrics import ACCEPTS, SPEND
from remedy.services import app_services
from remedy.services.idempotency import HEADER, KEY_PATTERN, IdempotencyService, fingerprint
from remedy.services.lifecycle import LifecycleService, StepResult
from remedy.store.scoping import decision_team

blp = Blueprint(
    "lifecycle", __name__, url_prefix="/v1", description="Accept, approve, fulfil, cancel"
)


class IdempotencyHeaderSchema(Schema):
    """The optional Idempotency-Key header."""

    key = fields.String(
        data_key=HEADER,
        load_default=None,
        validate=validate.Regexp(KEY_PATTERN, error="1 to 255 printable ASCII characters"),
        metadata={"description": "retries with the same key and body get the first answer"},
    )


class AcceptSchema(Schema):
    """Which plan of the decision the agent gives."""

    plan_id = fields.String(required=True, validate=validate.Length(min=1, max=255))


class FulfilSchema(Schema):
    """What the plan actually cost."""

    actual_cost = Amount(required=True)
    currency = currency_field(load_default=None)  # if given, must be the decision's


class NoteSchema(Schema):
    """An optional note for cancel; it is kept in the audit log."""

    note = fields.String(load_default="", validate=validate.Length(max=500))


class ApproveSchema(Schema):
    """Why the approver decided so: kept on the approval request (the agent reads it) and in
    the audit log. `note` is the older name of `reason` and is still read."""

    reason = fields.String(load_default="", validate=validate.Length(max=500))
    note = fields.String(load_default="", validate=validate.Length(max=500))

    @post_load
    def merge(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        """Read `note` as the reason when no reason is given."""
        return {"reason": (data["reason"] or data["note"]).strip()}


# A character that is not white space, spelt out so that the OpenAPI pattern (ECMA regex) and
# the server (Python's re) agree on every character (their `\s` differ, e.g. on U+001D, U+FEFF).
NOT_BLANK = (
    r"[^\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
    r"\u001c-\u001f\u0085]"
)


def _not_blank(value: str) -> None:
    """Refuse a reason of white space alone."""
    if re.search(NOT_BLANK, value) is None:
        raise ValidationError("say why the plan is rejected")


class RejectSchema(ApproveSchema):
    """A rejection must say why: the agent tells the customer what happens instead. The
    schema says so (`reason` required, not blank), so clients generated from it send one."""

    reason = fields.String(
        required=True,
        validate=[validate.Length(min=1, max=500), _not_blank],
        error_messages={"required": "say why the plan is rejected"},
        metadata={"pattern": NOT_BLANK},
    )


class ReservationSchema(Schema):
    """The budget a decision holds (dumps a `Reservation` row)."""

    id = fields.String()
    state = fields.String()
    pool = fields.Function(lambda r: f"{r.pool_team}/{r.period_key}", dump_only=True)
    reserved = MinorAmount(attribute="reserved_minor")
    committed = MinorAmount(attribute="committed_minor")
    requested = MinorAmount(attribute="requested_minor", allow_none=True)
    expires_at = fields.DateTime()


class LifecycleSchema(Schema):
    """A decision after a lifecycle step. Strings only, so a replayed answer dumps unchanged."""

    decision_id = fields.String()
    status = fields.String()
    plan_id = fields.String(allow_none=True)
    currency = fields.String()
    total_cost = fields.String(allow_none=True)
    reservation = fields.Nested(ReservationSchema, allow_none=True)


@blp.before_request
def _team_scope() -> None:
    """A team-scoped key acts only on its team's decisions (others look absent)."""
    decision_id = (request.view_args or {}).get("decision_id")
    principal = g.get("principal")
    if decision_id is None or principal is None or principal.team is None:
        return
    team = decision_team(session(), decision_id)
    if team is not None:
        principal.hide_unless_sees(team, f"decision {decision_id!r}")


def _body(result: StepResult) -> dict[str, Any]:
    """Render a step's result."""
    decision = result.decision
    plan_id = decision.accepted_plan_id
    plan = DecisionRecord.of(decision).candidate(plan_id) if plan_id else None
    return {
        "decision_id": decision.id,
        "status": decision.status,
        "plan_id": plan_id,
        "currency": decision.currency,
        "total_cost": str(plan.total_cost) if plan else None,
        "reservation": result.reservation,
    }


def _perform(
    headers: dict[str, Any], step: Callable[[LifecycleService, str], StepResult], note: str = ""
) -> tuple[Response, int, dict[str, str]]:
    """Run a step in a write transaction, once per Idempotency-Key; answer it."""
    db = session()
    caps = app_services.engines().engine(db).caps
    ttl = timedelta(seconds=current_app.config["RESERVATION_TTL_SECONDS"])
    four_eyes = app_services.four_eyes()
    service = LifecycleService(db, caps, ttl, note=note, four_eyes=four_eyes)
    service.begin()
    actor = current_principal().prefix
    body = request.get_json(silent=True)  # however it came: also chunked, without a length

    def run() -> tuple[dict[str, Any], int]:
        """Take the step and dump its answer (stored as dumped, so a replay is identical)."""
        result = step(service, actor)
        _count_spend(result)
        pending = result.decision.status == DecisionStatus.OVERAGE_PENDING_APPROVAL
        return LifecycleSchema().dump(_body(result)), 202 if pending else 200

    answer = IdempotencyService(db).once(
        actor, headers["key"], fingerprint(request.method, request.path, body), run
    )
    # The body is dumped already (and stored so for replays): send it as it is.
    replayed = {"Idempotent-Replayed": "true"} if answer.replayed else {}
    return current_app.json.response(answer.body), answer.status, replayed


def _count_spend(result: StepResult) -> None:
    """Add a commit to the spend metric, in minor units by pool."""
    reservation = result.reservation
    if result.decision.status == DecisionStatus.FULFILLED and reservation is not None:
        pool = f"{reservation.pool_team}/{reservation.period_key}"
        SPEND.labels(pool, reservation.currency).inc(reservation.committed_minor)


@blp.route("/decisions/<decision_id>/accept")
class Accept(MethodView):
    """Accept a plan."""

    @roles("agent")
    @blp.arguments(IdempotencyHeaderSchema, location="headers")
    @blp.arguments(AcceptSchema)
    @blp.response(200, LifecycleSchema)
    @blp.alt_response(409, description="a limit would break: `errors.limit` names it")
    def post(self, headers: dict[str, Any], data: dict[str, Any], decision_id: str) -> Any:
        """Reserve the plan's cost (pool, customer window, contact capacity), or 409 naming the
        limit; a plan needing approval goes to `pending_approval` and reserves nothing yet."""
        answer = _perform(
            headers, lambda service, actor: service.accept(decision_id, data["plan_id"], actor)
        )
        if not answer[2]:  # not a replay
            ACCEPTS.inc()
        return answer


@blp.route("/decisions/<decision_id>/approve")
class Approve(MethodView):
    """Approve a plan or an overage."""

    @roles("lead", "finance")
    @blp.arguments(IdempotencyHeaderSchema, location="headers")
    @blp.arguments(ApproveSchema)
    @blp.response(200, LifecycleSchema)
    def post(self, headers: dict[str, Any], data: dict[str, Any], decision_id: str) -> Any:
        """Approve: reserve a plan pending approval, or commit an approved higher actual cost.
        A lead approves its team's plans of the lead tier only (403 above it, or once the plan
        was escalated to finance); finance and admin approve every tier."""
        principal = current_principal()
        return _perform(
            headers,
            lambda service, actor: service.approve(decision_id, actor, principal),
            data["reason"],
        )


@blp.route("/decisions/<decision_id>/reject")
class Reject(MethodView):
    """Reject a plan or an overage."""

    @roles("lead", "finance")
    @blp.arguments(IdempotencyHeaderSchema, location="headers")
    @blp.arguments(RejectSchema)
    @blp.response(200, LifecycleSchema)
    def post(self, headers: dict[str, Any], data: dict[str, Any], decision_id: str) -> Any:
        """Reject a plan pending approval, or an overage (the reservation stands), saying why
        (`reason` is required). The same tiers as approve."""
        principal = current_principal()
        return _perform(
            headers,
            lambda service, actor: service.reject(decision_id, actor, principal),
            data["reason"],
        )


@blp.route("/decisions/<decision_id>/fulfil")
class Fulfil(MethodView):
    """Record what the plan cost."""

    @roles("agent")
    @blp.arguments(IdempotencyHeaderSchema, location="headers")
    @blp.arguments(FulfilSchema)
    @blp.response(200, LifecycleSchema)
    @blp.alt_response(202, schema=LifecycleSchema, description="above the reservation: approval")
    def post(self, headers: dict[str, Any], data: dict[str, Any], decision_id: str) -> Any:
        """Commit the actual cost and release the rest; above the reservation it waits (202)
        in `overage_pending_approval` for finance to approve or reject."""
        return _perform(
            headers,
            lambda service, actor: service.fulfil(
                decision_id, data["actual_cost"], data["currency"], actor
            ),
        )


@blp.route("/decisions/<decision_id>/cancel")
class Cancel(MethodView):
    """Cancel an accepted plan."""

    @roles("agent", "finance")
    @blp.arguments(IdempotencyHeaderSchema, location="headers")
    @blp.arguments(NoteSchema)
    @blp.response(200, LifecycleSchema)
    def post(self, headers: dict[str, Any], data: dict[str, Any], decision_id: str) -> Any:
        """Cancel and release everything the decision holds."""
        return _perform(
            headers, lambda service, actor: service.cancel(decision_id, actor), data["note"]
        )
