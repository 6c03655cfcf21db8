"""Fit the retention and referral pipelines, evaluate them on the holdout, and plot the results."""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from sklearn.metrics import (
    brier_score_loss,
    log_loss,
    mean_absolute_error,
    mean_poisson_deviance,
    roc_auc_score,
)
from sklearn.pipeline import Pipeline
from threadpoolctl import ThreadpoolController, threadpool_limits
from tqdm.auto import tqdm

from models.calibration import calibrate, is_calibrated, uncalibrated
from models.pipeline import REFERRALS, RETENTION, referrals_pipeline, retention_pipeline
from training.calibration import CALIBRATION_METHOD, split_for_calibration
from training.logs import LoggedRows
from training.offpolicy import Estimate
from training.prior import PriorRows, referrals_training_set, retention_training_set


def _pyplot() -> ModuleType:
    """Return pyplot on the Agg backend: plots are files, training runs without a display."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def fit_models(
    rows: LoggedRows,
    *,
    seed: int = 0,
    threads: int | None = None,
    progress: bool = True,
    prior: PriorRows | None = None,
    calibration_fraction: float = 0.0,
    calibration_method: str = CALIBRATION_METHOD,
    **params: object,
) -> dict[str, Pipeline]:
    """Fit both pipelines on the logged rows; `params` override the boosting settings.

    `threads` is how many cores the fit may keep busy (None: as many as OpenMP would use here:
    `OMP_NUM_THREADS`, an enclosing `threadpool_limits`, else every core). The two pipelines
    are fitted side by side, each on its share of them (`_fit_side_by_side`).
    `prior` adds weighted pseudo-rows carrying the current model's beliefs (training/prior.py).
    `calibration_fraction` > 0 fits the retention booster on the earlier rows and a
    `calibration_method` step on the latest `calibration_fraction` of them
    (training/calibration.py; `remedy train` and the bundle use `CALIBRATION_FRACTION`); the
    default 0 fits as before issue 13, for the callers that want the booster's own scores
    (the holdout's cross-fitted reward model, the benchmarks).
    """
    if len(rows) == 0:
        raise ValueError("no rows to fit on")
    if rows.retained.all() or not rows.retained.any():
        raise ValueError("the retention labels need both outcomes")
    split = split_for_calibration(rows, calibration_fraction)
    sets = {
        RETENTION: retention_training_set(split.booster.features, split.booster.retained, prior),
        REFERRALS: referrals_training_set(rows.features, rows.referrals, prior),
    }
    pipelines = {
        RETENTION: retention_pipeline(seed, **params),
        REFERRALS: referrals_pipeline(seed, **params),
    }
    # Without a prior every weight is 1: fit unweighted, exactly as before.
    fits = [
        (name, pipeline, x, y, {} if prior is None else {"model__sample_weight": weight})
        for (name, pipeline), (x, y, weight) in zip(pipelines.items(), sets.values(), strict=True)
    ]
    cores = threads or _openmp_threads()
    models = _fit_side_by_side(fits, cores, progress)
    if split.slice is not None:
        # Logged rows weigh 1 in the fit; the slice holds no pseudo-rows: unweighted.
        with one_openmp_thread():  # the step is fitted on the booster's predictions
            models[RETENTION] = calibrate(
                models[RETENTION],
                split.slice.features,
                split.slice.retained.astype(int),
                calibration_method,
            )
    return models


def one_openmp_thread() -> threadpool_limits:
    """Limit OpenMP to one thread: for training's batch predictions.

    scikit-learn's predictor opens one OpenMP region per tree, and between them the team's
    other threads spin-wait (counted as CPU while they do nothing): on the 2-core machine at a
    load average of 6, the holdout's 200,000 rows took 5.1 CPU-s (7.8 s) on two threads and
    2.3 CPU-s (2.4 s) on one (benchmarks/README.md, issue 25).
    """
    return threadpool_limits(limits=1, user_api="openmp")


def _openmp_threads() -> int:
    """Return how many threads OpenMP would use in this thread (at least 1)."""
    found = ThreadpoolController().select(user_api="openmp").info()
    return max([1, *(int(library["num_threads"]) for library in found)])


def _fit_side_by_side(
    fits: list[tuple[str, Pipeline, np.ndarray, np.ndarray, dict[str, Any]]],
    cores: int,
    progress: bool,
) -> dict[str, Pipeline]:
    """Fit the pipelines at once, one Python thread each, the cores shared out among them.

    Why not one pipeline after the other on every core: histogram boosting opens an OpenMP
    region per histogram and per split, dozens per tree, and between them the team's other
    threads spin-wait for the next region (libgomp's default wait policy), counted as CPU
    time while they do nothing. On the 2-core machine, at 1M logged rows, both fits took 56
    CPU-s (73 s) on two threads each and 23.6 CPU-s (35 s) on one at a load average of 5, the
    same models to the bit; on a quiet machine the spinning was ~6 of `remedy train`'s 69
    CPU-s. Two fits side by side on one thread each keep both cores busy without the spinning
    (benchmarks/README.md, issue 25). The fits hold the GIL only between OpenMP regions. The
    OpenMP limit is set in each worker thread: it is per thread.
    """
    workers = max(1, min(len(fits), cores))
    share = max(1, cores // workers)

    def fit(job: tuple[str, Pipeline, np.ndarray, np.ndarray, dict[str, Any]]) -> Pipeline:
        """Fit one pipeline on its share of the cores."""
        _, pipeline, x, y, fit_params = job
        with threadpool_limits(limits=share, user_api="openmp"):
            return pipeline.fit(x, y, **fit_params)

    names = [name for name, *_ in fits]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="fit") as pool:
        fitted = tqdm(pool.map(fit, fits), total=len(fits), desc="fitting", disable=not progress)
        return dict(zip(names, fitted, strict=True))


def calibration_bins(p: np.ndarray, y: np.ndarray, n_bins: int = 10) -> list[dict[str, float]]:
    """Return equal-width bins of predicted P(stay) with mean prediction, observed rate, count."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.digitize(p, edges[1:-1]), 0, n_bins - 1)
    bins = []
    for b in range(n_bins):
        mask = which == b
        if mask.any():
            bins.append(
                {
                    "low": round(float(edges[b]), 6),
                    "high": round(float(edges[b + 1]), 6),
                    "predicted": float(p[mask].mean()),
                    "observed": float(y[mask].mean()),
                    "count": int(mask.sum()),
                }
            )
    return bins


def expected_calibration_error(bins: list[dict[str, float]]) -> float | None:
    """Return the count-weighted mean gap |predicted - observed| over calibration bins.

    0 is perfectly calibrated; it is the reliability plot in one number (None without rows).
    """
    total = sum(b["count"] for b in bins)
    if not total:
        return None
    return float(sum(b["count"] * abs(b["predicted"] - b["observed"]) for b in bins) / total)


def evaluate_holdout(models: Mapping[str, Pipeline], holdout: LoggedRows) -> dict[str, object]:
    """Return holdout metrics: log loss, AUC, Brier, calibration bins, referral errors.

    With a calibration step (models/calibration.py) every retention metric is the calibrated
    model's, as served, and `*_before` keys hold the booster's own log loss and calibration.
    """
    y = holdout.retained.astype(int)
    retention = models[RETENTION]
    with one_openmp_thread():
        p = np.clip(retention.predict_proba(holdout.features)[:, 1], 1e-6, 1 - 1e-6)
        p_before = None
        if is_calibrated(retention):
            booster = uncalibrated(retention)
            p_before = np.clip(booster.predict_proba(holdout.features)[:, 1], 1e-6, 1 - 1e-6)
        referrals = np.maximum(models[REFERRALS].predict(holdout.features), 1e-9)
    before: dict[str, object] = {}
    if p_before is not None:
        bins_before = calibration_bins(p_before, y)
        before = {
            "log_loss_before": float(log_loss(y, p_before, labels=[0, 1])),
            "calibration_before": bins_before,
            "calibration_error_before": expected_calibration_error(bins_before),
        }
    both = len(np.unique(y)) == 2
    return {
        "rows": len(holdout),
        "window": holdout.window(),
        "retention": {
            "base_rate": float(y.mean()),
            "log_loss": float(log_loss(y, p, labels=[0, 1])),
            # log loss of always predicting the base rate, to read the model's against
            "log_loss_base_rate": float(log_loss(y, np.full(len(y), y.mean()), labels=[0, 1]))
            if both
            else None,
            "auc": float(roc_auc_score(y, p)) if both else None,
            "brier": float(brier_score_loss(y, p)),
            "calibration": calibration_bins(p, y),
            "calibration_error": expected_calibration_error(calibration_bins(p, y)),
            **before,
        },
        "referrals": {
            "observed_mean": float(holdout.referrals.mean()),
            "predicted_mean": float(referrals.mean()),
            "mae": float(mean_absolute_error(holdout.referrals, referrals)),
            "poisson_deviance": float(mean_poisson_deviance(holdout.referrals, referrals)),
        },
    }


def plot_calibration(
    bins: list[dict[str, float]],
    path: Path,
    title: str = "",
    before: list[dict[str, float]] | None = None,
) -> Path:
    """Draw predicted vs observed P(stay) per bin (marker area ~ count) and write a PNG.

    `before`: the same holdout's bins for the booster before its calibration step, drawn as a
    second series on the same axes so the two curves read against each other and the diagonal.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 5), dpi=100)
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", linewidth=1, label="perfect")
    series = [(bins, "C0", "holdout bins" if before is None else "after calibration")]
    if before is not None:
        series.insert(0, (before, "C1", "before calibration"))
    largest = max((b["count"] for found, _, _ in series for b in found), default=1)
    for found, colour, label in series:
        counts = np.array([b["count"] for b in found], dtype=float)
        sizes = 20 + 300 * counts / max(largest, 1.0) if len(found) else []
        ax.plot([b["predicted"] for b in found], [b["observed"] for b in found], color=colour)
        ax.scatter(
            [b["predicted"] for b in found],
            [b["observed"] for b in found],
            s=sizes,
            color=colour,
            alpha=0.8,
            label=label,
        )
    ax.set(
        xlim=(0, 1),
        ylim=(0, 1),
        xlabel="predicted P(stay)",
        ylabel="observed stay rate",
        title=title or "Calibration on the holdout",
    )
    ax.legend(loc="upper left")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_policy_values(
    estimates: Mapping[str, list[Estimate]],
    path: Path,
    truth: Mapping[str, float] | None = None,
    title: str = "",
) -> Path:
    """Draw each policy's off-policy estimates with intervals (and the true value) as a PNG."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=100)
    truth = truth or {}
    colours: dict[str, str] = {}
    width = 0.2
    for i, (policy, policy_estimates) in enumerate(estimates.items()):
        bars = [(e.method, e.value, e.value - e.low, e.high - e.value) for e in policy_estimates]
        if policy in truth:
            bars.append(("simulator truth", truth[policy], 0.0, 0.0))
        for j, (method, value, below, above) in enumerate(bars):
            colour = colours.setdefault(
                method, "0.35" if method == "simulator truth" else f"C{len(colours)}"
            )
            label = method if method not in ax.get_legend_handles_labels()[1] else None
            x = i + (j - (len(bars) - 1) / 2) * width
            error = [[below], [above]] if below or above else None
            ax.bar(x, value, width, yerr=error, capsize=3, color=colour, label=label)
    ax.set_xticks(range(len(estimates)), list(estimates))
    ax.axhline(0, color="black", linewidth=0.5)
    ax.set(ylabel="mean net value per decision (USD)", title=title or "Policy values")
    ax.legend(
        loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=5, fontsize="small", frameon=False
    )
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    plt.close(fig)
    return path
