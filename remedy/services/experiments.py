"""Champion/challenger experiments: start, stop, the running comparison, promotion or retirement.

A model version that passed the offline gate (`remedy train` writes the gate's verdict into its
card, `metrics.gate.verdict`) can be put on a share of live decisions beside the model in use:
finance or an admin starts the experiment (audited), every recommendation asks which arm its
customer is on (remedy/decisions/experiments.py `arm_for`, stable per customer) and is decided by
that arm's model, inside the same guardrails, and records the experiment and arm. The worker's
periodic pass (or `remedy models experiment check`) reads the realised net value of every
decision of the experiment with an outcome (remedy/decisions/value.py, in US dollars at finance's
rates, as training does), stores the comparison (one `ExperimentCheck`: what the console plots)
and ends the experiment when the always-valid interval excludes zero or the sample is complete:
the challenger is promoted (audited as a promotion by `experiment`) or retired. Never in a GET.

One experiment at a time, across every team (the table says why). Two workers checking at once
end it once: the end is a conditional update on `state = 'running'`, and only the worker whose
update changed the row promotes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session

from remedy.decisions.experiments import (
    CHALLENGER,
    PROMOTE,
    RETIRE,
    Comparison,
    SequentialPlan,
    arm_for,
    compare,
)
from remedy.decisions.ranker import HeuristicPrior
from remedy.decisions.value import ValueSettings, net_value
from remedy.errors import Conflict, InvalidInput, NotFound
from remedy.facts import Fact, Number, Share, fact
from remedy.money import from_minor, parse_amount
from remedy.services.configs import ConfigService
from remedy.services.job_kinds import JobRegistry, TaskContext
from remedy.services.model_registry import ModelRegistry
from remedy.store import audit, generation
from remedy.store.generation import GenerationCache
from remedy.store.tables import Decision, ExperimentCheck, ModelExperiment, Outcome, utcnow

log = logging.getLogger(__name__)

RUNNING = "running"
ENDED = ("promoted", "retired", "stopped")
CHECK_EVERY = timedelta(minutes=5)
ACTOR = "experiment"  # who the worker's pass acts as in the audit log
_MISSING = object()


@dataclass(frozen=True)
class Assignment:
    """Which experiment and arm a decision is in, and the model version that decides it."""

    experiment_id: str
    arm: str
    version: str


def gate_passed(card: dict[str, Any]) -> tuple[bool, str]:
    """Whether the card's offline gate verdict (written by `remedy train`) passed, and why."""
    verdict = (card.get("metrics", {}).get("gate") or {}).get("verdict")
    if not verdict:
        return False, "its card has no offline gate verdict (train it with `remedy train`)"
    return bool(verdict.get("passed")), str(verdict.get("reason", ""))


def sequential_plan(experiment: ModelExperiment) -> SequentialPlan:
    """The sequential test of an experiment, as it was started."""
    return SequentialPlan(
        share=float(Decimal(experiment.share)),
        alpha=experiment.alpha,
        max_per_arm=experiment.max_per_arm,
        min_per_arm=experiment.min_per_arm,
    )


