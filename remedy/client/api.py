"""`RemedyClient`: one method per operation of the API, retries where they are safe."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

from remedy.client.errors import RETRYABLE, JobFailed, error_of, retry_delay
from remedy.client.types import (
    Decision,
    Incident,
    Job,
    LifecycleResult,
    MassIncident,
    NewWebhook,
    Outcome,
    Pool,
    WebhookDelivery,
    WhoAmI,
)

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
    "team_pools": ("GET", "/v1/budgets/{team}"),
    "set_pool": ("PUT", "/v1/budgets/{team}"),
    "simulate": ("POST", "/v1/budgets/simulate"),
    "get_job": ("GET", "/v1/jobs/{job_id}"),
    "declare_mass_incident": ("POST", "/v1/mass-incidents"),
    "get_mass_incident": ("GET", "/v1/mass-incidents/{mass_incident_id}"),
    "approve_mass_incident": ("POST", "/v1/mass-incidents/{mass_incident_id}/approve"),
    "create_webhook": ("POST", "/v1/webhooks"),
    "webhook_deliveries": ("GET", "/v1/webhooks/{webhook_id}/deliveries"),
}
FINISHED = ("succeeded", "failed")


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

    def team_pools(self, team: str) -> list[Pool]:
        """The team's own pools in effect, every currency, with both lines."""
        return cast(list[Pool], self._call("team_pools", {"team": team})["pools"])

    def set_pool(
        self,
        team: str,
        period: str,
        limit: Decimal | str | None,
        currency: str,
        *,
        fix_limit: Decimal | str | None = None,
        overdelivery_limit: Decimal | str | None = None,
    ) -> Pool:
        """A new version of a team's pool in one currency (finance and admin keys): one
        `limit`, or a fix line and an overdelivery line (`limit` None or their sum)."""
        body: dict[str, Any] = {"period": period, "currency": currency}
        for name, amount in (
            ("limit", limit),
            ("fix_limit", fix_limit),
            ("overdelivery_limit", overdelivery_limit),
        ):
            if amount is not None:
                body[name] = _amount(amount)
        return cast(Pool, self._call("set_pool", {"team": team}, body))

    def simulate(
        self,
        start: str,
        end: str,
        *,
        caps: Mapping[str, Any] | None = None,
        rules: Mapping[str, Any] | None = None,
        pools: list[Mapping[str, Any]] | None = None,
        sweep: Mapping[str, Any] | None = None,
    ) -> Job:
        """Queue a what-if replay of [start, end) (finance keys); `wait_for` its result.

        Bad input is refused at once (RemedyError 422 naming the field); the replay itself
        runs in the service's job worker.
        """
        body: dict[str, Any] = {"from": start, "to": end}
        for name, value in (("caps", caps), ("rules", rules), ("pools", pools), ("sweep", sweep)):
            if value is not None:
                body[name] = value
        return cast(Job, self._call("simulate", body=body))

    def get_job(self, job_id: str) -> Job:
        """A job's status, progress and result or error."""
        return cast(Job, self._call("get_job", {"job_id": job_id}))

    def wait_for(
        self,
        job: Job,
        *,
        poll: float = 1.0,
        timeout: float = 600.0,
        on_progress: Callable[[Job], None] | None = None,
    ) -> dict[str, Any]:
        """Poll `job` every `poll` s until it ends; return its result.

        Raises `JobFailed` (its error as the envelope) when it failed, and TimeoutError when
        it has not ended after `timeout` s (it keeps running: call again to wait more).
        """
        deadline = time.monotonic() + timeout
        while job["status"] not in FINISHED:
            if on_progress is not None:
                on_progress(job)
            if time.monotonic() + poll > deadline:
                raise TimeoutError(f"job {job['id']} is still {job['status']} after {timeout} s")
            self.sleep(poll)
            job = self.get_job(job["id"])
        if job["status"] == "failed":
            raise JobFailed(cast(dict[str, Any], job))
        return job["result"] or {}

    def declare_mass_incident(
        self,
        incident: Mapping[str, Any],
        customers: list[Mapping[str, Any]],
        team: str | None = None,
    ) -> MassIncident:
        """Declare one failure (`incident`: the shared fields) for many `customers` (lead,
        finance); every customer is decided by a job (`wait_for(mass["job"])`)."""
        body: dict[str, Any] = {"incident": dict(incident), "customers": list(customers)}
        if team is not None:
            body["team"] = team
        return cast(MassIncident, self._call("declare_mass_incident", body=body))

    def get_mass_incident(self, mass_incident_id: str) -> MassIncident:
        """Where a mass incident stands, with its total against the pool."""
        params = {"mass_incident_id": mass_incident_id}
        return cast(MassIncident, self._call("get_mass_incident", params))

    def approve_mass_incident(self, mass_incident_id: str, reason: str = "") -> MassIncident:
        """Approve a ready mass incident; its reservation runs as a job (`mass["job"]`)."""
        params = {"mass_incident_id": mass_incident_id}
        body = {"reason": reason} if reason else {}
        return cast(MassIncident, self._call("approve_mass_incident", params, body))

    def create_webhook(
        self, url: str, events: list[str], team: str | None = None, description: str = ""
    ) -> NewWebhook:
        """Subscribe a team to events; the answer holds the signing secret, shown once."""
        body: dict[str, Any] = {"url": url, "events": events, "description": description}
        if team is not None:
            body["team"] = team
        return cast(NewWebhook, self._call("create_webhook", body=body))

    def webhook_deliveries(self, webhook_id: str) -> list[WebhookDelivery]:
        """A subscription's latest deliveries, newest first."""
        answer = self._call("webhook_deliveries", {"webhook_id": webhook_id})
        return cast(list[WebhookDelivery], answer["deliveries"])

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
                error = error_of(answer)
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


def _amount(value: Decimal | str) -> str:
    """Money as the API takes it: a decimal string (floats are refused: they are inexact)."""
    if isinstance(value, float):
        raise TypeError("money must be a Decimal or a decimal string, not a float")
    return str(value)


def _segment(value: str) -> str:
    """Quote a path segment (ids and team slugs are plain, but never trust a caller's)."""
    return urllib.parse.quote(value, safe="")
