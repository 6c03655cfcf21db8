"""Budget pools: what a pool holds, its lines, its pace and a version scheduled for later."""

from __future__ import annotations

from typing import TypedDict


class Pace(TypedDict):
    """How a pool's spend runs against its period (shares as decimal strings)."""

    elapsed_share: str
    spent_share: str
    on_pace_spend: str
    cost_price: str  # pacing's shadow price on cost (finance's number)


class ScheduledPool(TypedDict):
    """A pool version that takes effect later."""

    version: int
    period: str
    limit: str
    fix_limit: str | None  # a split pool's fix line
    overdelivery_limit: str | None
    currency: str
    effective_at: str


class PoolLine(TypedDict):
    """One line of a pool: fix money or overdelivery money (`shared`: the pool's one line)."""

    limit: str
    reserved: str
    committed: str
    remaining: str
    shared: bool


class PoolLines(TypedDict):
    """A pool's two lines."""

    fix: PoolLine
    overdelivery: PoolLine


class Pool(TypedDict):
    """A budget pool in effect, what it holds and its pace."""

    team: str
    currency: str
    period: str
    period_key: str
    period_start: str
    period_end: str
    limit: str
    reserved: str
    committed: str
    remaining: str
    pace: Pace
    version: int
    effective_at: str
    created_by: str
    scheduled: ScheduledPool | None
    split: bool  # a fix line and an overdelivery line of their own
    lines: PoolLines
