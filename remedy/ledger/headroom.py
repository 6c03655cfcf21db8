"""What is left for one decision, read in one statement: pool, customer window, contacts, pace.

The pool comes with both its lines (fix and overdelivery, remedy/ledger/limits.py); the pace
is the overdelivery line's.

A recommendation reads the team's pool (or the default team's) with its current period's
counter, what the customer received in the rolling window, and today's contact counters. Asked
one by one that is five round trips per decision; here they are one `UNION ALL` whose rows say
which limit they describe. Read without locks: advisory, for ranking (accepting a plan checks
again under the ledger's locks, remedy/ledger/book.py).

A recommendation also needs the customer's earlier incidents (decisions with a plan given in
the repeat window): asked for with `PriorIncidents`, that count is one more row of the same
union, so deciding reads everything it needs in one round trip.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from remedy.ledger.limits import CapacityState, Headroom, PoolState, WindowState, pool_pace
from remedy.ledger.periods import day_key, period_at
from remedy.ledger.settings import DEFAULT_TEAM, LimitSettings
from remedy.store.tables import BudgetPool, CapacityCounter, Decision, PoolCounter, Reservation

_TEXT = sa.String()
_NUMBER = sa.BigInteger()


def _row(
    kind: str,
    name: object,
    period: object,
    a: object,
    b: object,
    c: object,
    lines: tuple[object, object, object] = (sa.null(), sa.null(), sa.null()),
) -> list:
    """One row shape for every part of the union: kind, name, period, three integers, and
    three more for a pool's fix line (its limit or NULL, its reserved and committed)."""
    return [
        sa.literal(kind, _TEXT).label("kind"),
        sa.cast(name, _TEXT).label("name"),
        sa.cast(period, _TEXT).label("period"),
        sa.cast(a, _NUMBER).label("a"),
        sa.cast(b, _NUMBER).label("b"),
        sa.cast(c, _NUMBER).label("c"),
        *(sa.cast(x, _NUMBER).label(n) for n, x in zip(("d", "e", "f"), lines, strict=True)),
    ]


def _pools() -> sa.Select:
    """The pool versions in effect for the team and the default team, with their period's
    counter (a week or a month: the key is chosen per row)."""
    newer = sa.orm.aliased(BudgetPool)
    in_effect = (
        sa.select(sa.func.max(newer.version))
        .where(
            newer.team == BudgetPool.team,
            newer.currency == BudgetPool.currency,
            newer.effective_at <= sa.bindparam("at"),
        )
        .scalar_subquery()
    )
    period_key = sa.case(
        (BudgetPool.period == "week", sa.bindparam("week_key", type_=_TEXT)),
        else_=sa.bindparam("month_key", type_=_TEXT),
    )
    return (
        sa.select(
            *_row(
                "pool",
                BudgetPool.team,
                BudgetPool.period,
                BudgetPool.limit_minor,
                sa.func.coalesce(PoolCounter.reserved_minor, 0),
                sa.func.coalesce(PoolCounter.committed_minor, 0),
                (
                    BudgetPool.fix_limit_minor,
                    sa.func.coalesce(PoolCounter.fix_reserved_minor, 0),
                    sa.func.coalesce(PoolCounter.fix_committed_minor, 0),
                ),
            )
        )
        .select_from(BudgetPool)
        .outerjoin(
            PoolCounter,
            sa.and_(
                PoolCounter.team == BudgetPool.team,
                PoolCounter.currency == BudgetPool.currency,
                PoolCounter.period_key == period_key,
            ),
        )
        .where(
            BudgetPool.team.in_([sa.bindparam("team"), sa.bindparam("default_team")]),
            BudgetPool.currency == sa.bindparam("currency"),
            BudgetPool.version == in_effect,
        )
    )


