"""The off-policy action is the plan shown first: acceptance by agents does not bias IPS.

Logs here are *balanced*: every branch of a decision (plan shown first, plan accepted, customer
stayed or not) appears in exact proportion to its probability under the project's exploration
and the agents' acceptance, so an estimator's value on the log is its expectation, computed by
enumeration. The brute-force truth is the expected reward of showing a policy's pick first.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import numpy as np
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from remedy.decisions.exploration import ExplorationPolicy, explorable, protected_by
from remedy.decisions.ranker import ValueSettings
from remedy.decisions.record import DecisionRecord
from remedy.domain import Incident, Plan
from remedy.extensions import db
from remedy.services import app_services
from remedy.store.tables import Decision, Outcome
from training.candidates import candidate_plans
from training.drive import drive
from training.from_logs import load_logged
from training.gate import promotion_verdict
from training.holdout import _gate_section, policy_values
from training.logged import LoggedDecision, _reward, from_record
from training.offpolicy import MAX_WEIGHT, ips
from training.read_logs import count_logged, read_whole
from training.simulator import random_incident

VALUES = ValueSettings()
START = datetime(2025, 1, 1, tzinfo=UTC)


def toy_incident(index: int) -> tuple[Incident, list[Plan]]:
    """A simulated incident in USD with its candidate plans, best-ranked first."""
    incident = random_incident(np.random.default_rng(index), index=index)
    incident = dataclasses.replace(incident, currency="USD", customer_id=f"toy-{index}")
    return incident, candidate_plans(incident)


INCIDENTS = [toy_incident(i) for i in range(2)]


def exact_propensities(exploration: ExplorationPolicy, kept: int) -> list[Fraction]:
    """The exploration's rule (remedy/decisions/exploration.py) in exact fractions."""
    rate, k = Fraction(exploration.rate), min(exploration.top_k, kept)
    return [1 - rate + rate / k] + [rate / k] * (k - 1) + [Fraction(0)] * (kept - k)


@dataclass(frozen=True)
class Toy:
    """One decision's world: its plans, the exploration, the agents and the customers.

    An agent shown plan s first accepts it with probability `accept[s]`, and otherwise the next
    plan in the shown order (remedy/decisions/exploration.py `shown_order`: the best-ranked
    other plan). A customer given plan a stays with probability `stay[a]`.
    """

    incident: Incident
    plans: list[Plan]
    exploration: ExplorationPolicy
    accept: list[Fraction]
    stay: list[Fraction]

    def outcomes(self, shown: int) -> Iterator[tuple[Fraction, int, bool]]:
        """Yield (probability, accepted plan, stayed) given the plan shown first."""
        fallback = 1 if shown == 0 else 0
        for accepted, p_accept in ((shown, self.accept[shown]), (fallback, 1 - self.accept[shown])):
            for stayed, p_stay in ((True, self.stay[accepted]), (False, 1 - self.stay[accepted])):
                if p_accept * p_stay:
                    yield p_accept * p_stay, accepted, stayed

    def branches(self) -> Iterator[tuple[Fraction, int, int, bool]]:
        """Yield (probability, shown first, accepted, stayed) of every possible logged row."""
        for shown, p in enumerate(exact_propensities(self.exploration, len(self.plans))):
            if p:
                for q, accepted, stayed in self.outcomes(shown):
                    yield p * q, shown, accepted, stayed

    def row(self, shown: int, accepted: int, stayed: bool, at: datetime) -> LoggedDecision:
        """One logged decision, with the propensity the service stores (a rounded Decimal)."""
        return LoggedDecision(
            incident=self.incident,
            candidates=self.plans,
            logged_index=accepted,
            shown_index=shown,
            propensity=float(self.exploration.propensities(len(self.plans))[shown]),
            retained=stayed,
            referrals=0,
            decided_at=at,
        )

    def value(self, pick: int) -> float:
        """Brute force: the expected realised reward (USD) of showing `pick` first."""
        return sum(
            float(q) * _reward(self.row(pick, accepted, stayed, START), VALUES)
            for q, accepted, stayed in self.outcomes(pick)
        )

    def supports(self, pick: int) -> bool:
        """Exploration could show `pick` first."""
        return exact_propensities(self.exploration, len(self.plans))[pick] > 0


