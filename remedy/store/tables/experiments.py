"""Champion/challenger experiments and their checks (remedy/services/experiments.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from remedy.store.tables.base import Base, Timestamp, new_id, utcnow


class ModelExperiment(Base):
    """A challenger model on a share of customers beside the champion (the model in use).

    One runs at a time, across every team: the champion is the one promoted model every team
    shares, so two experiments would split customers between three models and neither test
    would compare what it says. `running_slot` is 1 while it runs and null after, and unique:
    a second start is refused by the database too, even when two requests race.
    """

    __tablename__ = "model_experiments"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True, default=new_id)
    challenger: Mapped[str] = mapped_column(sa.ForeignKey("model_versions.version"))
    champion: Mapped[str] = mapped_column(sa.String(64))  # the version in use when it started
    share: Mapped[str] = mapped_column(sa.String(24))  # the challenger's share, a decimal string
    alpha: Mapped[float] = mapped_column(sa.Float)
    max_per_arm: Mapped[int] = mapped_column()
    min_per_arm: Mapped[int] = mapped_column()
    state: Mapped[str] = mapped_column(sa.String(16), default="running")  # running | promoted
    # | retired | stopped
    running_slot: Mapped[int | None] = mapped_column(unique=True)
    started_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    started_by: Mapped[str] = mapped_column(sa.String(64))
    reason: Mapped[str] = mapped_column(sa.String(200), default="")  # why it was started
    ended_at: Mapped[datetime | None] = mapped_column(Timestamp)
    ended_by: Mapped[str | None] = mapped_column(sa.String(64))
    end_reason: Mapped[str | None] = mapped_column(sa.String(200))


class ExperimentCheck(Base):
    """One look at an experiment's running comparison, taken by the worker's pass (or `remedy
    models experiment check`): what the console plots, the interval over time."""

    __tablename__ = "model_experiment_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    experiment_id: Mapped[str] = mapped_column(sa.ForeignKey("model_experiments.id"), index=True)
    at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    comparison: Mapped[dict[str, Any]] = mapped_column()  # n, mean, difference, low, high, ...
