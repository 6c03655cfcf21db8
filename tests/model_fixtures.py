"""Fixtures for model and training tests: one small model, trained once per session."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from models.artifact import Artifact, save_artifact
from training.fit import fit_models
from training.logs import LoggedRows, simulate_logs

# Decisions the shared model learns from, and its boosting rounds: enough for the model to beat
# the heuristic prior clearly (tests/training/test_policy_value.py), small enough to stay fast.
TRAINING_DECISIONS = 12_000
TRAINING_ROUNDS = 100


@pytest.fixture(scope="session", autouse=True)
def one_openmp_thread():
    """Fit and predict on one OpenMP thread for the whole session."""
    # On a busy 2-core machine, two OpenMP threads waiting for each other made fits 4-15x
    # slower (benchmarks/README.md); one thread keeps the suite fast and steady.
    with threadpool_limits(limits=1, user_api="openmp"):
        yield


@pytest.fixture(scope="session")
def logged_rows() -> LoggedRows:
    """Decisions logged uniformly at random in the simulator (seeded)."""
    return simulate_logs(TRAINING_DECISIONS, seed=7, n_jobs=2, progress=False)


@pytest.fixture(scope="session")
def trained_models(logged_rows: LoggedRows) -> dict:
    """Both pipelines fitted on the logged rows."""
    return fit_models(logged_rows, seed=7, progress=False, max_iter=TRAINING_ROUNDS)


@pytest.fixture(scope="session")
def artifact_dir(tmp_path_factory: pytest.TempPathFactory, trained_models: dict):
    """A saved artifact folder of the trained models."""
    folder = tmp_path_factory.mktemp("artifacts") / "test-model-1"
    save_artifact(folder, trained_models, training_window={"rows": TRAINING_DECISIONS})
    return folder


@pytest.fixture(scope="session")
def in_memory_artifact(trained_models: dict, tmp_path_factory: pytest.TempPathFactory) -> Artifact:
    """The trained models wrapped as an artifact without touching disk."""
    return Artifact(trained_models, {"version": "in-memory"}, tmp_path_factory.getbasetemp())


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded random generator."""
    return np.random.default_rng(2024)