def balanced_log(toys: Sequence[Toy]) -> list[LoggedDecision]:
    """Every branch of every toy, repeated in exact proportion (each toy weighs the same)."""
    size = math.lcm(*(q.denominator for toy in toys for q, *_ in toy.branches()))
    log: list[LoggedDecision] = []
    for toy in toys:
        for q, shown, accepted, stayed in toy.branches():
            count = q * size
            assert count.denominator == 1
            log += [
                toy.row(shown, accepted, stayed, START + timedelta(seconds=len(log) + i))
                for i in range(int(count))
            ]
    return log


class Picks:
    """A scorer whose greedy policy picks a fixed plan per incident."""

    sees_word_of_mouth = True  # its opinion is the whole value: nothing assumed on top

    def __init__(self, picks: dict[str, int], version: str) -> None:
        self.picks, self.version = picks, version

    def predict(self, incident: Incident, plans: Sequence[Plan]) -> tuple[np.ndarray, np.ndarray]:
        """P(stay) near 1 for the pick, 0 for the rest; no referrals."""
        p_stay = np.zeros(len(plans))
        p_stay[self.picks[incident.customer_id]] = 0.99
        return p_stay, np.zeros(len(plans))


FLAT_Q = 100.0  # the reward model below values every plan at this many USD


class Flat:
    """A reward model with one opinion of every plan: its DR terms stay exact on balanced logs."""

    version = "flat"
    sees_word_of_mouth = True  # its opinion is the whole value: nothing assumed on top

    def predict(self, incident: Incident, plans: Sequence[Plan]) -> tuple[np.ndarray, np.ndarray]:
        """P(stay) such that a free plan is worth FLAT_Q (costs are added back below)."""
        p = FLAT_Q / float(incident.customer_value)
        return np.full(len(plans), p), np.zeros(len(plans))


def flat_fit(decisions, values, seed):
    """Fit nothing: the same Flat model on every fold."""
    return Flat()


def estimate(report, policy: str, method: str) -> float:
    """One estimate's value from a report."""
    return next(e.value for e in report.estimates[policy] if e.method == method)


def old_ips(log: Sequence[LoggedDecision], pick: int) -> float:
    """What the evaluation did before: a propensity only when the accepted plan was the one shown
    first, the accepted plan taken as the action."""
    kept = [d for d in log if d.accepted_first]
    rewards = np.array([_reward(d, VALUES) for d in kept])
    target = np.array([d.logged_index == pick for d in kept], dtype=float)
    return ips(rewards, np.array([d.propensity for d in kept]), target, n_boot=10).value


def test_the_issue_s_toy_acceptance_no_longer_flips_two_policies():
    """The project's default exploration (10% over the top 5). Agents take the best-ranked plan
    when it is shown first only half the time (they move on to plan 2), but plan 2 nine times in
    ten. Showing the best plan first is worth more; the old acceptance-filtered IPS said the
    opposite, the shown-first IPS, SNIPS and DR give the brute-force values."""
    incident, plans = INCIDENTS[0]
    plans = plans[:5]
    toy = Toy(
        incident,
        plans,
        ExplorationPolicy(),
        accept=[Fraction(1, 2), Fraction(9, 10)] + [Fraction(1, 2)] * 3,
        stay=[Fraction(9, 10), Fraction(6, 10)] + [Fraction(1, 2)] * 3,
    )
    log = balanced_log([toy])
    best, second = toy.value(0), toy.value(1)
    assert best > second + 50  # the truth, by enumeration
    assert old_ips(log, 0) < old_ips(log, 1) - 30  # the old estimate flipped them

    first = Picks({incident.customer_id: 0}, "shows the best first")
    other = Picks({incident.customer_id: 1}, "shows plan 2 first")
    report = policy_values(log, first, other, VALUES, fit=flat_fit, exploration=ExplorationPolicy())
    assert report.rows == len(log) and report.without_shown_plan == 0
    for method in ("ips", "snips", "doubly_robust"):
        assert estimate(report, "candidate", method) == pytest.approx(best, rel=1e-9)
        assert estimate(report, "current", method) == pytest.approx(second, rel=1e-9)
    assert report.comparison is not None
    ips_difference = report.comparison.difference("ips")
    assert ips_difference is not None
    assert ips_difference.value == pytest.approx(best - second, rel=1e-9)
    assert report.support == {"candidate": 1.0, "current": 1.0}
    # the agents' behaviour, reported beside the estimates: half, and mostly nine in ten
    assert report.accepted_first["best_shown_first"] == pytest.approx(0.5)
    assert report.accepted_first["other_shown_first"] == pytest.approx((0.9 + 3 * 0.5) / 4)


