"""Read the logged decisions for training in chunks: arrays for all, objects for a few.

At a million logged decisions the rows cannot become Python objects with every candidate (each
decision stores all of them, ~20 kB of JSON): `read_rows` streams a Core select of only the
columns a training row needs (no ORM objects, a server-side cursor on PostgreSQL through
`yield_per`), rebuilds the accepted plan from its item ids (`plan_id` is the item ids joined by
"+") and the decision's priced items, and writes each chunk's features and outcomes into NumPy
arrays, so memory holds the arrays and one chunk, not a row object per decision.

Only two small slices are read whole, candidates and all, as `LoggedDecision`s: the latest
`eval_limit` holdout decisions, for the off-policy comparison, the log-loss gate and the net
value check (at the default of 20,000 the bootstrap intervals are a few dollars wide; a larger
holdout would only narrow them further), and the `prior_decisions` training decisions just
before the holdout, whose candidates carry the current model's prior (training/prior.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session
from tqdm.auto import tqdm

from models.features import FEATURE_NAMES, feature_rows
from remedy.decisions.ranker import ValueSettings
from remedy.decisions.record import (
    JSON_COLUMNS,
    DecisionRecord,
    PricedItem,
    incident_from_json,
)
from remedy.domain import Plan
from remedy.store.tables import Decision, Outcome
from training.logged import LoggedDecision, Rates, from_record
from training.logs import LoggedRows

CHUNK = 5_000  # rows per fetch and per feature batch
EVAL_LIMIT = 20_000  # latest holdout decisions read whole for the off-policy comparison


@dataclass(frozen=True)
class TrainingLog:
    """What training reads: every row as arrays, and the two slices read whole."""

    rows: LoggedRows  # every decision with an outcome, oldest first
    cut: int  # rows[:cut] train, rows[cut:] are the holdout
    evaluation: list[LoggedDecision]  # the latest holdout decisions, whole
    prior: list[LoggedDecision]  # training decisions just before the holdout, whole
    currencies: dict[str, int]  # decisions per currency


def _joined() -> sa.Select:
    """Return the join of decisions and their outcomes, oldest first."""
    return sa.select().select_from(Decision).join(Outcome, Outcome.decision_id == Decision.id)


def count_logged(session: Session) -> int:
    """Return how many decisions have an outcome."""
    return session.scalar(_joined().with_only_columns(sa.func.count())) or 0


def _plan(priced: dict[str, Any], plan_id: str, currency: str) -> Plan:
    """Rebuild the accepted plan from its item ids and the decision's priced items."""
    actions = tuple(PricedItem.from_json(priced[i]).action(i) for i in plan_id.split("+"))
    return Plan(actions, currency)


def _stream(session: Session, chunk: int) -> Iterator[list[sa.Row]]:
    """Yield chunks of (created_at, incident, priced_items, shown, propensity, outcome) rows."""
    query = (
        _joined()
        .with_only_columns(
            Decision.created_at,
            Decision.incident,
            Decision.priced_items,
            Decision.shown,
            Decision.propensity,
            Outcome.plan_id,
            Outcome.retained,
            Outcome.referrals,
        )
        .order_by(Decision.created_at, Decision.id)
        .execution_options(yield_per=chunk)
    )
    yield from session.execute(query).partitions()


