"""Champion/challenger in the simulator: does the policy after learning beat the bundled prior?

    pip install -e '.[bench]'     # vowpalwabbit, the peer; a benchmark extra, never a runtime need
    nice python benchmarks/challenger.py [--seeds 0 1 2] [--sizes 3000 10000] [--eval 1000]

Per seed, in process (the service's own engine, exploration rule, arm assignment, sequential
test and value definition; no HTTP), in a **world drawn for the seed** (training/world.py
`World.drawn`: a deployment's customers, somewhere in the literature's ranges, not the world the
bundled prior was trained in; `--world home` runs in the prior's own world instead):

1. **Log.** The simulator (training/simulator.py: public complainers with an audience, repeat
   victims, customers leaving or gone) draws incidents; the service's engine gives each its
   candidate plans (training/service_candidates.py); the newest bundled model (the champion a
   fresh install serves) ranks them; the service's exploration rule, adaptive as deployed
   (rate 0.10, top 5, closeness 0.05; never on the protected incidents), picks the plan shown,
   and the simulator draws the outcome. The first 3,000 and 10,000 rows of that one log are the
   two sizes.
2. **Learn.** The challenger is trained on the log as `remedy train` fits (training/fit.py, the
   prior kept: benchmarks/policy_learners.py `fit_ranker`). The offline gate is not applied
   here: every candidate goes to the experiment, so the online test alone decides what is
   promoted.
3. **Champion/challenger.** Fresh customers arrive; each is on an arm by `arm_for` (team,
   customer, experiment; share 0.5); that arm's model ranks with the same exploration and the
   simulator draws the outcome; every 250 outcomes the sequential test
   (remedy/decisions/experiments.py `compare`, alpha 0.05, at most `--max-per-arm` outcomes
   per arm, each reward centred on the predictable baseline of the customer's worth as the
   service does; `--unadjusted` without it) decides: promote, retire or continue. The policy
   after learning is the challenger if promoted, else the champion.
4. **Truth.** On `--eval` fresh incidents, the simulator's true expected net value of each
   policy's greedy pick: the policy after learning, the bundled prior (the champion), and
   Vowpal Wabbit's cb_adf fitted on the same log (benchmarks/policy_learners.py `fit_vw`, its tuned
   setting `mtr x1`). Printed: value per decision and the paired difference against the bundled
   prior with a 90% interval (normal, over the evaluation incidents).
5. **Ceiling.** On the first `--ceiling` evaluation incidents, the pick of a policy that knows
   the world exactly but not the customer's hidden traits: the most any learner could gain over
   the prior, to be read beside the online interval's width (what the test can tell apart).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.policy_learners import fit_ranker, fit_vw, vw_example  # noqa: E402
from benchmarks.policy_log import VALUES, Logged, bundled_scorer  # noqa: E402
from models.features import feature_matrix  # noqa: E402
from remedy.decisions.experiments import (  # noqa: E402
    CHALLENGER,
    CONTINUE,
    PROMOTE,
    SequentialPlan,
    arm_for,
    compare,
)
from remedy.decisions.exploration import ExplorationPolicy, protected_by  # noqa: E402
from training.logs import expected_net_values, greedy_index  # noqa: E402
from training.service_candidates import service_candidates  # noqa: E402
from training.simulator import (  # noqa: E402
    FX_PER_USD,
    random_incident,
    realized_net_value,
    simulate_outcome,
    true_net_value,
)
from training.world import HOME, World  # noqa: E402

RULE = ExplorationPolicy(Decimal("0.10"), 5, Decimal("0.05"))
Z90 = 1.6448536269514722
CHECK_EVERY = 250


def explore(scorer, incident, plans, rng) -> tuple[int, float]:  # noqa: ANN001
    """The service's rule over `scorer`'s ranking: the index shown first and its propensity."""
    env = expected_net_values(scorer, incident, plans, VALUES)
    best = greedy_index(env, plans)
    order = [best] + [int(i) for i in np.argsort(-env, kind="stable") if i != best]
    eligible = [True] + [not protected_by(incident)] * (len(order) - 1)
    values = [Decimal(str(round(float(env[i]), 2))) for i in order]
    probabilities = RULE.propensities(len(order), eligible, values)
    p = np.array([float(x) for x in probabilities])
    pick = int(rng.choice(len(order), p=p / p.sum()))
    return order[pick], float(probabilities[pick])


def draw_log(n: int, seed: int, world: World) -> list[Logged]:
    """`n` decisions logged by the champion under the adaptive rule, outcomes from `world`."""
    rng = np.random.default_rng(seed)
    log: list[Logged] = []
    while len(log) < n:
        incident = random_incident(rng, index=len(log))
        plans = service_candidates(incident)
        if not plans:
            continue
        shown, propensity = explore(bundled_scorer(), incident, plans, rng)
        retained, referrals = simulate_outcome(incident, plans[shown], rng, world)
        reward = realized_net_value(incident, plans[shown], retained, referrals)
        log.append(
            Logged(
                incident,
                plans,
                feature_matrix(incident, plans),
                shown,
                propensity,
                retained,
                referrals,
                reward,
            )
        )
    return log


def experiment(  # noqa: ANN201
    challenger,  # noqa: ANN001
    seed: int,
    size: int,
    max_per_arm: int,
    world: World,
    adjusted: bool,
):
    """Run the online experiment; return whether the challenger was promoted, and the last
    comparison."""
    rng = np.random.default_rng([seed, size, 7])
    plan = SequentialPlan(share=0.5, alpha=0.05, max_per_arm=max_per_arm)
    experiment_id = f"bench-{seed}-{size}"
    rewards: list[float] = []
    worths: list[float] = []
    arms: list[str] = []
    found = None
    i = 0
    while True:
        incident = random_incident(rng, index=i)
        i += 1
        plans = service_candidates(incident)
        if not plans:
            continue
        arm = arm_for("bench", f"o-{seed}-{i}", experiment_id, Decimal("0.5"))
        scorer = challenger if arm == CHALLENGER else bundled_scorer()
        shown, _ = explore(scorer, incident, plans, rng)
        retained, referrals = simulate_outcome(incident, plans[shown], rng, world)
        rewards.append(realized_net_value(incident, plans[shown], retained, referrals))
        worths.append(float(incident.customer_value) / FX_PER_USD[incident.currency])
        arms.append(arm)
        if len(rewards) % CHECK_EVERY == 0:
            found = compare(rewards, arms, plan, worths if adjusted else None)
            if found.decision != CONTINUE:
                return found.decision == PROMOTE, found.as_dict()


def evaluation(n: int, seed: int, world: World) -> tuple[list, list[np.ndarray]]:
    """Fresh incidents with their candidates and every plan's true value in `world`."""
    rng = np.random.default_rng([seed, 1])
    decisions, truth = [], []
    while len(decisions) < n:
        incident = random_incident(rng)
        plans = service_candidates(incident)
        if plans:
            decisions.append((incident, plans))
            truth.append(np.array([true_net_value(incident, p, VALUES, world) for p in plans]))
    return decisions, truth


