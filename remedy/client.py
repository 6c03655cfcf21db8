"""A small typed client for the remedy API, standard library only.

    client = RemedyClient("http://127.0.0.1:8000", key)
    decision = client.recommend({"customer_id": "c-42", "severity": 4, ...}, team="emea")
    client.accept(decision["decision_id"], decision["plans"][0]["plan_id"])

Results are the API's JSON as TypedDicts: money stays a decimal string with its currency (wrap
it in `Decimal`, never `float`). Every non-2xx answer raises `RemedyError` carrying the error
envelope `{code, status, message, errors}`; a body that is not the envelope (a gateway's HTML
page) is summarised, not parsed.

429 and 503 are retried after the `Retry-After` the service sends (at most `max_attempts`
tries, and never a wait longer than `max_wait` seconds: a longer one raises at once). Both are
answered before anything is written, so retrying is safe for every call. A connection that
breaks mid-request is retried only where a repeat cannot act twice: reads, and the lifecycle
steps, which always send an `Idempotency-Key` (generated when not given, the same on every
retry of that call, so the service replays its first answer instead of acting again).
"""

from __future__ import annotations

import email.utils
import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from email.message import Message
from typing import Any, NotRequired, TypedDict, cast

RETRYABLE = frozenset({429, 503})

# Every operation the client calls: method and path template, as /openapi.json names them.
OPERATIONS: dict[str, tuple[str, str]] = {
    "whoami": ("GET", "/v1/whoami"),
    "recommend": ("POST", "/v1/recommendations"),
    "get_decision": ("GET", "/v1/decisions/{decision_id}"),
    "accept": ("POST", "/v1/decisions/{decision_id}/accept"),
    "approve": ("POST", "/v1/decisions/{decision_id}/approve"),
    "reject": ("POST", "/v1/decisions/{decision_id}/reject"),
    "fulfil": ("POST", "/v1/decisions/{decision_id}/fulfil"),
    "cancel": ("POST", "/v1/decisions/{decision_id}/cancel"),
    "record_outcome": ("POST", "/v1/outcomes"),
    "pools": ("GET", "/v1/budgets"),
    "set_pool": ("PUT", "/v1/budgets/{team}"),
}


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


class Pool(TypedDict):
    """A budget pool in effect (the fields the client reads; the API sends more)."""

    team: str
    currency: str
    period: str
    limit: str
    reserved: str
    committed: str
    remaining: str


class RemedyError(Exception):
    """A non-2xx answer: `status` and the error `envelope` {code, status, message, errors}."""

    def __init__(self, status: int, envelope: dict[str, Any], headers: Message | None = None):
        """Keep the HTTP status, the envelope and the response headers (case-insensitive)."""
        self.status = status
        self.envelope = envelope
        self.headers = headers if headers is not None else Message()
        super().__init__(f"{status}: {self.message}")

    @property
    def message(self) -> str:
        """The envelope's message."""
        return str(self.envelope.get("message", ""))

    @property
    def errors(self) -> dict[str, list[str]]:
        """Messages by dotted field path ("incident.severity"), or by limit ("limit")."""
        return cast(dict[str, list[str]], self.envelope.get("errors") or {})


def _summary(status: int, reason: str, content_type: str) -> dict[str, Any]:
    """An envelope for an answer that is not one (a proxy's HTML page): say what came back."""
    kind = content_type.split(";")[0].strip() or "no content type"
    message = f"the server answered {status} {reason} with a {kind} body, not the API's JSON"
    return {"code": status, "status": reason, "message": message, "errors": {}}


def retry_delay(header: str | None, attempt: int, now: datetime | None = None) -> float:
    """Seconds to wait: `Retry-After` as seconds or an HTTP date, else 0.5 s doubling."""
    if header:
        header = header.strip()
        if header.isdigit():
            return float(header)
        try:
            when = email.utils.parsedate_to_datetime(header)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            moment = now or datetime.now(UTC)
            return max(0.0, (when - moment).total_seconds())
    return 0.5 * 2**attempt


