"""Read the logged decisions for training in ranges: arrays for all, objects for a few.

At a million logged decisions the rows cannot become Python objects with every candidate (each
decision stores all of them, ~20 kB of JSON): `read_rows` reads only the columns a training row
needs (no ORM objects, a server-side cursor on PostgreSQL through `yield_per`): the feature row
each outcome stored when it was recorded, or, for older outcomes and rows of another feature
version, the accepted plan's priced items to rebuild it from (`plan_id` is the item ids joined
by "+"); and writes each range's features and outcomes into NumPy arrays, so memory holds the
arrays and one range, not a row object per decision. Ranges are keyed by (created_at, id) and
read by forked processes on large logs; training/log_ranges.py reads one range.

Only two small slices are read whole, candidates and all, as `LoggedDecision`s: the latest
`eval_limit` holdout decisions, for the off-policy comparison, the log-loss gate and the net
value check, and the `prior_decisions` training decisions just before the holdout, whose
candidates carry the current model's prior (training/prior.py). Why 10,000: on the tiled
million-decision log of benchmarks/retrain.py, 20,000 gave the paired doubly robust difference
an interval of +-17 USD per decision and cost about a quarter of a 90-second retrain (reading
whole records, scoring every candidate with both models, fitting five reward models); 10,000
halves that cost for an interval about 1.4 times as wide, which only makes the gate more
cautious.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session
from tqdm.auto import tqdm

from models.features import FEATURE_NAMES
from remedy.decisions.ranker import ValueSettings
from remedy.decisions.record import (
    JSON_COLUMNS,
    DecisionRecord,
)
from remedy.store.tables import Decision, Outcome
from training.log_ranges import CHUNK, Part, joined, key_at, range_keys, read_range
from training.logged import LoggedDecision, Rates, from_record
from training.logs import LoggedRows

EVAL_LIMIT = 10_000  # latest holdout decisions read whole for the off-policy comparison
# The JSON columns a decision read whole is never asked for here: what the agent was told (the
# presentation), the notes and the excluded items: ~6 kB of the ~10 kB a tiled decision stores,
# decoded by the driver and parsed into facts for nothing. They read as empty instead: the
# record stays inside `read_whole`, which keeps only its incident, plans and what was shown.
_UNREAD = {"excluded_items": {}, "notes": [], "presentation": {}}
_READ = tuple(name for name in JSON_COLUMNS if name not in _UNREAD)


@dataclass(frozen=True)
class TrainingLog:
    """What training reads: every row as arrays, and the two slices read whole."""

    rows: LoggedRows  # every decision with an outcome, oldest first
    cut: int  # rows[:cut] train, rows[cut:] are the holdout
    evaluation: list[LoggedDecision]  # the latest holdout decisions, whole
    prior: list[LoggedDecision]  # training decisions just before the holdout, whole
    currencies: dict[str, int]  # decisions per currency


def count_logged(session: Session) -> int:
    """Return how many decisions have an outcome."""
    return session.scalar(joined().with_only_columns(sa.func.count())) or 0


# What forked readers read: set just before the pool starts (fork copies it), cleared after.
_READING: tuple[sa.Engine, ValueSettings, Rates, int] | None = None


def _read_in_child(bounds: tuple[tuple[Any, Any], tuple[Any, Any] | None]) -> Part:
    """Run in a forked reader: read one range on a connection of its own."""
    if _READING is None:  # not an assert: stripped under -O
        raise RuntimeError("no read: readers are forked from read_rows")
    engine, values, rates, chunk = _READING
    with Session(engine) as session:
        return read_range(session, bounds[0], bounds[1], values, rates, chunk)


def _start_reader() -> None:
    """Start a forked reader: without the parent's pooled connections (they are the parent's)
    and with the parent's objects out of the garbage collector's sight.

    `gc.freeze` moves every object the fork inherited (the imported libraries, the app) to the
    permanent generation: the reader's own collections, which its millions of short-lived row
    objects set off, no longer walk them (nor touch their pages, copied on write). It took a
    third of the readers' CPU off at a million rows (benchmarks/README.md, issue 25).
    """
    gc.freeze()
    if _READING is not None:
        _READING[0].dispose(close=False)


RANGE = 50_000  # rows per range: a unit of work for a reader and of the progress bar
PARALLEL_FROM = 2 * RANGE  # fewer rows than this are read in this process


def read_rows(
    session: Session,
    values: ValueSettings,
    rates: Rates,
    *,
    chunk: int = CHUNK,
    progress: bool = True,
    workers: int | None = None,
    rows_per_range: int = RANGE,
) -> tuple[LoggedRows, dict[str, int]]:
    """Read every decision with an outcome into arrays; return them and counts per currency.

    The rows are split into key ranges of `rows_per_range`; with more than one range and
    `workers` > 1 (default: one per core, up to 2, from `PARALLEL_FROM` rows), forked readers
    read the ranges on connections of their own while this process gathers them in order:
    building each row's features is Python work, and a million rows on one core take longer
    than fitting the models. Rows that arrive during the read may or may not be in it.
    """
    global _READING
    keys = range_keys(session, rows_per_range)
    bounds = [(low, keys[i + 1] if i + 1 < len(keys) else None) for i, low in enumerate(keys)]
    n = count_logged(session)
    if workers is None:
        workers = min(2, os.cpu_count() or 1) if n >= PARALLEL_FROM else 1
    parts: list[Part] = []
    with tqdm(total=n, desc="reading logs", unit="decision", disable=not progress) as bar:
        if workers <= 1 or len(bounds) < 2:
            for low, high in bounds:
                parts.append(read_range(session, low, high, values, rates, chunk))
                bar.update(len(parts[-1].retained))
        else:
            engine = session.get_bind()
            _READING = (engine, values, rates, chunk)
            try:
                context = multiprocessing.get_context("fork")
                with context.Pool(workers, initializer=_start_reader) as pool:
                    for part in pool.imap(_read_in_child, bounds):
                        parts.append(part)
                        bar.update(len(part.retained))
            finally:
                _READING = None
    currencies: dict[str, int] = {}
    for part in parts:
        for currency, count in part.currencies.items():
            currencies[currency] = currencies.get(currency, 0) + count
    width = len(FEATURE_NAMES)
    rows = LoggedRows(
        features=np.concatenate([p.features for p in parts]) if parts else np.empty((0, width)),
        retained=np.concatenate([p.retained for p in parts] or [np.empty(0, dtype=bool)]),
        referrals=np.concatenate([p.referrals for p in parts] or [np.empty(0, dtype=np.int64)]),
        propensity=np.concatenate([p.propensity for p in parts] or [np.empty(0)]),
        reward=np.concatenate([p.reward for p in parts] or [np.empty(0)]),
        decided_at=np.concatenate(
            [p.decided_at for p in parts] or [np.empty(0, dtype="datetime64[s]")]
        ),
        logged_index=np.full(sum(len(p.retained) for p in parts), -1),  # candidates not read
    )
    return rows, dict(sorted(currencies.items()))


def read_whole(
    session: Session, offset: int, limit: int, chunk: int = 1_000
) -> list[LoggedDecision]:
    """Read `limit` decisions from position `offset` (oldest first) with every candidate.

    Streamed like `read_rows` (Core columns, `yield_per`): only one chunk's JSON is alive at a
    time, and only the columns that hold the incident, the plans and what was shown (not the
    presentation, notes or excluded items); what stays is each decision's incident and its
    kept candidates as plans. Every
    decision keeps the position and the stored propensity of the plan shown first, whichever
    plan was accepted (training/logged.py `from_record`). The rows are read from the key at
    `offset` on (`key_at`), not with OFFSET: PostgreSQL would sort the wide rows of every
    decision before it to skip them (9 s of a retraining's wall time at 1M decisions for the
    prior's 600 rows, under load).
    """
    if limit <= 0:
        return []
    start = key_at(session, offset)
    if start is None:
        return []
    json_columns = [getattr(Decision, name) for name in _READ]
    query = (
        joined()
        .with_only_columns(
            *json_columns,
            Decision.record_version,
            Decision.propensity,
            Decision.created_at,
            Outcome.plan_id,
            Outcome.retained,
            Outcome.referrals,
        )
        .where(sa.tuple_(Decision.created_at, Decision.id) >= sa.tuple_(*start))
        .order_by(Decision.created_at, Decision.id)
        .limit(limit)
        .execution_options(yield_per=chunk)
    )
    logged = []
    for part in session.execute(query).partitions():
        for row in part:
            columns = {**_UNREAD, **dict(zip(_READ, row[: len(_READ)], strict=True))}
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
