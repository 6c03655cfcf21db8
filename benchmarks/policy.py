"""A peer, measured: the project's ranker against Vowpal Wabbit's contextual bandit on one log.

    pip install -e '.[bench]'          # vowpalwabbit: a benchmark extra, never a runtime need
    nice python benchmarks/policy.py [--sizes 1000 3000 10000] [--seeds 0 1 2] [--eval 2000]

Per seed, the simulator (training/simulator.py) draws incidents; the service's own decision
engine (training/service_candidates.py: the bundled catalog, rules and caps through rules,
planner and per-incident cap) gives each incident its candidate plans; the service's own
exploration rule (remedy/decisions/exploration.py: with probability `rate` the plan shown first
is drawn uniformly from the top `top_k`, else the greedy best) picks the plan shown, ranked by
the newest bundled model (what a fresh install serves), and its propensity is logged; the
simulator draws the outcome. The first 1k, 3k and 10k rows of that one log train both learners:

- **ranker**: the project's training as `remedy train` runs it (training/fit.py `fit_models`:
  P(stay) and referrals, gradient-boosted, combined into expected net value by the ranker's
  formula), keeping the prior: the model in use (the bundled one that logged) is distilled into
  pseudo-rows worth 2,000 decisions beside the log (training/prior.py);
- **ranker, log only**: the same without the prior (what retraining did before issue 13);
- **vw**: `--cb_adf` with the same features (the incident's as a shared namespace, the plan's as
  the action namespace, `-q sa` interactions, categorical codes as indicators), the logged
  propensities, and as cost the negative realised net value divided by the customer's value
  (a per-incident scale, so the argmax is unchanged and VW is not asked to learn the customer
  value's scale); its cost estimator and number of passes are tuned once on a separate seed and
  the best setting is used everywhere (the peer gets its best shot);
- **vw + prior**: the same VW, first taught the prior the ranker keeps (the bundled model's
  expected net value of every candidate of 600 logged decisions, one labelled example each),
  so that both learners start from the same knowledge.

Both then pick a plan for `--eval` fresh incidents, and the simulator's true expected net value
of each pick is averaged. Reported per size (mean over seeds, and the worst seed):

- `value`: mean true net value per decision, USD at the simulator's rates;
- `lift`: the share of the room between the logging policy and the best plan in hindsight
  that the policy captures, (V - V_logging) / (V_best - V_logging);
- `room`: the share of the room between a random offered plan and the best offered plan in
  hindsight, (V - V_random) / (V_best - V_random).

`--bundled-only` skips learning and measures only the bundled models as they rank (no
retraining, no VW): each bundled model's greedy pick on the evaluation incidents, its value
and its share of the room, and for the newest the per-kind regret (items of the best plan in
hindsight it under- or over-picks). Cheap enough for a busy machine.

Figures with their command and load average are in benchmarks/README.md ("A peer learner").
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from models.artifact import Artifact, load_artifact  # noqa: E402
from models.features import CURRENT, FEATURE_NAMES, VOCABULARIES, feature_matrix  # noqa: E402
from models.scorer import ModelScorer  # noqa: E402
from remedy.decisions.exploration import ExplorationPolicy  # noqa: E402
from remedy.decisions.ranker import ValueSettings  # noqa: E402
from remedy.domain import Incident, Plan  # noqa: E402
from remedy.services.model_registry import bundled_folders  # noqa: E402
from training.fit import fit_models  # noqa: E402
from training.logs import LoggedRows, expected_net_values, greedy_index  # noqa: E402
from training.prior import distil  # noqa: E402
from training.service_candidates import service_candidates  # noqa: E402
from training.simulator import (  # noqa: E402
    FX_PER_USD,
    random_incident,
    realized_net_value,
    simulate_outcome,
    true_net_value,
)

SHARED = CURRENT.names[: CURRENT.n_incident]  # the incident's columns, the plan's after them
VALUES = ValueSettings()
TUNING_SEED = 99
VW_SETTINGS = [f"{cb} x{passes}" for cb in ("mtr", "dr", "ips") for passes in (1, 5)]


@dataclass
class Logged:
    """One logged decision: its incident, candidates, their features, the plan shown, outcome."""

    incident: Incident
    plans: list[Plan]
    features: np.ndarray
    shown: int
    propensity: float
    retained: bool
    referrals: int
    reward: float  # realised net value, USD


@functools.lru_cache(maxsize=1)
def bundled_scorer() -> ModelScorer:
    """The newest bundled model: the ranking a fresh install logs with."""
    return ModelScorer(load_artifact(bundled_folders()[-1]))


def logging_probabilities(
    incident: Incident, plans: list[Plan], rule: ExplorationPolicy
) -> np.ndarray:
    """The service's exploration rule over the bundled model's ranking: P(each plan first)."""
    env = expected_net_values(bundled_scorer(), incident, plans, VALUES)
    best = greedy_index(env, plans)
    order = [best] + [int(i) for i in np.argsort(-env, kind="stable") if i != best]
    probs = np.zeros(len(plans))
    for rank, p in zip(order, rule.propensities(len(plans)), strict=True):
        probs[rank] = float(p)
    return probs / probs.sum()


def draw_log(n: int, seed: int, rule: ExplorationPolicy) -> list[Logged]:
    """Log `n` decisions of the service's candidates under its exploration rule."""
    rng = np.random.default_rng(seed)
    log: list[Logged] = []
    while len(log) < n:
        incident = random_incident(rng, index=len(log))
        plans = service_candidates(incident)
        if not plans:
            continue
        probs = logging_probabilities(incident, plans, rule)
        shown = int(rng.choice(len(plans), p=probs))
        retained, referrals = simulate_outcome(incident, plans[shown], rng)
        reward = realized_net_value(incident, plans[shown], retained, referrals)
        log.append(
            Logged(
                incident,
                plans,
                feature_matrix(incident, plans),
                shown,
                float(probs[shown]),
                retained,
                referrals,
                reward,
            )
        )
    return log


