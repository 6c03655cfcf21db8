"""The room benchmarks/policy.py measures in: fresh evaluation incidents with every candidate's
true value, the logging and random policies' values and the best plan's in hindsight; a ranker's
share of it, and (--bundled-only) each bundled model's share and regret."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchmarks.policy_log import VALUES, logging_probabilities
from models.artifact import load_artifact
from models.scorer import ModelScorer
from remedy.decisions.exploration import ExplorationPolicy
from remedy.domain import Incident, Plan
from remedy.services.model_registry import bundled_folders
from training.logs import expected_net_values, greedy_index
from training.service_candidates import service_candidates
from training.simulator import random_incident, true_net_value


@dataclass
class Room:
    """The evaluation incidents' candidates and every plan's true value."""

    decisions: list[tuple[Incident, list[Plan]]]
    truth: list[np.ndarray]
    logging: float
    random: float
    best: float


def evaluation_set(n: int, seed: int, rule: ExplorationPolicy) -> Room:
    """Fresh incidents with their candidates and the true value of each plan."""
    rng = np.random.default_rng([seed, 1])
    decisions, truth, logging = [], [], []
    while len(decisions) < n:
        incident = random_incident(rng)
        plans = service_candidates(incident)
        if not plans:
            continue
        values = np.array([true_net_value(incident, p, VALUES) for p in plans])
        decisions.append((incident, plans))
        truth.append(values)
        logging.append(float(values @ logging_probabilities(incident, plans, rule)))
    return Room(
        decisions,
        truth,
        float(np.mean(logging)),
        float(np.mean([t.mean() for t in truth])),
        float(np.mean([t.max() for t in truth])),
    )


def value_of_ranker(scorer: ModelScorer, room: Room) -> float:
    """Mean true value of the ranker's best plan per evaluation incident."""
    picks = []
    for (incident, plans), truth in zip(room.decisions, room.truth, strict=True):
        env = expected_net_values(scorer, incident, plans, VALUES)
        picks.append(truth[greedy_index(env, plans)])
    return float(np.mean(picks))


def shares(value: float, room: Room) -> tuple[float, float]:
    """(lift, room) shares of a policy value."""
    return (
        (value - room.logging) / (room.best - room.logging),
        (value - room.random) / (room.best - room.random),
    )


def _items(plan: Plan) -> set[str]:
    """The catalog items of a plan."""
    return {a.item_id for a in plan.actions}


def bundled_room(seeds: list[int], n: int, rule: ExplorationPolicy) -> None:
    """Print each bundled model's share of the room as it ranks, and the newest one's regret
    per item: how often an item is in the best plan in hindsight but not in the pick (under)
    and the other way round (over)."""
    scorers = {folder.name: ModelScorer(load_artifact(folder)) for folder in bundled_folders()}
    newest = bundled_folders()[-1].name
    found: dict[str, list[tuple[float, float, float]]] = {name: [] for name in scorers}
    under: dict[str, int] = {}
    over: dict[str, int] = {}
    segments: dict[str, list[float]] = {}
    for seed in seeds:
        room = evaluation_set(n, seed, rule)
        for name, scorer in scorers.items():
            value = value_of_ranker(scorer, room)
            found[name].append((value, *shares(value, room)))
        for (incident, plans), truth in zip(room.decisions, room.truth, strict=True):
            env = expected_net_values(scorers[newest], incident, plans, VALUES)
            pick, best = plans[greedy_index(env, plans)], plans[int(np.argmax(truth))]
            for item in _items(best) - _items(pick):
                under[item] = under.get(item, 0) + 1
            for item in _items(pick) - _items(best):
                over[item] = over.get(item, 0) + 1
            regret = float(truth.max() - truth[greedy_index(env, plans)])
            for label in (
                "public" if incident.is_public else "private",
                "repeat" if incident.prior_incidents else "first",
            ):
                segments.setdefault(label, []).append(regret)
        print(f"  seed {seed} done", flush=True)
    print("| model | value | room (worst seed) |")
    print("|---|---:|---:|")
    for name, rows in found.items():
        table = np.array(rows)
        value, share, worst = table[:, 0].mean(), table[:, 2].mean(), table[:, 2].min()
        print(f"| {name} | {value:.2f} | {share:.1%} ({worst:.1%}) |")
    total = n * len(seeds)
    print(f"\n{newest}: items under-picked / over-picked against the best plan in hindsight")
    for item in sorted(set(under) | set(over), key=lambda i: -(under.get(i, 0) + over.get(i, 0))):
        below, above = under.get(item, 0) / total, over.get(item, 0) / total
        print(f"  {item:28} under {below:6.1%}  over {above:6.1%}")
    print(f"{newest}: mean regret per decision (USD) by segment")
    for label, regrets in segments.items():
        print(f"  {label:8} {np.mean(regrets):7.2f} over {len(regrets)} decisions")
