"""Drive a running remedy service over HTTP with simulated customers: `remedy simulate --url`.

The same journey as training/drive.py, but through the public API with `RemedyClient`, so it
works against any deployment and exercises what a help desk integration would: a
recommendation, an accept of the plan shown first (the next plan when a limit says no, or when
the plan needs approval and the key cannot approve), fulfilment at the plan's cost, and an
outcome drawn from the simulator's response model.

An admin key also creates the pools; no key approves the plans it accepted (four eyes,
remedy/services/approvals.py), so plans that need approval are skipped for the next one. An
agent key creates no pools: its team needs a pool already (or accepts are refused and counted).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from remedy.client import Decision, Plan, RemedyClient, RemedyError
from remedy.decisions.record import incident_to_json
from remedy.domain import Action, Incident, Kind
from remedy.domain import Plan as DomainPlan
from training.drive import DriveReport
from training.simulator import FX_PER_USD, random_incident, simulate_outcome
from training.world import HOME, World

POOL_LIMIT_USD = Decimal("100000000")


def incident_body(incident: Incident) -> dict[str, Any]:
    """The simulated incident as the API takes it: its stored form without the team (it travels
    beside the incident) and without the earlier incidents (the service counts those)."""
    stored = incident_to_json(incident)
    return {
        k: v for k, v in stored.items() if k not in ("team", "prior_incidents", "gesture_basis")
    }


def domain_plan(plan: Plan) -> DomainPlan:
    """Rebuild the plan the simulator scores from a plan in an API answer."""
    actions = tuple(
        Action(
            item_id=a["item_id"],
            kind=Kind(a["kind"]),
            level=a["level"],
            value=Decimal(a["value"]),
            cost=Decimal(a["cost"]),
            requires_approval=a["requires_approval"],
            audience=a.get("audience", "customer"),
        )
        for a in plan["actions"]
    )
    return DomainPlan(actions, plan["currency"])


def ensure_pools(client: RemedyClient, team: str, currencies: Iterable[str]) -> list[str]:
    """Give `team` a monthly pool in each currency it lacks; return the currencies set."""
    have = {p["currency"] for p in client.pools() if p["team"] == team}
    added = []
    for currency in currencies:
        if currency in have:
            continue
        limit = (POOL_LIMIT_USD * Decimal(str(FX_PER_USD[currency]))).quantize(Decimal(1))
        client.set_pool(team, "month", limit, currency)
        added.append(currency)
    return added


def _accept_one(client: RemedyClient, decision: Decision, can_approve: bool) -> Plan | None:
    """Accept, approve if needed and fulfil the first shown plan that goes through."""
    for plan in decision["plans"]:
        if plan["requires_approval"] and not can_approve:
            continue
        try:
            step = client.accept(decision["decision_id"], plan["plan_id"])
            if step["status"] == "pending_approval":
                client.approve(decision["decision_id"], note="simulated approval")
            client.fulfil(decision["decision_id"], plan["total_cost"], plan["currency"])
        except RemedyError as error:
            if error.status != 409:  # a limit said no: try the next plan
                raise
            continue
        return plan
    return None


def drive_http(
    client: RemedyClient,
    incidents: int,
    team: str = "sim",
    seed: int = 0,
    progress: bool = True,
    world: World = HOME,
) -> DriveReport:
    """Send `incidents` simulated incidents through a running service and report outcomes."""
    rng = np.random.default_rng(seed)
    role = client.whoami()["role"]
    if role in ("finance", "admin"):
        ensure_pools(client, team, FX_PER_USD)
    report = DriveReport()
    for index in tqdm(range(incidents), desc="simulating", unit="incident", disable=not progress):
        incident = dataclasses.replace(random_incident(rng, index), team=team)
        decision = client.recommend(incident_body(incident), team=team)
        report.decisions += 1
        # Four eyes: the key that accepts a plan never approves it, so none is sent for approval.
        plan = _accept_one(client, decision, can_approve=False)
        if plan is None:
            report.refused += 1
            continue
        report.accepted += 1
        retained, referrals = simulate_outcome(incident, domain_plan(plan), rng, world)
        client.record_outcome(decision["decision_id"], retained, referrals=referrals)
        report.retained += retained
    return report


def simulate_http(
    url: str,
    key: str | None,
    incidents: int,
    team: str,
    seed: int,
    progress: bool,
    world: World = HOME,
) -> DriveReport:
    """`remedy simulate --url URL --key KEY`: drive that service, errors as CLI errors."""
    import click

    if not key:
        raise click.UsageError("--url needs --key (or REMEDY_API_KEY)")
    try:
        return drive_http(RemedyClient(url, key), incidents, team, seed, progress, world)
    except RemedyError as error:
        raise click.ClickException(f"the service refused: {error}") from None
    except OSError as error:
        raise click.ClickException(f"the service at {url} did not answer: {error}") from None