def fit_ranker(log: list[Logged], seed: int, folder: Path, keep_prior: bool) -> ModelScorer:
    """The project's training on the logged rows (the plan shown and its outcome), with the
    bundled model's beliefs distilled beside them when `keep_prior` (as `remedy train` does:
    on a sample of the training decisions' candidates)."""
    rows = LoggedRows(
        features=np.array([d.features[d.shown] for d in log]),
        retained=np.array([d.retained for d in log]),
        referrals=np.array([d.referrals for d in log]),
        propensity=np.array([d.propensity for d in log]),
        reward=np.array([d.reward for d in log]),
        decided_at=np.zeros(len(log), dtype="datetime64[s]"),
        logged_index=np.array([d.shown for d in log]),
    )
    prior = (
        distil([(d.incident, d.plans) for d in log], bundled_scorer(), seed=seed)
        if keep_prior
        else None
    )
    models = fit_models(rows, seed=seed, threads=1, progress=False, prior=prior)
    return ModelScorer(Artifact(models, {"version": f"bench-{seed}"}, folder))


def _namespace(row: np.ndarray, names: tuple[str, ...]) -> str:
    """VW features of `names` from one feature row: categoricals as indicators."""
    parts = []
    for name in names:
        value = row[FEATURE_NAMES.index(name)]
        if name in VOCABULARIES:
            parts.append(f"{name}={int(value)}")
        else:
            parts.append(f"{name}:{value:.6g}")
    return " ".join(parts)


ACTION = tuple(name for name in FEATURE_NAMES if name not in SHARED)


def vw_example(d: Logged, label: bool) -> list[str]:
    """One multi-line cb_adf example: the shared incident, then one line per candidate plan."""
    lines = [f"shared |s {_namespace(d.features[0], SHARED)}"]
    value_usd = float(d.incident.customer_value) / FX_PER_USD[d.incident.currency]
    for k in range(len(d.plans)):
        prefix = ""
        if label and k == d.shown:
            prefix = f"0:{-d.reward / max(value_usd, 1.0):.6g}:{d.propensity:.6g} "
        lines.append(f"{prefix}|a {_namespace(d.features[k], ACTION)}")
    return lines


def prior_examples(log: list[Logged], seed: int, sample: int = 600) -> list[list[str]]:
    """The bundled model's beliefs as VW examples: for every candidate of a sample of the logged
    decisions, one example labelling that candidate with the model's expected net value (as a
    cost per unit of customer value, probability 1) -- the same prior the ranker keeps."""
    rng = np.random.default_rng(seed)
    examples = []
    for i in np.sort(rng.permutation(len(log))[: min(sample, len(log))]):
        d = log[i]
        env = expected_net_values(bundled_scorer(), d.incident, d.plans, VALUES)
        value_usd = max(float(d.incident.customer_value) / FX_PER_USD[d.incident.currency], 1.0)
        per_value = env / FX_PER_USD[d.incident.currency] / value_usd
        for k in range(len(d.plans)):
            lines = vw_example(d, label=False)
            lines[k + 1] = f"0:{-per_value[k]:.6g}:1 " + lines[k + 1]
            examples.append(lines)
    return examples


def fit_vw(log: list[Logged], setting: str, seed: int, keep_prior: bool = False):  # noqa: ANN201
    """VW's contextual bandit on the log: `setting` is '<cb_type> x<passes>'; with
    `keep_prior`, first taught the bundled model's beliefs (`prior_examples`)."""
    import vowpalwabbit

    cb_type, passes = setting.split(" x")
    vw = vowpalwabbit.Workspace(f"--cb_adf --cb_type {cb_type} -q sa --quiet --random_seed {seed}")
    rng = np.random.default_rng(seed)
    if keep_prior:
        for example in prior_examples(log, seed):
            vw.learn(example)
    examples = [vw_example(d, label=True) for d in log]
    for _ in range(int(passes)):
        for i in rng.permutation(len(examples)) if int(passes) > 1 else range(len(examples)):
            vw.learn(examples[i])
    return vw


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


