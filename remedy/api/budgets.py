"""GET /v1/budgets and PUT /v1/budgets/<team>: finance's pools, what they hold, their pace."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from remedy.api.auth import current_principal, roles
from remedy.api.fields import (
    Amount,
    MinorAmount,
    UtcDateTime,
    UtcInstant,
    check_amounts,
    currency_field,
)
from remedy.api.schemas import SLUG, SLUG_PATTERN
from remedy.errors import InvalidInput
from remedy.extensions import session
from remedy.ledger.budgets import POOL_STATES, BudgetService, PoolStanding, PoolVersion
from remedy.ledger.pacing import PacingSettings
from remedy.ledger.periods import PERIODS
from remedy.services import app_services
from remedy.store.tables import utcnow

blp = Blueprint("budgets", __name__, url_prefix="/v1", description="Budget pools (finance)")


class PoolRequestSchema(Schema):
    """A new version of a team's pool in one currency."""

    period = fields.String(required=True, validate=validate.OneOf(PERIODS))
    limit = Amount(required=True)
    currency = currency_field(required=True)
    effective_at = UtcDateTime(
        load_default=None, metadata={"description": "when it takes effect (default: now)"}
    )

    @validates_schema
    def check_limit(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Refuse a limit finer than the currency's minor unit or above its ceiling."""
        check_amounts(data, "limit")


class PaceSchema(Schema):
    """Where the pool stands against its calendar."""

    elapsed_share = fields.String()
    spent_share = fields.String()
    on_pace_spend = MinorAmount(
        attribute="on_pace_spend_minor", metadata={"description": "limit x elapsed share"}
    )
    cost_price = fields.String(metadata={"description": "pacing's shadow price on cost"})


class ScheduledSchema(Schema):
    """A pool version that takes effect later."""

    version = fields.Integer()
    period = fields.String()
    limit = MinorAmount(attribute="limit_minor")
    currency = fields.String()
    effective_at = UtcInstant()


class PoolSchema(Schema):
    """A pool in effect: limit, reserved, committed, remaining, pace."""

    team = fields.String()
    currency = fields.String()
    period = fields.String(attribute="version.period")
    period_key = fields.String(attribute="period.key")
    period_start = UtcInstant(attribute="period.start")
    period_end = UtcInstant(attribute="period.end")
    limit = MinorAmount(attribute="state.limit_minor")
    reserved = MinorAmount(attribute="state.reserved_minor")
    committed = MinorAmount(attribute="state.committed_minor")
    remaining = MinorAmount(attribute="state.remaining_minor")
    pace = fields.Nested(PaceSchema, attribute="pacing")
    version = fields.Integer(attribute="version.version")
    effective_at = UtcInstant(attribute="version.effective_at")
    created_by = fields.String(attribute="version.created_by")
    scheduled = fields.Nested(ScheduledSchema, allow_none=True)


class PoolVersionSchema(Schema):
    """One version of a team's pool in one currency."""

    team = fields.String(attribute="pool.team")
    currency = fields.String()
    version = fields.Integer(attribute="pool.version")
    period = fields.String(attribute="pool.period")
    limit = MinorAmount(attribute="pool.limit_minor")
    effective_at = UtcInstant(attribute="pool.effective_at")
    created_at = UtcInstant(attribute="pool.created_at")
    created_by = fields.String(
        attribute="pool.created_by", metadata={"description": "prefix of the key that set it"}
    )
    state = fields.String(
        validate=validate.OneOf(POOL_STATES),
        metadata={"description": "active, scheduled or superseded"},
    )


class PoolHistorySchema(Schema):
    """Every version of a team's pools, per currency newest first."""

    versions = fields.List(fields.Nested(PoolVersionSchema))


class PoolHistoryQuerySchema(Schema):
    """Which pools' history."""

    currency = currency_field(load_default=None)


class PoolListSchema(Schema):
    """Every pool in effect."""

    pools = fields.List(fields.Nested(PoolSchema))


def _pacing() -> PacingSettings:
    """Return the active caps' pacing settings."""
    return app_services.engines().engine(session()).caps.limits.pacing


@blp.route("/budgets")
class Budgets(MethodView):
    """Every pool."""

    @roles("agent", "finance", "admin")
    @blp.response(200, PoolListSchema)
    def get(self) -> dict[str, list[PoolStanding]]:
        """List every pool in effect with its limit, reserved, committed, remaining and pace."""
        pools = BudgetService(session()).overview(utcnow(), _pacing())
        principal = current_principal()
        return {"pools": [pool for pool in pools if principal.sees(pool.team)]}


# The team in a path is a slug (the same rule as every team field); documented so generated
# clients and Schemathesis send what the view accepts.
TEAM_PATH = {
    "in": "path",
    "name": "team",
    "required": True,
    "schema": {"type": "string", "pattern": SLUG_PATTERN},
}


@blp.route("/budgets/<team>", parameters=[TEAM_PATH])
class TeamBudget(MethodView):
    """One team's pool."""

    @roles("finance")
    @blp.arguments(PoolRequestSchema)
    @blp.response(200, PoolSchema)
    def put(self, data: dict[str, Any], team: str) -> PoolStanding:
        """Set a team's pool in a currency (a new, audited version); `default` is the fallback."""
        try:
            SLUG(team)
        except ValidationError as error:
            raise InvalidInput("Invalid fields: team", {"team": error.messages}) from None
        current_principal().require_team(team)  # `default` belongs to unscoped finance
        budgets = BudgetService(session())
        pool = budgets.set_pool(
            team,
            data["period"],
            data["limit"],
            data["currency"],
            current_principal().prefix,
            data["effective_at"],
        )
        return budgets.standing(team, pool.currency, max(utcnow(), pool.effective_at), _pacing())


@blp.route("/budgets/<team>/history", parameters=[TEAM_PATH])
class TeamBudgetHistory(MethodView):
    """Every version of one team's pools."""

    @roles("finance", "admin")
    @blp.arguments(PoolHistoryQuerySchema, location="query")
    @blp.response(200, PoolHistorySchema)
    def get(self, query: dict[str, Any], team: str) -> dict[str, list[PoolVersion]]:
        """List the versions of `team`'s pools (optionally one `currency`), newest first.

        A team-scoped key sees its own team's history only (403 otherwise); a team without
        any pool version is 404.
        """
        current_principal().require_team(team)
        history = BudgetService(session()).history(team, query["currency"], utcnow())
        return {"versions": history}
