"""contact capacity per team

Revision ID: 0013t
Revises: 0012l
Create Date: 2026-12-07 03:30:00

A day's personal contacts are counted per team (`capacity_counters` keyed by team, level and
day), so one team's busy day never takes another team's managers. Each reservation names the
team its contact counts for (`reservations.contact_team`). Counters and reservations written
before this revision were counted across all teams: they keep that count under the team ''
(a pool of its own that no team draws on), so the ledger still verifies and the day of the
upgrade starts every team with its full capacity.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0013t"
down_revision = "0012l"
branch_labels = None
depends_on = None

_EMPTY = sa.text("''")


def upgrade() -> None:
    """Apply this revision: a new counter table keyed by team, the old rows under team ''."""
    op.add_column(
        "reservations",
        sa.Column("contact_team", sa.String(64), nullable=False, server_default=_EMPTY),
    )
    op.create_table(
        "capacity_counters_by_team",
        sa.Column("team", sa.String(64), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("team", "level", "day", name="pk_capacity_counters_by_team"),
    )
    op.execute(
        "INSERT INTO capacity_counters_by_team (team, level, day, used) "
        "SELECT '', level, day, used FROM capacity_counters"
    )
    op.drop_table("capacity_counters")
    op.rename_table("capacity_counters_by_team", "capacity_counters")
    _name_primary_key("pk_capacity_counters_by_team")


def downgrade() -> None:
    """Revert this revision: the counts of every team summed per level and day again."""
    op.create_table(
        "capacity_counters_shared",
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("level", "day", name="pk_capacity_counters_shared"),
    )
    op.execute(
        "INSERT INTO capacity_counters_shared (level, day, used) "
        "SELECT level, day, SUM(used) FROM capacity_counters GROUP BY level, day"
    )
    op.drop_table("capacity_counters")
    op.rename_table("capacity_counters_shared", "capacity_counters")
    _name_primary_key("pk_capacity_counters_shared")
    op.drop_column("reservations", "contact_team")


def _name_primary_key(temporary: str) -> None:
    """Give the renamed table's primary key its usual name (PostgreSQL names constraints; on
    SQLite a primary key's name is only text in the table's definition)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"ALTER TABLE capacity_counters RENAME CONSTRAINT {temporary} TO pk_capacity_counters"
        )
