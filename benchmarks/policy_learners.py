"""The two learners of benchmarks/policy.py, trained on the same log: the project's ranker (as
`remedy train` fits it, with or without the prior) and Vowpal Wabbit's `--cb_adf` (with the
same features, and optionally the same prior); each one's value on the evaluation room."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from benchmarks.policy_log import VALUES, Logged, bundled_scorer
from benchmarks.policy_room import Room
from models.artifact import Artifact
from models.features import CURRENT, FEATURE_NAMES, VOCABULARIES, feature_matrix
from models.scorer import ModelScorer
from training.fit import fit_models
from training.logs import LoggedRows, expected_net_values
from training.prior import distil
from training.simulator import FX_PER_USD

SHARED = CURRENT.names[: CURRENT.n_incident]  # the incident's columns, the plan's after them
VW_SETTINGS = [f"{cb} x{passes}" for cb in ("mtr", "dr", "ips") for passes in (1, 5)]


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


def value_of_vw(vw, room: Room) -> float:  # noqa: ANN001
    """Mean true value of VW's lowest-cost plan per evaluation incident."""
    picks = []
    for (incident, plans), truth in zip(room.decisions, room.truth, strict=True):
        d = Logged(incident, plans, feature_matrix(incident, plans), 0, 1.0, False, 0, 0.0)
        costs = vw.predict(vw_example(d, label=False))
        picks.append(truth[int(np.argmin(costs))])
    return float(np.mean(picks))
