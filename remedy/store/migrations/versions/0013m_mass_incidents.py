"""mass incidents: one failure, many customers, decided as a job and reserved in chunks

Revision ID: 0013m_mass_incidents
Revises: 0013d_touchpoints
Create Date: 2026-12-07 03:00:00

`mass_incidents` holds the shared incident and where the whole stands; `mass_incident_customers`
one row per affected customer (its own fields, the decision made for it, the plan chosen, its
cost and fix part, and whether it was reserved or refused and why); `mass_incident_chunks` the
state of each chunk of customers reserved in one transaction, written in that transaction, so a
worker that dies mid-way resumes at the first chunk not yet done and never reserves a customer
twice (remedy/services/mass_incidents.py).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013m_mass_incidents"
down_revision = "0013d_touchpoints"
branch_labels = None
depends_on = None

_BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "mass_incidents",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("team", sa.String(64), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("incident", sa.JSON(), nullable=False),
        sa.Column("customers", sa.Integer(), nullable=False),
        sa.Column("chunk_size", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(16), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decide_job_id", sa.String(32), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("approved_by", sa.String(64), nullable=True),
        sa.Column("approved_role", sa.String(16), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("reserve_job_id", sa.String(32), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_mass_incidents_team_created_at", "mass_incidents", ["team", "created_at"])
    op.create_table(
        "mass_incident_customers",
        sa.Column("id", _BIG, primary_key=True, autoincrement=True),
        sa.Column(
            "mass_incident_id",
            sa.String(32),
            sa.ForeignKey("mass_incidents.id", name="fk_mass_incident_customers_mass_incident"),
            nullable=False,
        ),
        sa.Column("row", sa.Integer(), nullable=False),
        sa.Column("chunk", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(128), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("decision_id", sa.String(32), nullable=True),
        sa.Column("plan_id", sa.String(255), nullable=True),
        sa.Column("approver", sa.String(16), nullable=True),
        sa.Column("cost_minor", sa.BigInteger(), nullable=True),
        sa.Column("fix_minor", sa.BigInteger(), nullable=True),
        sa.Column("contact_level", sa.String(16), nullable=True),
        sa.Column("reason", sa.String(1000), nullable=True),
        sa.UniqueConstraint("mass_incident_id", "row", name="uq_mass_incident_customers_row"),
    )
    op.create_index(
        "ix_mass_incident_customers_chunk",
        "mass_incident_customers",
        ["mass_incident_id", "chunk", "row"],
    )
    op.create_index(
        "ix_mass_incident_customers_state",
        "mass_incident_customers",
        ["mass_incident_id", "state"],
    )
    op.create_table(
        "mass_incident_chunks",
        sa.Column(
            "mass_incident_id",
            sa.String(32),
            sa.ForeignKey("mass_incidents.id", name="fk_mass_incident_chunks_mass_incident"),
            primary_key=True,
        ),
        sa.Column("chunk", sa.Integer(), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("reserved", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("refused", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("reason", sa.String(1000), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("mass_incident_chunks")
    op.drop_index("ix_mass_incident_customers_state", "mass_incident_customers")
    op.drop_index("ix_mass_incident_customers_chunk", "mass_incident_customers")
    op.drop_table("mass_incident_customers")
    op.drop_index("ix_mass_incidents_team_created_at", "mass_incidents")
    op.drop_table("mass_incidents")