def value_of_vw(vw, room: Room) -> float:  # noqa: ANN001
    """Mean true value of VW's lowest-cost plan per evaluation incident."""
    picks = []
    for (incident, plans), truth in zip(room.decisions, room.truth, strict=True):
        d = Logged(incident, plans, feature_matrix(incident, plans), 0, 1.0, False, 0, 0.0)
        costs = vw.predict(vw_example(d, label=False))
        picks.append(truth[int(np.argmin(costs))])
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


def main() -> None:
    """Print the peer table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 3000, 10000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--eval", type=int, default=2000, help="evaluation incidents per seed")
    parser.add_argument("--rate", default="0.10", help="exploration rate (service default)")
    parser.add_argument("--top-k", type=int, default=5, help="exploration top_k (default)")
    parser.add_argument(
        "--bundled-only", action="store_true", help="only the bundled models' share of the room"
    )
    args = parser.parse_args()
    rule = ExplorationPolicy(rate=args.rate, top_k=args.top_k)
    started = time.perf_counter()
    print(f"load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.bundled_only:
        bundled_room(args.seeds, args.eval, rule)
        took = time.perf_counter() - started
        print(f"seeds {args.seeds}, {args.eval} evaluation incidents each; {took:.0f} s")
        print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        return

    # Tune VW once, on its own seed, at the middle size.
    tune_n = sorted(args.sizes)[len(args.sizes) // 2]
    tune_log = draw_log(tune_n, TUNING_SEED, rule)
    tune_room = evaluation_set(args.eval // 2, TUNING_SEED, rule)
    tuned = {s: value_of_vw(fit_vw(tune_log, s, TUNING_SEED), tune_room) for s in VW_SETTINGS}
    best = max(tuned, key=tuned.get)
    print(f"VW tuning on seed {TUNING_SEED}, {tune_n} rows (true value, USD):")
    for setting, value in tuned.items():
        print(f"  {setting:8} {value:9.2f}{'  <- used' if setting == best else ''}")

    results: dict[tuple[str, int], list[tuple[float, float, float]]] = {}
    rooms = []
    for seed in args.seeds:
        log = draw_log(max(args.sizes), seed, rule)
        room = evaluation_set(args.eval, seed, rule)
        rooms.append(room)
        for n in args.sizes:
            with tempfile.TemporaryDirectory() as folder:
                ranker = value_of_ranker(fit_ranker(log[:n], seed, Path(folder), True), room)
                alone = value_of_ranker(fit_ranker(log[:n], seed, Path(folder), False), room)
            vw = value_of_vw(fit_vw(log[:n], best, seed), room)
            vw_prior = value_of_vw(fit_vw(log[:n], best, seed, keep_prior=True), room)
            for name, value in (
                ("ranker", ranker),
                ("ranker, log only", alone),
                ("vw", vw),
                ("vw + prior", vw_prior),
            ):
                results.setdefault((name, n), []).append((value, *shares(value, room)))
        print(f"  seed {seed} done ({time.perf_counter() - started:.0f} s)", flush=True)

    print()
    logging, random, hindsight = (
        np.mean([getattr(r, a) for r in rooms]) for a in ("logging", "random", "best")
    )
    print(
        f"per decision, USD, mean over seeds: logging {logging:.2f}, random offered plan "
        f"{random:.2f}, best offered plan in hindsight {hindsight:.2f}"
    )
    print("| rows | learner | value | lift (worst seed) | room (worst seed) |")
    print("|---:|---|---:|---:|---:|")
    for n in args.sizes:
        for name in ("ranker", "ranker, log only", "vw", "vw + prior"):
            rows = np.array(results[(name, n)])
            value, lift, room_share = rows.mean(axis=0)
            print(
                f"| {n:,} | {name.replace('vw', 'vw ' + best)} | {value:.2f} | "
                f"{lift:.1%} ({rows[:, 1].min():.1%}) | {room_share:.1%} ({rows[:, 2].min():.1%}) |"
            )
    ahead = all(
        np.array(results[("ranker", n)])[:, 0].mean()
        > max(np.array(results[(vw, n)])[:, 0].mean() for vw in ("vw", "vw + prior"))
        for n in args.sizes
    )
    print(f"\nranker ahead of VW at every size: {ahead}")
    took = time.perf_counter() - started
    print(f"seeds {args.seeds}, {args.eval} evaluation incidents each; {took:.0f} s")
    print(f"load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
