"""A decision as the API answers it: the incident sent, the ranked plans, the guardrails' say
and where an approval stands."""

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
    customer_status: NotRequired[str]  # active, leaving (implies churn_threat) or left
    public: NotRequired[bool]  # seen by others (a post, a review)
    reach: NotRequired[int | None]  # followers or audience of a public complaint
    external_id: NotRequired[str | None]
    touchpoint: NotRequired[str | None]
    # When the customer first complained (ISO 8601 with a zone; default: when asked): the
    # promises count from it.
    reported_at: NotRequired[str]


class Fact(TypedDict):
    """What a decision says, as data: a code and its typed parameters (money as
    {"money": [amount, currency]}, items as {"item": id}, levels, durations, nested facts)."""

    code: str
    params: NotRequired[dict[str, Any]]


class Blocked(TypedDict):
    """The limit that blocked every other plan, who can lift it and how."""

    limit: str  # pool, window, capacity, fix_ceiling, incident_cap or rules
    who: str  # finance, lead or admin
    how: str  # in the reader's language
    how_code: Fact


class Action(TypedDict):
    """One action of a plan."""

    item_id: str
    kind: str
    part: str  # apology, fix or overdelivery
    level: str | None
    label: str
    value: str
    cost: str
    requires_approval: bool
    audience: str


class TalkingPoints(TypedDict):
    """Prompts for the agent: the language, how soon to answer and fix (ISO 8601 durations),
    by when (UTC times counted from the incident's reported_at), and the points."""

    language: str
    respond_within: str
    fix_within: NotRequired[str | None]  # promised when we or a partner are at fault
    respond_by: NotRequired[str | None]  # null in decisions made before it was recorded
    fix_by: NotRequired[str | None]
    points: list[str]


class Plan(TypedDict):
    """A ranked plan."""

    plan_id: str
    rank: int
    actions: list[Action]
    fix: list[Action]  # what makes the customer whole
    overdelivery: list[Action]  # everything beyond the fix
    currency: str
    fix_cost: str  # outside the incident cap
    total_cost: str
    total_value: str
    expected_net_value: str
    p_stay: str
    expected_referrals: str
    requires_approval: bool
    approver: str | None  # lead or finance when it requires approval
    generous: bool  # the most generous plan within the guardrails, shown as an option
    reasons: list[str]  # in the reader's language
    reason_codes: list[Fact]  # the reasons as data
    rules: list[str]
    blocked_by: Blocked | None  # offered only because a limit blocked every other plan
    talking_points: TalkingPoints | None


class DroppedPlan(TypedDict):
    """A better-scoring plan the guardrails removed, and why."""

    plan_id: str
    total_cost: str
    expected_net_value: str
    reason: str | None  # in the reader's language
    reason_code: Fact | None
    dropped_by: str | None  # cap or budget


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
    escalation_due: bool  # overdue for the next tier, not yet recorded by the worker
    requested_at: str
    escalated_at: str | None
    waiting_seconds: int | None
    fix_by: NotRequired[str | None]  # when the fix is promised
    fix_seconds_left: NotRequired[int | None]  # while pending; negative: the fix is overdue
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
    language: str  # the reader's (Accept-Language; else the customer's): labels, reasons, notes
    plans: list[Plan]
    dropped: list[DroppedPlan]
    candidates_considered: int
    caps: Cap
    fired_rules: list[str]
    excluded_items: dict[str, str]
    excluded_codes: dict[str, Fact]
    notes: list[str]
    note_codes: list[Fact]
    versions: dict[str, str]
    propensity: str
    approval: NotRequired[Approval | None]  # GET /v1/decisions/<id> only