def picks_ranker(scorer, decisions, truth) -> np.ndarray:  # noqa: ANN001
    """True value of the scorer's greedy pick per evaluation incident."""
    return np.array(
        [
            t[greedy_index(expected_net_values(scorer, incident, plans, VALUES), plans)]
            for (incident, plans), t in zip(decisions, truth, strict=True)
        ]
    )


def picks_oracle(decisions, truth, world: World, draws: int = 30) -> np.ndarray:  # noqa: ANN001
    """True value of the best a learner could reach: the pick of a policy that knows `world`
    exactly but not the customer's hidden traits (each plan's value averaged over `draws`
    customers with the incident's observable fields). The ceiling of learning from outcomes."""
    out = []
    for k, ((incident, plans), t) in enumerate(zip(decisions, truth, strict=True)):
        expected = np.zeros(len(plans))
        for c in range(draws):
            other = dataclasses.replace(incident, customer_id=f"ceiling-{k}-{c}")
            expected += [true_net_value(other, p, VALUES, world) for p in plans]
        out.append(t[int(np.argmax(expected))])
    return np.array(out)


def picks_vw(vw, decisions, truth) -> np.ndarray:  # noqa: ANN001
    """True value of VW's lowest-cost plan per evaluation incident."""
    out = []
    for (incident, plans), t in zip(decisions, truth, strict=True):
        d = Logged(incident, plans, feature_matrix(incident, plans), 0, 1.0, False, 0, 0.0)
        out.append(t[int(np.argmin(vw.predict(vw_example(d, label=False))))])
    return np.array(out)


