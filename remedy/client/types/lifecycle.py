"""A decision's life after it is made: the budget it holds, each step's answer, the outcome."""

from __future__ import annotations

from typing import TypedDict


class Reservation(TypedDict):
    """The budget a decision holds."""

    id: str
    state: str
    pool: str
    reserved: str
    committed: str
    requested: str | None
    expires_at: str


class LifecycleResult(TypedDict):
    """A decision after accept, approve, reject, fulfil or cancel."""

    decision_id: str
    status: str
    plan_id: str | None
    currency: str
    total_cost: str | None
    reservation: Reservation | None


class Outcome(TypedDict):
    """What happened after an accepted plan."""

    decision_id: str
    plan_id: str
    retained: bool
    observed_at: str
    responded_at: str | None  # when the agent first answered the customer
    fixed_at: str | None  # when the fix reached the customer
    referrals: int | None
    revenue_after: str | None
    currency: str
    csat: int | None
    recorded_by: str