class ExperimentService:
    """Starts, stops, reads and checks champion/challenger experiments."""

    def __init__(self, session: Session) -> None:
        """Work in `session`."""
        self.session = session

    # -- reading ---------------------------------------------------------------------------

    def running(self) -> ModelExperiment | None:
        """The experiment running now, if any (one indexed query)."""
        return self.session.scalar(
            sa.select(ModelExperiment).where(ModelExperiment.running_slot == 1)
        )

    def get(self, experiment_id: str) -> ModelExperiment:
        """Return an experiment or raise NotFound."""
        row = self.session.get(ModelExperiment, experiment_id)
        if row is None:
            raise NotFound(f"no experiment {experiment_id!r}")
        return row

    def list(self, limit: int = 50) -> list[ModelExperiment]:
        """The latest experiments, newest first."""
        return list(
            self.session.scalars(
                sa.select(ModelExperiment)
                .order_by(ModelExperiment.started_at.desc(), ModelExperiment.id)
                .limit(limit)
            )
        )

    def checks(self, experiment_id: str, limit: int = 500) -> list[ExperimentCheck]:
        """The latest `limit` checks of an experiment, oldest first (bounded for the console)."""
        rows = self.session.scalars(
            sa.select(ExperimentCheck)
            .where(ExperimentCheck.experiment_id == experiment_id)
            .order_by(ExperimentCheck.id.desc())
            .limit(limit)
        )
        return list(reversed(list(rows)))

    # -- starting and stopping ----------------------------------------------------------------

    def start(
        self,
        challenger: str,
        share: Decimal,
        actor: str,
        *,
        alpha: float = 0.05,
        max_per_arm: int = 20000,
        min_per_arm: int = 30,
        reason: str = "",
    ) -> ModelExperiment:
        """Put `challenger` on `share` of customers beside the model in use (audited).

        Refused (409) when another experiment runs, when the challenger is the model in use or
        has not passed the offline gate; 404 when it is not registered."""
        if not Decimal(0) < share < Decimal(1):
            message = "must be above 0 and below 1"
            raise InvalidInput(f"share {message}", {"share": [message]})
        registry = ModelRegistry(self.session)
        row = registry.get(challenger)
        champion = registry.current() or HeuristicPrior().version
        if challenger == champion:
            message = f"{challenger} is the model in use already"
            raise Conflict(message, {"challenger": [message]})
        passed, why = gate_passed(row.card)
        if not passed:
            message = f"{challenger} has not passed the offline gate: {why}"
            raise Conflict(message, {"challenger": [message]})
        running = self.running()
        if running is not None:
            message = f"experiment {running.id} ({running.challenger}) is running; stop it first"
            raise Conflict(message, {"challenger": [message]})
        experiment = ModelExperiment(
            challenger=challenger,
            champion=champion,
            share=str(share),
            alpha=alpha,
            max_per_arm=max_per_arm,
            min_per_arm=min_per_arm,
            state=RUNNING,
            running_slot=1,
            started_at=utcnow(),
            started_by=actor,
            reason=reason,
        )
        self.session.add(experiment)
        try:
            with self.session.begin_nested():
                self.session.flush()
        except sa.exc.IntegrityError:
            message = "another experiment started at the same time; stop it first"
            raise Conflict(message, {"challenger": [message]}) from None
        audit.record(
            self.session,
            actor,
            "start",
            "model_experiment",
            experiment.id,
            None,
            {
                "challenger": challenger,
                "champion": champion,
                "share": str(share),
                "alpha": alpha,
                "max_per_arm": max_per_arm,
                "reason": reason,
            },
        )
        return experiment

    def stop(self, experiment_id: str, actor: str, reason: str = "") -> ModelExperiment:
        """End a running experiment without promoting anything (audited); 409 if it ended."""
        experiment = self.get(experiment_id)
        if not self._end(experiment, "stopped", actor, reason or "stopped"):
            message = f"experiment {experiment_id} has ended already ({experiment.state})"
            raise Conflict(message, {"experiment": [message]})
        return experiment

    def _end(self, experiment: ModelExperiment, state: str, actor: str, why: str) -> bool:
        """End the experiment if it still runs (a conditional update: one caller wins)."""
        table = ModelExperiment.__table__
        now = utcnow()
        changed = self.session.execute(
            sa.update(table)
            .where(table.c.id == experiment.id, table.c.state == RUNNING)
            .values(
                state=state, running_slot=None, ended_at=now, ended_by=actor, end_reason=why[:200]
            )
        ).rowcount
        generation.bump(self.session)  # a bulk update: the ORM does not see it
        self.session.refresh(experiment)
        if not changed:
            return False
        audit.record(
            self.session,
            actor,
            "end",
            "model_experiment",
            experiment.id,
            {"state": RUNNING},
            {"state": state, "reason": why[:200]},
        )
        return True

    # -- the comparison ------------------------------------------------------------------------

    def rewards(
        self, experiment: ModelExperiment, values: ValueSettings
    ) -> tuple[np.ndarray, np.ndarray, list[str], int]:
        """Realised net value (USD), the customer's value (USD: the test's baseline covariate,
        known before the arm was drawn) and arm of each decision of the experiment with an
        outcome, in the order outcomes arrived; and how many were left out (a currency without a
        rate, or no recorded cost)."""
        rates = ConfigService(self.session).exchange_rates().per_usd
        rows = self.session.execute(
            sa.select(
                Decision.arm,
                Decision.currency,
                Decision.incident["customer_value"].as_string(),
                Outcome.retained,
                Outcome.referrals,
                Outcome.plan_cost_minor,
            )
            .join(Outcome, Outcome.decision_id == Decision.id)
            .where(Decision.experiment_id == experiment.id)
            .order_by(Outcome.recorded_at, Decision.id)
        )
        rewards: list[float] = []
        worths: list[float] = []
        arms: list[str] = []
        left_out = 0
        for arm, currency, worth, retained, referrals, cost_minor in rows:
            rate = rates.get(currency)
            if rate is None or cost_minor is None or worth is None or arm is None:
                left_out += 1
                continue
            # Amounts enter exactly (the stored worth parsed as money, the cost from minor
            # units, dollars by Decimal division); the test's statistics then run on floats.
            worth_usd = parse_amount(worth, currency) / rate
            cost_usd = from_minor(cost_minor, currency) / rate
            value = net_value(
                bool(retained), referrals or 0, float(worth_usd), float(cost_usd), values
            )
            rewards.append(value)
            worths.append(float(worth_usd))
            arms.append(arm)
        return np.array(rewards, dtype=float), np.array(worths, dtype=float), arms, left_out

    def comparison(self, experiment: ModelExperiment, values: ValueSettings) -> Comparison:
        """The running comparison now (reads every outcome of the experiment: a job's work)."""
        rewards, worths, arms, _ = self.rewards(experiment, values)
        return compare(rewards, arms, sequential_plan(experiment), worths)

    def check(
        self, values: ValueSettings, actor: str = ACTOR, cache_dir: Path | None = None
    ) -> str:
        """Look at the running experiment: store the comparison, and promote or retire when the
        evidence is there. Return a line for the worker's log ("" when nothing runs)."""
        experiment = self.running()
        if experiment is None:
            return ""
        registry = ModelRegistry(self.session)
        in_use = registry.current() or HeuristicPrior().version
        if in_use != experiment.champion:
            why = f"the model in use changed from {experiment.champion} to {in_use}"
            self._end(experiment, "stopped", actor, why)
            return f"experiment {experiment.id} stopped: {why}"
        rewards, worths, arms, left_out = self.rewards(experiment, values)
        found = compare(rewards, arms, sequential_plan(experiment), worths)
        self.session.add(
            ExperimentCheck(
                experiment_id=experiment.id,
                at=utcnow(),
                comparison={**found.as_dict(), "left_out": left_out},
            )
        )
        summary = _summary(found)
        if found.decision == PROMOTE:
            why = f"challenger shown better online: {summary}"
            if self._end(experiment, "promoted", actor, why):
                registry.promote(experiment.challenger, actor, why[:200], cache_dir)
        elif found.decision == RETIRE:
            self._end(experiment, "retired", actor, f"champion stays ({found.reason}): {summary}")
        return f"experiment {experiment.id}: {found.decision} ({summary})"


