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
from remedy.ledger.budgets import BudgetService
from remedy.ledger.pacing import PacingSettings
from remedy.ledger.periods import PERIODS
from remedy.ledger.pools import POOL_STATES, PoolStanding, PoolVersion
from remedy.money import from_minor
from remedy.services import app_services
from remedy.store.tables import BudgetPool, utcnow

blp = Blueprint("budgets", __name__, url_prefix="/v1", description="Budget pools (finance)")


class PoolLinesSchema(Schema):
    """A pool's period, currency and money: one `limit` for fix and overdelivery money
    together, or a fix line and an overdelivery line (`fix_limit`, `overdelivery_limit`; the
    pool's limit is their sum). What `PUT /v1/budgets/<team>` and a what-if's proposed pools
    share."""

    period = fields.String(required=True, validate=validate.OneOf(PERIODS))
    limit = Amount(
        load_default=None,
        metadata={"description": "one line for both; with the two lines, their sum or absent"},
    )
    fix_limit = Amount(
        load_default=None,
        metadata={"description": "the fix line: refunds, credits, redos (with overdelivery_limit)"},
    )
    overdelivery_limit = Amount(
        load_default=None,
        metadata={"description": "the overdelivery line: gifts, upgrades, contact"},
    )
    currency = currency_field(required=True)

    @validates_schema
    def check_limit(self, data: dict[str, Any], **kwargs: Any) -> None:
        """Refuse a limit finer than the currency's minor unit or above its ceiling."""
        check_amounts(data, "limit", "fix_limit", "overdelivery_limit")


class PoolRequestSchema(PoolLinesSchema):
    """A new version of a team's pool in one currency (its lines as `PoolLinesSchema` says),
    from now or from `effective_at`."""

    effective_at = UtcDateTime(
        load_default=None, metadata={"description": "when it takes effect (default: now)"}
    )


class PaceSchema(Schema):
    """Where the pool stands against its calendar."""

    elapsed_share = fields.String()
    spent_share = fields.String()
    on_pace_spend = MinorAmount(
        attribute="on_pace_spend_minor", metadata={"description": "limit x elapsed share"}
    )
    cost_price = fields.String(metadata={"description": "pacing's shadow price on cost"})


def _overdelivery_limit(pool: BudgetPool) -> int | None:
    """A split pool version's overdelivery line (None: one line for both)."""
    return None if pool.fix_limit_minor is None else pool.limit_minor - pool.fix_limit_minor


class ScheduledSchema(Schema):
    """A pool version that takes effect later."""

    version = fields.Integer()
    period = fields.String()
    limit = MinorAmount(attribute="limit_minor")
    fix_limit = MinorAmount(attribute="fix_limit_minor", allow_none=True)
    overdelivery_limit = fields.Function(
        lambda pool: _decimal(_overdelivery_limit(pool), pool.currency),
        metadata={"type": "string", "nullable": True},
    )
    currency = fields.String()
    effective_at = UtcInstant()


def _decimal(minor: int | None, currency: str) -> str | None:
    """Minor units as the currency's decimal string (None stays None)."""
    return None if minor is None else str(from_minor(minor, currency))


class LineSchema(Schema):
    """One line of a pool's period: its limit and what it holds."""

    limit = MinorAmount(
        attribute="limit_minor", metadata={"description": "the pool's limit when shared"}
    )
    reserved = MinorAmount(attribute="reserved_minor", metadata={"description": "this line's"})
    committed = MinorAmount(attribute="committed_minor", metadata={"description": "this line's"})
    remaining = MinorAmount(
        attribute="remaining_minor",
        metadata={"description": "what may still be reserved on it (the pool's when shared)"},
    )
    shared = fields.Boolean(metadata={"description": "one line for both: the pool's limit"})


class LinesSchema(Schema):
    """A pool's two lines: fix money and overdelivery money."""

    fix = fields.Nested(LineSchema, attribute="fix_line")
    overdelivery = fields.Nested(LineSchema, attribute="overdelivery_line")


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
    split = fields.Boolean(
        attribute="state.split",
        metadata={"description": "a fix line and an overdelivery line (false: one line for both)"},
    )
    lines = fields.Nested(
        LinesSchema,
        attribute="state",
        metadata={"description": "what fixes and what overdelivery spent, against each line"},
    )
    pace = fields.Nested(
        PaceSchema,
        attribute="pacing",
        metadata={"description": "the overdelivery line's (the pool's when one line)"},
    )
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
    fix_limit = fields.Function(
        lambda v: _decimal(v.pool.fix_limit_minor, v.currency),
        metadata={"type": "string", "nullable": True, "description": "null: one line"},
    )
    overdelivery_limit = fields.Function(
        lambda v: _decimal(_overdelivery_limit(v.pool), v.currency),
        metadata={"type": "string", "nullable": True, "description": "null: one line"},
    )
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

    @roles("agent", "finance", "admin")
    @blp.response(200, PoolListSchema)
    def get(self, team: str) -> dict[str, list[PoolStanding]]:
        """List the team's own pools in effect (every currency) with both lines and pace.

        A team-scoped key reads its own team only (403 otherwise); a team spending from the
        `default` pool has none of its own: an empty list.
        """
        _check_slug(team)
        current_principal().require_team(team)
        pools = BudgetService(session()).overview(utcnow(), _pacing())
        return {"pools": [pool for pool in pools if pool.team == team]}

    @roles("finance")
    @blp.arguments(PoolRequestSchema)
    @blp.response(200, PoolSchema)
    def put(self, data: dict[str, Any], team: str) -> PoolStanding:
        """Set a team's pool in a currency (a new, audited version); `default` is the fallback."""
        _check_slug(team)
        current_principal().require_team(team)  # `default` belongs to unscoped finance
        budgets = BudgetService(session())
        pool = budgets.set_pool(
            team,
            data["period"],
            data["limit"],
            data["currency"],
            current_principal().prefix,
            data["effective_at"],
            data["fix_limit"],
            data["overdelivery_limit"],
        )
        return budgets.standing(team, pool.currency, max(utcnow(), pool.effective_at), _pacing())


def _check_slug(team: str) -> None:
    """Refuse a team in the path that is not a slug (422 naming `team`)."""
    try:
        SLUG(team)
    except ValidationError as error:
        raise InvalidInput("Invalid fields: team", {"team": error.messages}) from None


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