def fractions(denominator: int) -> st.SearchStrategy[Fraction]:
    """Probabilities with a small denominator (keeps the balanced logs small)."""
    return st.integers(0, denominator).map(lambda k: Fraction(k, denominator))


@st.composite
def worlds(draw) -> tuple[list[Toy], dict[str, int], dict[str, int]]:
    """One or two decisions' worlds under one exploration, and two policies' picks."""
    toys, picks_a, picks_b = [], {}, {}
    exploration = ExplorationPolicy(Decimal(draw(st.integers(0, 4))) / 4, draw(st.integers(1, 4)))
    for incident, plans in INCIDENTS[: draw(st.integers(1, 2))]:
        kept = draw(st.integers(2, 4))
        accept = [draw(fractions(2)) for _ in range(kept)]
        stay = [draw(fractions(2)) for _ in range(kept)]
        toys.append(Toy(incident, plans[:kept], exploration, accept, stay))
        picks_a[incident.customer_id] = draw(st.integers(0, kept - 1))
        picks_b[incident.customer_id] = draw(st.integers(0, kept - 1))
    return toys, picks_a, picks_b


@settings(max_examples=40, deadline=None)
@given(worlds())
def test_shown_first_ips_is_the_brute_force_expectation(world):
    """On any small world, IPS on the shown-first action is exactly the expected value of showing
    the pick first where exploration could show it, and 0 where it could not: unbiased inside
    the support, biased outside it, as the support share on the report says."""
    toys, picks_a, picks_b = world
    log = balanced_log(toys) * 2  # a certain world is one row; the evaluation needs two
    report = policy_values(
        log,
        Picks(picks_a, "a"),
        Picks(picks_b, "b"),
        VALUES,
        fit=flat_fit,
        exploration=toys[0].exploration,
    )
    for name, picks in (("candidate", picks_a), ("current", picks_b)):
        inside = [t.supports(picks[t.incident.customer_id]) for t in toys]
        truth = [t.value(picks[t.incident.customer_id]) for t in toys]
        expected = np.mean([v if ok else 0.0 for v, ok in zip(truth, inside, strict=True)])
        assert estimate(report, name, "ips") == pytest.approx(expected, rel=1e-9, abs=1e-6)
        if all(inside):
            assert estimate(report, name, "ips") == pytest.approx(np.mean(truth), abs=1e-6)
        assert report.support[name] == pytest.approx(np.mean(inside))
        max_weight = max(1 / d.propensity for d in log)
        if max_weight <= MAX_WEIGHT:  # unclipped, a flat reward model leaves DR exact too
            cost = [float(t.plans[picks[t.incident.customer_id]].total_cost) for t in toys]
            dr = [
                FLAT_Q - c + (v - (FLAT_Q - c) if ok else 0.0)
                for v, ok, c in zip(truth, inside, cost, strict=True)
            ]
            assert estimate(report, name, "doubly_robust") == pytest.approx(
                np.mean(dr), rel=1e-9, abs=1e-6
            )
    assert report.shown_outside_support == 0


def test_decisions_without_a_shown_first_plan_are_counted_not_evaluated():
    incident, plans = INCIDENTS[0]
    toy = Toy(
        incident,
        plans[:3],
        ExplorationPolicy(Decimal("0.5"), 3),
        [Fraction(1)] * 3,
        [Fraction(1, 2)] * 3,
    )
    log = balanced_log([toy])
    log[0] = dataclasses.replace(log[0], shown_index=None, propensity=None)
    picks = Picks({incident.customer_id: 0}, "best")
    report = policy_values(log, picks, picks, VALUES, fit=flat_fit)
    assert report.without_shown_plan == 1 and report.rows == len(log) - 1
    assert _gate_section(report)["without_shown_plan"] == 1