def _window() -> sa.Select:
    """What the customer holds from reservations made in the rolling window."""
    held = sa.func.coalesce(
        sa.func.sum(Reservation.reserved_minor + Reservation.committed_minor), 0
    )
    return sa.select(*_row("window", sa.null(), sa.null(), held, sa.null(), sa.null())).where(
        Reservation.customer_id == sa.bindparam("customer_id"),
        Reservation.currency == sa.bindparam("currency"),
        Reservation.created_at > sa.bindparam("since"),
    )


def _contacts() -> sa.Select:
    """Today's personal contacts taken by the team, per level."""
    return sa.select(
        *_row(
            "contacts", CapacityCounter.level, sa.null(), CapacityCounter.used, sa.null(), sa.null()
        )
    ).where(
        CapacityCounter.team == sa.bindparam("team"), CapacityCounter.day == sa.bindparam("day")
    )


def _prior() -> sa.Select:
    """How many of the customer's decisions since `prior_since` had one of `given` statuses."""
    count = sa.func.count()
    return (
        sa.select(*_row("prior", sa.null(), sa.null(), count, sa.null(), sa.null()))
        .select_from(Decision)
        .where(
            Decision.customer_id == sa.bindparam("customer_id"),
            Decision.status.in_(sa.bindparam("given", expanding=True)),
            Decision.created_at > sa.bindparam("prior_since"),
        )
    )


@dataclass(frozen=True)
class PriorIncidents:
    """Ask the headroom read to count the customer's decisions made since `since` whose
    status is one of `given` (a plan was given)."""

    since: datetime
    given: tuple[str, ...]


@functools.cache
def _statement(with_window: bool, with_prior: bool = False) -> sa.CompoundSelect:
    """The union, built once per shape (building it costs more than running it)."""
    parts = [
        _pools(),
        _contacts(),
        *([_window()] if with_window else []),
        *([_prior()] if with_prior else []),
    ]
    return sa.union_all(*parts)


def read_headroom(
    session: Session,
    team: str,
    customer_id: str,
    currency: str,
    limits: LimitSettings,
    at: datetime,
    prior: PriorIncidents | None = None,
) -> Headroom:
    """Return what is left for a decision of `team` for `customer_id` at `at`, in one query
    (with `prior`, also the customer's earlier incidents)."""
    window_limit = limits.window_limit_minor(currency)
    day = day_key(at)
    parameters = {
        "team": team,
        "default_team": DEFAULT_TEAM,
        "currency": currency,
        "at": at,
        "week_key": period_at("week", at).key,
        "month_key": period_at("month", at).key,
        "day": day,
        "customer_id": customer_id,
        "since": at - timedelta(days=limits.window_days),
    }
    if prior is not None:
        parameters.update(prior_since=prior.since, given=list(prior.given))
    pools: dict[str, tuple] = {}
    used: dict[str, int] = {}
    window_used = 0
    prior_incidents = None
    rows = session.execute(_statement(window_limit is not None, prior is not None), parameters)
    for kind, name, period, a, b, c, d, e, f in rows:
        if kind == "pool":
            pools[name] = (period, int(a), int(b), int(c), d, int(e), int(f))
        elif kind == "contacts":
            used[name] = int(a)
        elif kind == "prior":
            prior_incidents = int(a)
        else:
            window_used = int(a)
    # The team's own pool, else the default team's (as BudgetService.resolve_pool).
    chosen = team if team in pools else DEFAULT_TEAM
    state = current = None
    if chosen in pools:
        period_name, limit_minor, reserved, committed, fix_limit, *fix_held = pools[chosen]
        period = period_at(period_name, at)
        fix_limit = None if fix_limit is None else int(fix_limit)
        state = PoolState(
            chosen, currency, period.key, limit_minor, reserved, committed, fix_limit, *fix_held
        )
        current = pool_pace(state, period.elapsed_share(at), limits.pacing)
    window = WindowState(customer_id, currency, limits.window_days, window_limit, window_used)
    capacities = {
        level: CapacityState(level, day, capacity, used.get(level, 0), team)
        for level, capacity in limits.capacities_for(team).items()
    }
    return Headroom(state, window, capacities, current, prior_incidents)
