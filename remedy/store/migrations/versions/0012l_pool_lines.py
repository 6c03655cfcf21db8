"""pool lines: a fix line and an overdelivery line

Revision ID: 0012l
Revises: 0012h
Create Date: 2026-12-01 10:00:00

A pool version may split its limit into a fix line and an overdelivery line
(`budget_pools.fix_limit_minor`; NULL: one line for both, as before). Every movement says which
part of its amount is the fix's (`ledger_entries.fix_minor`), and reservations and pool counters
keep their fix part beside the totals, so each line's balance is recomputed from the entries
like the pool's. Rows written before this revision hold no fix part: their money counts on the
overdelivery line (the conservative reading for gifts; see README "Budgets and the ledger").
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0012l"
down_revision = "0012h"
branch_labels = None
depends_on = None

_ZERO = sa.text("0")


def upgrade() -> None:
    """Apply this revision.

    Plain ALTER TABLE ... ADD COLUMN, never batch mode: on SQLite a batch copies the table into
    a new one, and the ledger's foreign key to `reservations` forbids dropping the old one.
    """
    op.add_column("budget_pools", sa.Column("fix_limit_minor", sa.BigInteger(), nullable=True))
    for table in ("pool_counters", "reservations"):
        for column in ("fix_reserved_minor", "fix_committed_minor"):
            op.add_column(
                table, sa.Column(column, sa.BigInteger(), nullable=False, server_default=_ZERO)
            )
    op.add_column(
        "ledger_entries",
        sa.Column("fix_minor", sa.BigInteger(), nullable=False, server_default=_ZERO),
    )


def downgrade() -> None:
    """Revert this revision (plain ALTER TABLE ... DROP COLUMN: SQLite 3.35 and later)."""
    op.drop_column("ledger_entries", "fix_minor")
    for table in ("reservations", "pool_counters"):
        op.drop_column(table, "fix_committed_minor")
        op.drop_column(table, "fix_reserved_minor")
    op.drop_column("budget_pools", "fix_limit_minor")
