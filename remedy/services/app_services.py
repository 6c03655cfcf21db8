"""The app's services, typed: one `Services` stored once on the app, found by accessors.

Views, commands and jobs used to find providers by string keys in `app.extensions`; a typo
there fails only at run time, and nothing says what type comes back. `create_app` builds one
`Services` and `install`s it; code reads it with `services()` or the accessors below
(`engines()`, `scorer()`, `exploration()`, `principals()`, `jobs()`, `four_eyes()`,
`at_risk()`, `experiments()`), in a request or app context, or with an explicit `app` outside
one.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import NamedTuple

from flask import Flask, current_app

from remedy.decisions.exploration import ExplorationPolicy
from remedy.services.approvals import FourEyes
from remedy.services.at_risk import AtRiskSettings
from remedy.services.engines import EngineProvider
from remedy.services.experiments import RunningExperiment
from remedy.services.job_kinds import JobRegistry
from remedy.services.keys import PrincipalCache
from remedy.services.model_registry import ScorerProvider

_KEY = "remedy.services"


class Exploration(NamedTuple):
    """The exploration policy and the random source it draws from (one per worker)."""

    policy: ExplorationPolicy
    rng: random.Random


@dataclass(frozen=True)
class Services:
    """Every provider the app holds, built once in `create_app`."""

    engines: EngineProvider
    scorer: ScorerProvider
    principals: PrincipalCache
    exploration: Exploration
    jobs: JobRegistry
    four_eyes: FourEyes  # who may not approve (checked once at start: an unknown tier stops it)
    at_risk: AtRiskSettings  # the thresholds of the incidents at risk (checked once at start)
    experiments: RunningExperiment

    def install(self, app: Flask) -> None:
        """Store these services on `app`."""
        app.extensions[_KEY] = self


def services(app: Flask | None = None) -> Services:
    """The services of `app` (default: the current app)."""
    return (app or current_app).extensions[_KEY]


def engines(app: Flask | None = None) -> EngineProvider:
    """The decision engines for the active configuration."""
    return services(app).engines


def scorer(app: Flask | None = None) -> ScorerProvider:
    """The ranking model provider (call it with a session for the active scorer)."""
    return services(app).scorer


def exploration(app: Flask | None = None) -> Exploration:
    """The exploration policy and its random source: `policy, rng = exploration()`."""
    return services(app).exploration


def principals(app: Flask | None = None) -> PrincipalCache:
    """The cache of valid API keys' principals."""
    return services(app).principals


def jobs(app: Flask | None = None) -> JobRegistry:
    """The registry of job kinds and periodic tasks the worker runs."""
    return services(app).jobs


def four_eyes(app: Flask | None = None) -> FourEyes:
    """Who may not approve a plan they accepted or requested, by tier."""
    return services(app).four_eyes


def at_risk(app: Flask | None = None) -> AtRiskSettings:
    """When an incident counts as at risk (near its fix-by, an approval waiting too long)."""
    return services(app).at_risk


def experiments(app: Flask | None = None) -> RunningExperiment:
    """The running champion/challenger experiment, cached per generation (which arm decides)."""
    return services(app).experiments