def interval(difference: np.ndarray) -> str:
    """Mean and 90% interval of a paired difference."""
    mean = float(difference.mean())
    half = Z90 * float(difference.std(ddof=1)) / np.sqrt(len(difference))
    return f"{mean:+8.2f} [{mean - half:+8.2f}, {mean + half:+8.2f}]"


def main() -> None:
    """Run the seeds and print one line per seed and size."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--sizes", type=int, nargs="+", default=[3000, 10000])
    parser.add_argument("--eval", type=int, default=1000)
    parser.add_argument("--max-per-arm", type=int, default=4000)
    parser.add_argument(
        "--ceiling", type=int, default=300, help="evaluation incidents the ceiling is found on"
    )
    parser.add_argument(
        "--world",
        choices=("drawn", "home"),
        default="drawn",
        help="drawn: each seed's customers are World.drawn(seed), not the prior's world; "
        "home: the world the bundled prior was trained in",
    )
    parser.add_argument(
        "--unadjusted",
        action="store_true",
        help="the sequential test without the customer's worth as its baseline covariate",
    )
    args = parser.parse_args()
    try:
        import vowpalwabbit  # noqa: F401

        have_vw = True
    except ImportError:
        have_vw = False
        print("vowpalwabbit is not installed (pip install -e '.[bench]'): VW left out")
    print(f"load average at start: {os.getloadavg()}")
    print(
        "seed  size  promoted  online n (champion/challenger)  after-learning USD  "
        "vs prior (90%)            VW USD   VW vs prior (90%)"
    )
    for seed in args.seeds:
        started = time.process_time()
        world = HOME if args.world == "home" else World.drawn(seed)
        print(f"     seed {seed}: world {world.describe()}", flush=True)
        log = draw_log(max(args.sizes), seed, world)
        decisions, truth = evaluation(args.eval, seed, world)
        prior = picks_ranker(bundled_scorer(), decisions, truth)
        if args.ceiling:
            few = slice(0, args.ceiling)
            ceiling = picks_oracle(decisions[few], truth[few], world)
            print(
                f"     seed {seed}: ceiling (knows the world, not the customer) vs prior on "
                f"{len(ceiling)} incidents: {interval(ceiling - prior[few])}",
                flush=True,
            )
        for size in sorted(args.sizes):
            with tempfile.TemporaryDirectory() as folder:
                candidate = fit_ranker(log[:size], seed, Path(folder), keep_prior=True)
                promoted, found = experiment(
                    candidate, seed, size, args.max_per_arm, world, not args.unadjusted
                )
                learned = picks_ranker(candidate, decisions, truth)
                after = learned if promoted else prior
            vw_text = ""
            if have_vw:
                vw = fit_vw(log[:size], "mtr x1", seed)
                by_vw = picks_vw(vw, decisions, truth)
                vw_text = f"{by_vw.mean():8.2f}  {interval(by_vw - prior)}"
            n = found["n"]
            print(
                f"{seed:>4} {size:>5}  {'yes' if promoted else 'no':>8}  "
                f"{n['champion']:>6}/{n['challenger']:<6} ({found['reason']:<12}; "
                f"online [{found['low']}, {found['high']}])  "
                f"{after.mean():10.2f}  {interval(after - prior)}  "
                f"(challenger itself {interval(learned - prior)})  {vw_text}",
                flush=True,
            )
        print(
            f"     seed {seed}: prior {prior.mean():.2f} USD per decision; "
            f"{time.process_time() - started:.0f} CPU-s; load {os.getloadavg()}",
            flush=True,
        )


if __name__ == "__main__":
    main()