def _summary(found: Comparison) -> str:
    """One line of the comparison, for the audit log and the worker's log."""
    if found.difference is None:
        return f"n {found.n}, too few outcomes yet"
    return (
        f"difference {found.difference:+.2f} USD per decision, interval "
        f"[{found.low:+.2f}, {found.high:+.2f}], n {found.n}"
    )


class RunningExperiment:
    """The running experiment as each request needs it, asked once per cache generation (a
    start or an end moves the generation: every worker sees it on its next request)."""

    def __init__(self) -> None:
        """An empty cache."""
        self._cache = GenerationCache(max_entries=1)

    def __call__(self, session: Session) -> tuple[str, str, str, str] | None:
        """(id, share, challenger, champion) of the running experiment, or None."""
        current = generation.current(session)
        found = self._cache.get(current, "running", _MISSING)
        if found is _MISSING:
            row = ExperimentService(session).running()
            found = None if row is None else (row.id, row.share, row.challenger, row.champion)
            self._cache.put(current, "running", found)
        return found  # type: ignore[return-value]

    def assignment(self, session: Session, team: str, customer_id: str) -> Assignment | None:
        """The arm this customer is on in the running experiment (None: none runs)."""
        found = self(session)
        if found is None:
            return None
        experiment_id, share, challenger, champion = found
        arm = arm_for(team, customer_id, experiment_id, Decimal(share))
        return Assignment(experiment_id, arm, challenger if arm == CHALLENGER else champion)


def comparison_facts(found: dict[str, Any], experiment: ModelExperiment) -> dict[str, Fact]:
    """What the models page says about a comparison, as facts (said in the reader's language
    at the edge): the chart's title and axis, and the decision so far."""
    confidence = Share(Decimal(1) - Decimal(str(experiment.alpha)))
    said = {
        "chart": fact("experiment_chart", confidence=confidence),
        "axis": fact("experiment_axis"),
    }
    reason = found.get("reason")
    if reason == "too_few":
        smaller = min(found.get("n", {}).values(), default=0)
        said["decision"] = fact("experiment_too_few", n=smaller, needed=experiment.min_per_arm)
    elif reason in ("undecided", "shown_better", "shown_worse"):
        low, high = (Number(Decimal(str(found[side]))) for side in ("low", "high"))
        if reason == "shown_better":
            said["decision"] = fact("experiment_shown_better", low=low, high=high)
        elif reason == "shown_worse":
            said["decision"] = fact("experiment_shown_worse", low=low, high=high)
        else:
            said["decision"] = fact("experiment_undecided", low=low, high=high)
    elif reason == "max_sample":
        said["decision"] = fact("experiment_max_sample")
    return said


def series(checks: list[ExperimentCheck]) -> list[dict[str, Any]]:
    """The checks as the console plots them: the interval over time."""
    return [{"at": check.at, **check.comparison} for check in checks]


def check_running(context: TaskContext) -> str:
    """The worker's periodic task: check the running experiment (promote or retire on evidence)."""
    if context.services is None:
        raise RuntimeError("checking an experiment needs the app's services (the value settings)")
    cache = Path(context.config["MODEL_DIR"]) / "cache"
    return ExperimentService(context.session).check(context.services.engines.values, ACTOR, cache)


def register_jobs(registry: JobRegistry) -> None:
    """Register experiments' upkeep: every worker checks the running experiment."""
    registry.periodic("experiments.check", CHECK_EVERY, check_running)