def read_rows(
    session: Session,
    values: ValueSettings,
    rates: Rates,
    *,
    chunk: int = CHUNK,
    progress: bool = True,
) -> tuple[LoggedRows, dict[str, int]]:
    """Stream every decision with an outcome into arrays; return them and counts per currency."""
    n = count_logged(session)
    features = np.empty((n, len(FEATURE_NAMES)))
    retained = np.empty(n, dtype=bool)
    referrals = np.empty(n, dtype=np.int64)
    propensity = np.full(n, np.nan)
    reward = np.full(n, np.nan)
    decided_at = np.empty(n, dtype="datetime64[s]")
    currencies: dict[str, int] = {}
    horizon, share = float(values.horizon_years), float(values.referral_share)
    done = 0
    with tqdm(total=n, desc="reading logs", unit="decision", disable=not progress) as bar:
        for part in _stream(session, chunk):
            records = []
            for i, row in enumerate(part, start=done):
                created, incident_json, priced, shown, logged_propensity, plan_id = row[:6]
                incident = incident_from_json(incident_json)
                plan = _plan(priced, plan_id, incident.currency)
                records.append((incident, plan))
                retained[i], referrals[i] = row.retained, row.referrals or 0
                if shown and shown[0] == plan_id:
                    propensity[i] = float(Decimal(logged_propensity))
                rate = rates.get(incident.currency)
                currencies[incident.currency] = currencies.get(incident.currency, 0) + 1
                if rate is not None:
                    gain = retained[i] * horizon + referrals[i] * share
                    value = gain * float(incident.customer_value) - float(plan.total_cost)
                    reward[i] = value / rate
                decided_at[i] = np.datetime64(created.astimezone(UTC).replace(tzinfo=None), "s")
            features[done : done + len(part)] = feature_rows(records)
            done += len(part)
            bar.update(len(part))
    rows = LoggedRows(
        features=features[:done],
        retained=retained[:done],
        referrals=referrals[:done],
        propensity=propensity[:done],
        reward=reward[:done],
        decided_at=decided_at[:done],
        logged_index=np.full(done, -1),  # candidates are not read for every row
    )
    return rows, dict(sorted(currencies.items()))


def read_whole(
    session: Session, offset: int, limit: int, chunk: int = 1_000
) -> list[LoggedDecision]:
    """Read `limit` decisions from position `offset` (oldest first) with every candidate.

    Streamed like `read_rows` (Core columns, `yield_per`): only one chunk's JSON is alive at a
    time; what stays is each decision's incident and its kept candidates as plans. Every
    decision keeps the position and the stored propensity of the plan shown first, whichever
    plan was accepted (training/logged.py `from_record`).
    """
    if limit <= 0:
        return []
    json_columns = [getattr(Decision, name) for name in JSON_COLUMNS]
    query = (
        _joined()
        .with_only_columns(
            *json_columns,
            Decision.record_version,
            Decision.propensity,
            Decision.created_at,
            Outcome.plan_id,
            Outcome.retained,
            Outcome.referrals,
        )
        .order_by(Decision.created_at, Decision.id)
        .offset(offset)
        .limit(limit)
        .execution_options(yield_per=chunk)
    )
    logged = []
    for part in session.execute(query).partitions():
        for row in part:
            columns = dict(zip(JSON_COLUMNS, row[: len(JSON_COLUMNS)], strict=True))
            record = DecisionRecord.from_columns(columns, row.record_version)
            found = from_record(
                record, row.plan_id, row.propensity, row.retained, row.referrals, row.created_at
            )
            if found is not None:  # None: accepted plan no longer kept, nothing to judge safely
                logged.append(found)
    return logged


def read_training_log(
    session: Session,
    values: ValueSettings,
    rates: Rates,
    *,
    holdout_fraction: float = 0.2,
    eval_limit: int = EVAL_LIMIT,
    prior_decisions: int = 600,
    progress: bool = True,
) -> TrainingLog:
    """Read the arrays of every logged decision and the two slices training reads whole."""
    rows, currencies = read_rows(session, values, rates, progress=progress)
    n = len(rows)
    if not 0.0 < holdout_fraction < 1.0:
        raise ValueError("holdout_fraction must lie strictly between 0 and 1")
    cut = int(round(n * (1.0 - holdout_fraction)))
    evaluation = read_whole(session, max(cut, n - eval_limit), min(n - cut, eval_limit))
    prior = read_whole(session, max(0, cut - prior_decisions), min(cut, prior_decisions))
    return TrainingLog(rows, cut, evaluation, prior, currencies)