class RemedyClient:
    """Call one remedy service with one API key."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 30.0,
        max_attempts: int = 4,
        max_wait: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Talk to `base_url` (e.g. http://127.0.0.1:8000) as `api_key`.

        `max_attempts` bounds the tries of one call (1: no retries); `sleep` waits between
        them (tests pass a recorder).
        """
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.max_wait = max_wait
        self.sleep = sleep

    # -- the API -------------------------------------------------------------------------

    def whoami(self) -> WhoAmI:
        """The calling key's prefix, role and team."""
        return cast(WhoAmI, self._call("whoami"))

    def recommend(
        self,
        incident: Incident | Mapping[str, Any],
        team: str | None = None,
        limit: int | None = None,
    ) -> Decision:
        """Rank plans for an incident and store the decision."""
        body: dict[str, Any] = {"incident": dict(incident)}
        if team is not None:
            body["team"] = team
        if limit is not None:
            body["limit"] = limit
        return cast(Decision, self._call("recommend", body=body))

    def get_decision(self, decision_id: str) -> Decision:
        """What was decided, and the decision's status now."""
        return cast(Decision, self._call("get_decision", {"decision_id": decision_id}))

    def accept(
        self, decision_id: str, plan_id: str, idempotency_key: str | None = None
    ) -> LifecycleResult:
        """Reserve the plan, or send it for approval; 409 (`errors.limit`) names a limit."""
        return self._step(decision_id, "accept", {"plan_id": plan_id}, idempotency_key)

    def approve(
        self, decision_id: str, note: str = "", idempotency_key: str | None = None
    ) -> LifecycleResult:
        """Approve a plan pending approval, or an overage (finance and admin keys; a lead key
        for its team's plans of the lead tier); `note` is the reason the agent reads."""
        return self._step(decision_id, "approve", {"reason": note}, idempotency_key)

    def reject(
        self, decision_id: str, reason: str, idempotency_key: str | None = None
    ) -> LifecycleResult:
        """Reject a plan pending approval, or an overage, saying why (required: 422 without)."""
        return self._step(decision_id, "reject", {"reason": reason}, idempotency_key)

    def fulfil(
        self,
        decision_id: str,
        actual_cost: Decimal | str,
        currency: str | None = None,
        idempotency_key: str | None = None,
    ) -> LifecycleResult:
        """Commit what the plan actually cost; above the reservation it waits for approval."""
        body: dict[str, Any] = {"actual_cost": _amount(actual_cost)}
        if currency is not None:
            body["currency"] = currency
        return self._step(decision_id, "fulfil", body, idempotency_key)

    def cancel(
        self, decision_id: str, note: str = "", idempotency_key: str | None = None
    ) -> LifecycleResult:
        """Release whatever the decision holds."""
        return self._step(decision_id, "cancel", {"note": note}, idempotency_key)

    def record_outcome(
        self,
        decision_id: str,
        retained: bool,
        observed_at: datetime | None = None,
        *,
        referrals: int | None = None,
        revenue_after: Decimal | str | None = None,
        csat: int | None = None,
    ) -> Outcome:
        """Record what happened after the accepted plan (a second report updates it)."""
        moment = observed_at or datetime.now(UTC)
        body: dict[str, Any] = {
            "decision_id": decision_id,
            "retained": retained,
            "observed_at": moment.isoformat(),
        }
        if referrals is not None:
            body["referrals"] = referrals
        if revenue_after is not None:
            body["revenue_after"] = _amount(revenue_after)
        if csat is not None:
            body["csat"] = csat
        return cast(Outcome, self._call("record_outcome", body=body))

    def pools(self) -> list[Pool]:
        """Every budget pool in effect."""
        return cast(list[Pool], self._call("pools")["pools"])

    def set_pool(self, team: str, period: str, limit: Decimal | str, currency: str) -> Pool:
        """A new version of a team's pool in one currency (finance and admin keys)."""
        body = {"period": period, "limit": _amount(limit), "currency": currency}
        return cast(Pool, self._call("set_pool", {"team": team}, body))

    # -- plumbing ------------------------------------------------------------------------

    def _step(
        self, decision_id: str, step: str, body: dict[str, Any], idempotency_key: str | None
    ) -> LifecycleResult:
        """POST a lifecycle step with an Idempotency-Key, the same one on every retry."""
        key = idempotency_key or str(uuid.uuid4())
        answer = self._call(step, {"decision_id": decision_id}, body, idempotency_key=key)
        return cast(LifecycleResult, answer)

    def _call(
        self,
        operation: str,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Send one operation, retrying 429 and 503 after their Retry-After; return the JSON."""
        method, template = OPERATIONS[operation]
        path = template.format_map({k: _segment(v) for k, v in (params or {}).items()})
        headers = {"Authorization": f"Bearer {self.api_key}", "Accept": "application/json"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode("utf-8")
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        # A broken connection may have lost the answer after the service acted: repeat only
        # what cannot act twice.
        repeatable = method == "GET" or idempotency_key is not None
        for attempt in range(self.max_attempts):
            last = attempt == self.max_attempts - 1
            request = urllib.request.Request(  # noqa: S310 - base_url is the caller's service
                self.base_url + path, data=data, headers=headers, method=method
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                    raw = response.read()
                    return json.loads(raw) if raw else None
            except urllib.error.HTTPError as answer:
                error = _error(answer)
                if error.status not in RETRYABLE or last:
                    raise error from None
                wait = retry_delay(error.headers.get("Retry-After"), attempt)
                if wait > self.max_wait:
                    raise error from None
                self.sleep(wait)
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if not repeatable or last:
                    raise
                self.sleep(retry_delay(None, attempt))
        raise RuntimeError("unreachable: the last attempt returns or raises")  # pragma: no cover


def _error(answer: urllib.error.HTTPError) -> RemedyError:
    """Turn an HTTP error answer into a RemedyError with the envelope (or a summary)."""
    raw = answer.read()
    answer.close()
    content_type = answer.headers.get("Content-Type", "")
    envelope: dict[str, Any] | None = None
    if content_type.startswith("application/json"):
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict) and "message" in parsed:
            envelope = parsed
    if envelope is None:
        envelope = _summary(answer.code, answer.reason or "", content_type)
    return RemedyError(answer.code, envelope, answer.headers)


def _amount(value: Decimal | str) -> str:
    """Money as the API takes it: a decimal string (floats are refused: they are inexact)."""
    if isinstance(value, float):
        raise TypeError("money must be a Decimal or a decimal string, not a float")
    return str(value)


def _segment(value: str) -> str:
    """Quote a path segment (ids and team slugs are plain, but never trust a caller's)."""
    return urllib.parse.quote(value, safe="")
