"""The reports' rollup: one row per ticket, kept as decisions, reservations and outcomes are
written (remedy/services/rollups.py), so a report reads tickets, not every decision's JSON."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from remedy.store.tables.base import Base, Timestamp


class ReportTicket(Base):
    """What one ticket (a help desk's `external_id`, or a decision without one) came to.

    A ticket belongs to the month, category, fault type and touchpoint of its first decision
    (asked twice, it counts once, where it was first asked); its counters add up what all its
    decisions led to. Why a row per ticket rather than a day's totals: tickets and repeat
    victims are distinct counts, which do not add across days; ticket rows do, and a report
    groups them in one SQL statement (README, "Reports").
    """

    __tablename__ = "report_tickets"
    __table_args__ = (sa.Index("ix_report_tickets_team_first_at", "team", "first_at"),)

    team: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    # "e:<external_id>" or "d:<decision id>" (a decision without a ticket is its own ticket).
    ticket: Mapped[str] = mapped_column(sa.String(140), primary_key=True)
    currency: Mapped[str] = mapped_column(sa.String(3), primary_key=True)
    first_at: Mapped[datetime] = mapped_column(Timestamp, index=True)
    month: Mapped[str] = mapped_column(sa.String(7))  # YYYY-MM of first_at, UTC
    category: Mapped[str] = mapped_column(sa.String(64))
    fault_type: Mapped[str] = mapped_column(sa.String(16))
    touchpoint: Mapped[str | None] = mapped_column(sa.String(64))
    customer_id: Mapped[str] = mapped_column(sa.String(128))
    customer_value_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    decisions: Mapped[int] = mapped_column(default=0)
    # Remedies given: committed money, plus what open reservations still hold.
    committed_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    reserved_minor: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    outcomes: Mapped[int] = mapped_column(default=0)  # its decisions with an outcome
    lost: Mapped[int] = mapped_column(default=0)  # ... whose outcome says the customer left
    respond_late: Mapped[int] = mapped_column(default=0)  # ... answered after the promise
    fix_late: Mapped[int] = mapped_column(default=0)  # ... fixed after the promise
