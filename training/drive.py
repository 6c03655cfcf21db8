"""Drive the running service's own code with simulated customers: `remedy simulate`.

Each simulated incident (training/simulator.py) goes through the real path: a recommendation
(rules, planner, ranker with logged exploration, guardrails, stored decision), an accept of the
plan shown first (approved when it needs approval; the next plan is tried when a budget limit
says no), fulfilment at the plan's cost, and an outcome drawn from the simulator's response
model. What it writes is exactly what real traffic writes, so `remedy train` can learn from it.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import numpy as np
from flask import Flask
from tqdm.auto import tqdm

from remedy.decisions.record import DecisionRecord, DecisionStatus
from remedy.errors import Conflict
from remedy.extensions import db
from remedy.ledger.budgets import BudgetService
from remedy.services import app_services
from remedy.services.lifecycle import LifecycleService
from remedy.services.outcomes import OutcomeService
from remedy.services.recommendations import RecommendationService
from remedy.store.tables import Decision, utcnow
from training.simulator import FX_PER_USD, random_incident, simulate_outcome
from training.world import HOME, World

ACTOR = "simulator"

# An agent: given the plan ids shown (in order) and a random generator, the order in which to
# try to accept them. The default takes the plan shown first (then the next, when refused).
Agent = Callable[[list[str], np.random.Generator], list[str]]


def in_shown_order(shown: list[str], rng: np.random.Generator) -> list[str]:
    """Try the plans in the order shown: the plan shown first is accepted unless refused."""
    return list(shown)


@dataclass
class DriveReport:
    """What a simulation run did."""

    decisions: int = 0
    accepted: int = 0
    refused: int = 0
    retained: int = 0


def ensure_pools(app: Flask, team: str, limit_usd: Decimal = Decimal("100000000")) -> None:
    """Give the simulated team a pool in every simulated currency, if it has none."""
    with db.database(app).unit_of_work() as session:
        budgets = BudgetService(session)
        for currency, rate in FX_PER_USD.items():
            limit = (limit_usd * Decimal(str(rate))).quantize(Decimal(1))
            budgets.set_pool(team, "month", limit, currency, ACTOR)


def drive(
    app: Flask,
    incidents: int,
    team: str = "sim",
    seed: int = 0,
    progress: bool = True,
    agent: Agent = in_shown_order,
    world: World = HOME,
) -> DriveReport:
    """Send `incidents` simulated incidents through the service and record their outcomes
    (the customers respond as in `world`: training/world.py).

    `agent` decides which shown plan is tried first (training/logged.py: the evaluation must not
    depend on agents taking the plan shown first).
    """
    rng = np.random.default_rng(seed)
    explore_rng = random.Random(seed)
    exploration, _ = app_services.exploration(app)
    ttl = timedelta(seconds=app.config["RESERVATION_TTL_SECONDS"])
    report = DriveReport()
    ensure_pools(app, team)
    database = db.database(app)
    for index in tqdm(range(incidents), desc="simulating", unit="incident", disable=not progress):
        incident = dataclasses.replace(random_incident(rng, index), team=team)
        with app.app_context(), database.unit_of_work() as session:
            engine = app_services.engines(app).engine(session)
            decision = RecommendationService(session, engine, exploration, explore_rng).recommend(
                incident, 3, ACTOR
            )
            decision_id, shown, caps = decision.id, list(decision.shown), engine.caps
        report.decisions += 1
        accepted = None
        for plan_id in agent(shown, rng):
            try:
                with database.unit_of_work() as session:
                    lifecycle = LifecycleService(session, caps, ttl)
                    lifecycle.begin()
                    step = lifecycle.accept(decision_id, plan_id, ACTOR)
                    if step.decision.status == DecisionStatus.PENDING_APPROVAL:
                        lifecycle.approve(decision_id, ACTOR)
                    record = DecisionRecord.of(step.decision)
                    cost = record.candidate(plan_id).total_cost
                    lifecycle.fulfil(decision_id, cost, incident.currency, ACTOR)
                accepted = plan_id
                break
            except Conflict:
                continue
        if accepted is None:
            report.refused += 1
            continue
        report.accepted += 1
        with database.unit_of_work() as session:
            record = DecisionRecord.of(session.get(Decision, decision_id))
            plan = record.plan(record.candidate(accepted))
            retained, referrals = simulate_outcome(incident, plan, rng, world)
            OutcomeService(session).record(
                decision_id, retained, utcnow(), ACTOR, referrals=referrals
            )
        report.retained += retained
    return report
