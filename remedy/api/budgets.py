"""GET /v1/budgets and PUT /v1/budgets/<team>: finance's pools, what they hold, their pace."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from remedy.api.auth import current_principal, roles
from remedy.api.fields import Amount, UtcDateTime, check_amounts, currency_field
from remedy.api.schemas import SLUG, SLUG_PATTERN
from remedy.errors import InvalidInput
from remedy.extensions import session
from remedy.ledger.budgets import BudgetService
from remedy.ledger.pacing import PacingSettings
from remedy.ledger.periods import PERIODS
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
    on_pace_spend = fields.String(metadata={"description": "limit x elapsed share"})
    cost_price = fields.String(metadata={"description": "pacing's shadow price on cost"})


class ScheduledSchema(Schema):
    """A pool version that takes effect later."""

    version = fields.Integer()
    period = fields.String()
    limit = fields.String()
    currency = fields.String()
    effective_at = fields.String()


class PoolSchema(Schema):
    """A pool in effect: limit, reserved, committed, remaining, pace."""

    team = fields.String()
    currency = fields.String()
    period = fields.String()
    period_key = fields.String()
    period_start = fields.DateTime()
    period_end = fields.DateTime()
    limit = fields.String()
    reserved = fields.String()
    committed = fields.String()
    remaining = fields.String()
    pace = fields.Nested(PaceSchema)
    version = fields.Integer()
    effective_at = fields.DateTime()
    created_by = fields.String()
    scheduled = fields.Nested(ScheduledSchema, allow_none=True)


class PoolVersionSchema(Schema):
    """One version of a team's pool in one currency."""

    team = fields.String()
    currency = fields.String()
    version = fields.Integer()
    period = fields.String()
    limit = fields.String()
    effective_at = fields.String()
    created_at = fields.String()
    created_by = fields.String(metadata={"description": "prefix of the key that set it"})
    state = fields.String(metadata={"description": "active, scheduled or superseded"})


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
    return current_app.extensions["remedy.engines"].engine(session()).caps.limits.pacing


@blp.route("/budgets")
class Budgets(MethodView):
    """Every pool."""

    @roles("agent", "finance", "admin")
    @blp.response(200, PoolListSchema)
    def get(self) -> dict[str, Any]:
        """List every pool in effect with its limit, reserved, committed, remaining and pace."""
        pools = BudgetService(session()).overview(utcnow(), _pacing())
        principal = current_principal()
        return {"pools": [pool for pool in pools if principal.sees(pool["team"])]}


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
    def put(self, data: dict[str, Any], team: str) -> dict[str, Any]:
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
        now = max(utcnow(), pool.effective_at)
        view = budgets.overview(now, _pacing())
        return next(p for p in view if (p["team"], p["currency"]) == (team, pool.currency))


@blp.route("/budgets/<team>/history", parameters=[TEAM_PATH])
class TeamBudgetHistory(MethodView):
    """Every version of one team's pools."""

    @roles("finance", "admin")
    @blp.arguments(PoolHistoryQuerySchema, location="query")
    @blp.response(200, PoolHistorySchema)
    def get(self, query: dict[str, Any], team: str) -> dict[str, Any]:
        """List the versions of `team`'s pools (optionally one `currency`), newest first.

        A team-scoped key sees its own team's history only (403 otherwise); a team without
        any pool version is 404.
        """
        current_principal().require_team(team)
        history = BudgetService(session()).history(team, query["currency"], utcnow())
        return {"versions": history}