def test_a_candidate_picking_outside_exploration_s_top_k_is_refused():
    """Exploration shows only its top 2 plans first; on one decision in two the candidate prefers
    plan 3, which could never have been shown first: IPS counts 0 there (biased, not noisy), and
    the gate refuses though overlap and effective sample size are fine."""
    exploration = ExplorationPolicy(Decimal("0.5"), 2)
    toys = [
        Toy(incident, plans[:4], exploration, [Fraction(1)] * 4, [Fraction(1, 2)] * 4)
        for incident, plans in INCIDENTS
    ]
    log = balanced_log(toys) * 20
    first, second = (t.incident.customer_id for t in toys)
    candidate = Picks({first: 0, second: 2}, "third on the second")
    best = Picks({first: 0, second: 0}, "best")
    report = policy_values(log, candidate, best, VALUES, fit=flat_fit, exploration=exploration)
    assert report.support == {"candidate": 0.5, "current": 1.0}
    # IPS: the true value of the first decision's pick, 0 for the second's (truth: > 0)
    assert estimate(report, "candidate", "ips") == pytest.approx(toys[0].value(0) / 2)
    assert toys[1].value(2) > 0
    gate = _gate_section(report, {"rows": len(log), "candidate": 0.1, "current": 0.2})
    assert gate["support"]["exploration"] == {"rate": "0.5", "top_k": 2}
    promote, why = promotion_verdict({"metrics": {"gate": gate}})
    assert not promote and why == (
        "outside the logging support: the candidate's pick could never have been shown first "
        f"(logging propensity 0) in 50.0% of {len(log)} holdout decisions (at most 5%); IPS and "
        "doubly robust are biased there"
    )


def second_if_free(shown: list[str], rng: np.random.Generator) -> list[str]:
    """An agent who takes the plan shown second every other time it is offered a choice."""
    return [shown[1], shown[0], *shown[2:]] if len(shown) > 1 and rng.random() < 0.5 else shown


EXPLORING = {"EXPLORATION_RATE": Decimal("0.5"), "EXPLORATION_TOP_K": 3}


@pytest.mark.parametrize("app", [EXPLORING], indirect=True)
def test_every_logged_decision_keeps_the_plan_shown_first_and_its_propensity(app):
    """Through the real service and SQLite: agents often accept another plan than the one shown
    first, and still every decision is read with the shown-first plan and its propensity."""
    report = drive(app, 80, seed=5, progress=False, agent=second_if_free)
    exploration, _ = app_services.exploration(app)
    with db.database(app).unit_of_work() as session:
        whole = read_whole(session, 0, count_logged(session))
        loaded = load_logged(session, progress=False)
        stored = session.execute(
            sa.select(Decision, Outcome)
            .join(Outcome, Outcome.decision_id == Decision.id)
            .order_by(Decision.created_at, Decision.id)
        ).all()
        # an old or edited record with nothing shown: it trains, but has no action to evaluate
        decision, outcome = stored[0]
        columns = {**DecisionRecord.of(decision).columns(), "shown": []}
        bare = from_record(
            DecisionRecord.from_columns(columns, decision.record_version),
            outcome.plan_id,
            decision.propensity,
            outcome.retained,
            outcome.referrals,
            decision.created_at,
        )
        assert bare is not None and (bare.shown_index, bare.propensity) == (None, None)
        by_hand = []
        protected: set[bool] = set()
        propensities: list[Decimal] = []
        for decision, outcome in stored:
            record = DecisionRecord.of(decision)
            ids = [c.plan_id for c in record.offered]
            by_hand.append((ids.index(record.shown[0]), ids.index(outcome.plan_id)))
            # exactly the rule's propensity, over the plans it may show first (never a
            # reordering of a severe, public, repeat or churn-threat incident: propensity 1)
            eligible = explorable(record.incident, [c.requires_approval for c in record.offered])
            # (adaptive by default: over the offered plans' expected net values)
            values = [c.expected_net_value for c in record.offered]
            expected = exploration.propensities(len(ids), eligible, values)[
                ids.index(record.shown[0])
            ]
            assert Decimal(decision.propensity) == expected
            propensities.append(expected)
            protected |= {bool(protected_by(record.incident))}
    assert protected == {True, False}  # both kinds of incident were logged
    assert len(whole) == len(loaded) == len(stored) == report.accepted
    for a, b, (shown, accepted), p in zip(whole, loaded, by_hand, propensities, strict=True):
        assert (a.shown_index, a.logged_index) == (b.shown_index, b.logged_index)
        assert (a.shown_index, a.logged_index) == (shown, accepted)
        assert a.propensity == b.propensity == float(p)
    assert all(d.propensity is not None and d.propensity > 0 for d in whole)
    assert sum(not d.accepted_first for d in whole) > 10  # before, these had no propensity
    assert any(d.shown_index and not d.accepted_first for d in whole)  # explored, passed over
