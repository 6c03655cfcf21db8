"""The API's answers as TypedDicts: money stays a decimal string with its currency."""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict


class Incident(TypedDict):
    """What went wrong, for whom, and what it cost them (amounts as decimal strings)."""

    customer_id: str
    severity: int
    fault_type: str
    customer_value: str
    loss_amount: str
    currency: str
    category: NotRequired[str]
    channel: NotRequired[str]
    locale: NotRequired[str]
    churn_threat: NotRequired[bool]
    external_id: NotRequired[str | None]


class Action(TypedDict):
    """One action of a plan."""

    item_id: str
    kind: str
    level: str | None
    label: str
    value: str
    cost: str
    requires_approval: bool
    audience: str


class TalkingPoints(TypedDict):
    """Prompts for the agent: the language, how soon to answer (ISO 8601), the points."""

    language: str
    respond_within: str
    points: list[str]


class Plan(TypedDict):
    """A ranked plan."""

    plan_id: str
    rank: int
    actions: list[Action]
    currency: str
    total_cost: str
    total_value: str
    expected_net_value: str
    p_stay: str
    expected_referrals: str
    requires_approval: bool
    approver: str | None  # lead or finance when it requires approval
    reasons: list[str]
    rules: list[str]
    talking_points: TalkingPoints | None


class DroppedPlan(TypedDict):
    """A better-scoring plan the guardrails removed, and why."""

    plan_id: str
    total_cost: str
    expected_net_value: str
    reason: str


class Cap(TypedDict):
    """The per-incident cap and how it was set."""

    amount: str
    currency: str
    binding: str
    terms: dict[str, str]
    factor: str
    approval_threshold: str


class Approval(TypedDict):
    """Where a decision's latest approval request stands (GET /v1/decisions/<id>)."""

    state: str  # pending, approved, rejected, cancelled, expired
    kind: str  # plan or overage
    tier: str  # who decides it now: lead or finance
    requested_tier: str
    escalated: bool
    requested_at: str
    escalated_at: str | None
    waiting_seconds: int | None
    decided_at: str | None
    decided_by: str | None
    decided_role: str | None
    reason: str | None
    amount: str
    currency: str
    message: str  # in the decision's language


class Decision(TypedDict):
    """A recommendation as decided and stored (POST /v1/recommendations, GET /v1/decisions)."""

    decision_id: str
    created_at: str
    status: str
    incident: dict[str, Any]
    team: str
    currency: str
    language: str  # of labels, reasons, notes and talking points; en when the customer's has none
    plans: list[Plan]
    dropped: list[DroppedPlan]
    candidates_considered: int
    caps: Cap
    fired_rules: list[str]
    excluded_items: dict[str, str]
    notes: list[str]
    versions: dict[str, str]
    propensity: str
    approval: NotRequired[Approval | None]  # GET /v1/decisions/<id> only


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
    referrals: int | None
    revenue_after: str | None
    currency: str
    csat: int | None
    recorded_by: str


class WhoAmI(TypedDict):
    """The calling key: prefix, role and team scope."""

    prefix: str
    role: str
    team: str | None


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
    """A budget pool in effect (the fields the client reads; the API sends more)."""

    team: str
    currency: str
    period: str
    limit: str
    reserved: str
    committed: str
    remaining: str
    split: bool  # a fix line and an overdelivery line of their own
    lines: PoolLines


class JobProgress(TypedDict):
    """How far a job is: `done` of `total` steps (None until a worker starts it)."""

    done: int
    total: int | None


class JobError(TypedDict):
    """Why a job failed: a message and the fields it names, like the error envelope."""

    message: str
    errors: dict[str, list[str]]


class Job(TypedDict):
    """Long work run by `remedy worker` (a what-if): poll it until succeeded or failed."""

    id: str
    kind: str
    status: str  # queued, running, succeeded, failed
    progress: JobProgress
    attempts: int
    created_at: str
    started_at: str | None
    finished_at: str | None
    result: dict[str, Any] | None
    error: JobError | None
