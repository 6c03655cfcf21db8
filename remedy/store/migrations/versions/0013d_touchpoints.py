"""touchpoints and the reports' ticket rollup

Revision ID: 0013d_touchpoints
Revises: 0013t
Create Date: 2026-12-07 03:30:00

An incident's touchpoint (where the failure happened) travels in the decision's incident JSON,
and `decisions.category` and `decisions.touchpoint` copy it and the category out of the JSON
(backfilled here) so reports group decisions without reading it; outcomes keep the seconds from
the complaint to the answer and the fix and the promises they are held to (filled by `remedy
reports rebuild` for outcomes stored before);
`report_tickets` holds one row per ticket (team, `external_id` or the decision, currency) that
the reports group instead of reading every decision (remedy/services/rollups.py keeps it in the
transaction of each write). Rows written before this revision are rolled up by
`remedy reports rebuild` (`remedy init` runs it when the table is empty and decisions exist).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013d_touchpoints"
down_revision = "0013t"
branch_labels = None
depends_on = None

_ZERO = sa.text("0")


def upgrade() -> None:
    """Apply this revision."""
    for column in ("category", "touchpoint"):
        op.add_column("decisions", sa.Column(column, sa.String(64), nullable=True))
    json_field = {
        "postgresql": "(incident ->> '{name}')",
        "sqlite": "json_extract(incident, '$.{name}')",
    }[op.get_bind().dialect.name]
    op.execute(
        f"UPDATE decisions SET category = {json_field.format(name='category')}, "
        f"touchpoint = {json_field.format(name='touchpoint')}"
    )
    op.create_table(
        "report_tickets",
        sa.Column("team", sa.String(64), nullable=False),
        sa.Column("ticket", sa.String(140), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("category", sa.String(64), nullable=False),
        sa.Column("fault_type", sa.String(16), nullable=False),
        sa.Column("touchpoint", sa.String(64), nullable=True),
        sa.Column("customer_id", sa.String(128), nullable=False),
        *(
            sa.Column(name, sa.BigInteger(), nullable=False, server_default=_ZERO)
            for name in ("customer_value_minor", "committed_minor", "reserved_minor")
        ),
        *(
            sa.Column(name, sa.Integer(), nullable=False, server_default=_ZERO)
            for name in ("decisions", "outcomes", "lost", "respond_late", "fix_late")
        ),
        sa.PrimaryKeyConstraint("team", "ticket", "currency", name="pk_report_tickets"),
    )
    op.create_index("ix_report_tickets_first_at", "report_tickets", ["first_at"])
    for column in (
        "respond_seconds",
        "respond_within_seconds",
        "fix_seconds",
        "fix_within_seconds",
    ):
        op.add_column("outcomes", sa.Column(column, sa.Float(), nullable=True))
    op.create_index("ix_report_tickets_team_first_at", "report_tickets", ["team", "first_at"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_report_tickets_team_first_at", table_name="report_tickets")
    op.drop_index("ix_report_tickets_first_at", table_name="report_tickets")
    op.drop_table("report_tickets")
    for column in (
        "respond_seconds",
        "respond_within_seconds",
        "fix_seconds",
        "fix_within_seconds",
    ):
        op.drop_column("outcomes", column)
    op.drop_column("decisions", "touchpoint")
    op.drop_column("decisions", "category")
